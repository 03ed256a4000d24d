"""History and Compare tell saved runs apart (issue 15, item 8): chat runs by their last user
message, Compare's runs by their settings; a stopped run keeps what was counted; a re-run
is shown even under a tag filter; "Open a run" starts at the newest run."""

from __future__ import annotations

from typing import Callable

import openai
from streamlit.testing.v1 import AppTest

from playground.catalog import model_info
from playground.history import History, Run, default_path, run_of_result
from playground.requests import build_request
from playground.runner import run

SYSTEM = "You are a helpful assistant that answers in one short sentence about Python."


def _chat_run(user: str, created: float, **request: object) -> Run:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Earlier question"},
                {"role": "assistant", "content": "Earlier answer"}, {"role": "user", "content": user}]
    return Run(endpoint="chat", model="local-text", request={"model": "local-text", "messages": messages, **request},
               response={"choices": [{"index": 0, "text": "An answer.", "tokens": []}]}, created=created)


def test_chat_runs_are_labelled_by_their_last_user_message(open_app: Callable[..., AppTest]) -> None:
    at = open_app()
    history = History(default_path())
    for i, user in enumerate(["How do I sort a dict?", "What does zip do?", "Explain list slicing"]):
        history.add(_chat_run(user, 1_700_000_000 + i))
    at.switch_page("app_pages/history.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    labels = at.selectbox(key="hist_open").options  # as shown
    assert [label.rsplit(" · ", 1)[1] for label in labels] == ["Explain list slicing", "What does zip do?", "How do I sort a dict?"]
    assert not any(SYSTEM[:20] in label for label in labels)
    assert list(at.dataframe[0].value["prompt"])[0].startswith("Explain list slicing")


def test_open_a_run_starts_at_the_newest_run_even_after_an_eval(open_app: Callable[..., AppTest]) -> None:
    at = open_app()
    history = History(default_path())
    history.add(_chat_run("the older question", 1_700_000_000))
    at.switch_page("app_pages/history.py")
    at.run()
    newest = _chat_run("the newest question", 1_700_000_100)
    history.add(Run(endpoint="evals", model="local-text", request={"name": "an eval"}, response={}, created=1_700_000_050))
    history.add(newest)
    at.run()
    assert at.selectbox(key="hist_open").value == newest.id  # the list's first row, not the one opened before


def test_a_stopped_run_keeps_its_counted_tokens_and_cost(open_app: Callable[..., AppTest], client: openai.OpenAI) -> None:
    at = open_app()
    info = model_info("local-text")
    request = build_request("completions", info, {"max_tokens": 40, "stream": True, "logprobs": 2, "temperature": 0.5,
                                                  "logit_bias": {"199999": -100}},  # no <|endoftext|>: it cannot end before Stop
                            prompt="def flatten(nested):\n    \"\"\"")
    arrived = []
    result = run(client, request, should_stop=lambda: len(arrived.append(1) or arrived) >= 3, prompt_tokens=7)
    result.prompt_tokens_local = 7
    assert result.stopped and result.usage is None  # the stream was closed before any usage arrived
    History(default_path()).add(run_of_result(result, provider={"provider": "local"}))
    at.switch_page("app_pages/history.py")
    at.run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Tokens"] != "—" and int(metrics["Tokens"].split()[0]) >= 7 + 3
    assert "counted here" in metrics["Tokens"]
    assert metrics["Cost"] != "—"
    assert at.dataframe[0].value["tokens"][0] >= 10


def test_a_rerun_is_shown_even_under_a_tag_filter(open_app: Callable[..., AppTest]) -> None:
    at = open_app()
    tagged = _chat_run("Tagged question", 1_700_000_000)
    tagged.tags = ["keep"]
    History(default_path()).add(tagged)
    at.switch_page("app_pages/history.py")
    at.run()
    at.selectbox(key="hist_tag").set_value("keep").run()
    at.button(key="hist_rerun").click().run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    newest = History(default_path()).search().runs[0]
    assert newest.tags == ("re-run",)
    at.run()  # the page as the user sees it next
    assert at.selectbox(key="hist_open").value == newest.id


def test_compare_labels_tell_saved_runs_apart_and_open_the_chosen_one(open_app: Callable[..., AppTest]) -> None:
    at = open_app()
    history = History(default_path())
    runs = [_chat_run("Same question", 1_700_000_000.5, temperature=t) for t in (0.2, 1.2, 0.7, 1.0)]
    for i, saved in enumerate(runs):
        saved.response = {"choices": [{"index": 0, "text": f"Answer number {i}", "tokens": []}]}
        history.add(saved)
    at.switch_page("app_pages/compare.py")
    at.run()
    at.segmented_control(key="cmp_mode").set_value("Saved runs").run()
    box = at.multiselect(key="cmp_saved")
    labels = box.options  # as shown
    assert len(set(labels)) == 4, labels
    assert any("T=1.2" in label for label in labels)
    box.set_value([runs[2].id]).run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("Answer number 2" in c.value for c in at.code)
    assert len(at.multiselect(key="cmp_saved").options) == 4  # the others are still there to add
    at.multiselect(key="cmp_saved").set_value([runs[2].id, runs[0].id]).run()
    assert [c.value for c in at.code][:1] == ["Answer number 2"]
    headings = [m.value for m in at.markdown if m.value.startswith("**")]
    assert "T=0.7" in headings[0] and "T=0.2" in headings[1]  # each column is the run chosen for it
