"""/v1/responses on local-text: the openai SDK's responses.create / .stream / retrieve / delete /
input_items over real HTTP, and every raw body and stream event checked against the spec."""

from __future__ import annotations

import json

import httpx
import jsonschema
import openai
import pytest

from tests.engine.test_text_schema import HEADERS, post, sse, validate

MODEL = "local-text"
LOGPROBS = ["message.output_text.logprobs"]
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}
WEATHER_TOOL = {"type": "function", "name": "get_weather", "description": "Current weather for a city", "parameters": CITY, "strict": True}
EVENT_ORDER = [
    "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
    "response.output_text.delta", "response.output_text.done", "response.content_part.done",
    "response.output_item.done", "response.completed",
]


def test_create_with_instructions_logprobs_and_usage(client: openai.OpenAI) -> None:
    r = client.responses.create(
        model=MODEL, input="What is a socket?", instructions="Answer briefly.", temperature=0,
        max_output_tokens=24, include=LOGPROBS, top_logprobs=3,
    )
    assert r.id.startswith("resp_") and r.object == "response" and r.status in ("completed", "incomplete")
    part = r.output[0].content[0]
    assert r.output_text == part.text and part.text
    assert "".join(lp.token for lp in part.logprobs) == part.text
    assert all(len(lp.top_logprobs) == 3 for lp in part.logprobs)
    assert r.usage.output_tokens >= len(part.logprobs) and r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert r.instructions == "Answer briefly."


def test_chaining_retrieve_input_items_and_delete(client: openai.OpenAI) -> None:
    first = client.responses.create(model=MODEL, input="What is a socket?", max_output_tokens=16)
    second = client.responses.create(model=MODEL, input="And a pipe?", previous_response_id=first.id, max_output_tokens=16)
    assert second.previous_response_id == first.id
    assert second.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens  # the first turn is context
    items = client.responses.input_items.list(second.id)
    assert [i.content[0].text for i in items.data] == ["And a pipe?"]
    assert client.responses.retrieve(first.id).output_text == first.output_text
    client.responses.delete(first.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(first.id)
    unstored = client.responses.create(model=MODEL, input="hi", store=False, max_output_tokens=16)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(unstored.id)
    with pytest.raises(openai.NotFoundError) as err:
        client.responses.create(model=MODEL, input="x", previous_response_id="resp_missing")
    assert err.value.param == "previous_response_id"


def test_stream_event_sequence_and_logprobs(client: openai.OpenAI) -> None:
    with client.responses.stream(model=MODEL, input="What is a tuple?", max_output_tokens=20, include=LOGPROBS, top_logprobs=2) as stream:
        events = list(stream)
    final = events[-1].response  # response.completed, or response.incomplete at max_output_tokens
    kinds = [e.type for e in events]
    deltas = [e for e in events if e.type == "response.output_text.delta"]
    assert [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1]] == EVENT_ORDER[:-1] + [kinds[-1]]
    assert kinds[-1] in ("response.completed", "response.incomplete")
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert "".join(d.delta for d in deltas) == final.output_text
    assert sum(len(d.logprobs) for d in deltas) == len(final.output[0].content[0].logprobs)
    with client.responses.stream(model=MODEL, input="A city", text={"format": {"type": "json_object"}}, instructions="JSON") as stream:
        assert isinstance(json.loads(stream.get_final_response().output_text), dict)


def test_function_tools_and_tool_output_round_trip(client: openai.OpenAI) -> None:
    r = client.responses.create(model=MODEL, input="What is the weather in Paris?", tools=[WEATHER_TOOL], tool_choice="required")
    call = r.output[0]
    assert call.type == "function_call" and call.name == "get_weather"
    jsonschema.validate(json.loads(call.arguments), CITY)
    answer = client.responses.create(
        model=MODEL, previous_response_id=r.id, tools=[WEATHER_TOOL], max_output_tokens=16,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": '{"temperature": 21}'}],
    )
    assert answer.output[0].type == "message" and answer.output_text


def test_text_format_json_schema_validates_over_seeds(client: openai.OpenAI) -> None:
    fmt = {"type": "json_schema", "name": "city", "schema": CITY, "strict": True}
    for _ in range(10):
        r = client.responses.create(model=MODEL, input="A city", text={"format": fmt})
        jsonschema.validate(json.loads(r.output_text), CITY)


def test_bodies_and_events_match_the_spec(engine_url: str) -> None:
    body = {"model": MODEL, "input": "What is a socket?", "max_output_tokens": 16, "include": LOGPROBS, "top_logprobs": 2}
    whole = post(engine_url, "/responses", body).json()
    validate(whole, "Response")
    for event in sse(post(engine_url, "/responses", {**body, "stream": True})):
        validate(event, "ResponseStreamEvent")
    calls = {"model": MODEL, "input": "weather in Paris", "tools": [WEATHER_TOOL], "tool_choice": "required"}
    validate(post(engine_url, "/responses", calls).json(), "Response")
    for event in sse(post(engine_url, "/responses", {**calls, "stream": True})):
        validate(event, "ResponseStreamEvent")
    items = httpx.get(f"{engine_url}/responses/{whole['id']}/input_items", headers=HEADERS).json()
    validate(items, "ResponseItemList")


def test_azure_ga_paths_serve_chat_responses_and_embeddings(start_engine) -> None:
    with start_engine("--azure-deployment", "chat-dep=local-text") as url:
        azure = openai.OpenAI(base_url=url.removesuffix("/v1") + "/openai/v1", api_key="k", max_retries=0)
        chat = azure.chat.completions.create(model="chat-dep", messages=[{"role": "user", "content": "hi"}], max_completion_tokens=4)
        assert chat.model == "local-text" and chat.choices[0].content_filter_results
        assert azure.responses.create(model="chat-dep", input="hi", max_output_tokens=16).status in ("completed", "incomplete")
        assert len(azure.embeddings.create(model="local-embedding", input="hi").data[0].embedding) > 0


@pytest.mark.parametrize(
    "kwargs, param",
    [
        ({"reasoning": {"effort": "low"}}, "reasoning.effort"),
        ({"max_output_tokens": 5}, "max_output_tokens"),
        ({"top_logprobs": 21}, "top_logprobs"),
        ({"input": [{"type": "image", "url": "x"}]}, "input[0].type"),
        ({"text": {"format": {"type": "json_schema", "name": "x", "strict": True, "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}}}, "text.format.schema"),
        ({"tools": [WEATHER_TOOL], "tool_choice": {"type": "function", "name": "nope"}}, "tool_choice"),
    ],
)
def test_bad_requests_name_the_param(client: openai.OpenAI, kwargs: dict, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        client.responses.create(**{"model": MODEL, "input": "hi", **kwargs})
    assert err.value.param == param and err.value.message
