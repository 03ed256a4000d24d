"""The controls of the text pages, drawn from the parameter table (playground/params.py).

Each row's `widget` names a WidgetKind below: how it is drawn, how a value is put into its
session keys (presets, links, "Open in ..."), and how the value is read back from them.
A page's controls live under `{prefix}_{name}` (the prefix is the page, or one Compare
column) and are kept for the session (components/state.py). A control the selected model
does not take is disabled, with the reason beside it.

A new kind of widget (an editor for a JSON parameter) is one `register_widget` call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import streamlit as st

from components.logit_bias import logit_bias_editor
from components.models import model_picker, not_offered
from components.plain import inert
from components.state import owned, persistent
from playground.catalog import ModelInfo
from playground.params import Param, params_for
from playground.requests import Endpoint, ParamProblem, parse_stop_lines, stop_lines

Value = Any
State = Mapping[str, Any]


@dataclass(frozen=True)
class WidgetKind:
    """How one kind of control is drawn and kept.

    draw(param, key, model info, disabled) -> (value, problem or None); to_state(param, key, value) -> the
    session keys and values that show `value`; from_state(param, key, state) -> the value.
    """

    draw: Callable[[Param, str, ModelInfo, bool], tuple[Value, str | None]] | None
    to_state: Callable[[Param, str, Value], dict[str, Any]] = lambda p, key, v: {key: v}
    from_state: Callable[[Param, str, State], Value] = lambda p, key, state: state.get(key, p.default)


WIDGETS: dict[str, WidgetKind] = {}


def json_value(param: Param, text: str | None) -> tuple[Value, str | None]:
    """A JSON editor's text as the row's value, and what is wrong with it (None: fine)."""
    if not (text or "").strip():
        return param.unset, None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return param.unset, f"is not valid JSON ({exc.msg}, line {exc.lineno})."
    return value, param.problem(value)

def register_widget(name: str, kind: WidgetKind) -> None:
    WIDGETS[name] = kind


def _bounds(param: Param) -> dict[str, Any]:
    low, high = param.shown_range or (param.low, param.high)
    number = float if param.kind == "float" else int
    return {"min_value": None if low is None else number(low), "max_value": None if high is None else number(high)}


def _simple(widget: Callable[..., Any], **options: Any) -> WidgetKind:
    def draw(param: Param, key: str, info: ModelInfo, disabled: bool) -> tuple[Value, str | None]:
        extra = dict(options)
        if widget in (st.slider, st.number_input):
            extra["step"] = param.step or (0.01 if param.kind == "float" else 1)
        if widget is st.slider:
            # A number field takes any number: one out of range is said by the table's check (and
            # Run refuses it), where bounds on the field would keep the last value in range silently.
            extra.update(_bounds(param))
        if param.placeholder and widget in (st.number_input, st.text_input, st.text_area):
            extra["placeholder"] = param.placeholder
        value = persistent(widget, param.label, key=key, help=param.help or None, disabled=disabled, **extra)
        if value is not None and param.kind == "float":
            value = float(value)
        elif value is not None and param.kind == "int":
            value = int(value)
        return value, None

    def to_state(param: Param, key: str, value: Value) -> dict[str, Any]:
        return {key: float(value) if param.kind == "float" and value is not None else value}

    return WidgetKind(draw, to_state=to_state)


def _lines() -> WidgetKind:
    """A list of strings, one per line with \\n-style escapes (stop sequences)."""

    def draw(param: Param, key: str, info: ModelInfo, disabled: bool) -> tuple[Value, str | None]:
        text = persistent(st.text_area, param.label, key=key, height=80, placeholder=param.placeholder,
                          help=param.help or None, disabled=disabled)
        value = parse_stop_lines(text or "")
        return value, param.problem(value)

    return WidgetKind(
        draw,
        to_state=lambda p, key, v: {key: stop_lines(list(v or []))},
        from_state=lambda p, key, state: parse_stop_lines(state.get(key) or ""),
    )


def _optional_slider() -> WidgetKind:
    """A number that may be off (None): a toggle, and a slider for the number."""

    def draw(param: Param, key: str, info: ModelInfo, disabled: bool) -> tuple[Value, str | None]:
        on = persistent(st.toggle, param.label, key=f"{key}_on", disabled=disabled)
        value = persistent(st.slider, "Alternatives per token", key=key, disabled=disabled or not on, help=param.help or None,
                           step=1, **_bounds(param))
        return (int(value) if on else None), None

    return WidgetKind(
        draw,
        to_state=lambda p, key, v: {f"{key}_on": v is not None, key: p.default if v is None else v},
        from_state=lambda p, key, state: state.get(key, p.default) if state.get(f"{key}_on", p.default is not None) else None,
    )


def _json_editor() -> WidgetKind:
    """A JSON value typed as text, checked by the row's validator."""

    def draw(param: Param, key: str, info: ModelInfo, disabled: bool) -> tuple[Value, str | None]:
        text = persistent(st.text_area, param.label, key=key, height=120, help=param.help or None,
                          placeholder=param.placeholder or "JSON", disabled=disabled)
        return json_value(param, text)

    def from_state(param: Param, key: str, state: State) -> Value:
        try:
            return json.loads(state[key]) if (state.get(key) or "").strip() else param.unset
        except json.JSONDecodeError:
            return param.unset

    return WidgetKind(draw, to_state=lambda p, key, v: {key: "" if v == p.unset else json.dumps(v, indent=2)},
                      from_state=from_state)


def _logit_bias() -> WidgetKind:
    """The logit bias editor; its canonical value is kept under the key itself."""

    def draw(param: Param, key: str, info: ModelInfo, disabled: bool) -> tuple[Value, str | None]:
        bias = logit_bias_editor(info, key=key)
        if bias is None:
            return param.unset, "fix the logit bias entries (see the editor)."
        st.session_state[key] = bias
        return bias, None

    def to_state(param: Param, key: str, value: Value) -> dict[str, Any]:
        # The editor reads a pasted JSON object with its biases: the exact value comes back.
        return {key: dict(value or {}), f"{key}:input": json.dumps(value) if value else "", f"{key}:biases": {}}

    return WidgetKind(draw, to_state=to_state, from_state=lambda p, key, state: dict(state.get(key) or {}))


register_widget("slider", _simple(st.slider))
register_widget("number", _simple(st.number_input))
register_widget("toggle", _simple(st.toggle))
register_widget("checkbox", _simple(st.checkbox))
register_widget("text", _simple(st.text_input))
register_widget("textarea", _simple(st.text_area, height=180))
register_widget("lines", _lines())
register_widget("optional_slider", _optional_slider())
register_widget("json", _json_editor())
register_widget("logit_bias", _logit_bias())
register_widget("model", WidgetKind(None))  # drawn by components/models.py
# Chat's conversation, drawn by its page; the page gives each message its id.
register_widget("conversation", WidgetKind(
    None,
    to_state=lambda p, key, v: {key: [wire_message(m) for m in v or []]},
    from_state=lambda p, key, state: [wire_message(m) for m in state.get(key) or []],
))


def wire_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A conversation message as sent: role and content, and its tool calls or the call it answers."""
    out = {"role": message["role"], "content": message.get("content", "")}
    for extra in ("tool_calls", "tool_call_id"):
        if message.get(extra):
            out[extra] = message[extra]
    return out


def kind_of(param: Param) -> WidgetKind:
    return WIDGETS[param.widget]


def declare(prefix: str, endpoint: str) -> None:
    """Declare the session keys of the controls under `prefix` with their defaults."""
    defaults: dict[str, Any] = {}
    for param in params_for(endpoint).values():
        if param.widget in WIDGETS:
            defaults.update(kind_of(param).to_state(param, f"{prefix}_{param.name}", param.default))
    owned(prefix, **{key.removeprefix(f"{prefix}_"): value for key, value in defaults.items()})


def put_controls(prefix: str, endpoint: str, controls: Mapping[str, Any]) -> None:
    """Show `controls` in the widgets under `prefix` (call before they are drawn)."""
    declare(prefix, endpoint)
    for name, param in params_for(endpoint).items():
        if name in controls and param.widget in WIDGETS:
            st.session_state.update(kind_of(param).to_state(param, f"{prefix}_{name}", controls[name]))


def read_controls(prefix: str, endpoint: str) -> dict[str, Any]:
    """The controls under `prefix` as they are now (defaults for those not yet drawn)."""
    state = st.session_state
    return {
        name: kind_of(param).from_state(param, f"{prefix}_{name}", state)
        for name, param in params_for(endpoint).items()
        if param.widget in WIDGETS
    }


def draw_control(param: Param, prefix: str, info: ModelInfo, *, off: bool = False) -> tuple[Value, str | None]:
    """One control, drawn under `prefix`, with the reason when the model does not take it
    (disabled then, as when `off`: another control it needs is off)."""
    key = f"{prefix}_{param.name}"
    for key_, value in kind_of(param).to_state(param, key, param.default).items():
        st.session_state.setdefault(key_, value)
    shown = param.shown_for(info)
    reason = info.why_unsupported(param.name)
    with st.expander(shown.section) if shown.section else st.container():
        if reason and shown.section:
            st.caption(f":material/block: {inert(reason)}")
            return param.unset, None
        value, problem = kind_of(param).draw(shown, key, info, off or reason is not None)
        if reason:
            st.caption(f":material/block: {inert(reason)}")
    return value, problem


@dataclass
class Controls:
    info: ModelInfo
    values: dict[str, Any]  # name -> value, for build_request
    problems: list[ParamProblem] = field(default_factory=list)  # inputs the controls refuse


def sampling_controls(endpoint: Endpoint, *, prefix: str, names: tuple[str, ...] | None = None) -> Controls | None:
    """Draw the controls of `endpoint` (all its rows, or those `names`); None when the
    provider lists no model for it. The model's key is `{prefix}_model`."""
    declare(prefix, endpoint)
    info = model_picker(endpoint, key=f"{prefix}_model")
    if info is None:
        return None
    if info.note:
        st.caption(inert(info.note))
    problems: list[ParamProblem] = []
    if reason := not_offered(endpoint, info.id):
        problems.append(ParamProblem("model", reason))
    values: dict[str, Any] = {"model": info.id}
    for name, param in params_for(endpoint).items():
        if param.on_page or kind_of(param).draw is None or (names and name not in names):
            continue
        off = bool(param.needs) and not values.get(param.needs, True)
        value, problem = draw_control(param, prefix, info, off=off)
        values[name] = value
        if problem:
            problems.append(ParamProblem(name, problem))
    return Controls(info, values, problems)


import components.structured_controls  # noqa: E402,F401  (registers the tools and response-format widgets)
