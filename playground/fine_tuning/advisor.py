"""Which checkpoint to keep: the lowest validation loss, and where the model starts to overfit.

The validation series is the whole-set loss when the log has at least two of them
(OpenAI's full_valid_loss, Hugging Face's eval_loss), else the per-batch valid_loss smoothed
with BATCH_SMOOTHING (one batch is noisy: its minimum is mostly luck).

Overfitting is flagged when, after the validation minimum at step s, validation loss ends
more than RISE above that minimum while the (smoothed) training loss keeps falling: the
model learns its training examples at the expense of unseen ones from step s on, and the
checkpoint nearest s (at or before it) is the one to keep.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from playground.fine_tuning.logs import Checkpoint
from playground.fine_tuning.metrics import smooth

BATCH_SMOOTHING = 0.8
RISE = 0.02  # relative: 2% above the minimum
OPENAI_CONVENTIONS = (
    "How OpenAI reports these metrics: **valid_loss** and **valid_mean_token_accuracy** are measured on "
    "one batch of the validation file at each step (noisy; read them smoothed), **full_valid_loss** and "
    "**full_valid_mean_token_accuracy** on the whole validation file at the end of each epoch (the ones to "
    "compare checkpoints by). Token accuracy counts every completion token: the share of them that was the "
    "model's most likely next token. Hugging Face's eval_loss, like full_valid_loss, covers the whole "
    "evaluation set."
)


@dataclass(frozen=True)
class Overfitting:
    step: int  # the validation minimum: from here on validation rises while training falls
    valid_min: float
    valid_end: float
    end_step: int
    train_at_min: float
    train_end: float

    def __str__(self) -> str:
        return (f"Validation loss is lowest at step {self.step} ({self.valid_min:.4f}) and rises to "
                f"{self.valid_end:.4f} by step {self.end_step}, while training loss falls from "
                f"{self.train_at_min:.4f} to {self.train_end:.4f}: the model overfits from step {self.step} on.")


@dataclass(frozen=True)
class Advice:
    series: str | None  # "full_valid_loss" or "valid_loss (smoothed)"; None: no validation metrics
    best_step: int | None = None
    best_loss: float | None = None
    best_checkpoint: Checkpoint | None = None
    best_checkpoint_loss: float | None = None
    overfitting: Overfitting | None = None


def validation_series(frame: pd.DataFrame) -> tuple[str | None, pd.Series]:
    """(name, values indexed by step) of the validation loss the advice is based on."""
    full = frame.set_index("step")["full_valid_loss"].dropna()
    if len(full) >= 2:
        return "full_valid_loss", full
    batch = frame.set_index("step")["valid_loss"].dropna()
    if len(batch) >= 2:
        return "valid_loss (smoothed)", smooth(batch, BATCH_SMOOTHING)
    return None, full.iloc[:0]


def _at_or_before(series: pd.Series, step: int) -> float | None:
    before = series[series.index <= step]
    return float(before.iloc[-1]) if len(before) else None


def advise(frame: pd.DataFrame, checkpoints: list[Checkpoint] | None = None) -> Advice:
    name, valid = validation_series(frame)
    if name is None:
        return Advice(None)
    best_step = int(valid.idxmin())
    best_loss = float(valid.min())
    # A checkpoint's own metric when it has one; else the series at (or just before) its step.
    scored = []
    for checkpoint in checkpoints or []:
        loss = checkpoint.valid_loss if checkpoint.valid_loss is not None else _at_or_before(valid, checkpoint.step)
        if loss is not None:
            scored.append((loss, checkpoint.step, checkpoint))
    best_checkpoint, best_checkpoint_loss = None, None
    if scored:
        best_checkpoint_loss, _, best_checkpoint = min(scored, key=lambda s: (s[0], s[1]))
    overfitting = None
    after = valid[valid.index > best_step]
    train = smooth(frame.set_index("step")["train_loss"].dropna(), BATCH_SMOOTHING)
    if len(after) and after.iloc[-1] > best_loss * (1 + RISE) and len(train):
        train_at_min = _at_or_before(train, best_step)
        train_end = float(train.iloc[-1])
        if train_at_min is not None and train_end < train_at_min:
            overfitting = Overfitting(best_step, best_loss, float(after.iloc[-1]), int(after.index[-1]),
                                      train_at_min, train_end)
    return Advice(name, best_step, best_loss, best_checkpoint, best_checkpoint_loss, overfitting)
