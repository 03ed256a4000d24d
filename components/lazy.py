"""Expanders whose content is drawn only while open.

Streamlit sends a collapsed expander's content to the browser all the same, which lays it
out hidden. For thousands of chunks or table rows that is seconds of the browser's time
after every run, for something most runs never open.
"""

from __future__ import annotations

from typing import Any

import streamlit as st


def lazy_expander(label: str, *, key: str, expanded: bool = False, **kwargs: Any) -> tuple[Any, bool]:
    """(the expander, whether to draw its content now). Opening it reruns the page, which
    then draws the content; closing it drops the content again."""
    box = st.expander(label, expanded=expanded, key=key, on_change="rerun", **kwargs)
    return box, bool(box.open)
