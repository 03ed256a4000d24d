"""The statistics of an eval report: bootstrap confidence intervals, percentiles, a paired
comparison (McNemar's exact test for pass/fail, a paired bootstrap for scores), and the
classification report (confusion matrix, precision and recall, calibration).

Bootstraps use a fixed seed, so the same results always give the same interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

RESAMPLES = 2000
SEED = 0


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float


def bootstrap_mean(values: Sequence[float], *, confidence: float = 0.95, resamples: int = RESAMPLES, seed: int = SEED) -> Interval | None:
    """The mean and its percentile-bootstrap interval; None for no values."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return None
    mean = float(data.mean())
    if data.size == 1:
        return Interval(mean, mean, mean)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return Interval(mean, float(low), float(high))


def percentile(values: Sequence[float], q: float) -> float | None:
    data = [v for v in values if v is not None]
    return float(np.percentile(data, q)) if data else None


def binomial_two_sided(k: int, n: int) -> float:
    """Exact two-sided p-value of k successes in n fair coin flips."""
    if n == 0:
        return 1.0
    low = min(k, n - k)
    tail = sum(math.comb(n, i) for i in range(low + 1)) / 2**n
    return min(1.0, 2 * tail)


def mcnemar_exact(only_a: int, only_b: int) -> float:
    """McNemar's exact test: p-value that A and B pass as often, from the rows only A passed
    and the rows only B passed (the discordant pairs)."""
    return binomial_two_sided(only_a, only_a + only_b)


@dataclass(frozen=True)
class PairedBootstrap:
    mean_difference: float  # A - B
    low: float
    high: float
    p_value: float  # two-sided: how often the resampled difference crosses zero


def paired_bootstrap(a: Sequence[float], b: Sequence[float], *, resamples: int = RESAMPLES, seed: int = SEED) -> PairedBootstrap | None:
    diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if diffs.size == 0:
        return None
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(0, diffs.size, size=(resamples, diffs.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    if np.all(diffs == 0):
        p = 1.0
    else:
        p = min(1.0, 2 * min(float(np.mean(means <= 0)), float(np.mean(means >= 0))))
    return PairedBootstrap(float(diffs.mean()), float(low), float(high), p)


@dataclass(frozen=True)
class Comparison:
    won: int  # rows where A scored higher
    lost: int
    tied: int
    mcnemar_p: float | None  # pass/fail graders only
    bootstrap: PairedBootstrap | None


def compare_paired(a: Sequence[float], b: Sequence[float], *, binary: bool) -> Comparison:
    """A against B over the same rows (each a score, the mean of its repeats)."""
    won = sum(x > y for x, y in zip(a, b))
    lost = sum(x < y for x, y in zip(a, b))
    tied = len(a) - won - lost
    p = mcnemar_exact(won, lost) if binary else None
    return Comparison(won, lost, tied, p, paired_bootstrap(a, b))


@dataclass
class ClassReport:
    labels: list[str]
    matrix: list[list[int]]  # matrix[i][j]: expected labels[i], predicted labels[j]
    accuracy: float
    precision: dict[str, float | None]
    recall: dict[str, float | None]
    support: dict[str, int]


def classification_report(expected: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = ()) -> ClassReport:
    """Expected labels first (in the order given), then other predictions (e.g. a model that
    answered something else) as extra columns."""
    order = list(dict.fromkeys([*labels, *sorted(set(expected))]))
    order += sorted(set(predicted) - set(order))
    index = {label: i for i, label in enumerate(order)}
    matrix = [[0] * len(order) for _ in order]
    for e, p in zip(expected, predicted):
        matrix[index[e]][index[p]] += 1
    total = len(expected)
    correct = sum(matrix[i][i] for i in range(len(order)))
    precision, recall, support = {}, {}, {}
    for label, i in index.items():
        predicted_here = sum(row[i] for row in matrix)
        actual = sum(matrix[i])
        precision[label] = matrix[i][i] / predicted_here if predicted_here else None
        recall[label] = matrix[i][i] / actual if actual else None
        support[label] = actual
    return ClassReport(order, matrix, correct / total if total else 0.0, precision, recall, support)


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    confidence: float | None  # mean label probability in the bin
    accuracy: float | None


@dataclass
class Calibration:
    bins: list[CalibrationBin] = field(default_factory=list)
    ece: float | None = None  # expected calibration error
    brier: float | None = None


def calibration(probs: Sequence[float], correct: Sequence[bool], *, bins: int = 10) -> Calibration:
    """How well the label probability predicts being right: per-bin confidence and accuracy,
    the expected calibration error and the Brier score."""
    pairs = [(p, c) for p, c in zip(probs, correct) if p is not None]
    if not pairs:
        return Calibration()
    out = []
    ece = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [(p, c) for p, c in pairs if low <= p < high or (b == bins - 1 and p == 1.0)]
        if inside:
            conf = sum(p for p, _ in inside) / len(inside)
            acc = sum(c for _, c in inside) / len(inside)
            ece += len(inside) / len(pairs) * abs(conf - acc)
            out.append(CalibrationBin(low, high, len(inside), conf, acc))
        else:
            out.append(CalibrationBin(low, high, 0, None, None))
    brier = sum((p - float(c)) ** 2 for p, c in pairs) / len(pairs)
    return Calibration(out, ece, brier)
