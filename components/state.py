"""Widget values that outlive the widget.

Streamlit forgets a widget's value when a run does not draw it (a page switch, a section
hidden until a file is loaded). A page that wants the value back keeps a copy beside it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st


def keep(key: str) -> str:
    """Put back a widget value that Streamlit forgot; returns the key."""
    saved = f"_kept:{key}"
    if key not in st.session_state and saved in st.session_state:
        st.session_state[key] = st.session_state[saved]
    return key


def remember(key: str) -> Any:
    """Keep the widget's current value for the next time the widget is drawn."""
    value = st.session_state.get(key)
    st.session_state[f"_kept:{key}"] = value
    return value
