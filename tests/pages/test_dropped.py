"""Issue 15, item 7: what a provider silently drops (logprobs, choices, echo, a stream's usage)
is said on the run; the local engine, which drops nothing, gets no such note."""

from __future__ import annotations

from tests.pages.conftest import on_compatible_server
from tests.stubserver import stub_server

PROMPT = "Return the number of"


def ask_for_everything(at) -> None:  # noqa: ANN001
    at.text_area(key="completions_prompt").input(PROMPT).run()
    at.number_input(key="completions_max_tokens").set_value(8)
    at.number_input(key="completions_n").set_value(2)
    at.checkbox(key="completions_echo").check()
    at.slider(key="completions_logprobs").set_value(2)
    at.toggle(key="completions_stream").set_value(True).run()
    assert not at.warning, [w.value for w in at.warning]
    at.button(key="completions_run").click().run()
    assert not at.exception, [e.message for e in at.exception]


def notes(at) -> str:  # noqa: ANN001
    return "\n".join(w.value for w in at.warning)


def test_what_a_provider_drops_is_said_on_the_run(open_app) -> None:
    with stub_server(models=["llama-3-8b"], quirks=("no_logprobs", "no_stream_usage")) as (url, recorded):
        at = open_app()
        on_compatible_server(at, url)
        ask_for_everything(at)
        sent = [r["body"] for r in recorded.requests if r["path"].endswith("/completions")][-1]
        assert sent["n"] == 2 and sent["echo"] is True and sent["logprobs"] == 2
        shown = notes(at)
        assert "Logprobs were requested but the provider returned none" in shown
        assert "n=2 choices were requested but the provider returned 1" in shown
        assert "the provider ignored echo" in shown
        assert "The stream carried no usage" in shown


def test_the_local_engine_drops_nothing(open_app) -> None:
    at = open_app("app_pages/completions.py")
    ask_for_everything(at)
    result = at.session_state["completions_result"]
    assert result.error is None and len(result.choices) == 2
    assert result.dropped == []
    assert "requested but" not in notes(at) and "no usage" not in notes(at)


def test_compare_says_what_each_column_lost(open_app) -> None:
    with stub_server(models=["llama-3-8b"], quirks=("no_logprobs",)) as (url, _):
        at = open_app()
        on_compatible_server(at, url, "app_pages/compare.py")
        at.number_input(key="cmp_count").set_value(1)
        at.number_input(key="cmp_max_tokens").set_value(8).run()
        at.button(key="cmp_run").click().run(timeout=60)
        assert not at.exception, [e.message for e in at.exception]
        assert "Logprobs were requested but the provider returned none" in notes(at)
