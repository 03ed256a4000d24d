"""Evals without a server: datasets and templates, graders, statistics, exports and specs."""

from __future__ import annotations

import json
import math

import pytest

from playground.errors import Problem
from playground.evals import report, stats
from playground.evals.config import EvalConfig, settings_of
from playground.evals.dataset import DatasetError, Template, fill, load_dataset, load_sample, variables
from playground.evals.fine_tune import classification_eval
from playground.evals.graders import Grade, Grader, Services, first_label, grade
from playground.evals.runner import Cell, Eval, backoff_seconds, estimate, is_rate_limit
from playground.evals.spec import SpecError, below_threshold, spec_from_dict
from playground.logprobs import Alternative, TokenInfo
from playground.providers import Connection

LOCAL = Connection("local", base_url="http://127.0.0.1:9/v1")


# --- datasets and templates ---------------------------------------------------------------


def test_csv_and_jsonl_fill_template_variables() -> None:
    csv_data = load_dataset(b"\xef\xbb\xbfquestion,answer\nWhat is 2+2?,4\n\n\"Say \"\"hi\"\"\",hi\n", "qa.csv")
    assert csv_data.columns == ["question", "answer"] and len(csv_data) == 2
    assert csv_data.rows[1]["question"] == 'Say "hi"'
    jsonl = load_dataset('{"q": "x", "n": 3}\n\n{"q": "y", "extra": {"a": 1}}\n', "d.jsonl")
    assert jsonl.columns == ["q", "n", "extra"]
    assert jsonl.rows[0] == {"q": "x", "n": "3", "extra": ""} and jsonl.rows[1]["extra"] == '{"a": 1}'

    template = Template("chat", system="Answer in {{ style }}.", user="{{question}} {{question}} {{unknown}}", expected="answer")
    assert template.variables() == ["style", "question", "unknown"]
    assert any("'style'" in p and "'unknown'" in p for p in template.problems(csv_data))
    _, messages = template.prompt_for({"style": "one word", "question": "Why?"})
    assert messages == [{"role": "system", "content": "Answer in one word."},
                        {"role": "user", "content": "Why? Why? {{unknown}}"}]
    assert variables("{{a}}{{b}}{{a}}") == ["a", "b"] and fill("{{a}}", {"a": "{{b}}"}) == "{{b}}"


@pytest.mark.parametrize(("content", "name", "message"), [
    (b"", "e.csv", "empty"),
    (b"a,a\n1,2\n", "d.csv", "distinct"),
    (b"a,b\n1,2,3\n", "d.csv", "line 2: 3 values for 2 columns"),
    (b'{"a": 1}\n[1]\n', "d.jsonl", "line 2: a JSON object"),
    (b'{"a": 1}\n{oops\n', "d.jsonl", "line 2: not JSON"),
    (b"\xff\xfe", "d.csv", "not UTF-8"),
    (b"a\n", "d.csv", "no rows"),
])
def test_bad_datasets_say_where(content: bytes, name: str, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        load_dataset(content, name)


def test_samples_ship_and_load() -> None:
    sentiment = load_sample("sentiment")
    assert len(sentiment) == 24 and {r["label"] for r in sentiment.rows} == {"positive", "negative"}
    arithmetic = load_sample("arithmetic")
    assert all(int(r["a"]) + int(r["b"]) == int(r["answer"]) for r in arithmetic.rows)


# --- configurations ---------------------------------------------------------------------


def test_configuration_keeps_no_key_and_refuses_unknown_parameters() -> None:
    secret = "k-" + "x" * 20
    config = EvalConfig("gpt-4o-mini", Connection("openai", api_key=secret), {"temperature": 0.2, "max_tokens": 5}, "cheap")
    assert secret not in json.dumps(config.public()) and secret not in repr(config)
    again = EvalConfig.from_public(config.public())
    assert again.connection.provider == "openai" and again.connection.api_key is None and again.params == config.params
    assert settings_of({"temperature": 0.2})["temperature"] == 0.2
    with pytest.raises(ValueError, match="unknown parameter tempreature"):
        settings_of({"tempreature": 1})
    with pytest.raises(ValueError, match="temperature must be between 0 and 2"):  # the parameter table's range
        settings_of({"temperature": 3.5})
    with pytest.raises(ValueError, match="unknown parameter suffix on chat"):
        settings_of({"suffix": "x"}, "chat")
    assert settings_of({"suffix": "x", "echo": False}, "completions")["suffix"] == "x"


# --- graders ------------------------------------------------------------------------------


def token(text: str, prob: float, *alts: tuple[str, float]) -> TokenInfo:
    top = tuple(Alternative(t, math.log(p), t.encode()) for t, p in alts)
    return TokenInfo(0, text, None, math.log(prob), text.encode(), 0, top)


def test_text_graders() -> None:
    assert grade(Grader("exact"), " Paris\n", "paris").passed
    assert not grade(Grader("exact", case_sensitive=True), "Paris", "paris").passed
    assert grade(Grader("contains"), "It is Paris, France.", "paris").score == 1.0
    assert grade(Grader("regex", pattern=r"\bP\w+s\b"), "in Paris", None).detail == "matched 'Paris'"
    assert grade(Grader("regex"), "costs $5 (approx)", "$5 (approx)").passed  # the expected answer, escaped
    assert grade(Grader("regex", pattern="("), "x", None).score is None
    assert grade(Grader("exact"), "x", None).detail.startswith("no expected answer")


def test_json_and_schema() -> None:
    schema = {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]}
    assert grade(Grader("json"), '```json\n{"a": 1}\n```', None).passed
    bad = grade(Grader("json"), '{"a": 1', None)
    assert bad.score == 0.0 and "not JSON" in bad.detail
    assert grade(Grader("json", schema=schema), '{"age": 3}', None).passed
    wrong = grade(Grader("json", schema=schema), '{"age": "three"}', None)
    assert not wrong.passed and "at age" in wrong.detail and "integer" in wrong.detail
    assert Grader("json", schema={"type": "nonsense"}).problems()


def test_numeric_tolerance() -> None:
    assert grade(Grader("numeric"), "The answer is 1,024.", "1024").passed
    assert grade(Grader("numeric", tolerance=0.01), "3.141", "3.14").passed
    assert not grade(Grader("numeric", tolerance=0.001), "3.15", "3.14").passed
    assert grade(Grader("numeric"), "none", "3").detail == "no number in the output"
    assert grade(Grader("numeric"), "3", "three").score is None


def test_label_from_first_token_with_its_probability() -> None:
    tokens = [token(" positive", 0.8, (" positive", 0.8), (" negative", 0.15))]
    g = grade(Grader("label", labels=["positive", "negative"]), " positive", " positive", tokens=tokens)
    assert g.passed and g.label == "positive" and g.prob == pytest.approx(0.8)
    # a label of several tokens is named by its first; an answer outside the labels is kept as said
    assert first_label(" neg", [token(" neg", 0.6)], ["positive", "negative"], False) == ("negative", pytest.approx(0.6))
    assert first_label("maybe so", [], ["yes", "no"], False) == ("maybe", None)


def test_embedding_and_rubric_graders_use_services() -> None:
    vectors = {"cat": [1.0, 0.0], "kitten": [0.8, 0.6], "car": [0.0, 1.0]}
    services = Services(embed=lambda g, texts: [vectors[t] for t in texts], judge=lambda g, prompt: "Score: 7")
    assert grade(Grader("embedding", threshold=0.7), "kitten", "cat", services=services).score == pytest.approx(0.8)
    assert not grade(Grader("embedding", threshold=0.7), "car", "cat", services=services).passed
    rubric = grade(Grader("rubric", rubric="polite", threshold=0.6), "hello", None, services=services)
    assert rubric.score == pytest.approx(0.7) and rubric.passed
    silent = Services(judge=lambda g, p: "I cannot say")
    assert grade(Grader("rubric", rubric="polite"), "x", None, services=silent).score is None

    def failing(g: Grader, texts: list[str]) -> list[list[float]]:
        raise RuntimeError("Not found (404).")

    assert "embedding failed" in grade(Grader("embedding"), "a", "b", services=Services(embed=failing)).detail


# --- statistics ---------------------------------------------------------------------------


def test_bootstrap_interval_is_deterministic_and_covers_the_mean() -> None:
    values = [1.0] * 70 + [0.0] * 30
    interval = stats.bootstrap_mean(values)
    assert interval == stats.bootstrap_mean(values)
    assert interval.mean == pytest.approx(0.7) and 0.6 < interval.low < 0.7 < interval.high < 0.8
    assert stats.bootstrap_mean([]) is None and stats.bootstrap_mean([0.5]).low == 0.5


def test_exact_binomial_and_mcnemar() -> None:
    assert stats.binomial_two_sided(0, 5) == pytest.approx(2 / 32)
    assert stats.binomial_two_sided(3, 6) == 1.0
    # 10 discordant pairs all one way: p = 2 * 0.5^10
    assert stats.mcnemar_exact(10, 0) == pytest.approx(2 / 1024)
    assert stats.mcnemar_exact(0, 0) == 1.0
    comparison = stats.compare_paired([1, 1, 1, 0, 1], [0, 0, 1, 0, 1], binary=True)
    assert (comparison.won, comparison.lost, comparison.tied) == (2, 0, 3) and comparison.mcnemar_p == pytest.approx(0.5)
    paired = stats.paired_bootstrap([0.9] * 30, [0.5] * 30)
    assert paired.mean_difference == pytest.approx(0.4) and paired.p_value == 0.0


def test_classification_report_and_calibration() -> None:
    expected = ["pos", "pos", "neg", "neg", "neg"]
    predicted = ["pos", "neg", "neg", "neg", "maybe"]
    r = stats.classification_report(expected, predicted, ["pos", "neg"])
    assert r.labels == ["pos", "neg", "maybe"]
    assert r.matrix == [[1, 1, 0], [0, 2, 1], [0, 0, 0]]
    assert r.accuracy == pytest.approx(0.6)
    assert r.precision["neg"] == pytest.approx(2 / 3) and r.recall["neg"] == pytest.approx(2 / 3)
    assert r.precision["pos"] == 1.0 and r.recall["pos"] == 0.5 and r.recall["maybe"] is None
    cal = stats.calibration([0.95, 0.95, 0.55, 0.55], [True, True, True, False], bins=10)
    assert cal.ece == pytest.approx(0.5 * 0.05 + 0.5 * 0.05)
    assert cal.bins[9].count == 2 and cal.bins[5].accuracy == 0.5
    assert cal.brier == pytest.approx((0.05**2 * 2 + 0.45**2 + 0.55**2) / 4)


# --- the eval as a whole: summary, exports, history record --------------------------------


def small_eval() -> Eval:
    dataset = load_dataset(b"q,answer\none,1\ntwo,2\nthree,3\n", "n.csv")
    configs = [EvalConfig("gpt-4o-mini", LOCAL, {"max_tokens": 4}, "A"), EvalConfig("local-text", LOCAL, {}, "B")]
    ev = Eval(dataset, Template(prompt="{{q}} as a digit:", expected="answer"), configs, [Grader("numeric")])
    for row in range(3):
        for config, text in ((0, str(row + 1)), (1, "1")):
            cell = Cell(text=text, usage={"prompt_tokens": 5, "completion_tokens": 1}, latency=0.1 * (row + 1), ttft=0.05, cost=0.0)
            cell.grades = [grade(ev.graders[0], text, ev.expected(row))]
            ev.cells[(row, config, 0)] = cell
    return ev


def test_summary_comparison_and_exports() -> None:
    ev = small_eval()
    a, b = report.summarize(ev)
    assert a.scores[0].mean == 1.0 and b.scores[0].mean == pytest.approx(1 / 3)
    assert a.latency_p50 == pytest.approx(0.2) and a.prompt_tokens == 15 and a.cost == 0.0
    comparison, rows = report.compare(ev, 0, 1)
    assert rows == 3 and (comparison.won, comparison.lost) == (2, 0) and comparison.mcnemar_p == pytest.approx(0.5)
    assert below_threshold(ev, 0.5) == ["B: mean 0.333 < threshold 0.5"]

    lines = [json.loads(line) for line in report.to_jsonl(ev).splitlines()]
    assert len(lines) == 6 and lines[3]["configuration"] == "B" and lines[3]["numeric.passed"] is False
    assert lines[0]["input.q"] == "one" and lines[0]["expected"] == "1"
    csv_text = report.to_csv(ev)
    assert csv_text.splitlines()[0].startswith("row,configuration,repeat,input.q,input.answer,expected,output")
    assert len(csv_text.strip().splitlines()) == 7


def test_history_record_round_trip_keeps_cells_and_no_key() -> None:
    ev = small_eval()
    secret = "k-" + "y" * 20
    ev.configs[0] = EvalConfig("gpt-4o-mini", Connection("openai", api_key=secret), {"max_tokens": 4}, "A")
    run = report.to_run(ev)
    assert run.endpoint == "evals" and run.id == ev.id and secret not in json.dumps(run.to_json())
    again = report.from_run(run)
    assert again.cells.keys() == ev.cells.keys() and again.cells[(2, 0, 0)].text == "3"
    assert again.configs[0].connection.api_key is None
    assert report.summary_text(again) == report.summary_text(ev)
    # resume runs only what is missing
    del again.cells[(1, 1, 0)]
    assert again.missing() == [(1, 1, 0)]


def test_estimate_counts_prompts_and_bounds_cost() -> None:
    ev = small_eval()
    ev.cells.clear()
    first, second = estimate(ev)
    assert first.cells == 3 and first.prompt_tokens > 0 and first.max_completion_tokens == 12
    assert first.dollars and first.dollars > 0 and second.dollars == 0.0


def test_rate_limit_backoff_policy() -> None:
    limited = Problem("Rate limit reached (429).", "", "Wait 3 s and run again.", retry_after=3.0)
    assert is_rate_limit(limited) and backoff_seconds(limited, 0) == 3.0
    assert backoff_seconds(Problem("Rate limit reached (429).", "", "Wait."), 3) == 8.0
    assert backoff_seconds(Problem("Rate limit reached (429).", "", "", retry_after=600), 0) == 60.0
    assert not is_rate_limit(Problem("Rate limit reached (429).", "", "Your quota is used up: check billing."))
    assert not is_rate_limit(Problem("The server failed (500).", "", ""))


def test_spec_checks_and_keeps_keys_out(tmp_path) -> None:  # noqa: ANN001
    base = {"dataset": {"sample": "sentiment"}, "template": {"prompt": "{{review}} ->", "expected": "label"},
            "configs": [{"model": "local-text", "base_url": "http://127.0.0.1:9/v1"}], "graders": [{"kind": "label"}]}
    spec = spec_from_dict(base)
    assert len(spec.eval.dataset) == 24 and spec.threshold is None
    with pytest.raises(SpecError, match="must not hold a key"):
        spec_from_dict({**base, "configs": [{"model": "m", "provider": "openai", "api_key": "x"}]})
    with pytest.raises(SpecError, match="no column 'text'"):
        spec_from_dict({**base, "template": {"prompt": "{{text}}", "expected": "label"}})
    with pytest.raises(SpecError, match="unknown grader setting colour"):
        spec_from_dict({**base, "graders": [{"kind": "exact", "colour": 1}]})
    with pytest.raises(SpecError, match="NOT_SET_ANYWHERE"):
        spec_from_dict({**base, "configs": [{"model": "m", "provider": "openai", "api_key_env": "NOT_SET_ANYWHERE"}]})


def test_fine_tune_validation_file_becomes_a_classification_eval() -> None:
    lines = [{"prompt": "Great soup.\n\n###\n\n", "completion": " positive"}, {"prompt": "Bad.\n\n###\n\n", "completion": " negative"}]
    ev = classification_eval("\n".join(json.dumps(x) for x in lines), "ft:local-text:s:1", "local-text", LOCAL)
    assert [c.label for c in ev.configs] == ["fine-tuned", "base"] and ev.graders[0].labels == ["negative", "positive"]
    assert ev.template.prompt_for(ev.dataset.rows[0])[0] == "Great soup.\n\n###\n\n" and ev.problems() == []
    chat = {"messages": [{"role": "system", "content": "Label it."}, {"role": "user", "content": "Nice"},
                         {"role": "assistant", "content": "positive"}]}
    ev = classification_eval(json.dumps(chat), "ft:gpt-4o-mini:x", "gpt-4o-mini", LOCAL)
    assert ev.template.endpoint == "chat" and ev.expected(0) == "positive"


def test_grade_json_round_trip() -> None:
    g = Grade(0.5, True, "d", "pos", 0.7)
    assert Grade.from_json(g.to_json()) == g


def test_classification_counts_a_label_in_another_case_as_the_same_class() -> None:
    dataset = load_dataset(b"t,label\na,Positive\nb,Negative\nc,Negative\n", "l.csv")
    ev = Eval(dataset, Template(prompt="{{t}}", expected="label"), [EvalConfig("local-text", LOCAL, {})], [Grader("label")])
    for row, said, prob in ((0, " positive", 0.9), (1, " negative", 0.6), (2, " positive", 0.7)):
        ev.cells[(row, 0, 0)] = Cell(text=said, grades=[grade(ev.graders[0], said, ev.expected(row), tokens=[token(said, prob)])])
    classes, cal = report.classification(ev, 0, 0)
    assert classes.labels == ["Negative", "Positive"] and classes.matrix == [[1, 1], [0, 1]]
    assert classes.accuracy == pytest.approx(2 / 3) and sum(b.count for b in cal.bins) == 3
