"""Widgets for the JSON-valued rows of the parameter table: tools, tool_choice, response_format,
reasoning_effort (registered with components/sampling_controls.py), and the verdict and
tool-call cards a page shows beside a reply."""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping

import streamlit as st

from components.sampling_controls import WidgetKind, json_value, register_widget
from components.state import persistent
from playground import structured
from playground.catalog import ModelInfo
from playground.params import Param

State = Mapping[str, Any]
EFFORTS = ("minimal", "low", "medium", "high")


def _parse(text: str | None, fallback: Any) -> Any:
    try:
        return json.loads(text) if (text or "").strip() else fallback
    except json.JSONDecodeError:
        return fallback


# --------------------------------------------------------------------------- tools


def _load_tools(key: str) -> None:
    example = st.session_state.get(f"{key}:example") or next(iter(structured.READY_TOOLS))
    st.session_state[key] = json.dumps(structured.READY_TOOLS[example], indent=2)


def _tools() -> WidgetKind:
    def draw(param: Param, key: str, info: ModelInfo, disabled: bool) -> tuple[Any, str | None]:
        st.selectbox("Ready tools", list(structured.READY_TOOLS), key=f"{key}:example", disabled=disabled)
        st.button("Load", key=f"{key}:load", on_click=_load_tools, args=(key,), disabled=disabled,
                        help="Put these example functions in the editor.")
        text = persistent(st.text_area, param.label, key=key, height=200, help=param.help or None, disabled=disabled,
                          placeholder='[{"type": "function", "function": {"name": ..., "parameters": {...}}}]')
        return json_value(param, text)

    return WidgetKind(
        draw,
        to_state=lambda p, key, v: {key: json.dumps(v, indent=2) if v else ""},
        from_state=lambda p, key, state: _parse(state.get(key), p.unset),
    )


# --------------------------------------------------------------------------- tool_choice


DEFAULT_CHOICE = "(default: auto)"


def _tool_choice() -> WidgetKind:
    def draw(param: Param, key: str, info: ModelInfo, disabled: bool) -> tuple[Any, str | None]:
        tools = _parse(st.session_state.get(key.removesuffix("tool_choice") + "tools"), [])
        names = [(t.get("function") or {}).get("name") for t in tools if isinstance(t, dict)] if isinstance(tools, list) else []
        options = [DEFAULT_CHOICE, "auto", "none", "required", *[n for n in names if isinstance(n, str)]]
        if st.session_state.get(key) not in options:
            st.session_state[key] = DEFAULT_CHOICE
        picked = persistent(st.selectbox, param.label, key=key, options=options, help=param.help or None, disabled=disabled)
        return (param.unset if picked == DEFAULT_CHOICE else structured.tool_choice_value(picked)), None

    return WidgetKind(
        draw,
        to_state=lambda p, key, v: {key: DEFAULT_CHOICE if v is None else structured.tool_choice_label(v)},
        from_state=lambda p, key, state: (
            None if state.get(key, DEFAULT_CHOICE) == DEFAULT_CHOICE else structured.tool_choice_value(state[key])
        ),
    )


# --------------------------------------------------------------------------- response_format


def _format_keys(key: str) -> dict[str, str]:
    return {part: f"{key}:{part}" for part in ("type", "name", "strict", "schema", "example")}


def _load_schema(key: str) -> None:
    keys = _format_keys(key)
    name = st.session_state.get(f"{key}:ready") or next(iter(structured.READY_SCHEMAS))
    st.session_state[keys["schema"]] = json.dumps(structured.READY_SCHEMAS[name], indent=2)
    st.session_state[keys["name"]] = name


def _schema_from_example(key: str) -> None:
    keys = _format_keys(key)
    try:
        example = json.loads(st.session_state.get(keys["example"]) or "")
    except json.JSONDecodeError as exc:
        st.session_state[f"{key}:example_problem"] = f"The example is not valid JSON ({exc.msg}, line {exc.lineno})."
        return
    st.session_state.pop(f"{key}:example_problem", None)
    st.session_state[keys["schema"]] = json.dumps(structured.schema_from_example(example), indent=2)


def _format_from_state(param: Param, key: str, state: State) -> Any:
    keys = _format_keys(key)
    kind = state.get(keys["type"], "text")
    if kind == "text":
        return param.unset
    if kind == "json_object":
        return {"type": "json_object"}
    schema = _parse(state.get(keys["schema"]), {})
    return structured.json_schema_format(state.get(keys["name"]) or "reply", schema, bool(state.get(keys["strict"], True)))


def _format_to_state(param: Param, key: str, value: Any) -> dict[str, Any]:
    keys = _format_keys(key)
    out = {keys["type"]: "text", keys["name"]: "reply", keys["strict"]: True, keys["schema"]: "", keys["example"]: ""}
    if isinstance(value, dict) and value.get("type") in ("json_object", "json_schema"):
        out[keys["type"]] = value["type"]
        spec = value.get("json_schema") or {}
        out[keys["name"]] = spec.get("name", "reply")
        out[keys["strict"]] = bool(spec.get("strict"))
        out[keys["schema"]] = json.dumps(spec["schema"], indent=2) if "schema" in spec else ""
    return out


def _response_format() -> WidgetKind:
    def draw(param: Param, key: str, info: ModelInfo, disabled: bool) -> tuple[Any, str | None]:
        keys = _format_keys(key)
        kind = persistent(st.segmented_control, param.label, key=keys["type"], options=structured.FORMAT_KINDS,
                          help=param.help or None, disabled=disabled) or "text"
        if kind == "json_schema":
            name_col, strict_col = st.columns([2, 1], vertical_alignment="bottom")
            persistent(name_col.text_input, "Schema name", key=keys["name"], disabled=disabled)
            persistent(strict_col.toggle, "Strict", key=keys["strict"], disabled=disabled,
                       help="Strict: the API guarantees the schema (all keys required, no others).")
            st.selectbox("Ready schemas", list(structured.READY_SCHEMAS), key=f"{key}:ready", disabled=disabled)
            st.button("Load", key=f"{key}:load", on_click=_load_schema, args=(key,), disabled=disabled)
            persistent(st.text_area, "JSON schema", key=keys["schema"], height=200, disabled=disabled,
                       placeholder='{"type": "object", "properties": {...}, "required": [...], "additionalProperties": false}')
            with st.expander("Schema from an example"):
                persistent(st.text_area, "Example JSON", key=keys["example"], height=100, placeholder='{"name": "Ada", "age": 36}')
                st.button("Make the schema", key=f"{key}:from_example", on_click=_schema_from_example, args=(key,))
                if problem := st.session_state.get(f"{key}:example_problem"):
                    st.warning(problem)
            if not (st.session_state.get(keys["schema"]) or "").strip():
                return param.unset, "needs a JSON schema (type one, load a ready one, or make one from an example)."
            try:
                json.loads(st.session_state[keys["schema"]])
            except json.JSONDecodeError as exc:
                return param.unset, f"schema is not valid JSON ({exc.msg}, line {exc.lineno})."
        value = _format_from_state(param, key, st.session_state)
        return value, param.problem(value) if value is not None else None

    return WidgetKind(draw, to_state=_format_to_state, from_state=_format_from_state)


# --------------------------------------------------------------------------- reasoning_effort


def _reasoning_effort() -> WidgetKind:
    def draw(param: Param, key: str, info: ModelInfo, disabled: bool) -> tuple[Any, str | None]:
        options = [None, *EFFORTS]
        picked = persistent(st.selectbox, param.label, key=key, options=options, help=param.help or None,
                            format_func=lambda v: "(model default)" if v is None else v,
                            disabled=disabled or not info.reasoning)
        if not info.reasoning:
            st.caption(":material/block: Only reasoning models take a reasoning effort.")
            return None, None
        return picked, None

    return WidgetKind(draw)


register_widget("tools", _tools())
register_widget("tool_choice", _tool_choice())
register_widget("response_format", _response_format())
register_widget("reasoning_effort", _reasoning_effort())


# --------------------------------------------------------------------------- beside a reply


def verdict_box(text: str, response_format: Any) -> None:
    """The structured-output verdict of a reply (nothing for plain text)."""
    found = structured.verdict(text, response_format)
    if found is None:
        return
    if found.ok:
        st.success(found.summary, icon=":material/check_circle:")
    else:
        st.error(found.summary, icon=":material/error:")
        for line in found.errors[:10]:
            st.text(line)


def tool_call_cards(
    calls: list[dict[str, Any]], tools: list[dict[str, Any]] | None, *, key: str, on_answer: Callable[[dict[str, str]], None]
) -> None:
    """One card per call: its arguments (checked against the function's parameters) and a box
    for its result (typed, or a canned mock). `on_answer` gets {call id: result} for all."""
    for call in calls:
        fn = call.get("function") or {}
        with st.container(border=True):
            st.markdown(f":material/build: **Tool call** `{fn.get('name', '?')}`")
            st.code(fn.get("arguments", ""), language="json")
            checked = structured.arguments_verdict(fn.get("arguments", ""), structured.tool_parameters(tools, fn.get("name", "")))
            st.caption((":material/check: " if checked.ok else ":material/error: ") + checked.summary)
            result_key = f"{key}:{call.get('id')}:result"
            st.session_state.setdefault(result_key, "")
            mock_col, _ = st.columns([1, 3])
            mock_col.button("Use a mock result", key=f"{result_key}:mock",
                            on_click=st.session_state.__setitem__, args=(result_key, structured.mock_result(fn.get("name", ""))))
            st.text_area("Result", key=result_key, height=80, placeholder="What the function returned (any text, often JSON).")
    missing = [c for c in calls if not st.session_state.get(f"{key}:{c.get('id')}:result", "").strip()]
    st.button("Send the results and continue", type="primary", key=f"{key}:send", disabled=bool(missing),
              icon=":material/send:", help="Adds one tool message per call and runs the model again.",
              on_click=_send_answers, args=(calls, key, on_answer))


def _send_answers(calls: list[dict[str, Any]], key: str, on_answer: Callable[[dict[str, str]], None]) -> None:
    on_answer({c.get("id", ""): st.session_state.get(f"{key}:{c.get('id')}:result", "") for c in calls})


def tool_message(message: dict[str, Any], index: int, *, on_delete: Callable[[int], None]) -> bool:
    """Draw a tool result, or an assistant message that called tools (read-only); False for
    any other message (the page draws it)."""
    if message["role"] == "tool":
        with st.chat_message("tool", avatar=":material/build:"):
            st.caption(f"Result of call {message.get('tool_call_id', '?')}")
            st.text(message.get("content") or "")
            st.button(":material/delete:", key=f"tool_msg:{message.get('id')}:delete", help="Delete",
                      on_click=on_delete, args=(index,))
        return True
    if message["role"] == "assistant" and message.get("tool_calls"):
        with st.chat_message("assistant", avatar=":material/smart_toy:"):
            if message.get("content"):
                st.text(message["content"])
            for call in message["tool_calls"]:
                fn = call.get("function") or {}
                st.markdown(f":material/build: `{fn.get('name', '?')}`")
                st.code(fn.get("arguments", ""), language="json")
        return True
    return False
