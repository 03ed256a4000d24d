"""How much a job will cost and how long it will take, before it starts; its ETA while it runs.

Cost: training tokens (the file's tokens per epoch x epochs, as `validate.check_file` counts
them) x the model's training price in data/models.toml. Duration: the job's steps
(ceil(examples / batch size) per epoch) at the seconds per step this provider took on its
last finished jobs, plus their median wait before training started (file validation, queue)
and before the first step (loading the model and the data). The times come from the job
and its events: created_at, the "Fine-tuning job started" event, the first metrics event,
finished_at; the steps from its last metrics event.
"""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from typing import Any, Iterable

RECENT_JOBS = 5  # the provider's last finished jobs that set the pace


def auto_batch_size(n_examples: int) -> int:
    """The API's default batch size: 0.2% of the examples, 1..256."""
    return min(256, max(1, math.ceil(0.002 * n_examples)))


@dataclass(frozen=True)
class Pace:
    """A finished job's timing."""
    job_id: str
    steps: int
    wait_seconds: float  # created -> training started, and on to the first step's metrics
    seconds_per_step: float  # from the first step's metrics to finished


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else getattr(item, key, None)


def job_pace(job: Any, events: Iterable[Any]) -> Pace | None:
    """The timing of a succeeded job from its events; None when they do not tell it."""
    if _get(job, "status") != "succeeded" or not _get(job, "finished_at"):
        return None
    first_step, steps = None, 0
    for event in sorted(events, key=lambda e: _get(e, "created_at") or 0):
        data = _get(event, "data")
        if _get(event, "type") == "metrics" and isinstance(data, dict):
            steps = max(steps, int(data.get("total_steps") or data.get("step") or 0))
            if first_step is None:
                first_step = (_get(event, "created_at"), int(data.get("step") or 1))
    finished = _get(job, "finished_at")
    if first_step is None or steps <= first_step[1] or finished <= first_step[0]:
        return None
    at, step = first_step
    per_step = (finished - at) / (steps - step)
    return Pace(_get(job, "id"), steps, at - _get(job, "created_at") - step * per_step, per_step)


@dataclass(frozen=True)
class Forecast:
    training_tokens: int
    cost: float | None  # dollars; None when the model's training price is unknown
    epochs: int
    batch_size: int
    steps: int
    seconds: float | None  # None without a finished job to learn the pace from
    based_on: tuple[str, ...]  # the jobs the pace comes from


def forecast(*, examples: int, tokens_per_epoch: int, epochs: int, batch_size: int | None,
             price_per_million: float | None, paces: Iterable[Pace]) -> Forecast:
    batch = batch_size or auto_batch_size(examples)
    steps = math.ceil(examples / min(batch, max(examples, 1))) * epochs
    tokens = tokens_per_epoch * epochs
    cost = tokens * price_per_million / 1e6 if price_per_million is not None else None
    recent = list(paces)[:RECENT_JOBS]
    seconds = None
    if recent:
        per_step = statistics.median(p.seconds_per_step for p in recent)
        seconds = statistics.median(p.wait_seconds for p in recent) + steps * per_step
    return Forecast(tokens, cost, epochs, batch, steps, seconds, tuple(p.job_id for p in recent))


def eta(job: Any, events: Iterable[Any], now: float | None = None) -> float | None:
    """Seconds until a running job finishes: the provider's estimated_finish when it gives one,
    else the steps left at the pace of the steps so far."""
    now = time.time() if now is None else now
    estimated = _get(job, "estimated_finish")
    if estimated:
        return max(0.0, estimated - now)
    started, step, total = None, 0, 0
    for event in events:
        if (_get(event, "message") or "").startswith("Fine-tuning job started"):
            started = _get(event, "created_at")
        data = _get(event, "data")
        if _get(event, "type") == "metrics" and isinstance(data, dict):
            step = max(step, int(data.get("step") or 0))
            total = max(total, int(data.get("total_steps") or 0))
    if started is None or step <= 0 or total <= step or now <= started:
        return None
    return (now - started) / step * (total - step)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
