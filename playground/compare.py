"""One prompt, up to four configurations, run together; and the differences between outputs.

Each configuration runs in its own thread through the runner (the SDK client is safe to
share between threads); every RunResult fills in place as its stream arrives, so the page
polls them and redraws each column. Nothing here touches Streamlit.
"""

from __future__ import annotations

import difflib
import html
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import openai

from playground.catalog import ModelInfo
from playground.errors import Problem
from playground.logprobs import TokenInfo
from playground.params import params_for
from playground.providers import Connection
from playground.requests import Endpoint, ParamProblem, TextRequest, build_request, check_request
from playground.runner import RunResult, run

MAX_CONFIGS = 4


# What Compare varies per column, in the order drawn (rows of playground/params.py).
VARIED = ("temperature", "seed", "top_p", "frequency_penalty", "presence_penalty")
_SHORT = {"temperature": "T", "top_p": "top_p", "frequency_penalty": "freq", "presence_penalty": "pres", "seed": "seed"}


@dataclass
class CompareConfig:
    """One column: a model (on Azure, a deployment with its model's capabilities), the
    controls it sets (parameter names -> values; the rest take their defaults), and its own
    provider connection when not the sidebar's (None)."""

    info: ModelInfo
    values: dict[str, Any] = field(default_factory=dict)
    connection: Connection | None = None

    @property
    def model(self) -> str:
        return self.info.id

    def label(self) -> str:
        rows = params_for("completions")
        parts = [self.model, f"T={self.values.get('temperature', rows['temperature'].default):g}"]
        for name in _SHORT:
            value = self.values.get(name)
            if name != "temperature" and value is not None and value != rows[name].unset:
                parts.append(setting_text(name, value))
        if self.connection is not None:
            parts.append(self.connection.label)  # the provider and host, never the key
        return " · ".join(parts)


def setting_text(name: str, value: Any) -> str:
    """A sampling control as a label shows it: "T=0.7", "seed=5"."""
    short = _SHORT.get(name, name)
    return f"{short}={value:g}" if isinstance(value, float) else f"{short}={value}"


def build_requests(
    endpoint: Endpoint,
    configs: list[CompareConfig],
    *,
    prompt: str | None = None,
    messages: list[dict[str, Any]] | None = None,
    max_tokens: int = 64,
    alternatives: int = 5,
) -> tuple[list[TextRequest], list[list[ParamProblem]]]:
    """One streamed request per configuration, with token probabilities on; and what the
    API would refuse in each (a list per configuration, empty when it may be sent)."""
    if not 1 <= len(configs) <= MAX_CONFIGS:
        raise ValueError(f"compare takes 1 to {MAX_CONFIGS} configurations, not {len(configs)}")
    requests, problems = [], []
    for config in configs:
        info = config.info
        shown = {"logprobs": True, "top_logprobs": alternatives} if endpoint == "chat" else {"logprobs": min(alternatives, 5)}
        values = {**config.values, "max_tokens": max_tokens, "stream": True, **shown}
        request = build_request(endpoint, info, values, prompt=prompt, messages=messages)
        requests.append(request)
        problems.append(check_request(request, info))
    return requests, problems


@dataclass
class Batch:
    """Runs going on together. `results[i]` grows while its thread streams."""

    results: list[RunResult]
    labels: list[str]
    threads: list[threading.Thread] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)
    connections: list[Connection | None] = field(default_factory=list)  # each run's own, None: the sidebar's

    @property
    def done(self) -> bool:
        # The threads, not RunResult.done: finish() marks a result done before it builds the token tables.
        return not any(thread.is_alive() for thread in self.threads)

    def wait(self, timeout: float | None = None) -> None:
        for thread in self.threads:
            thread.join(timeout)


def start(clients: openai.OpenAI | list[openai.OpenAI], requests: list[TextRequest], labels: list[str] | None = None) -> Batch:
    """Start every request at once, each on its client (one client for all, or one per
    request: a configuration's own connection); returns at once. `batch.cancel.set()`
    stops them all, each keeping what arrived."""
    batch = Batch([RunResult(request) for request in requests], labels or [r.model for r in requests])
    each = clients if isinstance(clients, list) else [clients] * len(requests)
    for client, result in zip(each, batch.results, strict=True):
        thread = threading.Thread(
            target=run,
            args=(client, result.request),
            kwargs={"result": result, "should_stop": batch.cancel.is_set},
            daemon=True,
            name=f"compare-{result.request.model}",
        )
        batch.threads.append(thread)
        thread.start()
    return batch


@dataclass
class Outcome:
    """One column of a comparison: what a configuration (or a saved run) produced."""

    label: str
    text: str
    tokens: list[TokenInfo]
    usage: dict | None
    latency: float | None
    ttft: float | None
    model: str
    cost: float | None = None  # the run's, as priced when it finished
    error: Problem | None = None
    stopped: bool = False
    dropped: list[str] = field(default_factory=list)  # what the provider silently left out


def outcome_of_result(label: str, result: RunResult) -> Outcome:
    choice = result.choices[0] if result.choices else None
    return Outcome(label, choice.text if choice else "", choice.tokens if choice else [], result.usage,
                   result.latency_s, result.ttft_s, result.request.model, result.cost, result.error, result.stopped,
                   list(result.dropped))


_WORDS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def words(text: str) -> list[str]:
    """Words, runs of whitespace and single punctuation marks: the units a diff compares."""
    return _WORDS.findall(text)


def similarity(base: str, other: str) -> float:
    """0..1, the share of words the two texts have in common (difflib's ratio)."""
    return difflib.SequenceMatcher(None, words(base), words(other), autojunk=False).ratio()


def diff_html(base: str, other: str) -> str:
    """`other` as HTML with what differs from `base` marked: <ins> for words `base` lacks,
    <del> for words of `base` that `other` lacks. Every piece of text is escaped."""
    a, b = words(base), words(other)
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(html.escape("".join(b[j1:j2])))
            continue
        if op in ("delete", "replace"):
            out.append(f'<del class="dd">{html.escape("".join(a[i1:i2]))}</del>')
        if op in ("insert", "replace"):
            out.append(f'<ins class="di">{html.escape("".join(b[j1:j2]))}</ins>')
    return "".join(out)


DIFF_CSS = (
    "<style>.diff{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9rem;white-space:pre-wrap;"
    "word-break:break-word;line-height:1.7}"
    ".diff ins.di{background:rgba(33,195,84,.28);text-decoration:none;border-radius:3px}"
    ".diff del.dd{background:rgba(255,75,75,.22);color:inherit;opacity:.75;border-radius:3px}</style>"
)


def diff_block(base: str, other: str) -> str:
    """A self-contained HTML block (styles included) of `diff_html`."""
    return f'{DIFF_CSS}<div class="diff">{diff_html(base, other)}</div>'
