"""Evals against real engines over HTTP: a 100-row eval across two engines, cancelled and
resumed, saved and reopened with no request; a fine-tuned classifier against its base; the
headless command's exit status."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, ContextManager

import openai

from playground.evals import report
from playground.evals.config import EvalConfig
from playground.evals.dataset import Dataset, Template
from playground.evals.fine_tune import classification_eval
from playground.evals.graders import Grader
from playground.evals.runner import Eval, estimate, run_cells, start
from playground.history import History
from playground.providers import Connection
from tests.conftest import TEST_KEY, recorded_requests
from tests.engine.test_fine_tuning import SEPARATOR, jsonl, sentiment_examples, upload, wait_for
from tests.enginerunner import ROOT

ITEMS = ("soup", "room", "movie", "coffee", "book", "flight", "pizza", "train", "salad", "song")
WORDS = ("wonderful", "awful", "superb", "terrible", "fine")


def hundred_rows() -> Dataset:
    rows = [{"item": item, "word": word, "label": "positive" if word in ("wonderful", "superb") else "negative"}
            for item in ITEMS for word in WORDS for _ in range(2)]
    return Dataset(["item", "word", "label"], rows, "reviews")


def test_hundred_rows_three_configurations_two_engines_cancel_resume_reopen(
    engine_url: str, start_engine: Callable[..., ContextManager[str]], tmp_path: Path
) -> None:
    local = Connection("local", api_key=TEST_KEY, base_url=engine_url)
    with start_engine("--record-requests") as second_url:
        compatible = Connection("compatible", base_url=second_url)  # a server that takes no key
        configs = [
            EvalConfig("local-text", local, {"temperature": 0.0, "max_tokens": 3}, "greedy"),
            EvalConfig("local-text", local, {"temperature": 1.0, "seed": 3, "max_tokens": 3}, "sampled"),
            EvalConfig("local-text", compatible, {"temperature": 0.0, "max_tokens": 3}, "second engine"),
        ]
        template = Template("chat", system="Label the review positive or negative.", user="The {{item}} was {{word}}.",
                            expected="label")
        ev = Eval(hundred_rows(), template, configs, [Grader("label", labels=["positive", "negative"]), Grader("contains")],
                  name="hundred")
        assert ev.problems() == []
        before = estimate(ev)
        assert [e.cells for e in before] == [100, 100, 100] and all(e.dollars == 0.0 for e in before)
        assert before[0].prompt_tokens == before[2].prompt_tokens > 100 * 10

        first_sent = len(recorded_requests(engine_url, "/chat/completions"))
        progress = start(ev, concurrency=4)
        seen = []
        while progress.running and progress.done < 150:
            seen.append(progress.done)
            time.sleep(0.02)
        progress.cancel.set()
        progress.wait(60)
        assert not progress.running and seen[-1] < 150 <= progress.done < 300  # it moved, and stopped half way
        kept = dict(ev.cells)
        assert len(kept) == progress.done and all(c.error is None and len(c.grades) == 2 for c in kept.values())

        missing = ev.missing()
        assert len(missing) == 300 - len(kept)
        sent_local = len(recorded_requests(engine_url, "/chat/completions"))
        sent_second = len(recorded_requests(second_url, "/chat/completions"))
        resumed = run_cells(ev, concurrency=4)
        assert resumed.done == len(missing) and resumed.failed == 0 and len(ev.cells) == 300
        assert all(ev.cells[k] is v for k, v in kept.items())  # finished cells were not run again
        new_local = len(recorded_requests(engine_url, "/chat/completions")) - sent_local
        new_second = len(recorded_requests(second_url, "/chat/completions")) - sent_second
        assert new_local == sum(1 for k in missing if k[1] < 2) and new_second == sum(1 for k in missing if k[1] == 2)
        assert sent_local - first_sent >= sum(1 for k in kept if k[1] < 2)

        summaries = report.summarize(ev)
        assert [s.cells for s in summaries] == [100, 100, 100] and all(s.errors == 0 for s in summaries)
        for s in summaries:
            assert s.scores[0] is not None and s.scores[0].low <= s.scores[0].mean <= s.scores[0].high
            assert 0 < s.latency_p50 <= s.latency_p95 and s.ttft_p50 is not None and s.cost == 0.0
            assert s.prompt_tokens == sum(c.usage["prompt_tokens"] for k, c in ev.cells.items() if configs[k[1]].label == s.label)
        # the same model at temperature 0 on two engines answers alike
        greedy = {k[0]: c.text for k, c in ev.cells.items() if k[1] == 0}
        assert all(ev.cells[(row, 2, 0)].text == text for row, text in greedy.items())
        comparison, rows = report.compare(ev, 0, 2)
        assert rows == 100 and comparison.won == comparison.lost == 0 and comparison.mcnemar_p == 1.0
        assert ev.cells[(0, 0, 0)].tokens and ev.cells[(0, 0, 0)].tokens[0].top  # the token view has what it needs

        history = History(tmp_path / "history.sqlite3")
        history.add(report.to_run(ev, elapsed=resumed.elapsed))
        csv_before, jsonl_before = report.to_csv(ev), report.to_jsonl(ev)
        all_sent = (len(recorded_requests(engine_url)), len(recorded_requests(second_url)))

        reopened = report.from_run(History(tmp_path / "history.sqlite3").get(ev.id))
        assert report.to_csv(reopened) == csv_before and report.to_jsonl(reopened) == jsonl_before
        assert report.summary_text(reopened) == report.summary_text(ev)
        assert reopened.missing() == []
        assert reopened.cells[(0, 0, 0)].tokens == ev.cells[(0, 0, 0)].tokens
        assert (len(recorded_requests(engine_url)), len(recorded_requests(second_url))) == all_sent  # no new request
        assert TEST_KEY not in json.dumps(history.get(ev.id).to_json())


def test_fine_tuned_classifier_against_its_base(client: openai.OpenAI, engine_url: str) -> None:
    rows = sentiment_examples()
    # held-out items, worded as the training reviews are
    validation = [{"prompt": f"{opening} {item} was {adj}.{SEPARATOR}", "completion": label}
                  for item in ("salad", "train", "song", "lamp") for opening, adj, label in
                  (("The", "superb", " positive"), ("Honestly the", "awful", " negative"),
                   ("The", "wonderful", " positive"), ("Honestly the", "terrible", " negative"))]
    valid_id = upload(client, validation, "valid.jsonl")
    job = client.fine_tuning.jobs.create(model="local-text", training_file=upload(client, rows), validation_file=valid_id,
                                         suffix="evals", seed=11, hyperparameters={"n_epochs": 3, "batch_size": 4})
    job = wait_for(client, job.id, ("succeeded", "failed"))
    assert job.status == "succeeded", job.error

    # what the Fine-tuning page does: the job's validation file, the fine-tuned model and its base
    content = client.files.content(job.validation_file).read()
    assert content == jsonl(validation)
    ev = classification_eval(content, job.fine_tuned_model, job.model, Connection("local", api_key=TEST_KEY, base_url=engine_url))
    progress = run_cells(ev, concurrency=3)
    assert progress.done == 32 and progress.failed == 0

    tuned, base = report.classification(ev, 0, 0), report.classification(ev, 1, 0)
    tuned_report, tuned_calibration = tuned
    base_report, base_calibration = base
    print(f"accuracy on the validation file: fine-tuned {tuned_report.accuracy:.0%}, base {base_report.accuracy:.0%}; "
          f"ECE {tuned_calibration.ece:.3f} vs {base_calibration.ece:.3f}")
    assert tuned_report.accuracy >= 0.9 > base_report.accuracy
    assert tuned_report.labels[:2] == ["negative", "positive"]
    assert sum(map(sum, tuned_report.matrix)) == 16 and tuned_report.matrix[0][0] + tuned_report.matrix[1][1] >= 15
    assert tuned_report.recall["positive"] >= 0.875 and tuned_report.precision["negative"] is not None
    assert sum(b.count for b in tuned_calibration.bins) == 16 and tuned_calibration.brier is not None
    assert tuned_calibration.ece is not None and 0 <= tuned_calibration.ece <= 1
    # the fine-tuned model is confident where it is right
    right = [c.grades[0].prob for k, c in ev.cells.items() if k[1] == 0 and c.grades[0].passed]
    assert sum(right) / len(right) > 0.5
    comparison, rows = report.compare(ev, 0, 1)
    assert rows == 16 and comparison.won > comparison.lost and comparison.mcnemar_p is not None


def _headless(spec: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "playground.evals", "run", str(spec), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "EVAL_ENGINE_KEY": TEST_KEY, "HOME": str(spec.parent)})


def test_headless_command_exit_status_follows_the_threshold(engine_url: str, tmp_path: Path) -> None:
    (tmp_path / "rows.csv").write_text("a,b,answer\n" + "".join(f"{a},{b},{a + b}\n" for a, b in [(1, 2), (3, 4), (10, 5), (7, 7)]))
    spec = tmp_path / "spec.toml"
    spec.write_text(f"""
name = "sums"
threshold = 0.0
concurrency = 2

[dataset]
path = "rows.csv"

[template]
endpoint = "completions"
prompt = "{{{{a}}}} plus {{{{b}}}} is"
expected = "answer"

[[configs]]
name = "engine"
provider = "local"
base_url = "{engine_url}"
api_key_env = "EVAL_ENGINE_KEY"
model = "local-text"
params = {{ temperature = 0, max_tokens = 4 }}

[[graders]]
kind = "regex"
pattern = "\\\\S"

[[graders]]
kind = "embedding"
embedding_model = "local-embedding"

[[graders]]
kind = "rubric"
rubric = "The sum is right."
""")
    passed = _headless(spec, "--output", str(tmp_path / "out.jsonl"), "--csv", str(tmp_path / "out.csv"))
    assert passed.returncode == 0, passed.stderr
    assert "eval sums: 4 rows x 1 configurations" in passed.stdout and passed.stdout.rstrip().endswith("PASS (threshold 0)")
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(records) == 4 and (tmp_path / "out.csv").read_text().count("\n") >= 5
    mean = sum(r["regex.score"] for r in records) / 4
    assert all(0 <= r["embedding.score"] <= 1 for r in records)  # the engine's embeddings endpoint
    assert all("failed" not in r.get("rubric.detail", "") for r in records)  # the judge answered (a score or words)

    failed = _headless(spec, "--threshold", str(mean + 0.01))
    assert failed.returncode == 1 and f"FAIL engine: mean {mean:.3f} < threshold" in failed.stdout
    assert _headless(spec, "--threshold", str(mean)).returncode == 0

    spec.write_text(spec.read_text().replace('api_key_env = "EVAL_ENGINE_KEY"', 'api_key = "sk-nope"'))
    refused = _headless(spec)
    assert refused.returncode == 2 and "must not hold a key" in refused.stderr and "Traceback" not in refused.stderr


def test_a_rate_limited_cell_waits_it_out_and_the_wait_is_shown(start_engine: Callable[..., ContextManager[str]]) -> None:
    with start_engine("--rpm", "2") as url:
        dataset = Dataset(["q"], [{"q": f"def f{i}(x):"} for i in range(3)], "code")
        ev = Eval(dataset, Template(prompt="{{q}}"), [EvalConfig("local-text", Connection("compatible", base_url=url), {"max_tokens": 3})],
                  [Grader("regex", pattern=".")])
        progress = start(ev, concurrency=3)
        shown = set()
        while progress.running:
            if progress.waiting:
                shown.add(progress.waiting)
            time.sleep(0.05)
        print(f"waiting messages: {shown}; run took {progress.elapsed:.1f} s")
        assert progress.done == 3 and progress.failed == 0 and progress.waits == 1
        assert [c.waits for c in ev.cells.values()].count(1) == 1  # the third request waited for the window
        (message,) = shown
        assert message.startswith("local-text: rate limited, retrying row") and "(attempt 2)" in message
        assert 50 < progress.elapsed < 75  # the server's retry-after (the 60-second window), not a blind retry loop


def test_an_azure_configuration_beside_the_v1_one(engine_url: str) -> None:
    root = engine_url.removesuffix("/v1")
    azure = Connection("azure", api_key=TEST_KEY, azure_endpoint=root, api_version="2024-10-21")
    local = Connection("local", api_key=TEST_KEY, base_url=engine_url)
    params = {"temperature": 0.0, "max_tokens": 6}
    dataset = Dataset(["q"], [{"q": f"def {name}(values):"} for name in ("median", "mean", "mode", "spread")], "code")
    ev = Eval(dataset, Template("chat", system="Write Python.", user="{{q}}"),
              [EvalConfig("local-text", local, params, "v1"), EvalConfig("local-text", azure, params, "azure")],
              [Grader("regex", pattern=r"\S")])
    before = len(recorded_requests(engine_url, "/chat/completions"))
    progress = run_cells(ev, concurrency=2)
    assert progress.done == 8 and progress.failed == 0
    paths = [r["path"] for r in recorded_requests(engine_url, "/chat/completions")[before:]]
    assert sum(p.startswith("/openai/deployments/local-text/") for p in paths) == 4 and len(paths) == 8
    assert all(ev.cells[(row, 0, 0)].text == ev.cells[(row, 1, 0)].text for row in range(4))  # one model, two layouts
    assert TEST_KEY not in json.dumps(report.to_json(ev))
