"""The one way pages show a failed call: a short message, what to do, no traceback."""

from __future__ import annotations

import streamlit as st

from playground.errors import Problem, explain

CONNECTION_KEY = "connection"  # st.session_state: this session's Connection (owned by components/connection.py)


def show_problem(problem: Problem) -> None:
    text = f"**{problem.title}** {problem.action}"
    if problem.detail:
        text += f"\n\n> {problem.detail}"
    st.error(text, icon=":material/error:")


def show_exception(exc: BaseException) -> Problem:
    """Explain and show an SDK exception, with this session's secrets scrubbed."""
    # The session's connection as the sidebar panel stored it (read here, not imported from
    # components/connection.py, which shows its own failures through this module).
    connection = st.session_state.get(CONNECTION_KEY)
    secrets, where = (connection.secrets, connection.where) if connection is not None else ((), None)
    problem = explain(exc, secrets=secrets, where=where)
    show_problem(problem)
    return problem
