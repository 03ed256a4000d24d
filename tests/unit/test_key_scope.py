"""The server's key goes only to the endpoint it was configured for."""

from __future__ import annotations

import pytest

from playground.providers import Connection, ServerKey, make_client, same_endpoint, scoped_key, server_key
from playground.workspaces import engine_project

SERVER_KEY = "sk-" + "server" * 6


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> ServerKey:
    monkeypatch.setenv("OPENAI_API_KEY", SERVER_KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    found = server_key()
    assert found is not None and SERVER_KEY not in repr(found)
    return found


def test_the_server_key_serves_only_its_own_endpoint(configured: ServerKey) -> None:
    assert scoped_key(configured, "openai", None) == SERVER_KEY
    assert scoped_key(configured, "openai", "https://API.openai.com:443/v1/") == SERVER_KEY
    for base in ("https://attacker.example/v1", "http://api.openai.com/v1", "https://api.openai.com.evil/v1",
                 "https://user@api.openai.com/v1", "https://api.openai.com/v2"):
        assert scoped_key(configured, "openai", base) is None, base
    for provider in ("compatible", "azure", "local"):
        assert scoped_key(configured, provider, None) is None


def test_a_configured_base_url_moves_the_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SERVER_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://proxy.internal:8080/v1")
    found = server_key()
    assert found is not None and scoped_key(found, "openai", None) == SERVER_KEY
    assert scoped_key(found, "openai", "https://api.openai.com/v1") is None
    assert same_endpoint("http://proxy.internal:8080/v1", "HTTP://PROXY.internal:8080/v1/")


def test_clients_never_fall_back_to_the_environment_key(configured: ServerKey) -> None:
    for connection in (
        Connection("openai", api_key=None, base_url="https://attacker.example/v1"),
        Connection("compatible", api_key=None, base_url="https://attacker.example/v1"),
        Connection("azure", api_key=None, azure_endpoint="https://attacker.example", api_version="2024-10-21"),
    ):
        client = make_client(connection)
        assert SERVER_KEY not in str(client.api_key), connection.provider
        assert SERVER_KEY not in str(client.auth_headers)


def test_the_servers_organization_and_project_go_only_with_its_key(configured: ServerKey, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_ORG_ID", "org-server")
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_server")
    own = make_client(Connection("openai", api_key=SERVER_KEY)).default_headers
    assert own["OpenAI-Organization"] == "org-server" and own["OpenAI-Project"] == "proj_server"
    for connection in (
        Connection("openai", api_key=SERVER_KEY, base_url="https://attacker.example/v1"),
        Connection("openai", api_key="sk-visitor", base_url=None),
        Connection("compatible", api_key=None, base_url="https://attacker.example/v1"),
        Connection("azure", api_key="visitor", azure_endpoint="https://attacker.example", api_version="2024-10-21"),
    ):
        headers = {k: v for k, v in make_client(connection).default_headers.items() if isinstance(v, str)}
        assert "org-server" not in headers.values() and "proj_server" not in headers.values(), connection


def test_only_the_local_engines_client_carries_the_workspaces_project(configured: ServerKey,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_PROJECT_ID", "proj_server")
    local = make_client(Connection("local", api_key="engine-key", base_url="http://127.0.0.1:9/v1", project="ada%40x"))
    assert local.default_headers["OpenAI-Project"] == "ada%40x"
    single_user = make_client(Connection("local", api_key="engine-key", base_url="http://127.0.0.1:9/v1"))
    assert not isinstance(single_user.default_headers["OpenAI-Project"], str)  # none: the engine's default project
    elsewhere = make_client(Connection("compatible", base_url="http://127.0.0.1:9/v1", project="ada%40x"))
    assert not isinstance(elsewhere.default_headers["OpenAI-Project"], str)


def test_the_local_engines_project_is_the_workspace_and_none_for_the_local_one() -> None:
    assert engine_project("local") is None  # the engine's default project: everything made before workspaces
    assert engine_project("ada@example.com") == "ada@example.com"
    assert engine_project("zoë@example.com").isascii()  # a header value is ASCII
    assert engine_project("oidc|123") != engine_project("oidc%7c123")  # percent-encoding keeps them apart
