"""Evals page: a sample eval run from the page against the real engine, saved, reopened."""

from __future__ import annotations

from typing import Callable

from streamlit.testing.v1 import AppTest

from playground.evals import report
from playground.history import History, RunFilter, default_path
from tests.conftest import recorded_requests


def table(at: AppTest, column: str):  # noqa: ANN201
    """The first table with this column (AppTest does not carry a dataframe's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_sample_eval_runs_saves_and_reopens_without_requests(open_app: Callable[..., AppTest], engine_url: str) -> None:
    at = open_app("app_pages/evals.py")
    assert at.text_area(key="ev_prompt_sentiment").value.startswith("Review: {{review}}")
    assert at.selectbox(key="ev_expected_sentiment").value == "label"
    at.multiselect(key="ev_graders").set_value(["label", "contains"]).run()
    at.text_input(key="ev_g_label_labels").set_value("positive, negative").run()
    at.number_input(key="evc0_max_tokens").set_value(2)
    at.number_input(key="evc1_max_tokens").set_value(2)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert table(at, "max completion tokens")["cells"].tolist() == [24, 24]
    before = len(recorded_requests(engine_url, "/completions"))

    at.button(key="ev_run").click().run(timeout=120)
    while any("of 48 cells" in (p.value.text or "") for p in at.get("progress")):  # still polling
        at.run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    bodies = recorded_requests(engine_url, "/completions")[before:]
    assert len(bodies) == 48 and all(b["body"]["max_tokens"] == 2 for b in bodies)
    summary = table(at, "errors")
    assert summary["cells"].tolist() == [24, 24] and summary["errors"].tolist() == [0, 0]
    assert "label: 95% CI" in summary.columns
    assert any(m.label == "Accuracy" for m in at.metric)

    # re-run one cell, then one column: only those requests go out, the rest is kept
    at.number_input(key="ev_ins_row").set_value(3)
    at.selectbox(key="ev_ins_config").set_value(1)
    at.run()
    kept = at.session_state["evals_current"].cells[(0, 0, 0)]
    sent = len(recorded_requests(engine_url, "/completions"))
    at.button(key="ev_rerun_cell").click().run(timeout=120)
    while any("of 1 cells" in (p.value.text or "") for p in at.get("progress")):
        at.run(timeout=120)
    again = recorded_requests(engine_url, "/completions")[sent:]
    assert len(again) == 1 and again[0]["body"]["prompt"].startswith("Review: " + "The service was delightful.")
    at.button(key="ev_rerun_column").click().run(timeout=120)
    while any("of 24 cells" in (p.value.text or "") for p in at.get("progress")):
        at.run(timeout=120)
    assert len(recorded_requests(engine_url, "/completions")) == sent + 1 + 24
    assert at.session_state["evals_current"].cells[(0, 0, 0)] is kept and len(at.session_state["evals_current"].cells) == 48

    saved = History(default_path()).search(RunFilter(endpoint="evals")).runs
    assert len(saved) == 1 and saved[0].title == "Eval: sentiment"
    ev = report.from_run(History(default_path()).get(saved[0].id))
    assert len(ev.cells) == 48

    # reopen in a fresh session from the history: no request
    sent = len(recorded_requests(engine_url))
    fresh = AppTest.from_file(at._script_path, default_timeout=60)
    fresh.query_params["eval"] = saved[0].id
    fresh.run()
    fresh.switch_page("app_pages/evals.py").run()
    assert not fresh.exception, [e.message for e in fresh.exception]
    assert table(fresh, "errors")["cells"].tolist() == [24, 24]
    assert len(recorded_requests(engine_url)) == sent


def test_an_eval_opened_by_another_page_runs_as_a_classification(open_app: Callable[..., AppTest], engine_url: str) -> None:
    """What the Fine-tuning page's Evaluate hands over (components.evals.open_eval)."""
    from components.evals import PENDING_KEY
    from playground.evals.fine_tune import classification_eval
    from playground.providers import Connection
    from tests.conftest import TEST_KEY

    lines = "".join(f'{{"prompt": "The {w} was {a}.\\n\\n###\\n\\n", "completion": " {label}"}}\n'
                    for w in ("soup", "room") for a, label in (("superb", "positive"), ("awful", "negative")))
    at = open_app()
    at.session_state[PENDING_KEY] = classification_eval(lines, "local-text", "local-text",
                                                        Connection("local", api_key=TEST_KEY, base_url=engine_url))
    at.switch_page("app_pages/evals.py").run()
    resume = next(b for b in at.button if b.key == "ev_resume")
    assert resume.label.startswith("Run: 8 cells")
    resume.click().run(timeout=120)
    while any("of 8 cells" in (p.value.text or "") for p in at.get("progress")):
        at.run(timeout=120)
    assert not at.exception, [e.message for e in at.exception]
    assert [m.label for m in at.metric].count("Accuracy") == 2
    assert any(list(d.value.columns) == ["predicted negative", "predicted positive"] or "predicted negative" in d.value.columns
               for d in at.dataframe)
