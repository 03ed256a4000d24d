"""Tools, structured output and the Responses page under AppTest against the real engine."""

from __future__ import annotations

import json

import jsonschema
from streamlit.testing.v1 import AppTest

from playground import structured
from tests.conftest import recorded_requests


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.message for e in at.exception]
    return at


def last_body(engine_url: str, path: str) -> dict:
    return recorded_requests(engine_url, path)[-1]["body"]


def test_chat_tool_call_answered_with_a_mock_result_continues(open_app, engine_url):
    at = open_app("app_pages/chat.py")
    at.text_area(key="chat_tools").input(json.dumps(structured.READY_TOOLS["weather"]))
    at.number_input(key="chat_seed").set_value(4)
    at.toggle(key="chat_stream").set_value(True).run()
    ok(at)
    at.selectbox(key="chat_tool_choice").set_value("get_weather").run()
    at.chat_input(key="chat_input").set_value("What is the weather in Paris?").run()
    ok(at)
    body = last_body(engine_url, "/v1/chat/completions")
    assert body["tools"] == structured.READY_TOOLS["weather"]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    reply = at.session_state["chat_messages"][-1]
    [call] = reply["tool_calls"]
    params = structured.tool_parameters(structured.READY_TOOLS["weather"], "get_weather")
    jsonschema.validate(json.loads(call["function"]["arguments"]), params)
    card = f"chat_tools:{reply['id']}:{call['id']}:result"
    at.button(key=f"{card}:mock").click().run()
    assert at.text_area(key=card).value == structured.mock_result("get_weather")
    at.button(key=f"chat_tools:{reply['id']}:send").click().run()
    ok(at)
    sent = last_body(engine_url, "/v1/chat/completions")["messages"]
    assert sent[-2]["tool_calls"][0]["id"] == call["id"]
    assert sent[-1] == {"role": "tool", "content": structured.mock_result("get_weather"), "tool_call_id": call["id"]}
    assert at.session_state["chat_messages"][-1]["role"] == "assistant"


def test_chat_structured_output_shows_its_verdict(open_app, engine_url):
    at = open_app("app_pages/chat.py")
    at.button_group(key="chat_response_format:type").set_value("json_schema").run()
    at.selectbox(key="chat_response_format:ready").set_value("sentiment")
    at.button(key="chat_response_format:load").click().run()
    ok(at)
    at.chat_input(key="chat_input").set_value("How do you feel about sockets?").run()
    ok(at)
    body = last_body(engine_url, "/v1/chat/completions")
    assert body["response_format"] == structured.json_schema_format("sentiment", structured.READY_SCHEMAS["sentiment"], True)
    reply = at.session_state["chat_messages"][-1]["content"]
    jsonschema.validate(json.loads(reply), structured.READY_SCHEMAS["sentiment"])
    assert any("matches the schema" in s.value for s in at.success)


def test_responses_page_chains_and_shows_events_and_tokens(open_app, engine_url):
    at = open_app("app_pages/responses.py")
    at.text_area(key="responses_instructions").input("Answer briefly.")
    at.number_input(key="responses_max_output_tokens").set_value(24).run()
    at.chat_input(key="responses_input").set_value("What is a socket?").run()
    ok(at)
    first = last_body(engine_url, "/v1/responses")
    assert first["instructions"] == "Answer briefly." and first["include"] == ["message.output_text.logprobs"]
    at.chat_input(key="responses_input").set_value("And a pipe?").run()
    ok(at)
    second = last_body(engine_url, "/v1/responses")
    thread = at.session_state["responses_thread"]
    assert second["previous_response_id"] == thread[0].id and len(thread) == 2
    assert thread[1].events[0]["type"] == "response.created" and thread[1].events[-1]["type"] in ("response.completed", "response.incomplete")
    assert any("logprob" in frame.value.columns for frame in at.dataframe)
