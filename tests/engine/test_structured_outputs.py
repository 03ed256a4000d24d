"""Tools and structured outputs on /v1/chat/completions: constrained decoding on local-text.

Through the real openai SDK (and LangChain) over HTTP; raw bodies and stream chunks checked
against the official spec's schemas.
"""

from __future__ import annotations

import json
from typing import Literal

import jsonschema
import openai
import pytest
from pydantic import BaseModel

from tests.engine.test_text_schema import post, sse, validate

MODEL = "local-text"
WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["city", "unit", "days"],
    "additionalProperties": False,
}
STOCK = {
    "type": "object",
    "properties": {"symbol": {"type": "string", "pattern": "^[A-Z]{1,5}$"}, "detailed": {"type": "boolean"}},
    "required": ["symbol", "detailed"],
    "additionalProperties": False,
}
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city", "parameters": WEATHER, "strict": True}},
    {"type": "function", "function": {"name": "get_stock_price", "description": "Latest stock price", "parameters": STOCK, "strict": True}},
]
PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "role": {"type": "string", "enum": ["admin", "user", "guest"]},
        "email": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "address": {
            "type": "object",
            "properties": {"street": {"type": "string"}, "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
            "required": ["street", "zip"],
            "additionalProperties": False,
        },
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        "score": {"type": "number"},
    },
    "required": ["name", "age", "role", "email", "address", "tags", "score"],
    "additionalProperties": False,
}
PERSON_FORMAT = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}
ASK_WEATHER = [{"role": "user", "content": "What is the weather in Paris, and the stock price of MSFT?"}]


def test_every_tool_call_over_100_seeds_parses_and_matches_its_schema(client: openai.OpenAI) -> None:
    schemas = {t["function"]["name"]: t["function"]["parameters"] for t in TOOLS}
    counts = []
    for seed in range(100):
        r = client.chat.completions.create(
            model=MODEL, messages=ASK_WEATHER, tools=TOOLS, tool_choice="required", seed=seed, max_completion_tokens=256
        )
        choice = r.choices[0]
        assert choice.finish_reason == "tool_calls", (seed, choice)
        assert choice.message.content is None and choice.message.tool_calls
        assert len(choice.message.tool_calls) <= 2  # parallel: at most one per tool here
        for call in choice.message.tool_calls:
            assert call.type == "function" and call.id.startswith("call_")
            jsonschema.validate(json.loads(call.function.arguments), schemas[call.function.name])
        counts.append(len(choice.message.tool_calls))
    assert set(counts) <= {1, 2}


def test_every_json_schema_reply_over_100_seeds_validates(client: openai.OpenAI) -> None:
    for seed in range(100):
        r = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Describe a user of the system."}],
            response_format=PERSON_FORMAT,
            seed=seed,
            max_completion_tokens=400,
        )
        choice = r.choices[0]
        assert choice.finish_reason == "stop", (seed, choice.message.content)
        jsonschema.validate(json.loads(choice.message.content), PERSON)


def test_tool_call_response_and_stream_match_the_spec(engine_url: str) -> None:
    body = {"model": MODEL, "messages": ASK_WEATHER, "tools": TOOLS, "tool_choice": "required", "seed": 7, "logprobs": True, "top_logprobs": 2}
    whole = post(engine_url, "/chat/completions", body).json()
    validate(whole, "CreateChatCompletionResponse")
    calls = whole["choices"][0]["message"]["tool_calls"]
    events = sse(post(engine_url, "/chat/completions", {**body, "stream": True, "stream_options": {"include_usage": True}}))
    assert events[-1] == "[DONE]"
    for event in events[:-1]:
        validate(event, "CreateChatCompletionStreamResponse")
    # the same seed streams the same calls: id and name once, then argument fragments
    rebuilt: dict[int, dict] = {}
    for event in events[:-2]:
        for delta in event["choices"][0]["delta"].get("tool_calls") or []:
            slot = rebuilt.setdefault(delta["index"], {"name": "", "arguments": "", "ids": []})
            if "id" in delta:
                slot["ids"].append(delta["id"])
                slot["name"] = delta["function"]["name"]
            slot["arguments"] += delta["function"]["arguments"]
    assert [(s["name"], s["arguments"]) for _, s in sorted(rebuilt.items())] == [
        (c["function"]["name"], c["function"]["arguments"]) for c in calls
    ]
    assert all(len(s["ids"]) == 1 for s in rebuilt.values())
    assert events[-3]["choices"][0]["finish_reason"] == "tool_calls"
    assert events[-2]["usage"]["completion_tokens"] == whole["usage"]["completion_tokens"]


def test_json_schema_response_and_stream_match_the_spec(engine_url: str) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "A user"}], "response_format": PERSON_FORMAT, "seed": 3, "logprobs": True}
    whole = post(engine_url, "/chat/completions", body).json()
    validate(whole, "CreateChatCompletionResponse")
    content = whole["choices"][0]["message"]["content"]
    assert "".join(t["token"] for t in whole["choices"][0]["logprobs"]["content"]) == content
    events = sse(post(engine_url, "/chat/completions", {**body, "stream": True}))
    for event in events[:-1]:
        validate(event, "CreateChatCompletionStreamResponse")
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1]) == content


def test_tool_choice_none_named_and_parallel(client: openai.OpenAI) -> None:
    none = client.chat.completions.create(model=MODEL, messages=ASK_WEATHER, tools=TOOLS, tool_choice="none", max_completion_tokens=8)
    assert none.choices[0].message.tool_calls is None and none.choices[0].finish_reason != "tool_calls"
    named = client.chat.completions.create(
        model=MODEL, messages=ASK_WEATHER, tools=TOOLS, seed=1,
        tool_choice={"type": "function", "function": {"name": "get_stock_price"}},
    )
    assert [c.function.name for c in named.choices[0].message.tool_calls] == ["get_stock_price"]
    for seed in range(10):
        single = client.chat.completions.create(
            model=MODEL, messages=ASK_WEATHER, tools=TOOLS, tool_choice="required", parallel_tool_calls=False, seed=seed
        )
        assert len(single.choices[0].message.tool_calls) == 1


def test_auto_calls_when_asked_and_answers_after_the_tool_result(client: openai.OpenAI) -> None:
    first = client.chat.completions.create(model=MODEL, messages=ASK_WEATHER, tools=TOOLS, seed=2)
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls" and message.tool_calls
    history = [*ASK_WEATHER, message.model_dump(exclude_none=True)]
    history += [{"role": "tool", "tool_call_id": c.id, "content": '{"temperature": 21}'} for c in message.tool_calls]
    second = client.chat.completions.create(model=MODEL, messages=history, tools=TOOLS, seed=2, max_completion_tokens=20)
    assert second.choices[0].message.tool_calls is None and second.choices[0].message.content
    unrelated = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Hello there"}], tools=TOOLS, max_completion_tokens=5
    )
    assert unrelated.choices[0].message.tool_calls is None


@pytest.mark.parametrize(
    "kwargs, param, words",
    [
        ({"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_object"}}, "messages", "json"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}}}},
         "response_format.json_schema.schema", "additionalProperties"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": {"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a"], "additionalProperties": False}}}},
         "response_format.json_schema.schema", "Missing 'b'"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": {"type": "object", "properties": {"a": {"allOf": [{"type": "string"}]}}, "required": ["a"], "additionalProperties": False}}}},
         "response_format.json_schema.schema", "'allOf' is not permitted"),
        ({"response_format": {"type": "json_schema", "json_schema": {"name": "bad name", "schema": {"type": "object"}}}}, "response_format.json_schema.name", "pattern"),
        ({"response_format": {"type": "xml"}}, "response_format.type", "json_schema"),
        ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice", "nope"),
        ({"tool_choice": "required"}, "tool_choice", "tools"),
        ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, {"role": "user", "content": "y"}]},
         "messages.[2].role", "call_1"),
        ({"messages": [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "call_9", "content": "r"}]}, "messages[1].role", "tool_calls"),
    ],
)
def test_bad_structured_requests_answer_as_the_api(client: openai.OpenAI, kwargs: dict, param: str, words: str) -> None:
    args = {"model": MODEL, "messages": ASK_WEATHER, **kwargs}
    with pytest.raises(openai.BadRequestError) as err:
        client.chat.completions.create(**args)
    assert err.value.param == param
    assert words in err.value.message


def test_json_object_is_an_object(client: openai.OpenAI) -> None:
    for seed in range(5):
        r = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Reply in JSON."}], response_format={"type": "json_object"}, seed=seed
        )
        assert isinstance(json.loads(r.choices[0].message.content), dict)


class Address(BaseModel):
    street: str
    zip_code: str


class Contact(BaseModel):
    name: str
    kind: Literal["person", "company"]
    age: int
    address: Address
    emails: list[str]


def test_sdk_parse_returns_a_parsed_object(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": "A contact"}], response_format=Contact, seed=5
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Contact) and isinstance(parsed.address, Address)
    tool = openai.pydantic_function_tool(Address, name="save_address")
    with_tool = client.chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": "Save it"}], tools=[tool], tool_choice="required", seed=5
    )
    assert isinstance(with_tool.choices[0].message.tool_calls[0].function.parsed_arguments, Address)


def test_langchain_bind_tools_and_structured_output(engine_url: str) -> None:
    from langchain_core.tools import tool
    from langchain_openai import ChatOpenAI

    @tool
    def get_weather(city: str, days: int) -> str:
        """Current weather for a city over some days."""
        return "sunny"

    llm = ChatOpenAI(model=MODEL, base_url=engine_url, api_key="test-key", max_retries=0, seed=4)
    reply = llm.bind_tools([get_weather], tool_choice="get_weather").invoke("What is the weather in Paris?")
    assert reply.tool_calls and reply.tool_calls[0]["name"] == "get_weather"
    assert set(reply.tool_calls[0]["args"]) == {"city", "days"} and isinstance(reply.tool_calls[0]["args"]["days"], int)
    contact = llm.with_structured_output(Contact).invoke("A contact")
    assert isinstance(contact, Contact)
    by_tool = llm.with_structured_output(Address, method="function_calling").invoke("An address")
    assert isinstance(by_tool, Address)
