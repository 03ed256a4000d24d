"""Issue 15, item 7: on a server with its own tokenizer (llama.cpp's and vLLM's /tokenize),
logit bias sends that tokenizer's ids; probed only on the configured host, with the configured
key. A server without one gets a warning that the ids are o200k_base's."""

from __future__ import annotations

from tests.stubserver import TOY_VOCAB_BASE, stub_server

KEY = "sk-" + "compatible" * 3


def bias_on_stub(open_app, url: str):  # noqa: ANN001, ANN201
    at = open_app()
    at.sidebar.selectbox(key="conn_provider").set_value("compatible").run()
    at.sidebar.text_input(key="conn_compat_base").input(url).run()
    at.sidebar.text_input(key="conn_compat_key").input(KEY).run()
    at.switch_page("app_pages/completions.py")
    at.run()
    at.text_area(key="completions_prompt").input("Return the number of").run()
    at.text_area(key="completions_logit_bias:input").input('"hi"').run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_logit_bias_uses_the_servers_tokenizer(open_app) -> None:
    with stub_server(models=["llama-3-8b"], quirks=("tokenize",)) as (url, recorded):
        at = bias_on_stub(open_app, url)
        assert not any("no /tokenize" in w.value for w in at.warning)
        at.button(key="completions_run").click().run()
        sent = [r["body"] for r in recorded.requests if r["path"].endswith("/completions")][-1]
        assert sent["logit_bias"] == {str(TOY_VOCAB_BASE + ord("h")): -100, str(TOY_VOCAB_BASE + ord("i")): -100}
        probes = [r for r in recorded.requests if r["path"] in ("/tokenize", "/detokenize")]
        assert probes and all(r["headers"].get("Authorization") == f"Bearer {KEY}" for r in probes)


def test_a_server_without_a_tokenizer_gets_a_warning(open_app) -> None:
    with stub_server(models=["llama-3-8b"]) as (url, _):
        at = bias_on_stub(open_app, url)
        assert any("no /tokenize" in w.value and "o200k_base" in w.value for w in at.warning)
