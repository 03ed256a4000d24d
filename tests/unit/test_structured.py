"""playground/structured.py: checks, verdicts, schemas from examples, streamed tool-call deltas."""

from __future__ import annotations

import json

import jsonschema
import pytest

from playground import structured


def test_verdicts_for_each_format() -> None:
    person = structured.json_schema_format("person", structured.READY_SCHEMAS["person"], True)
    assert structured.verdict("hello", {"type": "text"}) is None
    good = structured.verdict('{"name": "Ada", "age": 36, "email": null}', person)
    assert good.ok and good.value["name"] == "Ada"
    bad = structured.verdict('{"name": "Ada", "age": -1}', person)
    assert not bad.ok and any(line.startswith("age:") for line in bad.errors) and any("email" in line for line in bad.errors)
    broken = structured.verdict('{"name": ', person)
    assert not broken.ok and broken.summary.startswith("Not JSON")
    assert structured.verdict("[1]", {"type": "json_object"}).ok is False
    assert structured.verdict('{"a": 1}', {"type": "json_object"}).ok


@pytest.mark.parametrize(
    "example",
    [{"name": "Ada", "age": 36, "tags": ["x", "y"], "ok": True, "score": 1.5, "address": {"zip": "12345"}, "none": None}, {"mixed": [1, "a"]}],
)
def test_schema_from_example_accepts_the_example_and_is_strict(example: dict) -> None:
    schema = structured.schema_from_example(example)
    jsonschema.validate(example, schema)
    assert schema["additionalProperties"] is False and schema["required"] == list(example)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**example, "extra": 1}, schema)


def test_problems_of_typed_values() -> None:
    assert structured.tools_problem(structured.READY_TOOLS["weather and stocks"]) is None
    assert "name" in structured.tools_problem([{"type": "function", "function": {"name": "bad name"}}])
    assert "two tools" in structured.tools_problem(structured.READY_TOOLS["weather"] * 2)
    assert "schema" in structured.tools_problem([{"type": "function", "function": {"name": "f", "parameters": {"type": 5}}}])
    assert structured.response_format_problem({"type": "xml"})
    assert structured.response_format_problem({"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}) is None
    assert structured.tool_choice_problem(structured.tool_choice_value("get_weather")) is None
    assert structured.tool_choice_label(structured.tool_choice_value("get_weather")) == "get_weather"
    assert structured.tool_choice_problem("sometimes")


def test_ready_tools_have_mock_results_that_parse() -> None:
    for tools in structured.READY_TOOLS.values():
        for tool in tools:
            json.loads(structured.mock_result(tool["function"]["name"]))
            jsonschema.Draft202012Validator.check_schema(tool["function"]["parameters"])
    assert json.loads(structured.mock_result("unknown_tool"))["ok"] is True


def test_streamed_deltas_fold_into_calls_and_arguments_are_checked() -> None:
    calls: list[dict] = []
    structured.merge_tool_call_deltas(calls, [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}])
    structured.merge_tool_call_deltas(calls, [{"index": 0, "function": {"arguments": '{"city": "Pa'}}])
    structured.merge_tool_call_deltas(calls, [{"index": 0, "function": {"arguments": 'ris", "unit": "celsius"}'}}])
    structured.merge_tool_call_deltas(calls, [{"index": 1, "id": "call_2", "function": {"name": "calculate", "arguments": "{}"}}])
    assert [c["id"] for c in calls] == ["call_1", "call_2"]
    params = structured.tool_parameters(structured.READY_TOOLS["weather"], "get_weather")
    assert structured.arguments_verdict(calls[0]["function"]["arguments"], params).ok
    assert not structured.arguments_verdict('{"city": 3}', params).ok


def test_tools_and_response_format_are_rows_that_links_and_saved_runs_carry() -> None:
    from playground.catalog import model_info
    from playground.params import body_params, controls_from_request
    from playground.presets import from_query_params, to_query_params

    tools = structured.READY_TOOLS["weather and stocks"]
    fmt = structured.json_schema_format("person", structured.READY_SCHEMAS["person"], True)
    controls = {"model": "local-text", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}], "tools": tools,
                "tool_choice": structured.tool_choice_value("get_weather"), "parallel_tool_calls": False, "response_format": fmt}
    _, restored = from_query_params(to_query_params(controls, page="chat"))
    assert {k: restored[k] for k in ("tools", "tool_choice", "parallel_tool_calls", "response_format")} == {
        k: controls[k] for k in ("tools", "tool_choice", "parallel_tool_calls", "response_format")}
    body = body_params("chat", model_info("local-text"), controls)
    assert body["tools"] == tools and body["response_format"] == fmt and body["parallel_tool_calls"] is False
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    again = controls_from_request("chat", {**body, "model": "local-text"})
    assert again["tools"] == tools and again["response_format"] == fmt and again["reasoning_effort"] is None
    no_tools = body_params("chat", model_info("local-text"), {**controls, "tools": []})
    assert "tool_choice" not in no_tools and "parallel_tool_calls" not in no_tools  # only with tools
