"""Presets and share links on the text pages, and "open this run in its page".

Controls reach a page through the session-state keys its sampling controls read
(`{page}_<name>`, see components/sampling_controls.py), set before those widgets are drawn:
`presets_bar(page)` is called at the top of the page, above the controls.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import streamlit as st

from components.connection import current_connection
from components.history import get_history, history_action
from components.sampling_controls import MAX_N_SHOWN
from playground.presets import CONTROLS, ShareLinkError, from_query_params, to_query_params
from playground.requests import parse_stop_lines, stop_lines

PAGE_FILES = {"completions": "app_pages/completions.py", "chat": "app_pages/chat.py"}
# Where each page keeps what is not a sampling control (its prompt, its conversation).
TEXT_KEYS = {"prompt": "completions_prompt", "messages": "chat_messages"}
_PLAIN = ("model", "temperature", "top_p", "frequency_penalty", "presence_penalty", "max_tokens", "seed", "stream",
          "suffix", "echo", "best_of", "top_logprobs")


def _set(key: str, value: Any) -> None:
    """Set a widget's value and the copy its page keeps across page switches."""
    st.session_state[key] = value
    st.session_state[f"_kept:{key}"] = value


def apply_controls(page: str, controls: dict[str, Any]) -> None:
    """Put `controls` into the page's widgets (call before they are drawn)."""
    for name in _PLAIN:
        if name in controls and page in CONTROLS[name].pages:
            value = controls[name]
            _set(f"{page}_{name}", float(value) if CONTROLS[name].kind == "float" else value)
    if "n" in controls:
        _set(f"{page}_n", max(1, min(int(controls["n"]), MAX_N_SHOWN)))
    if "stop" in controls:
        _set(f"{page}_stop", stop_lines(list(controls["stop"])))
    if page == "completions":
        if "logprobs" in controls:
            _set("completions_logprobs_on", controls["logprobs"] is not None)
            if controls["logprobs"] is not None:
                _set("completions_logprobs", int(controls["logprobs"]))
        if "prompt" in controls:
            _set(TEXT_KEYS["prompt"], controls["prompt"])
    else:
        if "chat_logprobs" in controls:
            _set("chat_logprobs", bool(controls["chat_logprobs"]))
        if "messages" in controls:
            _set(TEXT_KEYS["messages"], [dict(m) for m in controls["messages"]])


def current_controls(page: str) -> dict[str, Any]:
    """The page's controls as they are now (from session state)."""
    state = st.session_state
    controls: dict[str, Any] = {}
    for name in _PLAIN:
        key = f"{page}_{name}"
        if page in CONTROLS[name].pages and state.get(key) is not None:
            controls[name] = state[key]
    if state.get(f"{page}_n") is not None:
        controls["n"] = int(state[f"{page}_n"])
    stops = parse_stop_lines(state.get(f"{page}_stop") or "")
    if stops:
        controls["stop"] = stops
    if page == "completions":
        if state.get("completions_logprobs_on", True):
            controls["logprobs"] = state.get("completions_logprobs")
        if state.get(TEXT_KEYS["prompt"]):
            controls["prompt"] = state[TEXT_KEYS["prompt"]]
    else:
        if state.get("chat_logprobs") is not None:
            controls["chat_logprobs"] = bool(state["chat_logprobs"])
        messages = state.get(TEXT_KEYS["messages"])
        if messages:
            controls["messages"] = [{"role": m.get("role"), "content": m.get("content", "")} for m in messages if isinstance(m, dict)]
    return controls


def open_in_page(page: str, controls: dict[str, Any]) -> None:
    """Switch to `page` with its controls set to `controls`."""
    st.session_state[f"_restore:{page}"] = controls
    st.switch_page(PAGE_FILES[page])


def _apply_pending(page: str) -> None:
    """Controls handed over by open_in_page, or by a share link in the URL (once)."""
    pending = st.session_state.pop(f"_restore:{page}", None)
    if pending is not None:
        apply_controls(page, pending)
        st.toast("Controls restored from the history.")
        return
    params = {k: st.query_params.get_all(k) for k in st.query_params}
    if params.get("page") != [page]:
        return
    try:
        _, controls = from_query_params(params)
    except ShareLinkError as exc:
        st.warning("This link's settings could not be restored:\n\n" + "\n".join(f"- {p}" for p in exc.problems)
                   + "\n\nThe page keeps its current settings.", icon=":material/link_off:")
    else:
        apply_controls(page, controls)
        st.toast("Controls restored from the link.")
    st.query_params.clear()  # applied once: the controls are free to move again


def presets_bar(page: str) -> None:
    """Presets (save, load, delete) and the share link, in an expander. Call it above the
    page's controls."""
    _apply_pending(page)
    history = get_history()
    with st.expander("Presets and share link", icon=":material/bookmarks:"):
        if history is not None:
            names = history.presets(page)
            chosen = st.selectbox("Preset", names, index=None, key=f"preset_pick:{page}", placeholder="Saved presets")

            def load() -> None:
                if chosen and (controls := history.load_preset(page, chosen)) is not None:
                    apply_controls(page, controls)

            c1, c2 = st.columns(2)
            c1.button("Load", key=f"preset_load:{page}", on_click=load, disabled=not chosen, use_container_width=True)
            if c2.button("Delete", key=f"preset_delete:{page}", disabled=not chosen, use_container_width=True):
                if history_action(lambda: history.delete_preset(page, chosen), "delete the preset"):  # type: ignore[arg-type]
                    st.rerun()
            name = st.text_input("Save as", key=f"preset_name:{page}", placeholder="a name for these settings")
            if st.button("Save preset", key=f"preset_save:{page}", disabled=not name.strip(), use_container_width=True):
                if history_action(lambda: history.save_preset(page, name, current_controls(page)), "save the preset"):
                    st.toast(f"Saved the preset “{name.strip()}”.")
        params = to_query_params(current_controls(page), page=page, secrets=current_connection().secrets)
        base = (st.context.url or "").rstrip("/")
        if not base.endswith(f"/{page}"):
            base = f"{base}/{page}" if base else f"/{page}"
        st.caption("Share link: these settings and the prompt, never a key or a server address.")
        st.code(f"{base}?{urlencode(params)}", language=None, wrap_lines=True)
