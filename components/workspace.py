"""Whose workspace this session is, and the local engine's project for it."""

from __future__ import annotations

import contextlib
import os
import secrets
from typing import Any

import streamlit as st

from playground.workspaces import engine_project, workspace_of


def current_workspace() -> str | None:
    """Whose runs and presets this session sees: the user Streamlit's login names (when
    st.login is configured), or the trusted proxy's header (PLAYGROUND_IDENTITY_HEADER),
    else the one local workspace. None when a header is required but missing."""
    user: dict[str, Any] = {}
    with contextlib.suppress(Exception):  # st.user raises when no login is configured
        if st.user.is_logged_in:
            user = dict(st.user)
    return workspace_of(dict(st.context.headers or {}), user, os.environ)


def unidentified_session() -> str:
    """A name of this session's own, for a session without the identity a team server
    requires: what it keeps (engine files, cached vectors) is no one else's. It holds a space,
    so it is never a workspace's percent-encoded project id."""
    return st.session_state.setdefault("_unidentified_session", f"unidentified session {secrets.token_hex(16)}")


def local_engine_project() -> str | None:
    """The local engine's project for this session: its workspace's, or its own when unidentified."""
    workspace = current_workspace()
    return unidentified_session() if workspace is None else engine_project(workspace)
