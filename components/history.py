"""The run history as the pages use it: one shared History per database path, and
`record_run`, the one line a page adds after a run. Saving never breaks a run: a failure
becomes a warning beside the result."""

from __future__ import annotations

from typing import Any, Iterable

import streamlit as st

from components.connection import current_connection
from components.plain import inert
from playground.code_export import public_url
from playground.history import History, HistoryUnavailable, Run, default_path, run_of_result
from playground.runner import RunResult


@st.cache_resource(show_spinner=False)
def _history_at(path: str) -> History:
    return History(path)  # holds no connection: safe to share between sessions


def get_history() -> History | None:
    """The history at the configured path; None (with a message) when it cannot be opened."""
    try:
        history = _history_at(str(default_path()))
    except HistoryUnavailable as exc:
        st.error(f"{inert(exc)} Runs are not being saved. Set PLAYGROUND_HISTORY_DB to a writable file.", icon=":material/history:")
        return None
    if history.notice:
        st.warning(history.notice, icon=":material/history:")
    return history


def record_run(result: RunResult | None = None, *, tags: Iterable[str] = (), **fields: Any) -> str | None:
    """Save a run to the history; returns its id, or None when nothing was saved. A
    RunResult is saved once, however often a page calls this with it.

    Text pages pass the RunResult: `record_run(result)`. Other pages pass the fields of a
    Run: `record_run(endpoint="embeddings", model=..., request={...}, response={...}, latency=...)`.
    """
    connection = current_connection()
    provider = {k: public_url(v) if k in ("base_url", "azure_endpoint") and v else v for k, v in connection.public().items()}
    if result is not None:
        if (saved_as := getattr(result, "history_id", None)) is not None:
            return saved_as
        if not result.done or result.error is not None and not any(c.text for c in result.choices):
            return None  # still arriving, or a failed call with nothing to come back to
        run = run_of_result(result, provider=provider, tags=tags)
    else:
        run = Run(provider=provider, tags=list(tags), **fields)
    history = get_history()
    if history is None:
        return None
    try:
        run_id = history.add(run, secrets=connection.secrets)
    except Exception as exc:  # a full disk or a locked file must not cost the user the result on screen
        st.warning(f"This run was not saved to the history: {type(exc).__name__}: {inert(exc)}", icon=":material/history:")
        return None
    if result is not None:
        result.history_id = run_id  # type: ignore[attr-defined]
    return run_id
