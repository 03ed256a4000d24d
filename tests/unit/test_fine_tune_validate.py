"""Checking a fine-tuning JSONL file line by line, its tokens and cost, and the guide's advice."""

from __future__ import annotations

import json

import pytest

from playground.fine_tuning.validate import auto_epochs, check_file, try_request

SEP = "\n\n###\n\n"


def jsonl(*rows: object) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n"


def chat(user: str = "Hi", reply: str = "Hello") -> dict:
    return {"messages": [{"role": "system", "content": "Be kind."}, {"role": "user", "content": user},
                         {"role": "assistant", "content": reply}]}


def labelled(n: int = 12, balance: tuple[int, int] = (1, 1)) -> list[dict]:
    rows = []
    for i in range(n):
        label = " positive" if i % sum(balance) < balance[0] else " negative"
        rows.append({"prompt": f"Review number {i} says things.{SEP}", "completion": label})
    return rows


def messages_of(report) -> dict[int | None, str]:
    """line -> its problems, joined."""
    out: dict[int | None, str] = {}
    for issue in report.issues:
        out[issue.line] = f"{out[issue.line]} | {issue.message}" if issue.line in out else issue.message
    return out


def test_a_clean_chat_file_passes_with_counts_and_cost() -> None:
    rows = [chat(f"Question {i}?", f"Answer {i}.") for i in range(12)]
    report = check_file(jsonl(*rows), "gpt-4o-mini", n_epochs=2)
    assert report.ok and report.format == "chat" and not report.issues
    assert len(report.tokens) == 12 and report.total_tokens == sum(report.tokens.values()) > 12 * 9
    assert report.billed_tokens == report.total_tokens * 2
    assert report.cost == pytest.approx(report.billed_tokens * 3.00 / 1e6)  # gpt-4o-mini training price


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('{"messages": [}', "not valid JSON"),
        ('["a list"]', "not an object"),
        ({"text": "hello"}, "neither a chat example"),
        ({"messages": []}, "non-empty array"),
        ({"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]}, "role 'robot'"),
        ({"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "y"}]}, "empty content"),
        ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "  "}]}, "empty content"),
        ({"messages": [{"role": "user", "content": "x"}]}, "no assistant message"),
        ({"messages": [{"role": "user"}, {"role": "assistant", "content": "y"}]}, "no 'content'"),
        ({"messages": [{"role": "user", "content": "x", "mood": "odd"}, {"role": "assistant", "content": "y"}]},
         "unknown key 'mood'"),
        ({**chat(), "label": 3}, "unknown key 'label'"),
        ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "weight": 2}]},
         "'weight'"),
        ({"messages": [{"content": "x"}, {"role": "assistant", "content": "y"}]}, "no 'role'"),
        ({"prompt": "Tell me", "completion": " hi"}, "a prompt/completion example in a chat file"),
    ],
)
def test_every_bad_chat_line_is_named(line: object, needle: str) -> None:
    rows = [chat(f"q{i}", f"a{i}") for i in range(11)]
    text = jsonl(*rows[:3], line, *rows[3:])  # the bad one is line 4
    report = check_file(text, "gpt-4o-mini")
    assert not report.ok
    assert needle in messages_of(report)[4], messages_of(report)
    assert set(messages_of(report)) == {4}


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ({"prompt": "x" + SEP}, "missing 'completion'"),
        ({"prompt": "x" + SEP, "completion": ""}, "completion is empty"),
        ({"prompt": 3, "completion": " a"}, "'prompt' must be a string"),
        ({"prompt": "x" + SEP, "completion": " a", "extra": 1}, "unknown key 'extra'"),
        (chat(), "a chat example in a prompt/completion file"),
    ],
)
def test_every_bad_prompt_completion_line_is_named(line: object, needle: str) -> None:
    rows = labelled(11)
    report = check_file(jsonl(*rows[:1], line, *rows[1:]), "babbage-002")
    assert needle in messages_of(report)[2], messages_of(report)


def test_file_level_problems() -> None:
    assert "not UTF-8" in str(check_file(b"\xff\xfe{}", "gpt-4o-mini").issues[0])
    assert "empty" in str(check_file("\n\n", "gpt-4o-mini").issues[0])
    few = check_file(jsonl(*[chat()] * 3), "gpt-4o-mini")
    assert not few.ok and any("at least 10" in str(i) for i in few.issues)


def test_duplicates_and_examples_over_the_limit_are_warnings() -> None:
    rows = [chat(f"q{i}", f"a{i}") for i in range(11)] + [chat("q3", "a3"), chat("long " * 9000, "a")]
    report = check_file(jsonl(*rows), "local-text")  # 8,192-token context window
    assert report.duplicates == [(12, 4)]
    assert report.over_limit == [13]
    assert report.ok  # warnings do not block
    warnings = {i.line: i.message for i in report.warnings}
    assert "line 4" in warnings[12] and "over the 8,192 token limit" in warnings[13]
    assert report.billed_tokens == (report.total_tokens - report.tokens[13] + 8192) * report.epochs


def test_auto_epochs_follow_the_api_rule() -> None:
    assert auto_epochs(10) == 10 and auto_epochs(60) == 3 and auto_epochs(20000) == 1
    assert check_file(jsonl(*labelled(12)), "babbage-002").epochs == 8


def test_classification_advice_when_the_data_follows_the_guide() -> None:
    report = check_file(jsonl(*labelled(200)), "babbage-002")
    advice = {a.title: a for a in report.advice}
    assert all(a.ok for a in report.advice), report.advice
    assert "\\n\\n###\\n\\n" in advice["Fixed separator at the end of the prompt"].detail
    assert report.labels == {" positive": 100, " negative": 100}
    assert "Labels of one token each" in advice


def test_classification_advice_when_it_does_not() -> None:
    rows = [{"prompt": f"Review {i} is here", "completion": "very positive indeed" if i % 5 else "negative"}
            for i in range(20)]
    advice = {a.title: a for a in check_file(jsonl(*rows), "babbage-002").advice}
    assert not advice["Fixed separator at the end of the prompt"].ok
    assert not advice["Completions start with a whitespace"].ok
    assert not advice["Labels of one token each"].ok and "very positive indeed" in advice["Labels of one token each"].detail
    assert not advice["Balance of the classes"].ok and "4.0x" in advice["Balance of the classes"].detail


def test_generation_data_gets_stop_sequence_advice() -> None:
    rows = [{"prompt": f"Write about {i}{SEP}", "completion": f" A text about {i}. END"} for i in range(12)]
    advice = {a.title: a for a in check_file(jsonl(*rows), "babbage-002").advice}
    stop = advice["A fixed stop sequence at the end of the completion"]
    assert stop.ok and "END" in stop.detail
    rows = [{"prompt": f"Write about {i}{SEP}", "completion": f" A text about {i}{'!' * (i % 2)}"} for i in range(12)]
    advice = {a.title: a for a in check_file(jsonl(*rows), "babbage-002").advice}
    assert not advice["A fixed stop sequence at the end of the completion"].ok


def test_fewer_than_about_100_examples_per_class_are_not_ticked() -> None:
    advice = {a.title: a for a in check_file(jsonl(*labelled(80)), "babbage-002").advice}
    per_class = advice["Examples per class"]
    assert not per_class.ok and "40 example(s)" in per_class.detail and "about 100 per class" in per_class.detail


def test_a_csv_file_named_jsonl_is_named_csv_once_with_how_to_convert() -> None:
    rows = [f"Review {i} was good,positive" for i in range(20)]
    report = check_file("prompt,completion\n" + "\n".join(rows) + "\n", "babbage-002")
    assert len(report.errors) == 1, report.errors
    message = report.errors[0].message
    assert "looks like a CSV file" in message and '"prompt", "completion"' in message
    assert "to_json('data.jsonl', orient='records', lines=True)" in message
    assert "not valid JSON" not in message
    broken = check_file(jsonl(*labelled(12)) + '{"prompt": "cut off\n', "babbage-002")
    assert "CSV" not in str(broken.errors) and "not valid JSON" in str(broken.errors)  # JSONL with a bad line


def test_chat_files_get_the_label_advice() -> None:
    rows = [chat(f"Review {i}", "very positive" if i % 2 else "negative") for i in range(40)]
    report = check_file(jsonl(*rows), "gpt-4o-mini")
    advice = {a.title: a for a in report.advice}
    assert not advice["Labels of one token each"].ok and "very positive" in advice["Labels of one token each"].detail
    assert not advice["Examples per class"].ok and "20 example(s)" in advice["Examples per class"].detail
    assert advice["Balance of the classes"].ok
    assert report.labels == {"very positive": 20, "negative": 20}


def test_try_request_carries_the_training_setup() -> None:
    page, body = try_request(check_file(jsonl(*labelled(20)), "babbage-002"))
    assert page == "completions" and body["prompt"].endswith(SEP)
    assert body["max_tokens"] == 1 and body["logprobs"] == 5 and body["temperature"] == 0
    page, body = try_request(check_file(jsonl(*[chat(f"Review {i}", "positive" if i % 2 else "negative")
                                                for i in range(20)]), "gpt-4o-mini"))
    assert page == "chat" and body["messages"] == [{"role": "system", "content": "Be kind."},
                                                   {"role": "user", "content": "Review 0"}]
    assert body["max_tokens"] == 1 and body["logprobs"] is True and body["top_logprobs"] == 5
