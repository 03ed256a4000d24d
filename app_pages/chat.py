"""Chat: a system message and a conversation you can edit, reorder and rerun from any point;
every sampling control; the reply's token probabilities."""

import uuid

import streamlit as st

from components.counts import live_prompt_count
from components.history import record_run
from components.plain import inert
from components.presets import share_link
from components.run_view import render_code, render_result, run_live, settle, stop_control, text_page
from components.sampling_controls import wire_message
from components.state import owned, owns_pattern, persistent
from components.stop_button import RunTriggers
from components.structured_controls import tool_call_cards, tool_message, verdict_box
from playground.requests import build_request, check_request, one_per_param

RESULT_KEY = "chat_result"
MESSAGES_KEY = "chat_messages"  # the conversation (the `messages` control), system message first when there is one
ROLES = ["user", "assistant", "system"]
AVATARS = {"user": ":material/person:", "assistant": ":material/smart_toy:", "system": ":material/settings:"}
state = st.session_state
KEYS = owned("chat", system="", new_role="user")
MESSAGE_KEYS = owns_pattern("chat_msg:", "chat")  # chat_msg:<id>:content and :role, one pair per message


def _new_message(role: str, content: str = "") -> dict:
    return {"id": uuid.uuid4().hex[:12], "role": role, "content": content}


def _messages() -> list[dict]:
    """The conversation; messages set from elsewhere (a preset, a link) get their ids here."""
    messages = state.setdefault(MESSAGES_KEY, [])
    for message in messages:
        message.setdefault("id", uuid.uuid4().hex[:12])
    return messages


def _content_key(message: dict) -> str:
    return f"{MESSAGE_KEYS}{message['id']}:content"


def _role_key(message: dict) -> str:
    return f"{MESSAGE_KEYS}{message['id']}:role"


# -- actions (button callbacks: they run before the page is drawn, so it shows their effect)


def _move(index: int, step: int) -> None:
    messages = _messages()
    other = index + step
    if 0 <= other < len(messages):
        messages[index], messages[other] = messages[other], messages[index]


def _delete(index: int) -> None:
    del _messages()[index]


def _run_from(index: int) -> None:
    """Keep the conversation up to this message (an assistant message is generated again) and run."""
    messages = _messages()
    keep = index if messages[index]["role"] == "assistant" else index + 1
    del messages[keep:]
    state["chat_pending_run"] = True


def _regenerate() -> None:
    messages = _messages()
    if messages and messages[-1]["role"] == "assistant":
        messages.pop()
    state["chat_pending_run"] = True


def _add() -> None:
    _messages().append(_new_message(state.get("chat_new_role", "user")))


def _send() -> None:
    text = state.get("chat_input")
    if text:
        _messages().append(_new_message("user", text))
        state["chat_pending_run"] = True


def _clear() -> None:
    messages = _messages()
    del messages[1 if messages and messages[0]["role"] == "system" else 0 :]
    state.pop(RESULT_KEY, None)


def _use_choice(text: str) -> None:
    """Put another returned choice in place of the reply."""
    for message in _messages():
        if message["id"] == state.get("chat_reply_id"):
            message["content"] = text
            state[_content_key(message)] = text


def _take_reply(result) -> bool:  # noqa: ANN001 - RunResult
    """Add the run's first choice to the conversation (once; also when stopped)."""
    if not state.pop("chat_reply_pending", False):
        return False
    if result.error is not None or not result.choices:
        return False
    reply = _new_message("assistant", result.choices[0].text)
    if result.choices[0].tool_calls:
        reply["tool_calls"] = result.choices[0].tool_calls
    _messages().append(reply)
    state["chat_reply_id"] = reply["id"]
    return True


def _answer_tools(answers: dict[str, str]) -> None:
    """One tool message per call of the last reply, then run again."""
    for call_id, text in answers.items():
        message = _new_message("tool", text)
        message["tool_call_id"] = call_id
        _messages().append(message)
    state["chat_pending_run"] = True


def _typed_into(messages: list[dict], api_messages: list[dict]) -> dict:
    """Each text field of the conversation (its widget key) -> the messages as they would
    be with a given text in it, for the count as the user types."""
    def with_text(index: int):  # noqa: ANN202
        return lambda text: [*api_messages[:index], {**api_messages[index], "content": text}, *api_messages[index + 1:]]

    has_system = bool(messages) and messages[0]["role"] == "system"
    rest = api_messages[1:] if has_system else api_messages  # an emptied system box drops the message
    fields = {KEYS.key("system"): lambda text: ([{"role": "system", "content": text}] if text else []) + rest}
    for index, message in enumerate(messages):
        if not (index == 0 and has_system) and message["role"] != "tool":
            fields[_content_key(message)] = with_text(index)
    return fields


# -- the page

controls, main, link_slot = text_page(
    "chat", "Chat",
    "A system message and a conversation: edit any message, reorder, rerun from any point, see every token's probability.")
info = controls.info

messages = _messages()
result = settle(RESULT_KEY)
if result is not None:
    _take_reply(result)  # a run interrupted by Stop keeps what arrived

with main:
    # The system message box edits the conversation's leading system message.
    has_system = bool(messages) and messages[0]["role"] == "system"
    bound_to = messages[0]["id"] if has_system else None
    if state.get("_chat_system_for") != bound_to:
        KEYS.put("system", messages[0]["content"] if has_system else "")
    system = KEYS.widget(st.text_area, "System message", "system", height=80,
                         placeholder="How the assistant should behave (optional).")
    if has_system and system:
        messages[0]["content"] = system
    elif has_system:
        messages.pop(0)
    elif system:
        messages.insert(0, _new_message("system", system))
    state["_chat_system_for"] = messages[0]["id"] if messages and messages[0]["role"] == "system" else None

    first = 1 if messages and messages[0]["role"] == "system" else 0
    if len(messages) == first:
        st.caption("No messages yet: type below, or add a message of any role.")
    for index in range(first, len(messages)):
        message = messages[index]
        if _content_key(message) not in state:
            state[_content_key(message)] = message["content"]
        if _role_key(message) not in state:
            state[_role_key(message)] = message["role"]
        message["role"] = state[_role_key(message)]  # a role just changed is drawn with its avatar
        if tool_message(message, index, on_delete=_delete):
            continue
        with st.chat_message(message["role"], avatar=AVATARS.get(message["role"])):
            message["content"] = persistent(
                st.text_area, f"Message {index}", key=_content_key(message), label_visibility="collapsed", height="content",
            )
            role_col, up_col, down_col, delete_col, run_col = st.columns([2, 1, 1, 1, 3], vertical_alignment="center")
            message["role"] = persistent(role_col.selectbox, "Role", key=_role_key(message), options=ROLES,
                                         label_visibility="collapsed")
            up_col.button(":material/arrow_upward:", key=f"chat_msg:{message['id']}:up", help="Move up",
                          on_click=_move, args=(index, -1), disabled=index == first)
            down_col.button(":material/arrow_downward:", key=f"chat_msg:{message['id']}:down", help="Move down",
                            on_click=_move, args=(index, 1), disabled=index == len(messages) - 1)
            delete_col.button(":material/delete:", key=f"chat_msg:{message['id']}:delete", help="Delete",
                              on_click=_delete, args=(index,))
            run_col.button(
                "Regenerate from here" if message["role"] == "assistant" else "Run from here",
                key=f"chat_msg:{message['id']}:run", on_click=_run_from, args=(index,),
                help="Drop the messages after this one and run again from here.",
            )

    last = messages[-1] if len(messages) > first else None
    if last is not None and last["role"] == "assistant":
        verdict_box(last["content"], controls.values.get("response_format"))
        if last.get("tool_calls"):
            tool_call_cards(last["tool_calls"], controls.values.get("tools"), key=f"chat_tools:{last['id']}",
                            on_answer=_answer_tools)

    add_role_col, add_col, _ = st.columns([2, 2, 4], vertical_alignment="bottom")
    with add_role_col:
        KEYS.widget(st.selectbox, "New message role", "new_role", options=ROLES)
    add_col.button("Add message", icon=":material/add:", key="chat_add", on_click=_add)
    st.chat_input("Send a message", key="chat_input", on_submit=_send)

    share_link("chat", link_slot)
    api_messages = [wire_message(m) for m in messages]
    prompt_tokens = live_prompt_count(info, controls.values["max_tokens"], messages=api_messages,
                                      typed_into=_typed_into(messages, api_messages), key="chat_count")
    request = build_request("chat", info, controls.values, messages=api_messages)
    problems = one_per_param(controls.problems, check_request(request, info, prompt_tokens=prompt_tokens))
    for problem in problems:
        st.warning(inert(problem), icon=":material/tune:")

    run_col, regenerate_col, clear_col, _ = st.columns([1, 2, 1, 1.5])
    clicked = run_col.button("Run", type="primary", icon=":material/play_arrow:", key="chat_run", disabled=bool(problems))
    regenerate_col.button("Regenerate last answer", icon=":material/refresh:", key="chat_regenerate",
                          on_click=_regenerate, disabled=not messages or messages[-1]["role"] != "assistant")
    clear_col.button("Clear", icon=":material/delete_sweep:", key="chat_clear", on_click=_clear, disabled=len(messages) == first)

    pending = state.pop("chat_pending_run", False)
    running = (clicked or pending) and not problems
    stop_control(RESULT_KEY, request, running=running, triggers=RunTriggers(
        buttons=["chat_run", "chat_regenerate", "chat_msg:*:run", "chat_tools:*:send"], chat_inputs=["chat_input"]))
    if running:
        state["chat_reply_pending"] = True
        with st.chat_message("assistant", avatar=AVATARS["assistant"]):
            result = run_live(RESULT_KEY, request, prompt_tokens=prompt_tokens, key="chat")
        if _take_reply(result):
            st.rerun()  # draw the conversation with the reply in it

    if result is not None:
        render_result(result, info, key="chat", show_text=False)
        record_run(result)  # after: the browser draws the result while the run's row is made
        if len(result.choices) > 1 and state.get("chat_reply_id"):
            st.caption("The conversation continues with choice 0. Pick another:")
            for column, choice in zip(st.columns(len(result.choices)), result.choices):
                column.button(f"Use choice {choice.index}", key=f"chat_use:{choice.index}", on_click=_use_choice, args=(choice.text,))
    render_code(request, key="chat")
