"""Thin helpers over the SDK's files and fine-tuning calls, as the page uses them."""

from __future__ import annotations

import io
from typing import Any

import openai
import pandas as pd

from playground.fine_tuning.metrics import from_events, parse_results

ACTIVE = ("validating_files", "queued", "running")
# status -> (badge colour, icon) for st.badge
STATUS_BADGES = {
    "validating_files": ("blue", ":material/fact_check:"),
    "queued": ("gray", ":material/schedule:"),
    "running": ("orange", ":material/progress_activity:"),
    "succeeded": ("green", ":material/check_circle:"),
    "failed": ("red", ":material/error:"),
    "cancelled": ("gray", ":material/cancel:"),
}


def upload(client: openai.OpenAI, filename: str, content: bytes) -> Any:
    return client.files.create(file=(filename, io.BytesIO(content)), purpose="fine-tune")


def training_files(client: openai.OpenAI) -> list[Any]:
    """Files uploaded for fine-tuning, newest first."""
    return list(client.files.list(purpose="fine-tune").data)


def hyperparameter(value: int | float | None) -> int | float | str:
    return "auto" if value is None else value


def create_job(
    client: openai.OpenAI,
    *,
    model: str,
    training_file: str,
    validation_file: str | None = None,
    suffix: str | None = None,
    seed: int | None = None,
    n_epochs: int | None = None,
    batch_size: int | None = None,
    learning_rate_multiplier: float | None = None,
) -> Any:
    """A supervised job; None hyperparameters are "auto"."""
    extra: dict[str, Any] = {}
    if validation_file:
        extra["validation_file"] = validation_file
    if suffix:
        extra["suffix"] = suffix
    if seed is not None:
        extra["seed"] = seed
    hyper = {
        "n_epochs": hyperparameter(n_epochs),
        "batch_size": hyperparameter(batch_size),
        "learning_rate_multiplier": hyperparameter(learning_rate_multiplier),
    }
    return client.fine_tuning.jobs.create(
        model=model, training_file=training_file,
        method={"type": "supervised", "supervised": {"hyperparameters": hyper}}, **extra,
    )


def list_jobs(client: openai.OpenAI, limit: int = 50) -> list[Any]:
    return list(client.fine_tuning.jobs.list(limit=limit).data)


def retrieve(client: openai.OpenAI, job_id: str) -> Any:
    return client.fine_tuning.jobs.retrieve(job_id)


def cancel(client: openai.OpenAI, job_id: str) -> Any:
    return client.fine_tuning.jobs.cancel(job_id)


def events(client: openai.OpenAI, job_id: str, limit: int = 1000) -> list[Any]:
    """The job's events, oldest first (the API lists them newest first)."""
    return list(reversed(client.fine_tuning.jobs.list_events(job_id, limit=limit).data))


def checkpoints(client: openai.OpenAI, job_id: str) -> list[Any]:
    return list(client.fine_tuning.jobs.checkpoints.list(job_id).data)


def metrics_frame(client: openai.OpenAI, job: Any, job_events: list[Any] | None = None) -> pd.DataFrame:
    """The job's metrics: its results file when it has one, else its metrics events."""
    if job.result_files:
        return parse_results(client.files.content(job.result_files[0]).read())
    return from_events(job_events if job_events is not None else events(client, job.id))
