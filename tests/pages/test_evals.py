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
