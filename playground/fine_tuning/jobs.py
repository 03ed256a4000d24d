"""Thin helpers over the SDK's files and fine-tuning calls, as the page uses them."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openai
import pandas as pd

from playground.fine_tuning.logs import Checkpoint, Run
from playground.fine_tuning.metrics import COLUMNS, from_events, parse_results, with_epochs
from playground.objects import read

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


def all_files(client: openai.OpenAI) -> list[Any]:
    """Every file of the account (training data, results, other purposes), newest first."""
    return list(client.files.list().data)


def file_content(client: openai.OpenAI, file_id: str) -> bytes:
    return client.files.content(file_id).read()


def delete_file(client: openai.OpenAI, file_id: str) -> bool:
    return bool(client.files.delete(file_id).deleted)


def fine_tuned_models(client: openai.OpenAI) -> list[Any]:
    """The account's fine-tuned models and checkpoints (ids starting with "ft:"), newest first."""
    models = [m for m in client.models.list().data if m.id.startswith("ft:")]
    return sorted(models, key=lambda m: m.created or 0, reverse=True)


def delete_model(client: openai.OpenAI, model: str) -> bool:
    return bool(client.models.delete(model).deleted)


def job_label(job: Any) -> str:
    """Tells jobs apart: the suffix (or base model), the id and the creation time; no status,
    which changes while the label is on screen."""
    created = dt.datetime.fromtimestamp(job.created_at).strftime("%Y-%m-%d %H:%M:%S") if read(job, "created_at") else "?"
    return f"{read(job, 'user_provided_suffix') or job.model} · {job.id} · {created}"


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
    """The job's metrics: its results file when it has one, completed by its metrics events
    (the file has no full_valid_* columns; the events of the epoch ends have them)."""
    job_events = job_events if job_events is not None else events(client, job.id)
    from_log = from_events(job_events)
    if not job.result_files:
        return from_log
    results = parse_results(client.files.content(job.result_files[0]).read())
    merged = results.set_index("step").combine_first(from_log.set_index("step")).reset_index()
    return merged[list(COLUMNS)]


def total_steps(job_events: list[Any]) -> int:
    steps = [e.data.get("total_steps") or e.data.get("step") or 0 for e in job_events
             if e.type == "metrics" and isinstance(e.data, dict)]
    return max(steps, default=0)


def job_run(client: openai.OpenAI, job: Any, job_events: list[Any] | None = None,
            job_checkpoints: list[Any] | None = None) -> Run:
    """A job's metrics as a run: epochs from its steps per epoch, tokens seen spread evenly over
    the steps (the API reports only the total), and its checkpoints with their whole-set loss."""
    job_events = job_events if job_events is not None else events(client, job.id)
    frame = metrics_frame(client, job, job_events)
    total = total_steps(job_events) or (int(frame["step"].max()) if not frame.empty else 0)
    epochs = read(job, "hyperparameters", "n_epochs")
    epochs = epochs if isinstance(epochs, int) else None
    if total and epochs:
        frame = with_epochs(frame, total / epochs)
    if total and job.trained_tokens:
        frame = frame.assign(tokens=frame["step"] * (job.trained_tokens / total))
    found = job_checkpoints if job_checkpoints is not None else checkpoints(client, job.id)
    saved = [Checkpoint(c.step_number, c.fine_tuned_model_checkpoint, c.fine_tuned_model_checkpoint,
                        getattr(c.metrics, "full_valid_loss", None) if c.metrics else None) for c in found]
    return Run(job_label(job), "job", frame, sorted(saved, key=lambda c: c.step))
