"""The one way pages show a failed call: a short message, what to do, no traceback."""

from __future__ import annotations

import streamlit as st

from components.plain import inert, plain
from playground.errors import Problem, explain

CONNECTION_KEY = "connection"  # st.session_state: this session's Connection (owned by components/connection.py)


def problem_markdown(problem: Problem) -> str:
    """The error box's text: every part plain (titles and actions quote hosts, params and
    model names; the detail is the server's own words)."""
    text = f"**{inert(problem.title)}** {inert(problem.action)}"
    if problem.detail:
        text += f"\n\n> {plain(problem.detail)}"
    return text


def show_problem(problem: Problem) -> None:
    st.error(problem_markdown(problem), icon=":material/error:")


def problem_of(exc: BaseException) -> Problem:
    """An SDK exception explained, with this session's secrets scrubbed."""
    # The session's connection as the sidebar panel stored it (read here, not imported from
    # components/connection.py, which shows its own failures through this module).
    connection = st.session_state.get(CONNECTION_KEY)
    secrets, where = (connection.secrets, connection.where) if connection is not None else ((), None)
    return explain(exc, secrets=secrets, where=where)


def show_exception(exc: BaseException) -> Problem:
    """Explain and show an SDK exception, with this session's secrets scrubbed."""
    problem = problem_of(exc)
    show_problem(problem)
    return problem
