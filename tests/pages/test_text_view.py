"""Issue 15, text pages: the token view agrees with the returned text when a stop sequence
ends it, and a chosen token outside the top N says so (Completions and Chat alike)."""

from __future__ import annotations

import html
import re

from streamlit.testing.v1 import AppTest

PROMPT = "Return the number of"


def units(at: AppTest) -> list[tuple[list[str], str]]:
    """The token view's display units: (their classes, their text)."""
    body = at.html[0].proto.body
    found = re.findall(r'<span class="t ([^"]*)" data-i="\d+">(.*?)<span class="tip">', body, flags=re.S)
    return [(cls.split(), html.unescape(text)) for cls, text in found]


def run_completions(at: AppTest, **controls) -> None:
    at.text_area(key="completions_prompt").input(PROMPT)
    at.toggle(key="completions_stream").set_value(False)
    for name, value in controls.items():
        widget = at.text_area(key="completions_stop") if name == "stop" else None
        if widget is not None:
            widget.input(value)
        elif name in ("temperature", "logprobs"):
            at.slider(key=f"completions_{name}").set_value(value)
        else:
            at.number_input(key=f"completions_{name}").set_value(value)
    at.run()
    at.button(key="completions_run").click().run()
    assert not at.exception, [e.message for e in at.exception]


def test_a_stop_sequence_ends_the_token_view_where_it_ends_the_text(open_app):
    at = open_app("app_pages/completions.py")
    run_completions(at, temperature=0.0, seed=1, max_tokens=20)
    words = [text for _, text in units(at)]
    # Stop at the fifth generated token's word: the engine ends the text before it.
    stop = words[4].strip()
    run_completions(at, stop=stop)
    text = at.session_state["completions_result"].choices[0].text
    assert stop not in text

    shown = units(at)
    returned = "".join(t for cls, t in shown if "nr" not in cls)
    unreturned = [t for cls, t in shown if "nr" in cls]
    assert text.startswith(returned) and len(text) - len(returned) < len(words[4])  # the view stops where the text does
    assert all(stop not in t for cls, t in shown if "nr" not in cls)
    assert unreturned, "the stop sequence's token is marked not returned"
    assert "not returned" in at.html[0].proto.body
    table = at.dataframe[0].value
    assert list(table["returned"]).count(False) == len(unreturned)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Generated tokens"] == str(len(shown) - len(unreturned))


def test_completions_chosen_token_outside_the_top_n_is_not_given_a_rank(open_app):
    at = open_app("app_pages/completions.py")
    run_completions(at, temperature=2.0, seed=5, max_tokens=24, logprobs=1)
    ranks = list(at.dataframe[0].value["rank"])
    assert "not among the top 1" in ranks
    assert set(ranks) <= {"1", "not among the top 1"}  # never "rank 2" for the appended chosen token
    body = at.html[0].proto.body
    assert "(not among the top 1)" in body and "(rank 2)" not in body


def test_chat_chosen_token_outside_the_top_n_reads_the_same(open_app):
    at = open_app("app_pages/chat.py")
    at.slider(key="chat_temperature").set_value(2.0)
    at.slider(key="chat_top_logprobs").set_value(1)
    at.number_input(key="chat_seed").set_value(5)
    at.number_input(key="chat_max_tokens").set_value(24)
    at.toggle(key="chat_stream").set_value(False).run()
    at.chat_input(key="chat_input").set_value(PROMPT).run()
    assert not at.exception, [e.message for e in at.exception]
    ranks = list(at.dataframe[0].value["rank"])
    assert "not among the top 1" in ranks and set(ranks) <= {"1", "not among the top 1"}
    assert "(not among the top 1)" in at.html[0].proto.body


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def test_each_problem_is_said_once_and_run_sends_what_the_controls_show(open_app):
    at = open_app("app_pages/completions.py")
    at.text_area(key="completions_stop").input("a\nb\nc\nd\ne").run()
    assert len(warnings(at)) == 1 and "at most 4" in warnings(at)[0], warnings(at)

    at.text_area(key="completions_stop").input("").run()
    at.number_input(key="completions_max_tokens").set_value(0).run()
    assert len(warnings(at)) == 1 and "`max_tokens`" in warnings(at)[0] and "got 0" in warnings(at)[0], warnings(at)
    assert at.button(key="completions_run").disabled
    assert '"max_tokens": 0' in at.code[-1].value  # View code shows what the field shows, not a clamped 1

    at.number_input(key="completions_max_tokens").set_value(16)
    at.text_area(key="completions_prompt").input("word " * 8200).run()  # more than local-text's 8,192
    assert len(warnings(at)) == 1, warnings(at)
    assert "lower it to 0" not in warnings(at)[0] and "shorten the prompt" in warnings(at)[0]
