"""Graders: how an output is scored against the row's expected answer.

Every grade is a score from 0 to 1 (None when the output could not be graded, with the
reason in `detail`) and a pass or fail. The label grader also keeps the predicted label and
its probability (the first token's), for the classification report; the embedding and rubric
graders call a provider, through `Services`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

import jsonschema

from playground.logprobs import TokenInfo

KINDS = {
    "exact": "Exact match",
    "contains": "Contains the expected answer",
    "regex": "Matches a regular expression",
    "json": "Valid JSON (optionally matching a schema)",
    "numeric": "Number within a tolerance",
    "label": "Label from the first token (classification)",
    "embedding": "Embedding similarity to the expected answer",
    "rubric": "Model-graded with a rubric",
}
NEEDS_EXPECTED = {"exact", "contains", "numeric", "label", "embedding"}
JUDGE_SCALE = 10
DEFAULT_RUBRIC_PROMPT = (
    "You are grading an answer against a rubric.\n\nRubric: {rubric}\n\nInput: {input}\n\n"
    "Expected answer: {expected}\n\nAnswer to grade: {output}\n\n"
    f"Reply with only a score from 0 (fails the rubric) to {JUDGE_SCALE} (fully meets it)."
)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?|-?\.\d+")


@dataclass
class Grade:
    score: float | None
    passed: bool | None
    detail: str = ""
    label: str | None = None  # label grader: the predicted label
    prob: float | None = None  # ... and the probability of its first token

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Grade:
        return cls(**{k: data.get(k) for k in ("score", "passed", "detail", "label", "prob")})


@dataclass
class Grader:
    kind: str
    name: str = ""
    case_sensitive: bool = False
    pattern: str = ""  # regex; empty: the expected answer is the pattern
    schema: dict[str, Any] | None = None  # json
    tolerance: float = 0.0  # numeric, absolute
    labels: list[str] = field(default_factory=list)  # label: the classes (optional)
    threshold: float = 0.5  # embedding and rubric: the score that passes
    embedding_model: str = "text-embedding-3-small"
    rubric: str = ""
    judge: int = 0  # embedding and rubric: the configuration whose connection (and model) is used

    @property
    def label(self) -> str:
        return self.name or self.kind

    def problems(self) -> list[str]:
        """What is wrong with this grader's settings, in words."""
        if self.kind not in KINDS:
            return [f"unknown grader {self.kind!r}; the graders are {', '.join(KINDS)}"]
        out = []
        if self.kind == "regex" and self.pattern:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                out.append(f"the regular expression does not compile: {exc}")
        if self.kind == "json" and self.schema is not None:
            try:
                jsonschema.validators.validator_for(self.schema).check_schema(self.schema)
            except jsonschema.SchemaError as exc:
                out.append(f"the JSON schema is not valid: {exc.message}")
        if self.kind == "rubric" and not self.rubric.strip():
            out.append("write the rubric the judge grades by")
        return out

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Grader:
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown grader setting {', '.join(unknown)}")
        return cls(**data)


class Services:
    """The provider calls of the embedding and rubric graders: `embed(grader, texts)` gives
    vectors, `judge(grader, prompt)` the judge's reply. Both raise on a failed call."""

    def __init__(self, embed: Callable[[Grader, list[str]], list[list[float]]] | None = None,
                 judge: Callable[[Grader, str], str] | None = None) -> None:
        self.embed = embed
        self.judge = judge


def _norm(text: str, case_sensitive: bool) -> str:
    text = text.strip()
    return text if case_sensitive else text.casefold()


def first_number(text: str) -> float | None:
    match = _NUMBER.search(text)
    if match is None:
        return None
    try:
        return float(match.group(0).replace(",", ""))
    except ValueError:
        return None


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def _strip_fence(text: str) -> str:
    """JSON a model wrapped in a ``` fence."""
    match = re.fullmatch(r"\s*```[a-zA-Z]*\n(.*?)\n?```\s*", text, re.DOTALL)
    return match.group(1) if match else text


def first_label(text: str, tokens: Sequence[TokenInfo], labels: Sequence[str], case_sensitive: bool) -> tuple[str, float | None]:
    """The label the output starts with, and the probability of its first token."""
    generated = [t for t in tokens if not t.is_prompt]
    if generated:
        first = generated[0]
        word, prob = first.token.strip(), first.prob
        if not word and len(generated) > 1:  # a leading whitespace token: the label is the next
            word, prob = generated[1].token.strip(), generated[1].prob
    else:
        words = text.split()
        word, prob = (words[0] if words else ""), None
    for label in labels:  # a label longer than one token: its first token names it
        if word and _norm(label, case_sensitive).startswith(_norm(word, case_sensitive)):
            return label, prob
    return word, prob


def grade(grader: Grader, output: str, expected: str | None, *, tokens: Sequence[TokenInfo] = (),
          row_input: str = "", services: Services | None = None) -> Grade:
    """Grade one output. Never raises for a bad output or a failed provider call: the grade
    then has score None and says why."""
    kind = grader.kind
    if kind in NEEDS_EXPECTED and expected is None:
        return Grade(None, None, "no expected answer: choose the expected-answer column")
    expected = expected or ""
    if kind == "exact":
        ok = _norm(output, grader.case_sensitive) == _norm(expected, grader.case_sensitive)
        return Grade(float(ok), ok)
    if kind == "contains":
        ok = _norm(expected, grader.case_sensitive) in _norm(output, grader.case_sensitive)
        return Grade(float(ok), ok)
    if kind == "regex":
        pattern = grader.pattern or re.escape(expected.strip())
        flags = 0 if grader.case_sensitive else re.IGNORECASE
        try:
            match = re.search(pattern, output, flags)
        except re.error as exc:
            return Grade(None, None, f"bad regular expression: {exc}")
        return Grade(float(match is not None), match is not None, f"matched {match.group(0)!r}" if match else "")
    if kind == "json":
        try:
            value = json.loads(_strip_fence(output))
        except json.JSONDecodeError as exc:
            return Grade(0.0, False, f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        if grader.schema is not None:
            error = jsonschema.exceptions.best_match(jsonschema.validators.validator_for(grader.schema)(grader.schema).iter_errors(value))
            if error is not None:
                where = "/".join(str(p) for p in error.absolute_path) or "the top level"
                return Grade(0.0, False, f"does not match the schema at {where}: {error.message}")
        return Grade(1.0, True)
    if kind == "numeric":
        want, got = first_number(expected), first_number(output)
        if want is None:
            return Grade(None, None, f"the expected answer {expected!r} is not a number")
        if got is None:
            return Grade(0.0, False, "no number in the output")
        ok = abs(got - want) <= grader.tolerance
        return Grade(float(ok), ok, f"{got:g} vs {want:g}")
    if kind == "label":
        label, prob = first_label(output, tokens, grader.labels, grader.case_sensitive)
        ok = _norm(label, grader.case_sensitive) == _norm(expected, grader.case_sensitive)
        return Grade(float(ok), ok, label=label, prob=prob)
    if kind == "embedding":
        if services is None or services.embed is None:
            return Grade(None, None, "no embeddings connection")
        try:
            a, b = services.embed(grader, [output or " ", expected or " "])
        except Exception as exc:  # the caller's embed turns SDK errors into words
            return Grade(None, None, f"embedding failed: {exc}")
        score = max(0.0, min(1.0, cosine(a, b)))
        return Grade(score, score >= grader.threshold, f"cosine {cosine(a, b):.3f}")
    if kind == "rubric":
        if services is None or services.judge is None:
            return Grade(None, None, "no judge configuration")
        prompt = DEFAULT_RUBRIC_PROMPT.format(rubric=grader.rubric, input=row_input, expected=expected or "(none)", output=output)
        try:
            reply = services.judge(grader, prompt)
        except Exception as exc:
            return Grade(None, None, f"the judge failed: {exc}")
        number = first_number(reply)
        if number is None or not 0 <= number <= JUDGE_SCALE:
            return Grade(None, None, f"the judge gave no score from 0 to {JUDGE_SCALE}: {reply[:200]!r}")
        score = number / JUDGE_SCALE
        return Grade(score, score >= grader.threshold, f"judge: {reply.strip()[:200]}")
    return Grade(None, None, f"unknown grader {kind!r}")
