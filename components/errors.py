"""The one way pages show a failed call: a short message, what to do, no traceback."""

from __future__ import annotations

import streamlit as st

from playground.errors import Problem, explain


def show_problem(problem: Problem) -> None:
    text = f"**{problem.title}** {problem.action}"
    if problem.detail:
        text += f"\n\n> {problem.detail}"
    st.error(text, icon=":material/error:")


def show_exception(exc: BaseException) -> Problem:
    """Explain and show an SDK exception, with this session's secrets scrubbed."""
    from components.connection import current_connection

    connection = current_connection()
    problem = explain(exc, secrets=connection.secrets, where=connection.where)
    show_problem(problem)
    return problem
