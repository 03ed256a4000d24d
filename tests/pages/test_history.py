"""History page: a run on Completions is listed, opens with its tokens and no new request,
re-opens its page with its controls, and can be deleted; presets and share links restore controls."""

from __future__ import annotations

from typing import Callable

from streamlit.testing.v1 import AppTest

from playground.history import History, RunFilter, default_path
from tests.conftest import TEST_KEY, recorded_requests

PROMPT = "def flatten(nested):\n    \"\"\""


def _run_on_completions(at: AppTest) -> None:
    at.text_area(key="completions_prompt").set_value(PROMPT)
    at.slider(key="completions_temperature").set_value(0.3)
    at.number_input(key="completions_seed").set_value(5)
    at.number_input(key="completions_max_tokens").set_value(10)
    at.run()
    at.button(key="completions_run").click().run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]


def test_a_run_is_listed_reopened_without_a_request_and_deleted(open_app: Callable[..., AppTest], engine_url: str) -> None:
    at = open_app("app_pages/completions.py")
    _run_on_completions(at)
    sent = recorded_requests(engine_url, "/completions")[-1]["body"]
    saved = History(default_path()).search().runs
    assert len(saved) == 1 and saved[0].prompt == PROMPT

    at.switch_page("app_pages/history.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    requests_before = len(recorded_requests(engine_url))
    table = at.dataframe[0].value
    assert list(table["prompt"]) == [PROMPT.replace("\n", " ⏎ ")] and list(table["model"]) == [sent["model"]]
    assert at.selectbox(key="hist_open").value == saved[0].id

    # the token view drawn again from the saved run: same tokens, no request
    shaded = [h.proto.body for h in at.get("html") if 'class="tv"' in h.proto.body]
    assert shaded, "the token view is shown"
    assert [m.label for m in at.metric].count("Generated tokens") == 1
    assert len(recorded_requests(engine_url)) == requests_before

    # title and tags, then the search finds it by them
    at.text_input(key=f"hist_title_{saved[0].id}").set_value("Flatten docstring")
    at.text_input(key=f"hist_tags_{saved[0].id}").set_value("docs, keep")
    next(b for b in at.button if b.label == "Save").click().run()
    at.text_input(key="hist_text").set_value("flatten docstring").run()
    assert list(at.dataframe[0].value["title"]) == ["Flatten docstring"]
    assert at.selectbox(key="hist_tag").options == ["All", "docs", "keep"]

    # delete
    at.button(key="hist_delete_confirm").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert History(default_path()).count() == 0
    assert any("No runs yet" in i.value for i in at.info)


def test_rerun_sends_the_same_request_and_saves_a_new_run(open_app: Callable[..., AppTest], engine_url: str) -> None:
    at = open_app("app_pages/completions.py")
    _run_on_completions(at)
    first = recorded_requests(engine_url, "/completions")[-1]["body"]
    at.switch_page("app_pages/history.py")
    at.run()
    at.button(key="hist_rerun").click().run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    again = recorded_requests(engine_url, "/completions")[-1]["body"]
    assert again == first
    runs = History(default_path()).search().runs
    assert len(runs) == 2 and runs[0].tags == ("re-run",)
    assert any("Ran again" in s.value for s in at.success)


def test_open_in_page_restores_every_control(open_app: Callable[..., AppTest]) -> None:
    at = open_app("app_pages/completions.py")
    _run_on_completions(at)
    # move the controls away, then bring the run back from the history
    at.text_area(key="completions_prompt").set_value("something else")
    at.slider(key="completions_temperature").set_value(1.7)
    at.run()
    at.switch_page("app_pages/history.py")
    at.run()
    at.button(key="hist_open_page").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.text_area(key="completions_prompt").value == PROMPT
    assert at.slider(key="completions_temperature").value == 0.3
    assert at.number_input(key="completions_seed").value == 5
    assert at.number_input(key="completions_max_tokens").value == 10


def test_a_share_link_restores_controls_and_a_bad_one_says_why(open_app: Callable[..., AppTest]) -> None:
    at = open_app("app_pages/completions.py")
    code = [c.value for c in at.code if "?page=completions" in c.value]
    assert code and TEST_KEY not in code[0]
    at = open_app()
    at.query_params.update({"page": "completions", "temperature": "0.25", "prompt": "shared prompt", "stop": '["END"]', "seed": "9"})
    at.switch_page("app_pages/completions.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.text_area(key="completions_prompt").value == "shared prompt"
    assert at.slider(key="completions_temperature").value == 0.25
    assert at.number_input(key="completions_seed").value == 9
    assert at.text_area(key="completions_stop").value == "END"

    bad = open_app()
    bad.query_params.update({"page": "completions", "temperature": "7"})
    bad.switch_page("app_pages/completions.py")
    bad.run()
    assert not bad.exception
    assert any("temperature must be between 0 and 2" in w.value for w in bad.warning)


def test_presets_save_and_load(open_app: Callable[..., AppTest]) -> None:
    at = open_app("app_pages/completions.py")
    at.slider(key="completions_temperature").set_value(0.4)
    at.text_input(key="preset_name:completions").set_value("cool")
    at.run()
    at.button(key="preset_save:completions").click().run()
    at.slider(key="completions_temperature").set_value(1.9)
    at.run()
    at.selectbox(key="preset_pick:completions").set_value("cool")
    at.run()
    at.button(key="preset_load:completions").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.slider(key="completions_temperature").value == 0.4


def test_a_chat_run_is_saved_and_its_conversation_comes_back(open_app: Callable[..., AppTest], engine_url: str) -> None:
    at = open_app("app_pages/chat.py")
    at.text_area(key="chat_system").set_value("Answer in one line.")
    at.number_input(key="chat_max_tokens").set_value(8)
    at.run()
    at.chat_input(key="chat_input").set_value("What does zip do?").run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    sent = recorded_requests(engine_url, "/chat/completions")[-1]["body"]
    assert sent["messages"] == [{"role": "system", "content": "Answer in one line."}, {"role": "user", "content": "What does zip do?"}]
    runs = History(default_path()).search().runs
    assert [(r.endpoint, r.prompt) for r in runs] == [("chat", "Answer in one line.\nWhat does zip do?")]

    at.button(key="chat_clear").click().run()
    at.switch_page("app_pages/history.py")
    at.run()
    at.button(key="hist_open_page").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.text_area(key="chat_system").value == "Answer in one line."
    assert "What does zip do?" in [t.value for t in at.text_area]
    assert at.number_input(key="chat_max_tokens").value == 8


def test_a_corrupt_history_is_set_aside_with_a_message_on_the_page(open_app: Callable[..., AppTest]) -> None:
    path = default_path()
    path.write_bytes(b"this is not a database" * 100)
    at = open_app("app_pages/history.py")
    notices = [w.value for w in at.warning if "could not be opened" in w.value]
    assert notices and "kept as history.sqlite3.corrupt-" in notices[0]
    assert any("No runs yet" in i.value for i in at.info)
    assert [p.read_bytes() for p in path.parent.glob("history.sqlite3.corrupt-*")] == [b"this is not a database" * 100]


def test_an_embeddings_search_is_saved(open_app: Callable[..., AppTest]) -> None:
    at = open_app("app_pages/embeddings.py")
    at.button(key="emb_embed").click().run()
    at.text_area(key="emb_queries").input("decode a JSON document").run()
    at.button(key="emb_search").click().run()
    assert not at.exception, [e.message for e in at.exception]
    runs = History(default_path()).search(RunFilter(endpoint="embeddings")).runs
    assert [r.prompt for r in runs] == ["decode a JSON document"]
    hits = History(default_path()).get(runs[0].id).response["hits"]  # type: ignore[union-attr]
    assert len(hits) == 1 and len(hits[0]) == 5 and all(0 <= h["similarity"] <= 1.0001 and h["text"] for h in hits[0])
