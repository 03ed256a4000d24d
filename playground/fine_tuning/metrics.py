"""Fine-tuning metrics from any source, in one DataFrame shape.

Sources:
- today's results file: `step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy`
  (as text, or base64-encoded as `client.files.content` returns OpenAI's result files);
- the legacy fine-tunes results file: `step,elapsed_tokens,elapsed_examples,training_loss,
  training_sequence_accuracy,training_token_accuracy,validation_loss,validation_sequence_accuracy,
  validation_token_accuracy,classification/accuracy,...` with empty cells;
- a job's `metrics` events (`data`: step, train_loss, train_mean_token_accuracy, valid_loss, ...);
- other trainers' logs (`playground.fine_tuning.logs`), whose key names are in `_RENAMES` too.

The frame (`COLUMNS`): step, epoch, tokens (seen so far), train_loss, train_accuracy,
valid_loss, valid_accuracy (one validation batch, OpenAI's `valid_*`), full_valid_loss,
full_valid_accuracy (the whole validation set: OpenAI's `full_valid_*`, Hugging Face's
`eval_*`), learning_rate, grad_norm, and the legacy classification metrics
(classification_accuracy, _precision, _recall, _auroc, _auprc, _f1). Missing values are NaN;
rows sorted by step, one per step.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from typing import Any, Iterable

import numpy as np
import pandas as pd

CLASSIFICATION = ("accuracy", "precision", "recall", "auroc", "auprc", "f1")
COLUMNS = (
    "step", "epoch", "tokens", "train_loss", "train_accuracy", "valid_loss", "valid_accuracy", "full_valid_loss",
    "full_valid_accuracy", "learning_rate", "grad_norm", *(f"classification_{name}" for name in CLASSIFICATION),
)
# Source column -> frame column: OpenAI's results files (today's, legacy) and metrics events;
# Hugging Face's log_history keys, and the same with "train/" and "eval/" prefixes as its
# TensorBoard and W&B callbacks write them; TRL's token accuracy; Lightning's val_loss.
_RENAMES = {
    "epoch": "epoch",
    "train/epoch": "epoch",
    "elapsed_tokens": "tokens",
    "num_input_tokens_seen": "tokens",
    "train/num_input_tokens_seen": "tokens",
    "num_tokens": "tokens",
    "train/num_tokens": "tokens",
    "loss": "train_loss",
    "train/loss": "train_loss",
    "mean_token_accuracy": "train_accuracy",
    "train/mean_token_accuracy": "train_accuracy",
    "eval_loss": "full_valid_loss",
    "eval/loss": "full_valid_loss",
    "val_loss": "full_valid_loss",
    "val/loss": "full_valid_loss",
    "eval_mean_token_accuracy": "full_valid_accuracy",
    "eval/mean_token_accuracy": "full_valid_accuracy",
    "eval_accuracy": "full_valid_accuracy",
    "eval/accuracy": "full_valid_accuracy",
    "learning_rate": "learning_rate",
    "train/learning_rate": "learning_rate",
    "lr": "learning_rate",
    "grad_norm": "grad_norm",
    "train/grad_norm": "grad_norm",
    "train_loss": "train_loss",
    "train_accuracy": "train_accuracy",
    "train_mean_token_accuracy": "train_accuracy",
    "valid_loss": "valid_loss",
    "valid_mean_token_accuracy": "valid_accuracy",
    "full_valid_loss": "full_valid_loss",
    "full_valid_mean_token_accuracy": "full_valid_accuracy",
    "training_loss": "train_loss",
    "training_token_accuracy": "train_accuracy",
    "validation_loss": "valid_loss",
    "validation_token_accuracy": "valid_accuracy",
    "classification/accuracy": "classification_accuracy",
    "classification/precision": "classification_precision",
    "classification/recall": "classification_recall",
    "classification/auroc": "classification_auroc",
    "classification/auprc": "classification_auprc",
    "classification/f1.0": "classification_f1",
}


class MetricsError(ValueError):
    """A results file we cannot read; the message says why."""


def decode_results(content: bytes | str) -> str:
    """The CSV text of a results file, plain or base64-encoded."""
    raw = content.encode() if isinstance(content, str) else bytes(content)
    text = raw.decode("utf-8", errors="replace").lstrip("\ufeff")
    if text.lstrip().startswith("step"):
        return text
    try:
        decoded = base64.b64decode(b"".join(raw.split()), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise MetricsError("This is neither a results CSV (its first line should start with 'step') nor "
                           "a base64-encoded one.") from None
    if not decoded.lstrip().startswith("step"):
        raise MetricsError("The base64 text decodes, but not to a results CSV starting with 'step'.")
    return decoded


def known_columns(columns: Iterable[str]) -> set[str]:
    """The metric columns among these source names."""
    return set(_RENAMES) & set(columns)


def empty_frame() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "step" else "float64") for c in COLUMNS})


def to_frame(table: pd.DataFrame) -> pd.DataFrame:
    """A table of source columns (any names in `_RENAMES`, and `step`) -> the frame."""
    out = pd.DataFrame({"step": pd.to_numeric(table["step"], errors="coerce")})
    for column in COLUMNS[1:]:
        out[column] = np.nan
    for source, target in _RENAMES.items():
        if source in table.columns:
            values = pd.to_numeric(table[source], errors="coerce")
            out[target] = out[target].fillna(values)
    out = out.dropna(subset=["step"])
    out["step"] = out["step"].astype("int64")
    if not (out["step"].is_unique and out["step"].is_monotonic_increasing):
        out = out.groupby("step", as_index=False).last()  # one row per step, its last value of each metric
    return out.sort_values("step", ignore_index=True)[list(COLUMNS)]


def parse_results(content: bytes | str) -> pd.DataFrame:
    """A results file (today's or legacy, plain or base64) -> the frame."""
    text = decode_results(content)
    try:
        table = pd.read_csv(io.StringIO(text))  # numeric columns parse as floats; _frame coerces the rest
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise MetricsError(f"The CSV cannot be read: {exc}") from None
    table.columns = [c.strip() for c in table.columns]
    if "step" not in table.columns:
        raise MetricsError("The CSV has no 'step' column.")
    if not known_columns(table.columns):
        raise MetricsError("The CSV has no metric columns (train_loss, training_loss, valid_loss, ...).")
    return to_frame(table)


def from_events(events: Iterable[Any]) -> pd.DataFrame:
    """A job's events (SDK objects or dicts, any order) -> the frame, from the `metrics` ones."""
    rows = []
    for event in events:
        get = event.get if isinstance(event, dict) else lambda k, e=event: getattr(e, k, None)
        data = get("data")
        if get("type") == "metrics" and isinstance(data, dict) and "step" in data:
            rows.append(data)
    if not rows:
        return empty_frame()
    return to_frame(pd.DataFrame(rows))


def smooth(values: pd.Series, strength: float) -> pd.Series:
    """TensorBoard's smoothing: an exponential moving average over the non-missing values,
    debiased (divided by 1 - strength^n after n values, so the start is not pulled to 0);
    strength in [0, 1): 0 returns the values unchanged."""
    if strength <= 0:
        return values
    present = values.dropna()
    smoothed = present.ewm(alpha=1.0 - strength, adjust=True).mean()  # adjust=True is the debiased form
    return smoothed.reindex(values.index)


def with_epochs(frame: pd.DataFrame, steps_per_epoch: float | None) -> pd.DataFrame:
    """The frame with `epoch` filled in as step / steps_per_epoch where the log gave none."""
    if not steps_per_epoch or steps_per_epoch <= 0:
        return frame
    return frame.assign(epoch=frame["epoch"].fillna(frame["step"] / steps_per_epoch))


def epoch_boundaries(frame: pd.DataFrame, x: str = "step") -> list[float]:
    """Where each epoch but the last ends, in units of column `x` (step, epoch or tokens),
    interpolated between the logged rows (a trainer logs every N steps, not at epoch ends)."""
    rows = frame[["epoch", x]].dropna() if x != "epoch" else frame[["epoch"]].dropna()
    if len(rows) < 2:
        return []
    epochs = np.maximum.accumulate(rows["epoch"].to_numpy(float))
    last = epochs[-1]
    ends = [k for k in range(1, math.ceil(last)) if k < last - 1e-9]
    if x == "epoch":
        return [float(k) for k in ends]
    return [float(np.interp(k, epochs, rows[x].to_numpy(float))) for k in ends]


def steps_per_epoch(n_examples: int, batch_size: int) -> int:
    return max(1, math.ceil(n_examples / max(batch_size, 1)))


def has_classification(frame: pd.DataFrame) -> bool:
    return bool(frame[[f"classification_{n}" for n in CLASSIFICATION]].notna().any().any())


def lttb(x: np.ndarray, y: np.ndarray, n_out: int) -> np.ndarray:
    """Indices of `n_out` points that keep the line's shape (Largest-Triangle-Three-Buckets,
    Steinarsson 2013): first and last point, then per bucket the point making the largest
    triangle with the point chosen before and the mean of the next bucket."""
    n = len(x)
    if n_out >= n or n_out < 3:
        return np.arange(n)
    edges = np.linspace(1, n - 1, n_out - 1).astype(np.int64)  # n_out - 2 buckets over the inner points
    sizes = np.diff(np.append(edges, n))  # bucket b is [edges[b], edges[b+1]); the last "bucket" is the last point
    mean_x = np.add.reduceat(x, edges) / sizes
    mean_y = np.add.reduceat(y, edges) / sizes
    chosen = np.empty(n_out, dtype=np.int64)
    chosen[0], chosen[-1] = 0, n - 1
    previous = 0
    for b in range(n_out - 2):
        lo, hi = edges[b], edges[b + 1]
        ax, ay = x[previous], y[previous]
        area = np.abs((ax - mean_x[b + 1]) * (y[lo:hi] - ay) - (ax - x[lo:hi]) * (mean_y[b + 1] - ay))
        previous = lo + int(area.argmax())
        chosen[b + 1] = previous
    return chosen
