"""Connections to providers and the clients built from them.

A Connection is what the user chose in the sidebar. It holds the key, so it is never
logged, cached across sessions, or written anywhere: its repr hides the key.

A key configured on the server (OPENAI_API_KEY, or st.secrets) belongs to one endpoint:
OpenAI at OPENAI_BASE_URL (default https://api.openai.com/v1). It is used there and nowhere
else: a visitor who points the app at another base URL or provider brings their own key.
Clients are always built with an explicit key and base URL, so the SDK never falls back to
the server's environment behind the visitor's back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Mapping
from urllib.parse import urlsplit

import httpx
import openai

Provider = Literal["local", "openai", "azure", "compatible"]

PROVIDER_LABELS: dict[Provider, str] = {
    "local": "Local engine (offline)",
    "openai": "OpenAI",
    "azure": "Azure OpenAI",
    "compatible": "OpenAI-compatible server",
}

DEFAULT_AZURE_API_VERSION = "2024-10-21"
DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
NO_KEY = "no-key-entered"
REQUEST_TIMEOUT = 120.0


@dataclass(frozen=True)
class Connection:
    provider: Provider
    api_key: str | None = field(default=None, repr=False)
    base_url: str | None = None  # local and compatible servers, or a custom OpenAI base
    azure_endpoint: str | None = None
    api_version: str | None = None
    azure_ad_token: str | None = field(default=None, repr=False)  # Microsoft Entra ID, instead of a key
    organization: str | None = None
    # The local engine's project (its OpenAI-Project header): whose files, jobs and fine-tuned
    # models this client sees there. None: the engine's default project.
    project: str | None = None

    @property
    def label(self) -> str:
        where = self.azure_endpoint if self.provider == "azure" else self.base_url
        name = PROVIDER_LABELS[self.provider]
        return f"{name} ({safe_host(where)})" if where else name

    @property
    def has_key(self) -> bool:
        return bool(self.api_key or self.azure_ad_token)

    @property
    def secrets(self) -> list[str]:
        """Everything that must never be shown: scrub these from any message."""
        return [s for s in (self.api_key, self.azure_ad_token) if s]

    @property
    def where(self) -> str:
        """The server's address, for messages (never with credentials: see safe_host)."""
        if self.provider == "azure":
            return self.azure_endpoint or ""
        if self.provider == "compatible":
            return self.base_url or ""
        return self.base_url or "https://api.openai.com/v1"

    @property
    def missing(self) -> str | None:
        """What the user must still enter before anything can be sent, or None."""
        if self.provider == "compatible" and not self.base_url:
            return "the server's base URL"
        if self.provider == "azure" and not self.azure_endpoint:
            return "the resource endpoint"
        if self.provider in ("openai", "azure") and not self.has_key:
            return "an API key" if self.provider == "openai" else "an API key or Entra ID token"
        return None

    def public(self) -> dict[str, str | None]:
        """What may be shown, logged or saved: everything but the key."""
        return {
            "provider": self.provider,
            "base_url": self.base_url,
            "azure_endpoint": self.azure_endpoint,
            "api_version": self.api_version,
        }


def safe_host(url: str | None) -> str:
    """scheme://host[:port] of a URL, without any user info, path or query (keys hide there)."""
    if not url:
        return ""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def _setting(name: str, secrets: Mapping[str, object] | None) -> str | None:
    """A setting from the environment, else from Streamlit secrets."""
    value: object = os.environ.get(name)
    if not value and secrets is not None:
        try:
            value = secrets.get(name)
        except Exception:  # st.secrets raises when no secrets file exists
            value = None
    return str(value) if value else None


def key_from_environment(secrets: Mapping[str, object] | None = None) -> str | None:
    """OPENAI_API_KEY from the environment, else from Streamlit secrets."""
    return _setting("OPENAI_API_KEY", secrets)


@dataclass(frozen=True)
class ServerKey:
    """The key configured on the server, and the one endpoint it may be sent to."""

    key: str = field(repr=False)
    base_url: str


def server_key(secrets: Mapping[str, object] | None = None) -> ServerKey | None:
    key = key_from_environment(secrets)
    if not key:
        return None
    return ServerKey(key, _setting("OPENAI_BASE_URL", secrets) or DEFAULT_OPENAI_BASE_URL)


def same_endpoint(a: str, b: str) -> bool:
    """Whether two base URLs name the same endpoint (case of the host, default ports and a
    trailing slash aside)."""

    def norm(url: str) -> tuple[str, str, int | None, str]:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        try:
            port = parts.port or {"https": 443, "http": 80}.get(scheme)
        except ValueError:
            port = -1
        return scheme, (parts.hostname or "").lower(), port, parts.path.rstrip("/")

    return norm(a) == norm(b) and not urlsplit(a.strip()).username and not urlsplit(b.strip()).username


def scoped_key(server: ServerKey | None, provider: Provider, base_url: str | None) -> str | None:
    """The server's key when the visitor's endpoint is the one it was configured for, else None."""
    if server is None or provider != "openai":
        return None
    return server.key if same_endpoint(base_url or server.base_url, server.base_url) else None


def default_provider(secrets: Mapping[str, object] | None = None) -> Provider:
    """OpenAI when a key is configured, else the local engine."""
    return "openai" if key_from_environment(secrets) else "local"


class BaseURLMissing(Exception):
    """Raised instead of sending a request when a compatible server's URL is not entered yet."""


class _NothingSent(httpx.BaseTransport):
    """A compatible server without a base URL: every request stops here, before any network
    (never a fallback to api.openai.com)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise BaseURLMissing("No base URL entered for the OpenAI-compatible server: nothing was sent.")


_NO_BASE_URL = "http://base-url-not-entered.invalid/v1"


@dataclass(frozen=True)
class CheckOutcome:
    """The last connection check: when, whether it worked, and what it found or why not."""

    ok: bool
    at: datetime
    detail: str


def status_text(connection: Connection, outcome: CheckOutcome | None) -> tuple[bool, str]:
    """(all is well, one line saying what is true of the connection): never "connected" unless a
    check against it succeeded."""
    if connection.provider == "local":
        return True, "Local engine: running on this machine."
    if missing := connection.missing:
        return False, f"{connection.label}: not usable yet: enter {missing} in the sidebar. Nothing is sent until then."
    if outcome is None:
        return True, f"{connection.label}: not checked yet. Press Check connection in the sidebar to test it."
    when = outcome.at.strftime("%H:%M:%S UTC")
    if outcome.ok:
        return True, f"Connected to {connection.label}: checked OK at {when} ({outcome.detail})."
    return False, f"{connection.label}: the check at {when} failed: {outcome.detail}"


def make_client(connection: Connection) -> openai.OpenAI:
    """A fresh SDK client for this connection. The SDK retries nothing: the app shows a
    rate limit to the user with its wait instead of hanging."""
    common = {"max_retries": 0, "timeout": REQUEST_TIMEOUT}
    if connection.provider == "azure":
        client = openai.AzureOpenAI(
            azure_endpoint=connection.azure_endpoint or "",
            api_version=connection.api_version or DEFAULT_AZURE_API_VERSION,
            api_key=None if connection.azure_ad_token else connection.api_key or NO_KEY,
            azure_ad_token=connection.azure_ad_token or None,
            **common,
        )
        return _scope_account(client, connection)
    # The SDK insists on a key, and takes OPENAI_API_KEY from the environment when given None:
    # never let it (that key may belong to another endpoint). Local and many compatible
    # servers take none; elsewhere the server answers a missing key with a 401 we explain.
    key = connection.api_key or ("local" if connection.provider in ("local", "compatible") else NO_KEY)
    if connection.provider == "compatible" and not connection.base_url:
        client = openai.OpenAI(api_key=key, base_url=_NO_BASE_URL, http_client=httpx.Client(transport=_NothingSent()), **common)
        return _scope_account(client, connection)
    client = openai.OpenAI(
        api_key=key,
        base_url=connection.base_url or _setting("OPENAI_BASE_URL", None) or DEFAULT_OPENAI_BASE_URL,
        organization=connection.organization or None,
        **common,
    )
    return _scope_account(client, connection)


def _scope_account(client: openai.OpenAI, connection: Connection) -> openai.OpenAI:
    """The SDK fills the OpenAI-Organization and OpenAI-Project headers from OPENAI_ORG_ID and
    OPENAI_PROJECT_ID when given none. Those name the server's own account, like its key: they
    go only with the server's key to its endpoint. The local engine's client carries the
    session's workspace as its project instead (users never hold that engine's key, so none
    can name another's)."""
    server = server_key()
    own = (server is not None and connection.provider == "openai" and connection.api_key == server.key
           and same_endpoint(str(client.base_url), server.base_url))
    if not own:
        client.organization = connection.organization or None
        client.project = connection.project if connection.provider == "local" else None
    return client


def list_models(client: openai.OpenAI) -> list[str]:
    """The provider's model ids, sorted."""
    return sorted(model.id for model in client.models.list())


def is_fine_tuned(model: str) -> bool:
    """OpenAI's fine-tune ids: ft:BASE:ORG::ID (and the legacy BASE:ft-ORG-DATE)."""
    return model.startswith("ft:") or ":ft-" in model


def base_models_first(models: list[str]) -> list[str]:
    """The models a user starts from, then fine-tunes (each group in name order)."""
    return sorted(models, key=lambda m: (is_fine_tuned(m), m))


def list_deployments(client: openai.AzureOpenAI) -> dict[str, str]:
    """Azure: deployment name -> the model it serves, from GET /openai/deployments.

    Newer Azure api-versions dropped this listing (it moved to the management plane);
    there the call fails and the app asks for the deployment name instead."""
    response = client.get("/deployments", cast_to=httpx.Response)
    return {d["id"]: d.get("model", d["id"]) for d in response.json().get("data", [])}
