"""Responses: OpenAI's Responses API as a thread chained by previous_response_id, with
instructions, reasoning effort and a developer message for reasoning models, structured
output, function tools, token probabilities from `include`, and every streamed event raw."""

import json

import streamlit as st

from components.connection import get_client
from components.errors import show_problem
from components.models import model_picker
from components.state import owned
from components.structured_controls import tool_call_cards, verdict_box
from components.token_view import render_token_view
from playground import responses, structured
from playground.tokens import encoding_for_model

THREAD_KEY = "responses_thread"
state = st.session_state
KEYS = owned(
    "responses", instructions="", developer="", temperature=1.0, top_p=1.0, max_output_tokens=256, effort="medium",
    logprobs=True, top_logprobs=3, chain=True, format="text", schema="", tools="", tool_choice="auto", store=True,
)


def _thread() -> list[responses.Turn]:
    return state.setdefault(THREAD_KEY, [])


def _clear() -> None:
    state[THREAD_KEY] = []


def _send(user_text: str = "", tool_outputs: dict[str, str] | None = None) -> None:
    state["responses_pending"] = {"user_text": user_text, "tool_outputs": tool_outputs or {}}


def _on_input() -> None:
    if text := state.get("responses_input"):
        _send(user_text=text)


def _encoding(model: str) -> object | None:
    try:
        return encoding_for_model(model)
    except Exception:  # an encoding that needs a download offline: token ids stay unknown
        return None


def _parsed(text: str, what: str) -> object | None:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        st.warning(f"The {what} is not valid JSON ({exc.msg}, line {exc.lineno}); it is not sent.")
        return None


st.title("Responses")
st.caption("The Responses API: a thread chained by previous_response_id, instructions, tools, structured output, "
           "token probabilities and the raw streamed events.")

settings, main = st.columns([1, 2.8], gap="large")
with settings:
    info = model_picker("chat", key="responses_model")
    if info is None:
        st.stop()
    KEYS.widget(st.text_area, "Instructions", "instructions", height=90,
                help="A system/developer message for this request only: a chained response does not carry it over.")
    if info.reasoning:
        KEYS.widget(st.selectbox, "Reasoning effort", "effort", options=["minimal", "low", "medium", "high"])
        KEYS.widget(st.text_area, "Developer message", "developer", height=70,
                    help="Sent as an input item with the developer role (reasoning models read it like instructions).")
    else:
        KEYS.widget(st.slider, "Temperature", "temperature", min_value=0.0, max_value=2.0, step=0.01)
        KEYS.widget(st.slider, "Top P", "top_p", min_value=0.0, max_value=1.0, step=0.01)
    KEYS.widget(st.number_input, "Max output tokens", "max_output_tokens", min_value=16, max_value=100_000, step=16)
    KEYS.widget(st.toggle, "Token probabilities (include logprobs)", "logprobs")
    KEYS.widget(st.slider, "Alternatives per token", "top_logprobs", min_value=0, max_value=20,
                disabled=not state.get("responses_logprobs"))
    KEYS.widget(st.toggle, "Chain by previous_response_id", "chain", help="Off: each request starts a new thread.")
    KEYS.widget(st.toggle, "Store responses", "store", help="Needed to chain: the server keeps the response.")
    with st.expander("Structured output"):
        KEYS.widget(st.segmented_control, "Text format", "format", options=["text", "json_object", "json_schema"])
        if state.get("responses_format") == "json_schema":
            ready = st.selectbox("Ready schemas", list(structured.READY_SCHEMAS), key="responses_ready_schema")
            if st.button("Load", key="responses_load_schema"):
                KEYS.put("schema", json.dumps(structured.READY_SCHEMAS[ready], indent=2))
            KEYS.widget(st.text_area, "JSON schema", "schema", height=180)
    with st.expander("Tools"):
        ready_tools = st.selectbox("Ready tools", list(structured.READY_TOOLS), key="responses_ready_tools")
        if st.button("Load", key="responses_load_tools"):
            KEYS.put("tools", json.dumps(structured.READY_TOOLS[ready_tools], indent=2))
        KEYS.widget(st.text_area, "Functions (JSON)", "tools", height=160)
        KEYS.widget(st.selectbox, "Tool choice", "tool_choice", options=["auto", "none", "required"])

tools = _parsed(state.get("responses_tools", ""), "tools list")
if tools is not None and (problem := structured.tools_problem(tools)):
    st.warning(f"Tools: {problem}")
    tools = None
schema = _parsed(state.get("responses_schema", ""), "schema") if state.get("responses_format") == "json_schema" else None
response_format = None
if state.get("responses_format") == "json_object":
    response_format = {"type": "json_object"}
elif schema is not None:
    response_format = structured.json_schema_format("reply", schema, True)

thread = _thread()
with main:
    for number, turn in enumerate(thread):
        with st.chat_message("user"):
            st.text(turn.shown_input)
        with st.chat_message("assistant"):
            if turn.error is not None:
                show_problem(turn.error)
                continue
            response = turn.response or {}
            st.caption(f"{response.get('id', '?')} · {response.get('status', '?')}"
                       + (f" · after {response['previous_response_id']}" if response.get("previous_response_id") else ""))
            text = responses.output_text(response)
            if text:
                st.text(text)
            calls = responses.function_calls(response)
            if calls and number == len(thread) - 1:
                tool_call_cards(calls, tools, key=f"responses_calls:{turn.id}", on_answer=lambda answers: _send(tool_outputs=answers))
            elif calls:
                for call in calls:
                    st.code(f"{call['function']['name']}({call['function']['arguments']})", language="text")
            verdict_box(text, turn.response_format)
            usage = response.get("usage") or {}
            if usage:
                st.caption(f"{usage.get('input_tokens', 0)} in · {usage.get('output_tokens', 0)} out · "
                           f"{turn.latency_s or 0:.2f} s")
            tokens = responses.token_infos(response, _encoding(info.id))
            if tokens:
                with st.expander("Token probabilities"):
                    render_token_view(tokens, key=f"responses_tokens:{number}")
            with st.expander(f"Raw events ({len(turn.events)})"):
                st.code("\n".join(json.dumps(e, ensure_ascii=False) for e in turn.events), language="json")

    st.chat_input("Send a message", key="responses_input", on_submit=_on_input)
    st.button("New thread", icon=":material/delete_sweep:", on_click=_clear, disabled=not thread, key="responses_clear")

    pending = state.pop("responses_pending", None)
    if pending:
        previous = thread[-1].id if thread and state.get("responses_chain") and state.get("responses_store") else None
        body = responses.build_body(
            info.id,
            user_text=pending["user_text"],
            tool_outputs=pending["tool_outputs"],
            instructions=state.get("responses_instructions", ""),
            developer=state.get("responses_developer", "") if info.reasoning else "",
            previous_response_id=previous,
            temperature=None if info.reasoning or state.get("responses_temperature") == 1.0 else state.get("responses_temperature"),
            top_p=None if info.reasoning or state.get("responses_top_p") == 1.0 else state.get("responses_top_p"),
            max_output_tokens=int(state.get("responses_max_output_tokens") or 256),
            reasoning_effort=state.get("responses_effort") if info.reasoning else None,
            top_logprobs=int(state.get("responses_top_logprobs") or 0) if state.get("responses_logprobs") else None,
            text_format=responses.flat_format(response_format),
            tools=tools,
            tool_choice=state.get("responses_tool_choice") if tools else None,
            store=bool(state.get("responses_store")),
        )
        shown = pending["user_text"] or "\n".join(f"Result of {cid}: {out}" for cid, out in pending["tool_outputs"].items())
        turn = responses.Turn(sent=body, shown_input=shown, response_format=response_format)
        with st.chat_message("user"):
            st.text(shown)
        with st.chat_message("assistant"):
            live = st.empty()
            responses.run(get_client(), turn, on_event=lambda t, e: live.text(responses.streamed_text(t)))
        thread.append(turn)
        st.rerun()
