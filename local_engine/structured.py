"""What a request asks the output to be (text, JSON, a schema's JSON, tool calls) and its grammar.

Shared by chat completions (`response_format`, `tools`, `tool_choice`, `parallel_tool_calls`)
and the Responses API (`text.format`, `tools`, `tool_choice`, `parallel_tool_calls`).

- text: no constraint.
- json_object: any JSON object (the API also requires the word "JSON" in the messages).
- json_schema: the schema's JSON. With `strict: true` the schema must follow the API's strict
  rules (`tool_calls.check_strict`) and every keyword must compile; without strict, keywords
  the grammar library does not implement are ignored (the API promises no adherence there).
- calls: one or more tool calls (`tool_calls.calls_grammar`); chosen by tool_choice (see
  `local_engine.tool_calls`). When a request has tools and a response format, a turn that
  calls tools is all calls; a turn that does not follows the response format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from .constrained import Constraint, GrammarError, check_grammar, json_schema_grammar
from .errors import invalid
from .lm import TextModel
from .tool_calls import (
    MAX_PARALLEL,
    FunctionTool,
    calls_grammar,
    check_schema_name,
    check_strict,
    closed,
    parse_tools,
    resolve_choice,
    wants_call,
)

ANY_OBJECT = {"type": "object"}


@dataclass
class OutputFormat:
    """The response format part: kind "text", "json_object" or "json_schema"."""

    kind: str = "text"
    name: str = ""
    schema: dict[str, Any] | None = None
    strict: bool = False


@dataclass
class Plan:
    kind: str  # "text", "json" or "calls"
    grammar: str | None = None
    tools: list[FunctionTool] = field(default_factory=list)
    schema: dict[str, Any] | None = None

    def constraint(self, model: TextModel, max_tokens: int) -> Constraint | None:
        return Constraint(model, self.grammar, max_tokens) if self.grammar else None


def output_format(spec: Any, param: str, *, nested: bool) -> OutputFormat:
    """Chat's response_format ({"type": "json_schema", "json_schema": {...}}) or, with
    nested=False, Responses' text.format ({"type": "json_schema", "name", "schema", ...})."""
    if spec is None:
        return OutputFormat()
    if not isinstance(spec, dict):
        raise invalid(f"Invalid type for '{param}': expected an object.", param)
    kind = spec.get("type")
    if kind in ("text", "json_object"):
        return OutputFormat(kind)
    if kind != "json_schema":
        raise invalid(
            f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', and 'json_schema'.",
            f"{param}.type",
        )
    body, where = (spec.get("json_schema"), f"{param}.json_schema") if nested else (spec, param)
    if not isinstance(body, dict):
        raise invalid(f"Missing required parameter: '{where}'.", where)
    name = check_schema_name(body.get("name"), f"{where}.name")
    schema = body.get("schema")
    if schema is None:
        schema = ANY_OBJECT
    if not isinstance(schema, dict):
        raise invalid(f"Invalid type for '{where}.schema': expected an object.", f"{where}.schema")
    strict = bool(body.get("strict"))
    if strict:
        check_strict(schema, f"response_format '{name}'", f"{where}.schema")
    return OutputFormat("json_schema", name, schema, strict)


def _schema_grammar(model: TextModel, schema: dict[str, Any], strict: bool, label: str, param: str) -> str:
    grammar = json_schema_grammar(schema if strict else closed(schema), lenient=not strict)
    try:
        check_grammar(model, grammar)
    except GrammarError as exc:
        raise invalid(f"Invalid schema for {label}: {_short(str(exc))}", param) from None
    return grammar


def _short(message: str) -> str:
    return message.strip().splitlines()[0][:500] if message.strip() else "the schema could not be compiled."


def plan(
    model: TextModel,
    fmt: OutputFormat,
    tools_spec: Any,
    tool_choice: Any,
    parallel: bool | None,
    last_role: str | None,
    last_text: str,
    all_text: str,
    *,
    format_param: str,
) -> Plan:
    tools = parse_tools(tools_spec) if tools_spec else []
    mode, usable = resolve_choice(tool_choice, tools)
    call = mode in ("required", "named") or (mode == "auto" and wants_call(last_role, last_text, usable))
    if call:
        most = 1 if mode == "named" or parallel is False else min(MAX_PARALLEL, len(usable))
        grammar = calls_grammar(usable, most)
        try:
            check_grammar(model, grammar)
        except GrammarError as exc:
            names = ", ".join(f"'{t.name}'" for t in usable)
            raise invalid(f"Invalid schema for function {names}: {_short(str(exc))}", "tools") from None
        return Plan("calls", grammar, usable)
    if fmt.kind == "json_object":
        if "json" not in all_text.lower():
            raise invalid(
                "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
                "'json_object'.",
                "messages",
            )
        return Plan("json", json_schema_grammar(ANY_OBJECT), schema=ANY_OBJECT)
    if fmt.kind == "json_schema":
        label = f"response_format '{fmt.name}'"
        return Plan("json", _schema_grammar(model, fmt.schema or ANY_OBJECT, fmt.strict, label, format_param), schema=fmt.schema)
    return Plan("text")


def message_texts(messages: Sequence[Any]) -> tuple[str | None, str, str]:
    """(last role, last message's text, all messages' text) for plan()."""
    texts = []
    for m in messages:
        content = m.get("content") if isinstance(m, dict) else None
        if isinstance(content, list):
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        texts.append(content if isinstance(content, str) else "")
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    return last.get("role"), texts[-1] if texts else "", "\n".join(texts)
