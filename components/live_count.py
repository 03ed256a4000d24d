"""The text being typed, before its text area applies it.

A text area reports its text to the script only on Ctrl+Enter or when it loses focus, so
a count drawn from its value lags behind the user. `typing_listener()` mounts a small
component (no iframe, nothing drawn) that listens to the page's input events on the fields
it is given and sends the text of the one being typed, debounced. Mounted inside an
`st.fragment`, its message reruns only that fragment: the page is not redrawn, and a
stream under way is not interrupted (a fragment's rerun waits for a full run to end).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import streamlit as st

DEBOUNCE_MS = 150
CHARS_PER_MS = 2_000  # and 1 ms more per this many characters (about what counting them takes here)

# One document listener per mount; a new render replaces the previous one's listener
# (so a rerun never leaves two sending the same text).
_JS = """
export default function ({ data, setTriggerValue }) {
  const registry = (window.__playgroundTyping ??= {});
  registry.stop?.();
  let timer = null;
  const keyOf = (field) => {
    if (!(field instanceof HTMLTextAreaElement || field instanceof HTMLInputElement)) return null;
    const cssClass = Object.keys(data.fields).find((c) => field.closest("." + c));
    return cssClass ? data.fields[cssClass] : null;
  };
  const send = (field) => {
    const key = keyOf(field);
    if (key === null) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      const sent = key + "\\0" + field.value;
      if (registry.sent === sent) return;  // this text is counted already
      registry.sent = sent;
      setTriggerValue("typed", { key, text: field.value });
    }, data.debounce_ms + field.value.length / data.chars_per_ms);  // a huge text waits longer: it is sent whole
  };
  const onInput = (event) => send(event.target);
  document.addEventListener("input", onInput, true);
  // Typing may have begun before this listener was mounted (a page just opened).
  send(document.activeElement);
  const stop = () => {
    clearTimeout(timer);
    document.removeEventListener("input", onInput, true);
    if (registry.stop === stop) delete registry.stop;
  };
  registry.stop = stop;
  return stop;
}
"""

_listener = st.components.v2.component("playground_typing_listener", js=_JS)


@dataclass(frozen=True)
class Typed:
    key: str  # the widget key of the field being typed into
    text: str  # its text as it is now, not yet applied


def key_class(key: str) -> str:
    """The CSS class Streamlit gives the element of a widget key (st-key-…)."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def typing_listener(keys: list[str], *, key: str) -> Typed | None:
    """Listen to the fields of these widget keys; the text being typed into one of them
    when that is what made this (fragment) run, else None. Call it inside an st.fragment."""
    fields = {key_class(k): k for k in keys}
    result = _listener(key=key, data={"fields": fields, "debounce_ms": DEBOUNCE_MS, "chars_per_ms": CHARS_PER_MS}, height=0,
                       on_typed_change=lambda: None)
    typed = result.get("typed")
    if isinstance(typed, dict) and typed.get("key") in keys and isinstance(typed.get("text"), str):
        return Typed(typed["key"], typed["text"])
    return None
