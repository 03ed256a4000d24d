"""Issue 15, item 7: a model served under an OpenAI name by another server is not priced at
OpenAI's list price; the user may set that server's price per 1M tokens."""

from __future__ import annotations

import pytest

from tests.pages.conftest import on_compatible_server
from tests.stubserver import stub_server


def run_on_stub(at) -> None:  # noqa: ANN001
    at.text_area(key="completions_prompt").input("Return the number of").run()
    at.button(key="completions_run").click().run()
    assert not at.exception, [e.message for e in at.exception]


def test_another_servers_openai_named_model_gets_only_the_users_price(open_app) -> None:
    with stub_server(models=["gpt-3.5-turbo-instruct"]) as (url, _):
        at = open_app()
        on_compatible_server(at, url)
        run_on_stub(at)
        assert at.session_state["completions_result"].cost is None
        assert any("price is not known" in c.value for c in at.caption)

        at.sidebar.number_input(key="conn_price_input").set_value(1.0)
        at.sidebar.number_input(key="conn_price_output").set_value(2.0).run()
        run_on_stub(at)
        result = at.session_state["completions_result"]
        usage = result.usage  # the stub reports 3 prompt and 1 completion tokens
        assert result.cost == pytest.approx((usage["prompt_tokens"] * 1.0 + usage["completion_tokens"] * 2.0) / 1e6)
        assert any("price set for this server" in c.value for c in at.caption)


def test_a_compare_column_on_its_own_server_is_not_priced_at_openais_list(open_app) -> None:
    from playground.history import History, default_path

    with stub_server(models=["gpt-3.5-turbo-instruct"]) as (url, _):
        at = open_app("app_pages/compare.py")
        at.number_input(key="cmp_max_tokens").set_value(4).run()
        at.selectbox(key="cmp_where_1").set_value("compatible").run()
        at.text_input(key="cmp_c1_compatible_base").set_value(url).run()
        at.selectbox(key="cmp_model_1_compatible").set_value("gpt-3.5-turbo-instruct").run()
        at.button(key="cmp_run").click().run(timeout=120)
        assert not at.exception, [e.message for e in at.exception]
        runs = History(default_path()).search().runs
        costs = {History(default_path()).get(r.id).provider["provider"]: r.cost for r in runs}
        assert costs == {"local": 0.0, "compatible": None}
