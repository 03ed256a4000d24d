"""The one way pages show a failed call: a short message, what to do, no traceback."""

from __future__ import annotations

import streamlit as st

from components.plain import inert, plain
from playground.errors import Problem, explain


def problem_markdown(problem: Problem) -> str:
    """The error box's text: every part plain (titles and actions quote hosts, params and
    model names; the detail is the server's own words)."""
    text = f"**{inert(problem.title)}** {inert(problem.action)}"
    if problem.detail:
        text += f"\n\n> {plain(problem.detail)}"
    return text


def show_problem(problem: Problem) -> None:
    st.error(problem_markdown(problem), icon=":material/error:")


def show_exception(exc: BaseException) -> Problem:
    """Explain and show an SDK exception, with this session's secrets scrubbed."""
    from components.connection import current_connection

    connection = current_connection()
    problem = explain(exc, secrets=connection.secrets, where=connection.where)
    show_problem(problem)
    return problem
