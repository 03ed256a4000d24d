"""With a key configured on the server, no request carrying it reaches any host but the
one it was configured for, whatever a visitor types in the sidebar."""

from __future__ import annotations

import pytest

from tests.stubserver import stub_server

SERVER_KEY = "sk-" + "configured" * 4


def _carrying_key(recorded) -> list[dict]:  # noqa: ANN001
    return [r for r in recorded.requests if any(SERVER_KEY in str(v) for v in r["headers"].values())]


def test_the_server_key_goes_only_to_its_endpoint(open_app, monkeypatch: pytest.MonkeyPatch) -> None:
    with stub_server() as (configured_url, configured), stub_server() as (other_url, other):
        monkeypatch.setenv("OPENAI_API_KEY", SERVER_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", configured_url)
        at = open_app("app_pages/completions.py")
        assert at.session_state["conn_provider"] == "openai"
        assert at.sidebar.text_input(key="conn_openai_key").value == ""  # never prefilled with the server's key
        at.sidebar.button(key="conn_check").click().run()
        assert _carrying_key(configured), "the configured endpoint gets the key"

        # A visitor points the OpenAI provider at their own server, checks and runs.
        at.sidebar.text_input(key="conn_openai_base").input(other_url).run()
        at.sidebar.button(key="conn_check").click().run()
        at.button(key="completions_run").click().run()
        assert not at.exception
        assert any("enter your own key" in w.value for w in at.sidebar.warning)
        # ... or switches provider.
        at.sidebar.selectbox(key="conn_provider").set_value("compatible").run()
        at.sidebar.text_input(key="conn_compat_base").input(other_url).run()
        at.sidebar.button(key="conn_check").click().run()
        at.sidebar.selectbox(key="conn_provider").set_value("azure").run()
        at.sidebar.text_input(key="conn_azure_endpoint").input(other_url.removesuffix("/v1")).run()
        at.sidebar.button(key="conn_check").click().run()
        assert not at.exception

        assert other.requests, "the visitor's server was called"
        assert _carrying_key(other) == []
        shown = " ".join(str(e.value) for e in (*at.sidebar.error, *at.sidebar.success, *at.error, *at.markdown))
        assert SERVER_KEY not in shown
