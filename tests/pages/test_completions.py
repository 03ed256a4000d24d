"""The Completions page under AppTest against the real engine: every control reaches the
request, the page shows the tokens the engine returned, errors are messages."""

from __future__ import annotations

import math

from streamlit.testing.v1 import AppTest

from components.token_view import token_label
from playground.catalog import model_info
from playground.logprobs import rebuild_text
from playground.requests import build_request
from playground.runner import RunResult, run
from tests.conftest import TEST_KEY, recorded_requests

PROMPT = "Return the number of"


def token_tables(at: AppTest) -> list:
    return [frame.value for frame in at.dataframe if "logprob" in frame.value.columns]


def shown(at: AppTest) -> str:
    parts = [el.value for el in (*at.markdown, *at.caption, *at.warning, *at.error, *at.info)]
    return "\n".join(str(p) for p in parts)


def last_body(engine_url: str) -> dict:
    return recorded_requests(engine_url, "/v1/completions")[-1]["body"]


def set_prompt(at: AppTest, text: str = PROMPT) -> None:
    at.text_area(key="completions_prompt").input(text).run()


def test_every_control_reaches_the_engine_and_the_page_shows_its_tokens(open_app, engine_url, client):
    at = open_app("app_pages/completions.py")
    set_prompt(at)
    at.number_input(key="completions_max_tokens").set_value(12)
    at.slider(key="completions_temperature").set_value(0.7)
    at.slider(key="completions_top_p").set_value(0.9)
    at.slider(key="completions_frequency_penalty").set_value(0.5)
    at.slider(key="completions_presence_penalty").set_value(-0.25)
    at.number_input(key="completions_n").set_value(2)
    at.text_area(key="completions_stop").input("\\n\\n\nEND")
    at.number_input(key="completions_seed").set_value(11)
    at.toggle(key="completions_stream").set_value(False)
    at.text_input(key="completions_suffix").input(" # done")
    at.checkbox(key="completions_echo").check()
    at.number_input(key="completions_best_of").set_value(3)
    at.slider(key="completions_logprobs").set_value(3)
    at.text_area(key="completions_logit_bias:input").input("1234")
    at.checkbox(key="completions_logit_bias:space").uncheck().run()
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    at.button(key="completions_run").click().run()
    assert not at.exception, [e.message for e in at.exception]

    body = last_body(engine_url)
    assert body == {
        "model": "local-text", "prompt": PROMPT, "max_tokens": 12, "temperature": 0.7, "top_p": 0.9,
        "frequency_penalty": 0.5, "presence_penalty": -0.25, "n": 2, "stop": ["\n\n", "END"], "seed": 11,
        "logit_bias": {"1234": -100}, "suffix": " # done", "echo": True, "best_of": 3, "logprobs": 3,
    }
    direct = client.completions.create(**body)
    tables = token_tables(at)
    assert len(tables) == 2  # both choices, side by side
    for table, choice in zip(tables, direct.choices):
        assert table["token"].tolist() == [token_label(t, t.encode()) for t in choice.logprobs.tokens]
        assert table["logprob"].tolist()[1:] == choice.logprobs.token_logprobs[1:]
        assert table["prompt"].sum() == direct.usage.prompt_tokens  # echo: the prompt's own tokens
        assert math.isnan(table["logprob"].tolist()[0])  # the first prompt token has no context
    assert f"{direct.usage.prompt_tokens} + {direct.usage.completion_tokens}" in " ".join(m.value for m in at.metric)
    # View code shows this request without the key
    code = " ".join(c.value for c in at.code)
    assert 'best_of=3' in code and TEST_KEY not in code and '"best_of": 3' in code


def test_streamed_run_shows_text_tokens_and_time_to_first_token(open_app, engine_url, client):
    at = open_app("app_pages/completions.py")
    set_prompt(at)
    at.number_input(key="completions_seed").set_value(5)
    at.number_input(key="completions_max_tokens").set_value(20).run()
    at.button(key="completions_run").click().run()
    assert not at.exception
    body = last_body(engine_url)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True} and body["logprobs"] == 5
    direct = client.completions.create(model="local-text", prompt=PROMPT, max_tokens=20, seed=5, logprobs=5)
    [table] = token_tables(at)
    assert table["logprob"].tolist() == direct.choices[0].logprobs.token_logprobs
    assert "time to first token" in shown(at) and "latency" in shown(at)
    assert at.session_state["completions_result"].ttft_s > 0
    # The plain text to copy is drawn once its expander is opened (not twice, hidden, each run).
    text = direct.choices[0].text
    assert text not in [c.value for c in at.code]
    at.session_state["completions:plain_open"] = True  # the user opens "Plain text (copy)"
    at.run()
    assert text in [c.value for c in at.code]


def test_a_stopped_run_keeps_what_arrived(open_app, client):
    at = open_app("app_pages/completions.py")
    # what the page holds when Stop interrupted the stream: a result that was still filling
    request = build_request(
        "completions", model_info("local-text"),
        dict(max_tokens=200, temperature=0, logit_bias={"199999": -100}), prompt=PROMPT,
    )
    partial = RunResult(request)

    class Interrupted(Exception):
        pass

    def interrupt(result: RunResult) -> None:
        if len(result.text) > 20:
            raise Interrupted

    try:
        run(client, request, result=partial, on_update=interrupt)
    except Interrupted:
        pass
    at.session_state["completions_result"] = partial
    at.run()
    assert not at.exception
    assert any("Stopped" in w.value for w in at.warning)
    [table] = token_tables(at)
    tokens = partial.choices[0].tokens
    assert len(table) == len(tokens) > 2 and table["logprob"].tolist() == [t.logprob for t in tokens]
    assert partial.text.startswith(rebuild_text(tokens))


def test_a_reasoning_model_disables_what_it_does_not_take_and_a_missing_model_is_explained(open_app):
    at = open_app("app_pages/completions.py")
    connection = at.session_state["connection"]
    at.session_state["_models"] = (connection, ["local-text", "o3", "davinci-002"])  # as if the provider listed them
    at.run()
    at.selectbox(key="completions_model").select("davinci-002").run()
    assert not at.slider(key="completions_temperature").disabled
    at.button(key="completions_run").click().run()
    assert not at.exception
    assert "Not found (404)" in at.error[0].value and "Pick another model" in at.error[0].value
    assert at.text_area(key="completions_prompt").value  # the prompt is still there

    chat = at.switch_page("app_pages/chat.py").run()
    chat.selectbox(key="chat_model").select("o3").run()
    for key in ("chat_temperature", "chat_top_p", "chat_frequency_penalty", "chat_presence_penalty", "chat_top_logprobs"):
        assert chat.slider(key=key).disabled, key
    assert chat.number_input(key="chat_n").disabled
    assert chat.number_input(key="chat_max_tokens").label == "Max completion tokens"
    assert "o3 is a reasoning model: it takes no temperature." in shown(chat)


def test_rate_limit_shows_the_wait(open_app, start_engine):
    with start_engine("--rpm", "2") as url:
        at = open_app("app_pages/completions.py")
        at.sidebar.selectbox(key="conn_provider").set_value("compatible").run()
        at.sidebar.text_input(key="conn_compat_base").input(url).run()  # listing the models takes 1 request
        at.button(key="completions_run").click().run()
        assert not at.error, [e.value for e in at.error]
        at.button(key="completions_run").click().run()
        assert not at.exception
        message = at.error[0].value
        assert "Rate limit reached (429)" in message and "Wait" in message and " s and run again" in message


def test_wrong_key_is_explained_and_the_prompt_kept(open_app, engine_url):
    at = open_app("app_pages/completions.py")
    set_prompt(at, "keep me")
    at.sidebar.selectbox(key="conn_provider").set_value("compatible").run()
    at.sidebar.text_input(key="conn_compat_base").input(engine_url).run()
    at.sidebar.text_input(key="conn_compat_key").input("wrong-key").run()
    assert not at.exception
    assert any("The API key was refused (401)" in e.value and "Check the key" in e.value for e in at.error)
    at.sidebar.text_input(key="conn_compat_key").input(TEST_KEY).run()
    assert at.text_area(key="completions_prompt").value == "keep me"
    at.button(key="completions_run").click().run()
    assert not at.error and any('<div class="tv">' in h.proto.body for h in at.html)  # the token view


def test_a_server_that_went_down_is_explained(open_app, start_engine):
    at = open_app("app_pages/completions.py")
    set_prompt(at, "keep me")
    with start_engine() as url:
        at.sidebar.selectbox(key="conn_provider").set_value("compatible").run()
        at.sidebar.text_input(key="conn_compat_base").input(url).run()
        assert not at.error
    at.button(key="completions_run").click().run()  # the engine has stopped
    assert not at.exception
    host = url.removesuffix("/v1")
    assert any(f"Could not reach {host}" in e.value and "Check that the server is running" in e.value for e in at.error)
    assert at.text_area(key="completions_prompt").value == "keep me"


def test_an_invalid_parameter_is_named_before_sending(open_app, engine_url):
    at = open_app("app_pages/completions.py")
    at.number_input(key="completions_best_of").set_value(3).run()  # streaming is on: best_of > n cannot stream
    assert any("`best_of`" in w.value and "stream" in w.value for w in at.warning)
    assert at.button(key="completions_run").disabled


def test_settings_survive_a_page_switch(open_app):
    at = open_app("app_pages/completions.py")
    set_prompt(at, "def keep():")
    at.slider(key="completions_temperature").set_value(0.3)
    at.text_area(key="completions_stop").input("END").run()
    at.switch_page("app_pages/tokenizer.py").run()
    at.switch_page("app_pages/completions.py").run()
    assert not at.exception
    assert at.text_area(key="completions_prompt").value == "def keep():"
    assert at.slider(key="completions_temperature").value == 0.3
    assert at.text_area(key="completions_stop").value == "END"
