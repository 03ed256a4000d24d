"""The connection panel in the sidebar of every page, and this session's client.

The client lives in st.session_state: one per browser session, never shared, so a
key typed by one user never serves another.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import openai
import streamlit as st

from components.errors import CONNECTION_KEY, problem_markdown, show_exception
from components.plain import inert, plain
from components.workspace import local_engine_project
from playground.catalog import ModelInfo, as_billed
from playground.engine_process import EngineStartError, local_engine
from playground.errors import explain
from playground.providers import (
    DEFAULT_AZURE_API_VERSION,
    DEFAULT_OPENAI_BASE_URL,
    PROVIDER_LABELS,
    CheckOutcome,
    Connection,
    Provider,
    base_models_first,
    default_provider,
    is_fine_tuned,
    list_deployments,
    list_models,
    make_client,
    scoped_key,
    server_key,
    status_text,
)
from playground.server_tokenizer import probe
from playground.tokens import get_encoding

PROVIDERS: list[Provider] = ["local", "openai", "azure", "compatible"]
PRICE_KEYS = ("conn_price_input", "conn_price_output")  # a compatible server's price per 1M tokens


def _secrets() -> object | None:
    try:
        return st.secrets
    except Exception:
        return None


def local_engine_connection(where: Any = st) -> Connection | None:
    """A connection to the local engine (started on first use), or None after saying, in
    `where`, why it could not start (its log's tail folded away, as plain text)."""
    try:
        with st.spinner("Starting the local engine…"):
            engine = local_engine()
    except EngineStartError as exc:
        reason, _, log = str(exc).partition("\n")
        where.error(f"The local engine could not start. {plain(reason)}", icon=":material/error:")
        if log.strip():
            with where.expander("The engine's log"):
                st.code(log, language=None)
        return None
    return Connection("local", api_key=engine.api_key, base_url=engine.base_url, project=local_engine_project())


def _local_connection() -> Connection:
    connection = local_engine_connection(st.sidebar)
    if connection is None:
        st.stop()
    return connection


def connection_panel() -> Connection:
    """Render the sidebar panel; returns (and stores) this session's connection."""
    sidebar = st.sidebar
    sidebar.subheader("Connection")
    server = server_key(_secrets())
    if "conn_provider" not in st.session_state:
        st.session_state.conn_provider = default_provider(_secrets())
    provider: Provider = sidebar.selectbox(
        "Provider", PROVIDERS, key="conn_provider", format_func=lambda p: PROVIDER_LABELS[p]
    )

    if provider == "local":
        connection = _local_connection()
        sidebar.caption("Small models running on this machine: no key, no network.")
    elif provider == "openai":
        # The field starts empty: the server's key is never sent to the browser.
        typed = sidebar.text_input(
            "API key",
            type="password",
            key="conn_openai_key",
            placeholder="the server's key" if server else "sk-…",
            help="Kept only in this browser session. Leave empty to use the key configured on the "
            "server, which works only with the base URL it was configured for.",
        )
        default_base = server.base_url if server else None
        base_url = sidebar.text_input("Base URL (optional)", key="conn_openai_base", placeholder=default_base or "https://api.openai.com/v1")
        base_url = base_url.strip() or (default_base if default_base != DEFAULT_OPENAI_BASE_URL else None)
        borrowed = scoped_key(server, "openai", base_url)
        connection = Connection("openai", api_key=typed or borrowed, base_url=base_url)
        if server and not typed and not borrowed:
            sidebar.warning("The server's key is only for its own endpoint: enter your own key for this base URL.")
        elif not connection.has_key:
            sidebar.warning("Enter an API key, or set OPENAI_API_KEY.")
    elif provider == "azure":
        endpoint = sidebar.text_input("Endpoint", key="conn_azure_endpoint", placeholder="https://NAME.openai.azure.com")
        version = sidebar.text_input("API version", key="conn_azure_version", value=DEFAULT_AZURE_API_VERSION)
        auth = sidebar.radio("Sign in with", ["API key", "Entra ID token"], key="conn_azure_auth", horizontal=True)
        secret = sidebar.text_input(
            "API key" if auth == "API key" else "Entra ID token",
            type="password",
            key="conn_azure_key" if auth == "API key" else "conn_azure_token",
            help="Kept only in this browser session.",
        )
        connection = Connection(
            "azure",
            api_key=(secret or None) if auth == "API key" else None,
            azure_ad_token=(secret or None) if auth != "API key" else None,
            azure_endpoint=endpoint.strip().rstrip("/") or None,
            api_version=version.strip() or None,
        )
        if not connection.azure_endpoint:
            sidebar.warning("Enter the resource endpoint.")
        sidebar.caption("Each page's model picker lists this resource's deployments.")
    else:
        base_url = sidebar.text_input(
            "Base URL", key="conn_compat_base", placeholder="http://localhost:11434/v1",
            help="vLLM, Ollama, llama.cpp server, LM Studio… anything that speaks the OpenAI API.",
        )
        key = sidebar.text_input("API key (optional)", type="password", key="conn_compat_key")
        connection = Connection("compatible", api_key=key or None, base_url=base_url.strip() or None)
        if not connection.base_url:
            sidebar.warning("Enter the server's base URL.")
        with sidebar.expander("Price (optional)"):
            st.caption("This server's price in $ per 1M tokens. OpenAI's prices are not used here, "
                       "even for models with OpenAI's names: left empty, costs show as unknown.")
            st.number_input("Input, $ per 1M tokens", min_value=0.0, value=None, step=0.1, format="%.4f", key=PRICE_KEYS[0])
            st.number_input("Output, $ per 1M tokens", min_value=0.0, value=None, step=0.1, format="%.4f", key=PRICE_KEYS[1])

    st.session_state[CONNECTION_KEY] = connection
    if sidebar.button("Check connection", key="conn_check", use_container_width=True):
        _check(connection)
    ok, text = connection_status(connection)
    if connection.provider != "local" and connection.missing is None:  # what is missing is warned of above
        sidebar.caption(("" if ok else ":material/warning: ") + inert(text))
    return connection


def _record_check(connection: Connection, ok: bool, detail: str) -> None:
    st.session_state["_conn_check"] = (connection, CheckOutcome(ok, datetime.now(UTC), detail))


def connection_status(connection: Connection | None = None) -> tuple[bool, str]:
    """(all is well, what is true of this session's connection): not checked, not usable yet
    (and why), checked OK at a time, or failed with the reason."""
    connection = connection or current_connection()
    last = st.session_state.get("_conn_check")
    return status_text(connection, last[1] if last is not None and last[0] == connection else None)


def _noun(connection: Connection, count: int) -> str:
    noun = "deployment" if connection.provider == "azure" else "model"
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _check(connection: Connection) -> None:
    try:
        models = _fetch_models(connection)
    except Exception as exc:  # every failure becomes a message
        problem = explain(exc, secrets=connection.secrets, where=connection.where)
        _record_check(connection, False, problem.title)
        st.sidebar.error(problem_markdown(problem))
        return
    st.session_state["_models"] = (connection, models)
    _record_check(connection, True, _noun(connection, len(models)))
    ordered = base_models_first(models)
    base = [m for m in ordered if not is_fine_tuned(m)]
    tuned = [m for m in ordered if is_fine_tuned(m)]
    shown = ", ".join(inert(m) for m in base)
    if tuned:
        shown += (". Fine-tuned: " if base else "Fine-tuned: ") + ", ".join(inert(m) for m in tuned)
    st.sidebar.success(f"Connected: {_noun(connection, len(models))}. {shown}")


def current_connection() -> Connection:
    connection = st.session_state.get(CONNECTION_KEY)
    if connection is None:
        connection = _local_connection()
        st.session_state[CONNECTION_KEY] = connection
    return connection


def get_client() -> openai.OpenAI:
    """This session's client for the current connection (rebuilt when it changes)."""
    connection = current_connection()
    cached = st.session_state.get("_client")
    if cached is None or cached[0] != connection:
        cached = (connection, make_client(connection))
        st.session_state["_client"] = cached
    return cached[1]


def _fetch_models(connection: Connection) -> list[str]:
    """Model ids; on Azure, deployment names (their models kept for capabilities)."""
    if connection.provider == "azure":
        deployments = list_deployments(get_client())
        st.session_state["_deployment_models"] = deployments
        return sorted(deployments)
    return list_models(get_client())


def available_models() -> list[str]:
    """The provider's models, fetched once per connection; [] (with a message) on failure."""
    connection = current_connection()
    cached = st.session_state.get("_models")
    if cached is not None and cached[0] == connection:
        return cached[1]
    try:
        models = _fetch_models(connection)
    except Exception as exc:
        if connection.provider == "azure":
            return []  # the picker then asks for the deployment name
        _record_check(connection, False, show_exception(exc).title)
        return []
    st.session_state["_models"] = (connection, models)
    _record_check(connection, True, _noun(connection, len(models)))
    return models


def base_models() -> list[str]:
    """The models themselves, not deployments: what fine-tuning starts from. On Azure that
    is the resource's model list (GET /openai/models); elsewhere the usual list."""
    connection = current_connection()
    if connection.provider != "azure":
        return available_models()
    cached = st.session_state.get("_base_models")
    if cached is not None and cached[0] == connection:
        return cached[1]
    try:
        models = list_models(get_client())
    except Exception as exc:
        show_exception(exc)
        return []
    st.session_state["_base_models"] = (connection, models)
    return models


def billed(info: ModelInfo) -> ModelInfo:
    """`info` priced as this session's provider bills it (see playground.catalog.as_billed)."""
    price = tuple(st.session_state.get(key) for key in PRICE_KEYS)
    return as_billed(info, current_connection().provider, price)  # type: ignore[arg-type]


def logit_bias_tokenizer(info: ModelInfo, *, in_use: bool) -> tuple[Any, str | None]:
    """The tokenizer whose ids logit bias sends, and a warning when they may not be the model's.
    On another server: its own (/tokenize), probed once per connection and model, and only once
    a bias is typed (`in_use`); else the catalog's encoding. Raises what get_encoding raises
    when that encoding is unavailable."""
    connection: Connection | None = st.session_state.get(CONNECTION_KEY)  # as the panel set it; none: no server
    if in_use and connection is not None and connection.provider == "compatible" and connection.base_url:
        probed = st.session_state.setdefault("_server_tokenizers", {})
        found = probed.get((connection, info.id), False)
        if found is False:
            found = probed[(connection, info.id)] = probe(connection.base_url, connection.api_key, info.id)
        if found is not None:
            return found, None
        return get_encoding(info.encoding), (
            f"This server has no /tokenize: token ids are {info.encoding}'s, which may not be {info.id}'s "
            "vocabulary. Check them against the server's tokenizer before relying on a bias.")
    return get_encoding(info.encoding), None


def deployment_model(deployment: str) -> str | None:
    """Azure: the model a deployment serves, when the resource listed it."""
    return st.session_state.get("_deployment_models", {}).get(deployment)


def forget_models() -> None:
    """Call after creating a model (fine-tuning) so the next listing is fresh."""
    st.session_state.pop("_models", None)
    st.session_state.pop("_base_models", None)
