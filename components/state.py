"""Session state with one owner per key: the app's key contract, written down.

Every key a page keeps across page switches, provider switches and reruns is declared
once, with its default, by the one page or component that owns it:

    KEYS = owned("tokenizer", text="", show_ids=False)   # keys tokenizer_text, tokenizer_show_ids
    text = KEYS.widget(st.text_area, "Text", "text", height=150)

`widget` draws a Streamlit widget on the declared key with persist_state="session": its
value survives runs that do not draw it (another page is open, the page stopped early
because a provider lists no model, a section is hidden), and its default comes from the
declaration, never from a `value=` argument. Another module sets a page's value only
through `KEYS.put(name, value)` before the widget is drawn (presets, "Open in ...").

Keys whose names are made at run time (one per chat message) are declared by pattern with
`owns_pattern`. `registered()` lists the whole contract (tests check pages keep to it).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable

import streamlit as st

_CONTRACT: dict[str, tuple[str, Any]] = {}  # key -> (owner, default)
_PATTERNS: dict[str, str] = {}  # key prefix -> owner


@dataclass(frozen=True)
class Keys:
    """The keys `{prefix}_{name}` of one owner."""

    prefix: str
    owner: str

    def key(self, name: str) -> str:
        return f"{self.prefix}_{name}"

    def default(self, name: str) -> Any:
        return copy.deepcopy(_CONTRACT[self.key(name)][1])

    def get(self, name: str) -> Any:
        """The value (its default until set); a mutable default is this session's own copy."""
        key = self.key(name)
        if key not in st.session_state:
            st.session_state[key] = self.default(name)
        return st.session_state[key]

    def put(self, name: str, value: Any) -> None:
        """Set a value from outside its widget (call before the widget is drawn)."""
        st.session_state[self.key(name)] = value

    def widget(self, widget: Callable[..., Any], label: str, name: str, **kwargs: Any) -> Any:
        """Draw `widget` on this key; its value outlives the widget for the session."""
        self.get(name)
        return widget(label, key=self.key(name), persist_state="session", **kwargs)


def owned(prefix: str, owner: str | None = None, **defaults: Any) -> Keys:
    """Declare the keys `{prefix}_{name}` with their defaults, owned by `owner` (the
    prefix unless said). A key declared by two owners is a bug: it raises."""
    owner = owner or prefix
    for name, default in defaults.items():
        key = f"{prefix}_{name}"
        held = _CONTRACT.get(key)
        if held is not None and held[0] != owner:
            raise ValueError(f"session key {key!r} belongs to {held[0]}, not {owner}")
        _CONTRACT[key] = (owner, default)
    return Keys(prefix, owner)


def owns_pattern(prefix: str, owner: str) -> str:
    """Declare keys made at run time that start with `prefix` (e.g. "chat_msg:")."""
    _PATTERNS[prefix] = owner
    return prefix


def kept_until(slot: str, key: Any, compute: Callable[[], Any]) -> Any:
    """compute(), kept in this session under `slot` until `key` changes (no copy, no hashing of big inputs)."""
    held = st.session_state.get(slot)
    if held is None or held[0] != key:
        held = (key, compute())
        st.session_state[slot] = held
    return held[1]


def registered() -> dict[str, str]:
    """Every declared key (and key prefix, ending in '*') -> its owner."""
    return {**{k: owner for k, (owner, _) in _CONTRACT.items()}, **{p + "*": o for p, o in _PATTERNS.items()}}


def persistent(widget: Callable[..., Any], label: str, *, key: str, **kwargs: Any) -> Any:
    """A widget on a key its caller declared and initialised; kept for the session."""
    return widget(label, key=key, persist_state="session", **kwargs)


# The older pair, for pages not yet moved to `persistent` (a widget drawn with a `value=`
# argument): `keep(key)` before the widget puts back a value Streamlit forgot, `remember(key)`
# after it keeps the value for next time.


def keep(key: str) -> str:
    saved = f"_kept:{key}"
    if key not in st.session_state and saved in st.session_state:
        st.session_state[key] = st.session_state[saved]
    return key


def remember(key: str) -> Any:
    value = st.session_state.get(key)
    st.session_state[f"_kept:{key}"] = value
    return value
