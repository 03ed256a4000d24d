"""Tools and structured outputs, app side: checks, verdicts, ready examples (no Streamlit).

- `tools_problem`, `response_format_problem`, `tool_choice_problem`: a sentence saying what is
  wrong with a value the user typed (the parameter table's `check`), or None.
- `verdict(text, response_format)`: does a reply parse, and match the schema? One `Verdict`.
- `schema_from_example(value)`: a strict JSON schema that an example JSON value satisfies.
- `READY_SCHEMAS`, `READY_TOOLS`, `MOCK_RESULTS`: examples to start from.
- `merge_tool_call_deltas`: a streamed `delta.tool_calls` list folded into whole calls.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema

NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
FORMAT_KINDS = ("text", "json_object", "json_schema")


@dataclass
class Verdict:
    ok: bool
    summary: str  # one line for the UI
    errors: list[str] = field(default_factory=list)  # where and what, one per problem
    value: Any = None  # the parsed reply, when it parsed


# --------------------------------------------------------------------------- checks


def schema_problem(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return "a schema must be a JSON object"
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        return f"not a valid JSON Schema: {exc.message}"
    return None


def tools_problem(value: Any) -> str | None:
    if not isinstance(value, list):
        return "must be a list of tools"
    names = set()
    for i, tool in enumerate(value):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(fn, dict):
            return f'tool {i + 1} must look like {{"type": "function", "function": {{"name": ..., "parameters": ...}}}}'
        name = fn.get("name")
        if not isinstance(name, str) or not NAME.match(name):
            return f"tool {i + 1}: the name must be 1-64 letters, digits, _ or -"
        if name in names:
            return f"two tools are named {name}"
        names.add(name)
        if "parameters" in fn:
            problem = schema_problem(fn["parameters"])
            if problem:
                return f"{name}: parameters are {problem}"
    return None


def tool_choice_problem(value: Any) -> str | None:
    if value in ("auto", "none", "required") or (
        isinstance(value, dict) and value.get("type") == "function" and isinstance((value.get("function") or {}).get("name"), str)
    ):
        return None
    return "must be auto, none, required or one function's name"


def response_format_problem(value: Any) -> str | None:
    if not isinstance(value, dict) or value.get("type") not in FORMAT_KINDS:
        return "must be text, json_object or json_schema"
    if value["type"] != "json_schema":
        return None
    spec = value.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not NAME.match(spec["name"]):
        return "a json_schema format needs a name of 1-64 letters, digits, _ or -"
    return schema_problem(spec.get("schema", {}))


def tool_choice_value(choice: str) -> Any:
    """The picker's text ("auto", "none", "required" or a function's name) as the API's value."""
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def tool_choice_label(value: Any) -> str:
    return value if isinstance(value, str) else (value.get("function") or {}).get("name", "auto")


# --------------------------------------------------------------------------- verdicts


def verdict(text: str, response_format: Any) -> Verdict | None:
    """Whether a reply honours the response format (None for plain text: nothing to check)."""
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in ("json_object", "json_schema"):
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        return Verdict(False, f"Not JSON: {exc.msg} at character {exc.pos}.", [str(exc)])
    if kind == "json_object":
        if isinstance(value, dict):
            return Verdict(True, "Valid JSON object.", value=value)
        return Verdict(False, f"JSON, but a {type(value).__name__}, not an object.", value=value)
    schema = (response_format.get("json_schema") or {}).get("schema") or {}
    return check_against(value, schema, "schema")


def check_against(value: Any, schema: dict[str, Any], what: str) -> Verdict:
    """Validate a parsed value against a schema: a verdict with each error's path."""
    try:
        validator = jsonschema.Draft202012Validator(schema)
        errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    except jsonschema.SchemaError as exc:
        return Verdict(False, f"The {what} itself is invalid: {exc.message}", value=value)
    if not errors:
        return Verdict(True, f"Valid: matches the {what}.", value=value)
    lines = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]
    return Verdict(False, f"Does not match the {what}: {len(errors)} problem(s).", lines, value)


def arguments_verdict(arguments: str, parameters: dict[str, Any] | None) -> Verdict:
    """A tool call's arguments against its function's parameters."""
    try:
        value = json.loads(arguments)
    except ValueError as exc:
        return Verdict(False, f"Arguments are not JSON: {exc.msg}.", [str(exc)])
    return check_against(value, parameters or {"type": "object"}, "parameters")


# --------------------------------------------------------------------------- schemas from examples


def schema_from_example(value: Any) -> dict[str, Any]:
    """A strict schema (every key required, no others) that the example satisfies."""
    if isinstance(value, dict):
        return {
            "type": "object",
            "properties": {k: schema_from_example(v) for k, v in value.items()},
            "required": list(value),
            "additionalProperties": False,
        }
    if isinstance(value, list):
        items = [schema_from_example(v) for v in value]
        same = all(i == items[0] for i in items) if items else False
        return {"type": "array", "items": items[0] if same else ({"anyOf": _unique(items)} if items else {})}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if value is None:
        return {"type": "null"}
    return {"type": "string"}


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


def json_schema_format(name: str, schema: dict[str, Any], strict: bool) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": strict}}


# --------------------------------------------------------------------------- ready examples


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


READY_SCHEMAS: dict[str, dict[str, Any]] = {
    "person": _object({
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "email": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    }),
    "sentiment": _object({
        "sentiment": {"type": "string", "enum": ["positive", "neutral", "negative"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    }),
    "todo_list": _object({
        "title": {"type": "string"},
        "items": {"type": "array", "maxItems": 5, "items": _object({"task": {"type": "string"}, "done": {"type": "boolean"}})},
    }),
}


def _function(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": description, "parameters": _object(properties), "strict": True}}


READY_TOOLS: dict[str, list[dict[str, Any]]] = {
    "weather": [_function("get_weather", "Current weather for a city", {
        "city": {"type": "string", "description": "City name, e.g. Paris"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    })],
    "calculator": [_function("calculate", "Evaluate an arithmetic expression", {
        "expression": {"type": "string", "description": "e.g. 2 * (3 + 4)"},
    })],
    "weather and stocks": [
        _function("get_weather", "Current weather for a city", {"city": {"type": "string"}}),
        _function("get_stock_price", "Latest price of a stock", {"symbol": {"type": "string", "pattern": "^[A-Z]{1,5}$"}}),
    ],
}

MOCK_RESULTS: dict[str, str] = {
    "get_weather": '{"temperature": 21, "unit": "celsius", "conditions": "sunny"}',
    "calculate": '{"result": 14}',
    "get_stock_price": '{"symbol": "MSFT", "price": 421.5, "currency": "USD"}',
}


def mock_result(name: str) -> str:
    """A canned answer for a tool call (the known examples', or a generic one)."""
    return MOCK_RESULTS.get(name, json.dumps({"ok": True, "note": f"mock result of {name}"}))


def tool_parameters(tools: list[dict[str, Any]] | None, name: str) -> dict[str, Any] | None:
    for tool in tools or []:
        fn = tool.get("function") or {}
        if fn.get("name") == name:
            return fn.get("parameters")
    return None


# --------------------------------------------------------------------------- streamed calls


def merge_tool_call_deltas(calls: list[dict[str, Any]], deltas: list[Any]) -> None:
    """Fold a chunk's `delta.tool_calls` (SDK objects or dicts) into whole calls, in place."""
    for delta in deltas or []:
        d = delta.model_dump(exclude_none=True) if hasattr(delta, "model_dump") else dict(delta)
        index = d.get("index")
        index = len(calls) if index is None else index
        while len(calls) <= index:
            calls.append({"id": "", "type": "function", "function": {"name": "", "arguments": ""}})
        call = calls[index]
        if d.get("id"):
            call["id"] = d["id"]
        fn = d.get("function") or {}
        if fn.get("name"):
            call["function"]["name"] = fn["name"]
        call["function"]["arguments"] += fn.get("arguments") or ""
