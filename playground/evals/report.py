"""What an eval found: a summary per configuration, a paired comparison, the classification
report; exports as CSV and JSONL; and the eval as one history record, reopened without a
request."""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass
from typing import Any

from playground.evals.config import EvalConfig
from playground.evals.dataset import Dataset, Template
from playground.evals.graders import Grader
from playground.evals.runner import Cell, Eval, Key
from playground.evals.stats import (
    Calibration,
    ClassReport,
    Comparison,
    Interval,
    bootstrap_mean,
    calibration,
    classification_report,
    compare_paired,
    percentile,
)
from playground.history import Run

HISTORY_ENDPOINT = "evals"
HISTORY_TAG = "eval"
FORMAT = 1


@dataclass
class ConfigSummary:
    label: str
    cells: int  # finished
    errors: int
    scores: list[Interval | None]  # per grader: mean score and its 95% interval
    pass_rates: list[float | None]
    graded: list[int]  # per grader: cells with a score
    latency_p50: float | None
    latency_p95: float | None
    ttft_p50: float | None
    ttft_p95: float | None
    prompt_tokens: int
    completion_tokens: int
    cost: float | None  # None: a price is unknown


def _cells_of(ev: Eval, config: int) -> list[tuple[Key, Cell]]:
    return [(key, ev.cells[key]) for key in ev.keys() if key[1] == config and key in ev.cells]


def summarize(ev: Eval) -> list[ConfigSummary]:
    out = []
    for index, config in enumerate(ev.configs):
        cells = [cell for _, cell in _cells_of(ev, index)]
        ok = [c for c in cells if c.error is None]
        scores, rates, graded = [], [], []
        for g in range(len(ev.graders)):
            values = [c.grades[g].score for c in ok if len(c.grades) > g and c.grades[g].score is not None]
            passes = [c.grades[g].passed for c in ok if len(c.grades) > g and c.grades[g].passed is not None]
            scores.append(bootstrap_mean(values))
            rates.append(sum(passes) / len(passes) if passes else None)
            graded.append(len(values))
        usages = [c.usage or {} for c in ok]
        costs = [c.cost for c in ok]
        out.append(ConfigSummary(
            config.label, len(cells), len(cells) - len(ok), scores, rates, graded,
            percentile([c.latency for c in ok], 50), percentile([c.latency for c in ok], 95),
            percentile([c.ttft for c in ok], 50), percentile([c.ttft for c in ok], 95),
            sum(u.get("prompt_tokens") or 0 for u in usages), sum(u.get("completion_tokens") or 0 for u in usages),
            None if any(c is None for c in costs) else sum(costs),
        ))
    return out


def row_scores(ev: Eval, config: int, grader: int) -> dict[int, float]:
    """Each row's score under one configuration: the mean over its graded repeats."""
    per_row: dict[int, list[float]] = {}
    for (row, _, _), cell in _cells_of(ev, config):
        if cell.error is None and len(cell.grades) > grader and cell.grades[grader].score is not None:
            per_row.setdefault(row, []).append(cell.grades[grader].score)
    return {row: sum(v) / len(v) for row, v in per_row.items()}


def compare(ev: Eval, a: int, b: int, grader: int = 0) -> tuple[Comparison, int]:
    """Configuration a against b over the rows both have scores for; and how many rows that is.
    McNemar's exact test when the scores are pass/fail with one repeat."""
    sa, sb = row_scores(ev, a, grader), row_scores(ev, b, grader)
    rows = sorted(set(sa) & set(sb))
    xs, ys = [sa[r] for r in rows], [sb[r] for r in rows]
    binary = all(v in (0.0, 1.0) for v in xs + ys)
    return compare_paired(xs, ys, binary=binary), len(rows)


def classification(ev: Eval, config: int, grader: int) -> tuple[ClassReport, Calibration] | None:
    """The label grader's report for one configuration; None when nothing was graded."""
    expected, predicted, probs, correct = [], [], [], []
    for (row, _, _), cell in _cells_of(ev, config):
        if cell.error is not None or len(cell.grades) <= grader:
            continue
        g = cell.grades[grader]
        if g.label is None or g.score is None:
            continue
        expected.append((ev.expected(row) or "").strip())
        predicted.append(g.label or "(empty)")
        probs.append(g.prob)
        correct.append(bool(g.passed))
    if not expected:
        return None
    labels = ev.graders[grader].labels
    if not ev.graders[grader].case_sensitive:  # " positive" and "Positive" are one class, as the grader counts them
        spelling = {label.casefold(): label for label in [*expected, *labels]}
        predicted = [spelling.get(p.casefold(), p) for p in predicted]
    return classification_report(expected, predicted, labels), calibration(probs, correct)


def summary_text(ev: Eval) -> str:
    """The summary as plain text (the headless command prints it)."""
    lines = [f"eval {ev.name}: {len(ev.dataset.rows)} rows x {len(ev.configs)} configurations x {ev.repeats} repeats"]
    for s in summarize(ev):
        lines.append(f"- {s.label}: {s.cells} cells, {s.errors} errors")
        for grader, interval, rate, n in zip(ev.graders, s.scores, s.pass_rates, s.graded):
            if interval is None:
                lines.append(f"    {grader.label}: no scores")
            else:
                passed = f", pass {rate:.1%}" if rate is not None else ""
                lines.append(f"    {grader.label}: mean {interval.mean:.3f} (95% CI {interval.low:.3f}-{interval.high:.3f}, n={n}){passed}")
        lat = f"{s.latency_p50:.3f}/{s.latency_p95:.3f} s" if s.latency_p50 is not None else "-"
        ttft = f"{s.ttft_p50:.3f} s" if s.ttft_p50 is not None else "-"
        cost = "unknown" if s.cost is None else f"${s.cost:.6f}"
        lines.append(f"    latency p50/p95 {lat}, first token p50 {ttft}, tokens {s.prompt_tokens}+{s.completion_tokens}, cost {cost}")
    return "\n".join(lines)


# --- exports ---------------------------------------------------------------------------


def records(ev: Eval) -> list[dict[str, Any]]:
    """One flat record per finished cell: the row's columns, the output and each grade."""
    out = []
    for key in ev.keys():
        cell = ev.cells.get(key)
        if cell is None:
            continue
        row, config, repeat = key
        usage = cell.usage or {}
        record: dict[str, Any] = {"row": row + 1, "configuration": ev.configs[config].label, "repeat": repeat + 1}
        record.update({f"input.{k}": v for k, v in ev.dataset.rows[row].items()})
        record.update({"expected": ev.expected(row), "output": cell.text,
                       "error": None if cell.error is None else f"{cell.error.title} {cell.error.detail}".strip()})
        for grader, g in zip(ev.graders, cell.grades):
            record[f"{grader.label}.score"] = g.score
            record[f"{grader.label}.passed"] = g.passed
            if g.label is not None:
                record[f"{grader.label}.label"] = g.label
                record[f"{grader.label}.prob"] = g.prob
            if g.detail:
                record[f"{grader.label}.detail"] = g.detail
        record.update({"latency_s": cell.latency, "ttft_s": cell.ttft, "prompt_tokens": usage.get("prompt_tokens"),
                       "completion_tokens": usage.get("completion_tokens"), "cost": cell.cost})
        out.append(record)
    return out


def to_jsonl(ev: Eval) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records(ev))


def to_csv(ev: Eval) -> str:
    rows = records(ev)
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


# --- the history -----------------------------------------------------------------------


def to_json(ev: Eval) -> dict[str, Any]:
    """The eval as saved: no key (configurations keep only their public connection)."""
    return {
        "format": FORMAT, "id": ev.id, "name": ev.name, "repeats": ev.repeats,
        "dataset": ev.dataset.to_json(), "template": ev.template.to_json(),
        "configs": [c.public() for c in ev.configs], "graders": [g.to_json() for g in ev.graders],
        "cells": [[*key, ev.cells[key].to_json()] for key in ev.keys() if key in ev.cells],
    }


def from_json(data: dict[str, Any]) -> Eval:
    ev = Eval(Dataset.from_json(data["dataset"]), Template.from_json(data["template"]),
              [EvalConfig.from_public(c) for c in data["configs"]], [Grader.from_json(g) for g in data["graders"]],
              int(data.get("repeats", 1)), data.get("name", "eval"), id=data.get("id") or Eval.__dataclass_fields__["id"].default_factory())
    for row, config, repeat, cell in data.get("cells") or []:
        ev.cells[(row, config, repeat)] = Cell.from_json(cell)
    return ev


def same_requests(a: Eval, b: Eval) -> bool:
    """Whether two evals send the same requests (dataset, template, configurations, repeats)."""
    def setup(ev: Eval) -> dict[str, Any]:
        return {k: v for k, v in to_json(ev).items() if k not in ("cells", "graders", "id", "name")}

    return setup(a) == setup(b)


def to_run(ev: Eval, *, elapsed: float | None = None) -> Run:
    """The eval as one history record (endpoint "evals"): its summary searchable as text."""
    summaries = summarize(ev)
    costs = [s.cost for s in summaries]
    saved = to_json(ev)
    return Run(
        endpoint=HISTORY_ENDPOINT,
        model=", ".join(dict.fromkeys(c.model for c in ev.configs)),
        provider={"providers": [c.connection.public() for c in ev.configs]},
        request={k: v for k, v in saved.items() if k != "cells"},
        response={"cells": saved["cells"], "choices": [{"text": summary_text(ev)}]},
        usage={"prompt_tokens": sum(s.prompt_tokens for s in summaries),
               "completion_tokens": sum(s.completion_tokens for s in summaries)},
        latency=elapsed,
        cost=None if any(c is None for c in costs) else sum(costs),
        title=f"Eval: {ev.name}",
        tags=[HISTORY_TAG],
        id=ev.id,
        created=time.time(),
    )


def from_run(run: Run) -> Eval:
    """An eval reopened from its history record: no request is made."""
    if run.endpoint != HISTORY_ENDPOINT:
        raise ValueError(f"run {run.id} is a {run.endpoint} run, not an eval")
    return from_json({**run.request, "cells": run.response.get("cells") or [], "id": run.id})
