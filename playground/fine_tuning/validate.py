"""Check a fine-tuning JSONL file before uploading it: every line, the token counts and the
cost, and the classification advice of OpenAI's (legacy) fine-tuning guide.

Formats: chat (`{"messages": [...]}`) and prompt/completion (`{"prompt", "completion"}`), one
per file. Per line: valid JSON, a JSON object, the schema (known keys, roles, content,
at least one assistant message with content, weight 0 or 1). Tokens: prompt/completion count
the two texts, each on its own (as the local engine bills them); chat counts as OpenAI's
cookbook does (3 per message + its content and name, + 3 for the reply), or for local-text
and its fine-tunes as the engine reads the conversation (its chat template, without the
reply prefix). Billed tokens = sum over examples of min(tokens, limit) x epochs;
epochs "auto" follows the API's rule (3, or more/fewer to land within 100..25,000 examples).
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from playground.catalog import model_info
from playground.counting import local_chat_prompt, uses_local_template
from playground.tokens import encoding_for_model

CHAT_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
CHAT_KEYS = {"messages", "tools", "functions", "parallel_tool_calls"}
MESSAGE_KEYS = {"role", "content", "name", "weight", "function_call", "tool_calls", "tool_call_id", "refusal"}
LEGACY_KEYS = {"prompt", "completion"}
DEFAULT_TRAINING_LIMIT = 16385  # tokens per example when the catalog gives no context window
MIN_EXAMPLES = 10
SUGGESTED_SEPARATOR = "\\n\\n###\\n\\n"
EXAMPLES_PER_CLASS = 100  # the legacy guide: "aim for at least ~100 examples per class"
CSV_TO_JSONL = ("pandas.read_csv('data.csv').to_json('data.jsonl', orient='records', lines=True) "
                "(columns prompt and completion; a chat file needs a 'messages' list per line)")


def auto_epochs(n_examples: int) -> int:
    """The API's default number of epochs for a data set of this size."""
    if n_examples * 3 < 100:
        return min(25, max(1, 100 // max(n_examples, 1)))
    if n_examples * 3 > 25000:
        return max(1, 25000 // n_examples)
    return 3


@dataclass(frozen=True)
class Issue:
    line: int | None  # 1-based line of the file; None for the whole file
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"Line {self.line}: {self.message}" if self.line else self.message


@dataclass(frozen=True)
class Advice:
    title: str
    ok: bool  # True: the data already follows the advice
    detail: str


@dataclass
class Report:
    format: str | None = None  # "chat" or "prompt/completion"
    lines: int = 0  # non-blank lines
    issues: list[Issue] = field(default_factory=list)
    tokens: dict[int, int] = field(default_factory=dict)  # line -> tokens, for valid examples
    limit: int = DEFAULT_TRAINING_LIMIT
    duplicates: list[tuple[int, int]] = field(default_factory=list)  # (line, the earlier line it repeats)
    epochs: int = 0
    billed_tokens: int = 0
    cost: float | None = None  # dollars; None when the price is unknown
    advice: list[Advice] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)  # classification: label -> count
    # How to use the fine-tuned model, as the examples are shaped (see try_request).
    separator: str = ""  # prompt/completion: the ending every prompt shares
    stop: str = ""  # prompt/completion: the ending every completion shares
    system: str | None = None  # chat: the system message of the first example
    example: str | None = None  # the first example's prompt, or its last user message

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors and len(self.tokens) >= MIN_EXAMPLES

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens.values())

    @property
    def over_limit(self) -> list[int]:
        return [line for line, n in self.tokens.items() if n > self.limit]


def _text(content: Any) -> str | None:
    """A message's text: a string, or the text parts of an array; None when it is neither."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        if all(isinstance(t, str) for t in texts):
            return "\n".join(texts)
    return None


def _check_chat(row: dict[str, Any], line: int, issues: list[Issue]) -> bool:
    messages = row["messages"]
    if not isinstance(messages, list) or not messages:
        issues.append(Issue(line, "'messages' must be a non-empty array of messages."))
        return False
    ok = True
    assistant = False
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            issues.append(Issue(line, f"{where} is not an object."))
            ok = False
            continue
        for key in message:
            if key not in MESSAGE_KEYS:
                issues.append(Issue(line, f"{where} has an unknown key '{key}'."))
                ok = False
        role = message.get("role")
        if role not in CHAT_ROLES:
            issues.append(Issue(line, f"{where} has the role {role!r}; use one of {', '.join(CHAT_ROLES[:4])}."
                                if role is not None else f"{where} has no 'role'."))
            ok = False
            continue
        tool_call = role == "assistant" and (message.get("tool_calls") or message.get("function_call"))
        if "content" not in message and not tool_call:
            issues.append(Issue(line, f"{where} ({role}) has no 'content'."))
            ok = False
            continue
        text = _text(message.get("content"))
        if message.get("content") is not None and text is None:
            issues.append(Issue(line, f"{where} ({role}): content must be a string or an array of text parts."))
            ok = False
        elif not tool_call and not (text or "").strip():
            issues.append(Issue(line, f"{where} ({role}) has empty content."))
            ok = False
        if "weight" in message and (role != "assistant" or message["weight"] not in (0, 1)):
            issues.append(Issue(line, f"{where}: 'weight' is allowed on assistant messages only, as 0 or 1."))
            ok = False
        if role == "assistant" and message.get("weight", 1) == 1:
            assistant = True
    if not assistant:
        issues.append(Issue(line, "no assistant message to learn from (add the reply you want, as an "
                                  "assistant message)."))
        ok = False
    for key in row:
        if key not in CHAT_KEYS:
            issues.append(Issue(line, f"unknown key '{key}' in a chat example (expected {', '.join(sorted(CHAT_KEYS))})."))
            ok = False
    return ok


def _check_legacy(row: dict[str, Any], line: int, issues: list[Issue]) -> bool:
    ok = True
    for key in ("prompt", "completion"):
        if key not in row:
            issues.append(Issue(line, f"missing '{key}'."))
            ok = False
        elif not isinstance(row[key], str):
            issues.append(Issue(line, f"'{key}' must be a string."))
            ok = False
    if ok and not row["completion"].strip():
        issues.append(Issue(line, "the completion is empty."))
        ok = False
    if ok and not row["prompt"].strip():
        issues.append(Issue(line, "the prompt is empty.", "warning"))
    for key in row:
        if key not in LEGACY_KEYS:
            issues.append(Issue(line, f"unknown key '{key}' in a prompt/completion example."))
            ok = False
    return ok


LOCAL_REPLY_PREFIX = "Assistant.\n\n"  # what local_chat_prompt appends to prime a reply


def _chat_tokens(row: dict[str, Any], encoding, local: bool) -> int:
    if local:
        text = local_chat_prompt(row["messages"]).removesuffix(LOCAL_REPLY_PREFIX)
        return len(encoding.encode(text, disallowed_special=()))
    total = 3
    for message in row["messages"]:
        total += 3 + len(encoding.encode(_text(message.get("content")) or "", disallowed_special=()))
        if message.get("name"):
            total += 1 + len(encoding.encode(str(message["name"]), disallowed_special=()))
    return total


def check_file(content: bytes | str, model: str, n_epochs: int | None = None) -> Report:
    """Check every line of a JSONL training file for fine-tuning `model`."""
    info = model_info(model)
    encoding = encoding_for_model(model)
    report = Report(limit=info.context_window or DEFAULT_TRAINING_LIMIT)
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            report.issues.append(Issue(None, f"The file is not UTF-8 text (bad byte at offset {exc.start}). "
                                             "Save it as UTF-8 JSONL."))
            return report
    if csv_header := _looks_like_csv(content):
        report.lines = sum(1 for raw in content.splitlines() if raw.strip())
        report.issues.append(Issue(None, f"This looks like a CSV file (its first line reads {csv_header}), not "
                                         "JSONL: every line must be one JSON object. Convert it first, e.g. "
                                         + CSV_TO_JSONL + "."))
        return report
    seen: dict[str, int] = {}
    legacy_rows: list[dict[str, str]] = []
    chat_rows: list[dict[str, Any]] = []
    for line, raw in enumerate(content.lstrip("\ufeff").splitlines(), start=1):
        if not raw.strip():
            continue
        report.lines += 1
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            report.issues.append(Issue(line, f"not valid JSON ({exc.msg} at column {exc.colno}). Each line "
                                             "must be one complete JSON object."))
            continue
        if not isinstance(row, dict):
            report.issues.append(Issue(line, f"a JSON {type(row).__name__}, not an object."))
            continue
        if "messages" in row:
            kind = "chat"
        elif "prompt" in row or "completion" in row:
            kind = "prompt/completion"
        else:
            keys = ", ".join(sorted(row)) or "none"
            report.issues.append(Issue(line, f"neither a chat example ('messages') nor a prompt/completion "
                                             f"example; its keys: {keys}."))
            continue
        if report.format is None:
            report.format = kind
        elif kind != report.format:
            report.issues.append(Issue(line, f"a {kind} example in a {report.format} file; use one format."))
            continue
        valid = _check_chat(row, line, report.issues) if kind == "chat" else _check_legacy(row, line, report.issues)
        if not valid:
            continue
        if kind == "chat":
            report.tokens[line] = _chat_tokens(row, encoding, uses_local_template(model))
            chat_rows.append(row)
        else:
            report.tokens[line] = sum(len(encoding.encode(row[k], disallowed_special=())) for k in ("prompt", "completion"))
            legacy_rows.append(row)
        key = json.dumps(row, sort_keys=True)
        if key in seen:
            report.duplicates.append((line, seen[key]))
        else:
            seen[key] = line
    if report.lines == 0:
        report.issues.append(Issue(None, "The file is empty: add one JSON example per line."))
    elif len(report.tokens) < MIN_EXAMPLES and not report.errors:
        report.issues.append(Issue(None, f"{len(report.tokens)} example(s): fine-tuning needs at least "
                                         f"{MIN_EXAMPLES}."))
    for line in report.over_limit:
        report.issues.append(Issue(line, f"{report.tokens[line]:,} tokens, over the {report.limit:,} token "
                                         "limit: it will be truncated.", "warning"))
    for line, first in report.duplicates:
        report.issues.append(Issue(line, f"the same example as line {first}.", "warning"))
    report.epochs = n_epochs or auto_epochs(len(report.tokens))
    report.billed_tokens = sum(min(n, report.limit) for n in report.tokens.values()) * report.epochs
    price = info.fine_tune_training_price
    report.cost = report.billed_tokens * price / 1e6 if price is not None else None
    if legacy_rows:
        report.advice, report.labels = classification_advice(legacy_rows, encoding)
        report.example = legacy_rows[0]["prompt"]
        report.separator = _common_suffix([r["prompt"] for r in legacy_rows])
        report.stop = _common_suffix([r["completion"] for r in legacy_rows])
    elif chat_rows:
        report.advice, report.labels = chat_advice(chat_rows, encoding)
        first = chat_rows[0]["messages"]
        report.system = next((_text(m.get("content")) for m in first if m.get("role") in ("system", "developer")), None)
        report.example = next((_text(m.get("content")) for m in reversed(first) if m.get("role") == "user"), None)
    return report


def _looks_like_csv(content: str) -> str | None:
    """The header of a file that is CSV rather than JSONL (its first line is no JSON, and its
    first lines split into the same number of comma- or tab-separated columns), or None."""
    lines = [raw for raw in content.lstrip("\ufeff").splitlines() if raw.strip()][:20]
    if not lines or lines[0].lstrip().startswith(("{", "[")):
        return None
    try:
        json.loads(lines[0])
        return None
    except json.JSONDecodeError:
        pass
    for delimiter in (",", "\t", ";"):
        rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
        widths = {len(r) for r in rows}
        if len(widths) == 1 and widths.pop() >= 2:
            return ", ".join(json.dumps(cell) for cell in rows[0][:6])
    return None


def _common_suffix(texts: list[str]) -> str:
    reversed_prefix = os.path.commonprefix([t[::-1] for t in texts])
    return reversed_prefix[::-1]


def _show(text: str) -> str:
    return json.dumps(text)[1:-1]  # newlines as \n, as one would type them


def classification_advice(rows: list[dict[str, str]], encoding) -> tuple[list[Advice], dict[str, int]]:
    """The legacy fine-tuning guide's advice for prompt/completion data; and the class counts
    when the completions look like labels (few distinct values, each repeated)."""
    prompts = [r["prompt"] for r in rows]
    completions = [r["completion"] for r in rows]
    advice = []

    separator = _common_suffix(prompts)
    # Shared words (" is here") are text, not a separator: a separator has a mark or a newline.
    if any(not c.isalnum() and c != " " for c in separator):
        inside = sum(p[: -len(separator)].count(separator) > 0 for p in prompts)
        detail = f"Every prompt ends with \"{_show(separator)}\": end your prompts with it when you use the model."
        if inside:
            detail += f" It also appears inside {inside} prompt(s): choose a separator that does not."
        advice.append(Advice("Fixed separator at the end of the prompt", not inside, detail))
    else:
        advice.append(Advice("Fixed separator at the end of the prompt", False,
                             f"The prompts share no ending. Add a fixed separator such as \"{SUGGESTED_SEPARATOR}\" "
                             "to every prompt so the model knows where the prompt ends and the completion starts."))

    no_space = [i for i, c in enumerate(completions) if not c[:1].isspace()]
    advice.append(Advice(
        "Completions start with a whitespace", not no_space,
        "Every completion starts with a whitespace, which tokenizes well." if not no_space else
        f"{len(no_space)} of {len(completions)} completions do not start with a space (e.g. "
        f"\"{_show(completions[no_space[0]][:30])}\"). Start each with one: most tokens carry their leading space.",
    ))

    labels = label_advice(completions, encoding, advice, example=('" positive"', '" negative"'))
    if not labels:
        stop = _common_suffix(completions)
        advice.append(Advice(
            "A fixed stop sequence at the end of the completion", bool(stop),
            f"Every completion ends with \"{_show(stop)}\": pass it as `stop` when you use the model." if stop else
            "The completions share no ending. End each with a fixed stop sequence (e.g. \"\\n\" or \" END\") and "
            "pass it as `stop`, so the model knows when to stop.",
        ))
    return advice, labels


def chat_advice(rows: list[dict[str, Any]], encoding) -> tuple[list[Advice], dict[str, int]]:
    """The guide's advice that holds for chat data too: when the last assistant replies look
    like labels, one token each, enough examples per class, balanced. (A chat reply starts
    a message of its own, so no separator and no leading space.)"""
    replies = [next((_text(m.get("content")) or "" for m in reversed(r["messages"]) if m.get("role") == "assistant"), "")
               for r in rows]
    advice: list[Advice] = []
    labels = label_advice(replies, encoding, advice, example=('"positive"', '"negative"'))
    return advice, labels


def label_advice(answers: list[str], encoding, advice: list[Advice], example: tuple[str, str]) -> dict[str, int]:
    """When `answers` look like labels (few distinct values, each repeated): advice on their
    tokens, their number per class and their balance, added to `advice`; the class counts."""
    counts = Counter(answers)
    if not (len(counts) <= max(2, min(50, len(answers) // 2)) and min(counts.values()) >= 2):
        return {}
    long = [label for label in counts if len(encoding.encode(label, disallowed_special=())) != 1]
    advice.append(Advice(
        "Labels of one token each", not long,
        f"All {len(counts)} labels are one token: ask for max_tokens=1 and read the answer's logprobs."
        if not long else
        "These labels take more than one token: " + ", ".join(f"\"{_show(x)}\"" for x in long[:8])
        + f". Choose labels that are one token each (e.g. {example[0]}, {example[1]}), so max_tokens=1 answers.",
    ))
    most, least = max(counts.values()), min(counts.values())
    advice.append(Advice(
        "Examples per class", least >= EXAMPLES_PER_CLASS,
        f"Every class has at least {EXAMPLES_PER_CLASS} examples." if least >= EXAMPLES_PER_CLASS else
        f"The smallest class has {least} example(s): the guide asks for about {EXAMPLES_PER_CLASS} per class "
        "(fewer examples give a model that guesses more often).",
    ))
    balanced = most <= 3 * least
    advice.append(Advice(
        "Balance of the classes", balanced,
        ", ".join(f"\"{_show(k)}\": {v}" for k, v in counts.most_common())
        + ("." if balanced else f". The largest class has {most / least:.1f}x the examples of the smallest: "
           "add examples of the rare classes.")))
    return dict(counts.most_common())


def try_request(report: Report) -> tuple[str, dict[str, Any]]:
    """(page, request body without the model) to try a model fine-tuned on this data the way
    it was trained: the prompt ending in the separator, or the training system message; for
    a classifier one token, the top 5 alternatives and temperature 0."""
    classifier = bool(report.labels)
    if report.format == "chat":
        messages = [{"role": "system", "content": report.system}] if report.system else []
        messages.append({"role": "user", "content": report.example or ""})
        body: dict[str, Any] = {"messages": messages}
        if classifier:
            body.update(max_tokens=1, logprobs=True, top_logprobs=5, temperature=0)
        return "chat", body
    body = {"prompt": report.example or report.separator}
    if classifier:
        body.update(max_tokens=1, logprobs=5, temperature=0)
    elif report.stop:
        body["stop"] = [report.stop]
    return "completions", body
