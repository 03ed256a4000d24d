"""Function tools and structured outputs for the local text model: checks, grammars, parsing.

How the model writes tool calls: one call per line, as the text

    {"name": "NAME", "arguments": ARGS}

where ARGS is a JSON object generated under the function's `parameters` schema (the grammar
of `calls_grammar`, enforced token by token by `local_engine.constrained`). The routes turn
that text into the API's `tool_calls` (the arguments string is ARGS verbatim); history
messages with `tool_calls` are rendered back into the same text (`render_call`), so a
replayed conversation reads as the model wrote it.

tool_choice: "none" generates text; "required" one or more calls of any tool; a named
function exactly one call of it; "auto" lets the *request* decide, since an n-gram model
cannot: a call when the last message is the user's and shares a word (4+ letters) with a
tool's name or description, otherwise text (so after a tool result the model answers).
parallel_tool_calls (default true) allows up to min(3, number of tools) calls in one turn;
false allows one.

Without strict, objects that list properties but do not say `additionalProperties` get no
extra keys (`closed`). Strict schemas (`strict: true`) are checked as the API checks them (root an object, every
object with `additionalProperties: false` and all its properties required, no unsupported
keyword) and answered with the API's messages; any schema the grammar library cannot compile
is a 400 naming the schema.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from .errors import invalid, typed_object

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MAX_PARALLEL = 3
CALL_HEAD = '{"name": "'
ARGS_HEAD = '", "arguments": '
NOT_PERMITTED = (
    "allOf", "not", "if", "then", "else", "dependentRequired", "dependentSchemas",
    "patternProperties", "unevaluatedProperties", "unevaluatedItems", "propertyNames",
    "minProperties", "maxProperties", "contains", "minContains", "maxContains", "uniqueItems",
)
EMPTY_PARAMETERS = {"type": "object", "properties": {}, "additionalProperties": False}


@dataclass
class FunctionTool:
    name: str
    description: str
    parameters: dict[str, Any]
    strict: bool


def new_call_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "call_" + "".join(secrets.choice(alphabet) for _ in range(24))


# --------------------------------------------------------------------------- checks


def _function_tool(spec: Any, where: str) -> FunctionTool:
    """A tool in either shape: chat's {"type", "function": {...}} or Responses' flat one."""
    typed_object(spec, where, "function", "the local text model supports only 'function' tools (got {kind!r}).")
    body = spec.get("function", spec) if "function" in spec else spec
    fwhere = f"{where}.function" if "function" in spec else where
    if not isinstance(body, dict):
        raise invalid(f"Invalid type for '{fwhere}': expected an object.", fwhere)
    name = body.get("name")
    if name is None:
        raise invalid(f"Missing required parameter: '{fwhere}.name'.", f"{fwhere}.name")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise invalid(
            f"Invalid '{fwhere}.name': string does not match pattern. Expected a string that matches "
            "the pattern '^[a-zA-Z0-9_-]+$' (at most 64 characters).",
            f"{fwhere}.name",
        )
    parameters = body.get("parameters")
    if parameters is None:
        parameters = EMPTY_PARAMETERS
    if not isinstance(parameters, dict):
        raise invalid(f"Invalid type for '{fwhere}.parameters': expected an object.", f"{fwhere}.parameters")
    description = body.get("description") or ""
    if not isinstance(description, str):
        raise invalid(f"Invalid type for '{fwhere}.description': expected a string.", f"{fwhere}.description")
    strict = bool(body.get("strict"))
    label = f"function '{name}'"
    if strict:
        check_strict(parameters, label, f"{fwhere}.parameters")
    elif parameters.get("type", "object") != "object":
        raise invalid(
            f"Invalid schema for {label}: schema must be a JSON Schema of 'type: \"object\"', "
            f"got 'type: \"{parameters.get('type')}\"'.",
            f"{fwhere}.parameters",
        )
    return FunctionTool(name, description, parameters, strict)


def parse_tools(tools: Any, param: str = "tools") -> list[FunctionTool]:
    if not isinstance(tools, list):
        raise invalid(f"Invalid type for '{param}': expected an array of tools.", param)
    if len(tools) > 128:
        raise invalid(
            f"Invalid '{param}': array too long. Expected an array with maximum length 128, "
            f"but got an array with length {len(tools)} instead.",
            param,
        )
    out = [_function_tool(t, f"{param}[{i}]") for i, t in enumerate(tools)]
    names = [t.name for t in out]
    for name in names:
        if names.count(name) > 1:
            raise invalid(f"Invalid '{param}': function names must be unique; '{name}' appears twice.", param)
    return out


def resolve_choice(choice: Any, tools: list[FunctionTool], param: str = "tool_choice") -> tuple[str, list[FunctionTool]]:
    """("none" | "auto" | "required" | "named", the tools a call may use)."""
    if choice is None:
        return ("auto" if tools else "none"), tools
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise invalid(
                f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'.", param
            )
        if choice != "none" and not tools:
            raise invalid(f"Invalid value for '{param}': '{param}' is only allowed when 'tools' are specified.", param)
        return choice, tools
    if isinstance(choice, dict):
        name = choice.get("name")
        if isinstance(choice.get("function"), dict):
            name = choice["function"].get("name")
        if choice.get("type") == "allowed_tools":
            return _allowed_tools(choice, tools, param)
        if choice.get("type") != "function" or not isinstance(name, str):
            raise invalid(
                f"Invalid value for '{param}': expected 'none', 'auto', 'required' or "
                "{\"type\": \"function\", \"function\": {\"name\": ...}}.",
                param,
            )
        for t in tools:
            if t.name == name:
                return "named", [t]
        raise invalid(
            f"Invalid value for '{param}': no function named '{name}' was specified in the 'tools' parameter.",
            param,
        )
    raise invalid(f"Invalid type for '{param}': expected a string or an object.", param)


def _allowed_tools(choice: dict[str, Any], tools: list[FunctionTool], param: str) -> tuple[str, list[FunctionTool]]:
    spec = choice.get("allowed_tools", choice)
    mode = spec.get("mode", "auto")
    names = []
    for ref in spec.get("tools") or []:
        if isinstance(ref, dict):
            names.append((ref.get("function") or {}).get("name") or ref.get("name"))
    subset = [t for t in tools if t.name in names]
    if mode not in ("auto", "required") or not subset:
        raise invalid(f"Invalid value for '{param}': allowed_tools needs mode 'auto' or 'required' and known tools.", param)
    return mode, subset


def check_strict(schema: Any, label: str, param: str) -> None:
    """The API's strict-mode rules, with its messages ("Invalid schema for {label}: ...")."""

    def fail(context: tuple, text: str) -> None:
        raise invalid(f"Invalid schema for {label}: In context={context!r}, {text}", param)

    if not isinstance(schema, dict) or schema.get("type") != "object":
        got = schema.get("type") if isinstance(schema, dict) else type(schema).__name__
        raise invalid(f"Invalid schema for {label}: schema must be a JSON Schema of 'type: \"object\"', got 'type: \"{got}\"'.", param)

    def walk(node: Any, context: tuple) -> None:
        if not isinstance(node, dict):
            return
        for key in NOT_PERMITTED:
            if key in node:
                fail(context, f"'{key}' is not permitted.")
        types = node.get("type")
        is_object = types == "object" or (isinstance(types, list) and "object" in types)
        if is_object and "$ref" not in node:
            if node.get("additionalProperties") is not False:
                fail(context, "'additionalProperties' is required to be supplied and to be false.")
            props = node.get("properties") or {}
            required = node.get("required") or []
            missing = [k for k in props if k not in required]
            if missing:
                fail(
                    context,
                    "'required' is required to be supplied and to be an array including every key in "
                    f"properties. Missing '{missing[0]}'.",
                )
            for key, sub in props.items():
                walk(sub, (*context, "properties", key))
        if "items" in node:
            walk(node["items"], (*context, "items"))
        for key in ("anyOf", "oneOf"):
            for i, sub in enumerate(node.get(key) or []):
                walk(sub, (*context, key, str(i)))
        for key in ("$defs", "definitions"):
            for name, sub in (node.get(key) or {}).items():
                walk(sub, (*context, key, name))

    walk(schema, ())


def closed(schema: Any) -> Any:
    """The schema with `additionalProperties: false` on every object that lists properties
    and does not say: what the model generates then still matches the original schema, and
    an n-gram model does not wander into extra keys."""
    if isinstance(schema, list):
        return [closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: closed(v) if k in _SUBSCHEMAS else v for k, v in schema.items()}
    for key in ("properties", "$defs", "definitions"):
        if isinstance(out.get(key), dict):
            out[key] = {name: closed(sub) for name, sub in out[key].items()}
    if isinstance(out.get("properties"), dict) and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


_SUBSCHEMAS = ("items", "anyOf", "oneOf", "allOf", "prefixItems")


def check_schema_name(name: Any, param: str) -> str:
    if not isinstance(name, str):
        raise invalid(f"Missing required parameter: '{param}'.", param)
    if not NAME_PATTERN.match(name):
        raise invalid(
            f"Invalid '{param}': string does not match pattern. Expected a string that matches the "
            "pattern '^[a-zA-Z0-9_-]+$' (at most 64 characters).",
            param,
        )
    return name


# --------------------------------------------------------------------------- when and what to call


_WORD = re.compile(r"[a-zA-Z]{4,}")


def _words(text: str) -> set[str]:
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text).replace("_", " ").replace("-", " ")
    return {w.lower() for w in _WORD.findall(text)}


def wants_call(last_role: str | None, last_text: str, tools: Sequence[FunctionTool]) -> bool:
    """tool_choice "auto": call when the user's last message shares a word with a tool."""
    if last_role != "user":
        return False
    said = _words(last_text)
    return any(said & _words(f"{t.name} {t.description}") for t in tools)


def calls_grammar(tools: Sequence[FunctionTool], max_calls: int) -> str:
    """A Lark grammar: 1..max_calls lines, each {"name": ..., "arguments": <schema's JSON>}."""
    from .constrained import json_inline

    rules = []
    alts = []
    for i, tool in enumerate(tools):
        head = json.dumps(CALL_HEAD + tool.name + ARGS_HEAD)
        rules.append(f"call{i}: {head} args{i} \"}}\"")
        rules.append(f"args{i}: {json_inline(closed(tool.parameters))}")
        alts.append(f"call{i}")
    rules.append("call: " + " | ".join(alts))
    more = f' ("\\n" call){{0,{max_calls - 1}}}' if max_calls > 1 else ""
    return "start: call" + more + "\n" + "\n".join(rules) + "\n"


def render_call(name: str, arguments: str) -> str:
    return f"{CALL_HEAD}{name}{ARGS_HEAD}{arguments}}}"


# --------------------------------------------------------------------------- reading calls back


class CallReader:
    """Splits generated call text as it arrives: yields ("call", index, name) when a call's
    name is complete and ("args", index, fragment) for each piece of its arguments."""

    def __init__(self) -> None:
        self.state = "head"
        self.buf = ""
        self.index = -1
        self.depth = 0
        self.in_string = False
        self.escaped = False
        self.calls: list[tuple[str, str]] = []

    def feed(self, text: str) -> Iterator[tuple[str, int, str]]:
        fragment = ""
        for ch in text:
            if self.state == "head":
                if not self.buf and ch == "\n":
                    continue
                self.buf += ch
                if self.buf.endswith(ARGS_HEAD) and self.buf.startswith(CALL_HEAD):
                    name = self.buf[len(CALL_HEAD) : -len(ARGS_HEAD)]
                    self.index += 1
                    self.calls.append((name, ""))
                    self.state, self.buf = "args", ""
                    self.depth, self.in_string, self.escaped = 0, False, False
                    yield "call", self.index, name
            elif self.state == "args":
                fragment += ch
                if self._closes(ch):
                    self.state = "tail"
                    yield from self._args(fragment)
                    fragment = ""
            elif ch == "}":  # the call object's own closing brace
                self.state = "head"
        yield from self._args(fragment)

    def _args(self, fragment: str) -> Iterator[tuple[str, int, str]]:
        if fragment:
            name, args = self.calls[self.index]
            self.calls[self.index] = (name, args + fragment)
            yield "args", self.index, fragment

    def _closes(self, ch: str) -> bool:
        if self.in_string:
            if self.escaped:
                self.escaped = False
            elif ch == "\\":
                self.escaped = True
            elif ch == '"':
                self.in_string = False
            return False
        if ch == '"':
            self.in_string = True
        elif ch in "{[":
            self.depth += 1
        elif ch in "}]":
            self.depth -= 1
            return self.depth == 0
        return False


def read_calls(text: str) -> list[tuple[str, str]]:
    """(name, arguments) of each call in generated text."""
    reader = CallReader()
    for _ in reader.feed(text):
        pass
    return reader.calls
