"""The logit bias editor widget under AppTest: typed words become the tokens of the
selected model's encoding; ban/force set every bias; bad input is refused, not sent."""

from __future__ import annotations

import json

from streamlit.testing.v1 import AppTest

import tiktoken_offline


def editor_app() -> None:
    import streamlit as st

    from components.logit_bias import logit_bias_editor
    from playground.catalog import model_info

    model = st.selectbox("Model", ["gpt-4o", "gpt-3.5-turbo"], key="model")
    st.session_state["sent"] = logit_bias_editor(model_info(model), key="lb")


def shown_json(at: AppTest) -> dict:
    return json.loads(at.code[0].value)["logit_bias"]


def test_words_become_the_model_encodings_tokens_and_buttons_set_biases() -> None:
    o200k, cl100k = (tiktoken_offline.get_encoding(n) for n in ("o200k_base", "cl100k_base"))
    at = AppTest.from_function(editor_app, default_timeout=60)
    at.run()
    assert at.session_state["sent"] == {}
    at.text_area(key="lb:input").input('" tokenizer"').run()
    expected = {str(t): -100 for t in o200k.encode(" tokenizer")}
    assert at.session_state["sent"] == expected == shown_json(at)

    at.button(key="lb:force").click().run()
    assert at.session_state["sent"] == {k: 100 for k in expected}
    at.button(key="lb:zero").click().run()
    assert set(at.session_state["sent"].values()) == {0}

    at.selectbox(key="model").select("gpt-3.5-turbo").run()  # cl100k_base: other ids
    assert set(at.session_state["sent"]) == {str(t) for t in cl100k.encode(" tokenizer")}
    assert any("cl100k_base" in c.value for c in at.caption)


def test_invalid_entries_are_refused_with_the_reason() -> None:
    at = AppTest.from_function(editor_app, default_timeout=60)
    at.run()
    at.text_area(key="lb:input").input("hello, 300000, -1").run()
    assert at.session_state["sent"] is None
    message = at.error[0].value
    assert "300000 is not a token id of o200k_base" in message and "-1" in message
    assert not at.code  # no JSON offered while it would be refused
    at.text_area(key="lb:input").input(", ".join(str(i) for i in range(1000, 1301))).run()
    assert at.session_state["sent"] is None and "at most 300" in at.error[0].value
