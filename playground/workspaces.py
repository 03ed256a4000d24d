"""Whose workspace a session is: one per user on a shared server, one local otherwise.

The identity comes from Streamlit's own login (`st.login` with an OIDC provider in
secrets.toml: the user's email, else its subject), or, when PLAYGROUND_IDENTITY_HEADER
names one, from a header set by a trusted authenticating proxy in front of the app
(oauth2-proxy sets X-Forwarded-Email). The header is trusted only when configured, and
then required: a request without it sees no history, rather than everyone's.
"""

from __future__ import annotations

import re
from typing import Any, Mapping
from urllib.parse import quote

from playground.migrations import LOCAL_WORKSPACE

HEADER_ENV = "PLAYGROUND_IDENTITY_HEADER"


def identity_header(env: Mapping[str, str] | None = None) -> str | None:
    import os

    name = ((env if env is not None else os.environ).get(HEADER_ENV) or "").strip()
    return name or None


def _clean(identity: str) -> str | None:
    identity = identity.strip().lower()
    if not identity or len(identity) > 320 or re.search(r"[\x00-\x1f]", identity):
        return None
    return identity


def workspace_of(headers: Mapping[str, str], user: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """The workspace for a request with these headers and this logged-in user (empty when
    no login), under this environment; None when a configured header is missing."""
    if user:
        for claim in ("email", "sub"):
            if user.get(claim) and (identity := _clean(str(user[claim]))):
                return identity
    header = identity_header(env)
    if header:
        lowered = {k.lower(): v for k, v in headers.items()}
        value = lowered.get(header.lower())
        return _clean(value) if value else None
    return LOCAL_WORKSPACE


def engine_project(workspace: str) -> str | None:
    """The local engine's project (OpenAI-Project header) for a workspace: none for the local
    workspace, so the engine's default project (where everything made before workspaces is)
    stays its own; else the workspace id, percent-encoded (a header value is ASCII)."""
    return None if workspace == LOCAL_WORKSPACE else quote(workspace, safe="@.-_+~")
