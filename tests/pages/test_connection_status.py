"""Issue 15, item 6: the connection panel says what is true of the connection (not checked, not
usable yet and why, checked OK at a time, failed and why), sends nothing to a compatible
server without a URL, and lists base models before fine-tunes, none hidden."""

from __future__ import annotations

import pytest

from tests.pages.conftest import on_compatible_server
from tests.stubserver import stub_server


def home_status(at) -> str:  # noqa: ANN001
    return " ".join(el.value for el in (*at.info, *at.warning))


def test_openai_without_a_key_is_not_called_connected(open_app) -> None:
    at = open_app()
    at.sidebar.selectbox(key="conn_provider").set_value("openai").run()
    assert "Connected" not in home_status(at)
    assert "enter an API key" in home_status(at)


def test_a_failed_check_says_it_failed_and_why(open_app) -> None:
    at = open_app()
    at.sidebar.selectbox(key="conn_provider").set_value("compatible").run()
    at.sidebar.text_input(key="conn_compat_base").input("http://127.0.0.1:9/v1").run()
    assert "not checked yet" in home_status(at)
    at.sidebar.button(key="conn_check").click().run()
    status = home_status(at)
    assert "Connected" not in status
    assert "failed: Could not reach http://127.0.0.1:9" in status


def test_a_good_check_says_when(open_app) -> None:
    with stub_server(models=["gpt-4o-mini"]) as (url, _):
        at = open_app()
        at.sidebar.selectbox(key="conn_provider").set_value("compatible").run()
        at.sidebar.text_input(key="conn_compat_base").input(url).run()
        at.sidebar.button(key="conn_check").click().run()
        assert "checked OK at" in home_status(at) and "(1 model)" in home_status(at)


def test_a_compatible_server_without_url_asks_for_it_and_sends_nothing(open_app, monkeypatch: pytest.MonkeyPatch) -> None:
    # OPENAI_BASE_URL is where a client without a base URL would otherwise go.
    with stub_server() as (url, recorded):
        monkeypatch.setenv("OPENAI_BASE_URL", url)
        at = open_app()
        at.sidebar.selectbox(key="conn_provider").set_value("compatible").run()
        at.sidebar.button(key="conn_check").click().run()
        assert not at.exception
        error = at.sidebar.error[0].value
        assert "Enter the server's base URL" in error and "api.openai.com" not in error
        at.switch_page("app_pages/completions.py")
        at.run()
        assert not at.exception
        assert recorded.requests == []


def test_a_failed_run_shows_no_latency(open_app) -> None:
    with stub_server(models=["llama-3-8b"]) as (url, _):
        at = open_app()
        on_compatible_server(at, url)
        at.text_area(key="completions_prompt").input("FAIL please").run()
        at.button(key="completions_run").click().run()
        assert not at.exception
        assert at.error, "the failure is shown"
        assert not any("latency" in c.value for c in at.caption)
        assert at.session_state["completions_result"].latency_s is None


def test_check_lists_base_models_first_and_hides_none(open_app) -> None:
    tuned = [f"ft:gpt-4o-mini-2024-07-18:acme::{i:08d}" for i in range(8)]
    base = ["babbage-002", "davinci-002", "gpt-4o-mini"]
    with stub_server(models=tuned + base) as (url, _):
        at = open_app()
        at.sidebar.selectbox(key="conn_provider").set_value("compatible").run()
        at.sidebar.text_input(key="conn_compat_base").input(url).run()
        at.sidebar.button(key="conn_check").click().run()
        listed = at.sidebar.success[0].value
        assert "Connected: 11 models" in listed and "more" not in listed
        assert listed.index("babbage-002") < listed.index("davinci-002") < listed.index("gpt-4o-mini") < listed.index("ft:")
        assert all(m in listed for m in tuned)
