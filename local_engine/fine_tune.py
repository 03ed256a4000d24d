"""Fine-tuning jobs: real training of the local text model, one job at a time.

What training means for this model
----------------------------------
A fine-tuned model is the model it started from (local-text, or an earlier fine-tune) plus
two layers, applied in this order over its next-token distribution (`lm.TextModel`):

1. memory: a Witten-Bell n-gram model of the training completions (`lm.Adaptation`,
   contexts of up to ADAPT_ORDER - 1 = 7 tokens, weight = learning_rate_multiplier). It
   reproduces the wording of the examples where their context recurs exactly.
2. head (`local_engine.head`): a small network over the WordLlama embedding of the context
   and its last tokens, with a softmax over the tokens the completions use and a gate g,
   p = (1 - g) p_below + g q. This is the part that generalizes: a post worded unlike any
   training post still embeds near the training posts on its subject. It is trained by
   minibatch gradient descent (Adam, linear decay) on -ln p(target), with its content
   weights imprinted from the class means first (see `head.Head.initial`).

Only completion tokens are targets: the legacy `completion`, or each assistant message of a
chat example (`weight: 0` leaves it out); the prompt is context only. An example is
`[<|endoftext|>] + prompt + completion + [<|endoftext|>]`, tokenized exactly as the
completions/chat routes tokenize a request (chat through `chat_template`), so chat files train
the same way as prompt/completion files.

While training, p_below of a training example comes from a memory of the *other* FOLDS - 1
folds of the examples (cross-fitting): the head and its gate learn how far the memory can be
trusted on a prompt it has not seen, instead of learning to copy a memory that already holds
the answer. The served model's memory holds every example.

A training step takes the next `batch_size` examples (shuffled each epoch with the job's seed),
computes the current head's predictions on their completion tokens, reports

    train_loss                 = mean over the batch's completion tokens of -ln p(token)
    train_mean_token_accuracy  = fraction of those tokens that are the model's argmax
                                 (over the whole vocabulary)

(the loss that step minimizes, before its update), and then takes one gradient step. With a
validation file, each step also scores the next `batch_size` validation examples (valid_loss,
valid_mean_token_accuracy) and each epoch's end scores all of them (full_valid_loss,
full_valid_mean_token_accuracy), with the full memory: exactly the model a checkpoint serves.

The hyperparameters, for this model
-----------------------------------
- n_epochs: passes over the training data (gradient steps = n_epochs * ceil(n / batch_size)).
  "auto": 3 epochs, or more/fewer so that n_examples * n_epochs lands in [100, 25000]
  (clamped to 1..25), the rule of OpenAI's data-preparation cookbook.
- batch_size: examples per gradient step (the loss is the mean over their tokens). "auto":
  0.2% of the examples, clamped to 1..256 (OpenAI's rule).
- learning_rate_multiplier: Adam's step size is BASE_LEARNING_RATE (0.01) times it, decaying
  linearly to 0 over the job; it also weights the memory layer. "auto": 1.0.

Checkpoints (the last 3 epochs) are the head's weights at that step, saved beside the model.

Jobs and models on disk
-----------------------
`data_dir/fine_tuning/jobs/<job id>.json` (the job, its checkpoints) and `<job id>.events.jsonl`;
`data_dir/fine_tuning/models/<job id>[.ckpt-step-N].json` (the layers; the memory inline, each
head as `<that name>.head<i>.npz` beside it). Models
are re-registered at start-up. A job that was queued (or validating) when the engine
stopped is queued again; one that was running is marked failed ("the engine restarted
during training") — never left running.

Projects: a job, its result file and the models it makes belong to the project (the
request's OpenAI-Project header, `local_engine.projects`) that created the job, saved in the
job's and each model's JSON (none saved: the default project). Another project's job is
"not found", as another project's files and models are.

Model ids follow OpenAI's `ft:<base>:<org>:<suffix>:<id>` without the organisation (the
local engine has none): `ft:local-text:<suffix>:<job id>`, and the checkpoints
`ft:local-text:<suffix>:<job id>:ckpt-step-<N>` (the last 3 epochs, as OpenAI keeps 3).
The result file (purpose `fine-tune-results`, `step_metrics.csv`) is, like OpenAI's,
base64-encoded CSV with the columns `step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy`.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import logging
import math
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import chat_template, embedder, lm
from .engine import Engine, ModelCard
from .errors import APIError, invalid
from .files import new_id
from .head import BASE_LEARNING_RATE, Featurizer, Head, Positions, Trainer
from .jsonl import read_jsonl
from .projects import saved_owner, sees

log = logging.getLogger("local_engine.fine_tune")

BASE_MODEL = "local-text"
ADAPT_ORDER = 8
FOLDS = 5
MAX_TOTAL_PAUSE = 20.0  # seconds of watching pauses per job, whatever the number of steps
MAX_EXAMPLE_TOKENS = 8192  # the text routes' context window; longer examples are truncated
MIN_EXAMPLES = 10  # as the API requires
KEPT_CHECKPOINTS = 3
TARGET_EPOCHS, MIN_TARGET_EXAMPLES, MAX_TARGET_EXAMPLES = 3, 100, 25000
MIN_AUTO_EPOCHS, MAX_AUTO_EPOCHS = 1, 25
ACTIVE = ("validating_files", "queued", "running")
RESULT_COLUMNS = ("step", "train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy")


# --------------------------------------------------------------------------- hyperparameters


def auto_epochs(n_examples: int) -> int:
    if n_examples * TARGET_EPOCHS < MIN_TARGET_EXAMPLES:
        return min(MAX_AUTO_EPOCHS, max(MIN_AUTO_EPOCHS, MIN_TARGET_EXAMPLES // max(n_examples, 1)))
    if n_examples * TARGET_EPOCHS > MAX_TARGET_EXAMPLES:
        return max(MIN_AUTO_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return TARGET_EPOCHS


def auto_batch_size(n_examples: int) -> int:
    return min(256, max(1, math.ceil(0.002 * n_examples)))


def resolve_hyperparameters(requested: dict[str, Any], n_examples: int) -> dict[str, Any]:
    """'auto' (or missing) values replaced by the rules in the module docstring."""
    def pick(name: str, auto: Any) -> Any:
        value = requested.get(name, "auto")
        return auto if value in ("auto", None) else value

    return {
        "n_epochs": int(pick("n_epochs", auto_epochs(n_examples))),
        "batch_size": int(pick("batch_size", auto_batch_size(n_examples))),
        "learning_rate_multiplier": float(pick("learning_rate_multiplier", 1.0)),
    }


# --------------------------------------------------------------------------- examples


class BadFile(ValueError):
    """A training or validation file the job cannot use; the message names the line."""


@dataclass
class Example:
    context: list[int]  # [eot] + prompt tokens: conditioning only
    target: list[int]  # completion tokens + [eot]: what is trained and scored

    @property
    def tokens(self) -> list[int]:
        return self.context + self.target


def _chat_examples(row: dict[str, Any], number: int, encoding) -> tuple[list[Example], int]:
    messages = row["messages"]
    if not isinstance(messages, list) or not messages:
        raise BadFile(f"line {number}: 'messages' must be a non-empty array of messages")
    if row.get("tools") or row.get("functions"):
        raise BadFile(f"line {number}: tools and functions cannot be trained: the local text model has no tool calling")
    for i, message in enumerate(messages):
        try:
            text = chat_template.message_text(message, i)
        except APIError as exc:
            raise BadFile(f"line {number}: {exc.message}") from None
        if not text.strip() and message.get("role") != "assistant":
            raise BadFile(f"line {number}: messages[{i}] ({message['role']}) has empty content")
    eot = encoding.eot_token
    examples = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        weight = message.get("weight", 1)
        if weight not in (0, 1):
            raise BadFile(f"line {number}: messages[{i}].weight must be 0 or 1")
        text = chat_template.message_text(message, i)
        if weight == 0:
            continue
        if not text.strip():
            raise BadFile(f"line {number}: messages[{i}] (assistant) has empty content")
        prompt = chat_template.render(messages[:i])
        examples.append(Example(
            [eot, *encoding.encode(prompt, disallowed_special=())],
            [*encoding.encode(text, disallowed_special=()), eot],
        ))
    if not examples:
        raise BadFile(f"line {number}: no assistant message to train on (add one, with weight 1)")
    full = chat_template.render(messages)[: -len(chat_template.REPLY_PREFIX)]
    return examples, len(encoding.encode(full, disallowed_special=()))


def _legacy_example(row: dict[str, Any], number: int, encoding) -> tuple[list[Example], int]:
    prompt, completion = row.get("prompt"), row.get("completion")
    if not isinstance(prompt, str):
        raise BadFile(f"line {number}: 'prompt' must be a string")
    if not isinstance(completion, str) or not completion:
        raise BadFile(f"line {number}: 'completion' must be a non-empty string")
    eot = encoding.eot_token
    p = encoding.encode(prompt, disallowed_special=())
    c = encoding.encode(completion, disallowed_special=())
    return [Example([eot, *p], [*c, eot])], len(p) + len(c)


def parse_examples(content: bytes, encoding) -> tuple[list[Example], int, int]:
    """(examples, number of lines, billed tokens per epoch) of a JSONL training file."""
    try:
        rows = read_jsonl(content)
    except ValueError as exc:
        raise BadFile(str(exc)) from None
    examples: list[Example] = []
    lines = tokens = 0
    kinds: set[str] = set()
    for number, row in rows:
        if "messages" in row:
            kind, (found, count) = "chat", _chat_examples(row, number, encoding)
        elif "prompt" in row or "completion" in row:
            kind, (found, count) = "prompt/completion", _legacy_example(row, number, encoding)
        else:
            raise BadFile(f"line {number}: expected a 'messages' array (chat) or 'prompt' and 'completion' strings")
        kinds.add(kind)
        if len(kinds) > 1:
            raise BadFile(f"line {number}: the file mixes the chat and the prompt/completion formats; use one")
        for example in found:
            if len(example.tokens) > MAX_EXAMPLE_TOKENS:
                cut = max(MAX_EXAMPLE_TOKENS - len(example.context), 1)
                example.target = example.target[:cut]
        examples.extend(found)
        lines += 1
        tokens += count
    if lines == 0:
        raise BadFile("the file holds no examples")
    return examples, lines, tokens


# --------------------------------------------------------------------------- jobs


def _ns() -> int:
    return time.time_ns()


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


class Cancelled(Exception):
    pass


class FineTuning:
    """The jobs, their events and checkpoints, the fine-tuned models, and the one worker."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.files = engine.files
        root = Path(engine.config.data_dir) / "fine_tuning"
        self.jobs_dir, self.models_dir = root / "jobs", root / "models"
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._jobs: dict[str, dict[str, Any]] = {}  # id -> {"job", "checkpoints", "created_ns"}
        self._events: dict[str, list[dict[str, Any]]] = {}  # oldest first
        self._cancel: dict[str, threading.Event] = {}
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._load_models()
        self._load_jobs()
        self._worker = threading.Thread(target=self._work, name="fine-tuning", daemon=True)
        self._worker.start()

    # -- start-up and shutdown ---------------------------------------------------------------

    def _load_models(self) -> None:
        base = self.engine.card(BASE_MODEL, "text", project=None).served_by
        for path in sorted(self.models_dir.glob("*.json")):
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
                layers: list = []
                for a in saved["adaptations"]:
                    layers.append(self._layer(a, base.with_adaptations(layers)))
            except (OSError, ValueError, KeyError) as exc:
                log.warning("ignoring damaged model file %s: %s", path, exc)
                continue
            self.engine.register(ModelCard(
                saved["id"], kind="text", owned_by=saved.get("owned_by", "user"), created=saved["created"],
                served_by=base.with_adaptations(layers), project=saved_owner(saved),
            ))

    def _layer(self, saved: dict[str, Any], below: lm.TextModel) -> lm.Adaptation | Head:
        """One saved layer; `below` is the model under it (a head reads its probabilities)."""
        if saved.get("kind") == "head":
            head = Head.load(self.models_dir / Path(saved["file"]).name, _featurizer(below))
            head.below = below
            return head
        return lm.Adaptation.from_json(saved)

    def _load_jobs(self) -> None:
        entries = []
        for path in self.jobs_dir.glob("ftjob-*.json"):
            try:
                entries.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                log.warning("ignoring damaged job file %s", path)
        for entry in sorted(entries, key=lambda e: e["created_ns"]):
            job_id = entry["job"]["id"]
            entry["project"] = saved_owner(entry)
            self._jobs[job_id] = entry
            self._cancel[job_id] = threading.Event()
            events_path = self.jobs_dir / f"{job_id}.events.jsonl"
            events = []
            if events_path.exists():
                for line in events_path.read_text(encoding="utf-8").splitlines():
                    try:
                        events.append(json.loads(line))
                    except ValueError:
                        pass  # a line cut short by a crash
            self._events[job_id] = events
            status = entry["job"]["status"]
            if status == "running":
                self._fail(job_id, "engine_restarted", "The engine restarted during training; start a new job.", None)
            elif status in ("validating_files", "queued"):
                entry["job"]["status"] = "validating_files"  # its files are checked again
                self._save(job_id)
                self._event(job_id, "The engine restarted; the job is queued again.")
                self._start_validation(job_id)

    def shutdown(self) -> None:
        for event in self._cancel.values():
            event.set()  # ends the pause after a step at once; a running job is failed at next start
        self._queue.put(None)

    # -- persistence -------------------------------------------------------------------------

    def _save(self, job_id: str) -> None:
        _write_json(self.jobs_dir / f"{job_id}.json", self._jobs[job_id])

    def _event(self, job_id: str, message: str, level: str = "info", data: dict | None = None,
               kind: str = "message") -> None:
        event = {
            "object": "fine_tuning.job.event", "id": new_id("ftevent-"), "created_at": int(time.time()),
            "level": level, "message": message, "data": data or {}, "type": kind,
        }
        with self._lock:
            self._events[job_id].append(event)
            with open(self.jobs_dir / f"{job_id}.events.jsonl", "a", encoding="utf-8") as out:
                out.write(json.dumps(event) + "\n")

    def _update(self, job_id: str, **fields: Any) -> None:
        with self._lock:
            self._jobs[job_id]["job"].update(fields)
            self._save(job_id)

    def _fail(self, job_id: str, code: str, message: str, param: str | None) -> None:
        self._update(job_id, status="failed", finished_at=int(time.time()), estimated_finish=None,
                     error={"code": code, "message": message, "param": param})
        self._event(job_id, message, level="error")

    # -- the API -----------------------------------------------------------------------------

    def create(self, body: dict[str, Any], project: str) -> dict[str, Any]:
        request = _check_create(body, self.engine, self.files, project)
        job_id = new_id("ftjob-")
        hyper = request["hyperparameters"]
        job = {
            "object": "fine_tuning.job",
            "id": job_id,
            "model": request["model"],
            "created_at": int(time.time()),
            "finished_at": None,
            "fine_tuned_model": None,
            "organization_id": "org-local",
            "result_files": [],
            "status": "validating_files",
            "validation_file": request["validation_file"],
            "training_file": request["training_file"],
            "hyperparameters": dict(hyper),
            "trained_tokens": None,
            "error": None,
            "user_provided_suffix": request["suffix"],
            "seed": request["seed"],
            "estimated_finish": None,
            "integrations": [],
            "method": {"type": "supervised", "supervised": {"hyperparameters": dict(hyper)}},
            "metadata": request["metadata"],
        }
        with self._lock:
            self._jobs[job_id] = {"job": job, "checkpoints": [], "created_ns": _ns(), "project": project}
            self._events[job_id] = []
            self._cancel[job_id] = threading.Event()
            self._save(job_id)
        self._event(job_id, f"Created fine-tuning job: {job_id}")
        created = self._job(job_id)  # a copy: validation changes the stored job at once
        self._start_validation(job_id)
        return created

    def get(self, job_id: str, project: str) -> dict[str, Any]:
        """The job (a copy), if `project` may see it; else the API's 404."""
        with self._lock:
            entry = self._jobs.get(job_id)
            if entry is None or not sees(project, entry["project"]):
                raise APIError(404, f"No such fine-tuning job: {job_id}", param="fine_tuning_job_id",
                               code="fine_tuning_job_not_found")
            return json.loads(json.dumps(entry["job"]))

    def _job(self, job_id: str) -> dict[str, Any]:
        """The job (a copy), for the work done on it."""
        with self._lock:
            return self.get(job_id, self._jobs[job_id]["project"])

    def list(self, project: str, after: str | None, limit: int) -> dict[str, Any]:
        with self._lock:
            jobs = [e["job"] for e in reversed(self._jobs.values()) if sees(project, e["project"])]  # newest first
            return json.loads(json.dumps(_page(jobs, after, limit)))  # a copy: the worker updates jobs

    def cancel(self, job_id: str, project: str) -> dict[str, Any]:
        with self._lock:
            job = self.get(job_id, project)
            if job["status"] not in ACTIVE:
                raise invalid(f"Job {job_id} has already {job['status']}; only a job that has not "
                              "finished can be cancelled.", "fine_tuning_job_id")
            self._cancel[job_id].set()
            self._update(job_id, status="cancelled", finished_at=int(time.time()), estimated_finish=None)
        self._event(job_id, "Fine-tuning job cancelled")
        return self._job(job_id)

    def events(self, job_id: str, project: str, after: str | None, limit: int) -> dict[str, Any]:
        self.get(job_id, project)
        with self._lock:
            events = list(reversed(self._events[job_id]))  # newest first, as the API
        page = _page(events, after, limit)
        return {"object": "list", "data": page["data"], "has_more": page["has_more"]}

    def checkpoints(self, job_id: str, project: str, after: str | None, limit: int) -> dict[str, Any]:
        self.get(job_id, project)
        with self._lock:
            checkpoints = list(reversed(self._jobs[job_id]["checkpoints"]))
        return _page(checkpoints, after, limit)

    def delete_model(self, model_id: str, project: str) -> dict[str, Any]:
        card = self.engine.card(model_id, project=project)
        paths = [p for p in self.models_dir.glob("*.json") if _saved_id(p) == model_id]
        if not paths:
            raise APIError(403, f"You cannot delete the model `{card.id}`: only fine-tuned models can be deleted.",
                           param="model", code="model_not_deletable", type="invalid_request_error")
        for path in paths:
            for head in self.models_dir.glob(f"{path.stem}.head*.npz"):
                head.unlink(missing_ok=True)
            path.unlink(missing_ok=True)
        self.engine.unregister(model_id)
        return {"id": model_id, "object": "model", "deleted": True}

    # -- the work ----------------------------------------------------------------------------

    def _start_validation(self, job_id: str) -> None:
        threading.Thread(target=self._validate, args=(job_id,), name=f"validate-{job_id}", daemon=True).start()

    def _validate(self, job_id: str) -> None:
        job = self._job(job_id)
        base = self.engine.card(BASE_MODEL, "text", project=None).served_by
        self._event(job_id, f"Validating training file: {job['training_file']}"
                    + (f" and validation file: {job['validation_file']}" if job["validation_file"] else ""))
        try:
            train, lines, tokens = self._examples(job_id, "training_file", base.encoding)
            if lines < MIN_EXAMPLES:
                raise _JobError("invalid_n_examples", f"Training file has {lines} example(s), but must have at "
                                f"least {MIN_EXAMPLES} examples.", "training_file")
            if job["validation_file"]:
                self._examples(job_id, "validation_file", base.encoding)
        except _JobError as exc:
            if self._job(job_id)["status"] == "validating_files":
                self._fail(job_id, exc.code, exc.message, exc.param)
            return
        hyper = resolve_hyperparameters(job["hyperparameters"], lines)
        with self._lock:
            if self._job(job_id)["status"] != "validating_files":
                return  # cancelled meanwhile
            self._update(job_id, status="queued", hyperparameters=hyper,
                         method={"type": "supervised", "supervised": {"hyperparameters": hyper}})
        self._event(job_id, "Files validated, moving job to queued state")
        self._queue.put(job_id)

    def _examples(self, job_id: str, param: str, encoding) -> tuple[list[Example], int, int]:
        """The examples of the job's training or validation file (`param`), read in the job's project."""
        with self._lock:
            file_id, project = self._jobs[job_id]["job"][param], self._jobs[job_id]["project"]
        try:
            content = self.files.content(file_id, project)
        except APIError:
            raise _JobError(f"invalid_{param}", f"The {param.replace('_', ' ')} {file_id} was deleted.", param) from None
        try:
            return parse_examples(content, encoding)
        except BadFile as exc:
            what = "training" if param == "training_file" else "validation"
            raise _JobError(f"invalid_{param}", f"The job failed due to an invalid {what} file ({file_id}): {exc}.",
                            param) from None

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            if self._job(job_id)["status"] != "queued":
                continue
            try:
                self._train(job_id)
            except Cancelled:
                pass
            except _JobError as exc:
                self._fail(job_id, exc.code, exc.message, exc.param)
            except Exception as exc:  # a bug must not leave the job running forever
                log.exception("fine-tuning job %s failed", job_id)
                self._fail(job_id, "server_error", f"The local engine failed while training: {type(exc).__name__}: {exc}", None)

    def _train(self, job_id: str) -> None:
        job = self._job(job_id)
        project = self._jobs[job_id]["project"]
        cancel = self._cancel[job_id]
        try:
            base = self.engine.card(job["model"], "text", project=project).served_by
        except APIError:
            raise _JobError("model_not_available", f"The base model {job['model']} was deleted.", "model") from None
        train, _, tokens = self._examples(job_id, "training_file", base.encoding)
        valid = self._examples(job_id, "validation_file", base.encoding)[0] if job["validation_file"] else []
        hyper = job["hyperparameters"]
        epochs, lr = hyper["n_epochs"], hyper["learning_rate_multiplier"]
        batch = min(hyper["batch_size"], len(train))
        per_epoch = math.ceil(len(train) / batch)
        total = per_epoch * epochs
        # Pauses (to watch a job) add up to at most MAX_TOTAL_PAUSE seconds.
        pace = min(float(self.engine.config.fine_tune_pace), MAX_TOTAL_PAUSE / total)
        rng = np.random.default_rng(job["seed"])
        with self._lock:
            if cancel.is_set():
                raise Cancelled
            self._update(job_id, status="running")
        self._event(job_id, f"Fine-tuning job started: {len(train)} training sequences, {epochs} epochs, "
                            f"batch size {batch}, {total} steps")
        started = time.monotonic()
        memory = _memory(train, lr)
        below, train_pos, valid_pos, outputs = _positions(base, memory, train, valid, rng, cancel)
        head = Head.initial(outputs, train_pos.x, train_pos.target, job["seed"])
        head.featurizer = _featurizer(base)
        head.below = base.with_adaptations([*below, memory])
        trainer = Trainer(head, BASE_LEARNING_RATE * lr, total)
        rows: list[dict[str, Any]] = []
        step = 0
        for epoch in range(epochs):
            order = rng.permutation(len(train))
            for b in range(per_epoch):
                if cancel.is_set():
                    raise Cancelled
                step += 1
                chosen = order[b * batch:(b + 1) * batch]
                loss, accuracy = trainer.step(train_pos.take(chosen))
                metrics: dict[str, Any] = {"step": step, "train_loss": loss, "train_mean_token_accuracy": accuracy}
                if valid:
                    start = ((step - 1) * batch) % len(valid)
                    window = np.array([(start + i) % len(valid) for i in range(min(batch, len(valid)))])
                    metrics["valid_loss"], metrics["valid_mean_token_accuracy"] = trainer.evaluate(valid_pos.take(window))
                epoch_end = b == per_epoch - 1
                if epoch_end and valid:
                    metrics["full_valid_loss"], metrics["full_valid_mean_token_accuracy"] = trainer.evaluate(valid_pos)
                metrics["total_steps"] = total
                rows.append(metrics)
                self._event(job_id, _metrics_message(metrics), data=metrics, kind="metrics")
                if epoch_end and epoch >= epochs - KEPT_CHECKPOINTS:
                    self._checkpoint(job_id, job, [*below, memory, head.copy()], step, metrics,
                                     final=epoch == epochs - 1, project=project)
                elapsed = time.monotonic() - started
                with self._lock:
                    if cancel.is_set():
                        raise Cancelled
                    self._update(job_id, estimated_finish=int(time.time() + elapsed / step * (total - step)))
                if pace > 0 and step < total and cancel.wait(pace):
                    raise Cancelled
        result = self.files.add(base64.b64encode(_results_csv(rows).encode()), "step_metrics.csv", "fine-tune-results",
                                project)
        with self._lock:
            if cancel.is_set():
                raise Cancelled
            self._update(job_id, status="succeeded", finished_at=int(time.time()), estimated_finish=None,
                         fine_tuned_model=model_id(job), result_files=[result["id"]], trained_tokens=tokens * epochs)
        self._event(job_id, f"New fine-tuned model created: {model_id(job)}")
        self._event(job_id, "The job has successfully completed")

    def _checkpoint(self, job_id: str, job: dict, layers: list, step: int, metrics: dict, final: bool,
                    project: str) -> None:
        base = self.engine.card(BASE_MODEL, "text", project=None).served_by
        served = base.with_adaptations(layers)
        ids = [(f"{model_id(job)}:ckpt-step-{step}", f"{job_id}.ckpt-step-{step}.json")]
        if final:
            ids.append((model_id(job), f"{job_id}.json"))
        created = int(time.time())
        for model, filename in ids:
            self._save_model(filename, {"id": model, "created": created, "job": job_id, "owned_by": "user",
                                        "project": project}, layers)
            self.engine.register(ModelCard(model, kind="text", owned_by="user", created=created, served_by=served,
                                           project=project))
        checkpoint = {
            "object": "fine_tuning.job.checkpoint", "id": new_id("ftckpt_"), "created_at": created,
            "fine_tuned_model_checkpoint": ids[0][0], "fine_tuning_job_id": job_id, "step_number": step,
            "metrics": {k: v for k, v in metrics.items() if k != "total_steps"},
        }
        with self._lock:
            self._jobs[job_id]["checkpoints"].append(checkpoint)
            self._save(job_id)
        self._event(job_id, f"Checkpoint created at step {step}")

    def _save_model(self, filename: str, meta: dict[str, Any], layers: list) -> None:
        """The model's JSON (its layers in order); each head's weights beside it as .npz."""
        saved = []
        stem = filename.removesuffix(".json")
        for i, layer in enumerate(layers):
            if isinstance(layer, Head):
                name = f"{stem}.head{i}.npz"
                layer.save(self.models_dir / name)
                saved.append({"kind": "head", "file": name})
            else:
                saved.append(layer.to_json())
        _write_json(self.models_dir / filename, {**meta, "adaptations": saved})


# --------------------------------------------------------------------------- training data


def _featurizer(model: lm.TextModel) -> Featurizer:
    return Featurizer(model.encoding, embedder.base_embedder())


def _memory(train: list[Example], weight: float) -> lm.Adaptation:
    """The Witten-Bell layer of the training completions (see the module docstring)."""
    return lm.Adaptation([e.tokens for e in train], weight, ADAPT_ORDER, train_from=[len(e.context) for e in train])


def _positions(base: lm.TextModel, memory: lm.Adaptation, train: list[Example], valid: list[Example],
               rng: np.random.Generator, cancel: threading.Event) -> tuple[list, Positions, Positions, np.ndarray]:
    """The layers below the head, and the training and validation positions.

    A training position's p_below comes from the base and a Witten-Bell layer of the *other*
    folds' examples (FOLDS-fold cross-fitting): the head learns how far to trust that layer on
    prompts it has not memorized. Validation positions see the layer of all training examples,
    exactly as the fine-tuned model will.
    """
    below = list(base.adaptations)
    outputs = np.unique(np.fromiter((t for e in train for t in e.target), dtype=np.int64))
    folds = min(FOLDS, len(train))
    fold_of = rng.permutation(len(train)) % folds
    models = []
    for f in range(folds):
        others = [i for i in range(len(train)) if fold_of[i] != f]
        layer = lm.Adaptation([train[i].tokens for i in others], memory.weight, ADAPT_ORDER,
                              train_from=[len(train[i].context) for i in others])
        models.append(base.with_adaptations([*below, layer]))
    train_pos = _collect([(models[fold_of[i]], e) for i, e in enumerate(train)], outputs, base, cancel)
    full = base.with_adaptations([*below, memory])
    valid_pos = _collect([(full, e) for e in valid], outputs, base, cancel)
    return below, train_pos, valid_pos, outputs


def _collect(pairs: list[tuple[lm.TextModel, Example]], outputs: np.ndarray, base: lm.TextModel,
             cancel: threading.Event) -> Positions:
    contexts, fields = [], {k: [] for k in ("p_target", "p_outputs", "p_best", "best", "target_id", "example")}
    index = {int(t): i for i, t in enumerate(outputs.tolist())}
    for n, (model, ex) in enumerate(pairs):
        if cancel.is_set():
            raise Cancelled
        context = list(ex.context)
        for token in ex.target:
            probs = model.next_dist(context).probs
            contexts.append(list(context))
            best = int(np.argmax(probs))
            for key, value in (("p_target", probs[token]), ("p_outputs", probs[outputs]), ("p_best", probs[best]),
                               ("best", best), ("target_id", token), ("example", n)):
                fields[key].append(value)
            context.append(token)
    x, b1, b2 = _featurizer(base)(contexts) if contexts else (np.zeros((0, 512), np.float32),) + (np.zeros(0, np.int64),) * 2
    target = np.array([index.get(int(t), -1) for t in fields["target_id"]], dtype=np.int64)
    p_outputs = np.array(fields["p_outputs"], dtype=np.float32).reshape(len(target), len(outputs))
    return Positions(x, b1, b2, target, np.array(fields["p_target"], np.float64), p_outputs,
                     np.array(fields["p_best"], np.float64), np.array(fields["best"], np.int64),
                     np.array(fields["target_id"], np.int64), np.array(fields["example"], np.int64))


class _JobError(Exception):
    def __init__(self, code: str, message: str, param: str | None) -> None:
        super().__init__(message)
        self.code, self.message, self.param = code, message, param


def model_id(job: dict[str, Any]) -> str:
    return f"ft:{BASE_MODEL}:{job['user_provided_suffix'] or ''}:{job['id']}"


def _saved_id(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))["id"]
    except (OSError, ValueError, KeyError):
        return None


def _metrics_message(m: dict[str, Any]) -> str:
    text = f"Step {m['step']}/{m['total_steps']}: training loss={m['train_loss']:.4f}"
    if "valid_loss" in m:
        text += f", validation loss={m['valid_loss']:.4f}"
    if "full_valid_loss" in m:
        text += f", full validation loss={m['full_valid_loss']:.4f}"
    return text


def _results_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    keys = ("step", "train_loss", "train_mean_token_accuracy", "valid_loss", "valid_mean_token_accuracy")
    for row in rows:
        writer.writerow([row["step"], *(f"{row[k]:.6g}" if k in row else "" for k in keys[1:])])
    return out.getvalue()


def _page(items: list[dict[str, Any]], after: str | None, limit: int) -> dict[str, Any]:
    if after is not None:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1:] if after in ids else []
    page = items[:limit]
    return {"object": "list", "data": page, "has_more": len(items) > limit,
            "first_id": page[0]["id"] if page else None, "last_id": page[-1]["id"] if page else None}


# --------------------------------------------------------------------------- request checks

_CREATE_FIELDS = {"model", "training_file", "validation_file", "hyperparameters", "suffix", "seed", "method",
                  "metadata", "integrations"}
_LIMITS = {"n_epochs": (int, 1, 50), "batch_size": (int, 1, 256), "learning_rate_multiplier": (float, 0, None)}
_SUFFIX_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _check_hyperparameters(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid(f"Invalid type for '{where}': expected an object.", where)
    out = {}
    for name, v in value.items():
        if name not in _LIMITS:
            raise invalid(f"Unrecognized hyperparameter: '{where}.{name}'. Supported: n_epochs, batch_size, "
                          "learning_rate_multiplier.", f"{where}.{name}")
        kind, low, high = _LIMITS[name]
        if v == "auto":
            out[name] = "auto"
            continue
        ok_type = isinstance(v, (int, float)) and not isinstance(v, bool) and (kind is float or float(v).is_integer())
        if not ok_type:
            raise invalid(f"Invalid value for '{where}.{name}': expected 'auto' or "
                          f"{'an integer' if kind is int else 'a number'}, got {v!r}.", f"{where}.{name}")
        if (kind is int and not low <= v <= high) or (kind is float and v <= low):
            bound = f"between {low} and {high}" if high else f"greater than {low}"
            raise invalid(f"Invalid value for '{where}.{name}': expected a value {bound}, got {v!r}.", f"{where}.{name}")
        out[name] = kind(v)
    return out


def _check_file(files, file_id: Any, param: str, project: str) -> str | None:
    if file_id is None:
        if param == "training_file":
            raise invalid("Missing required parameter: 'training_file'.", param)
        return None
    if not isinstance(file_id, str):
        raise invalid(f"Invalid type for '{param}': expected a file id string.", param)
    try:
        meta = files.get(file_id, project)
    except APIError:
        raise invalid(f"invalid {param}: {file_id} (no such file; upload it with purpose 'fine-tune').", param,
                      code="invalid_file") from None
    if meta["purpose"] != "fine-tune":
        raise invalid(f"File {file_id} has purpose '{meta['purpose']}': fine-tuning files must be uploaded with "
                      "purpose 'fine-tune'.", param, code="invalid_file_purpose")
    return file_id


def _check_create(body: Any, engine: Engine, files, project: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    for name in body:
        if name not in _CREATE_FIELDS:
            raise invalid(f"Unrecognized request argument supplied: {name}", name)
    model = body.get("model")
    if model is None:
        raise invalid("Missing required parameter: 'model'.", "model")
    if not isinstance(model, str):
        raise invalid("Invalid type for 'model': expected a string.", "model")
    tunable = model == BASE_MODEL or model.startswith(f"ft:{BASE_MODEL}:")
    try:
        engine.card(model, "text", project=project)
    except APIError:
        tunable = False
    if not tunable:
        raise invalid(f"Model {model} is not available for fine-tuning or does not exist. The local engine "
                      f"fine-tunes {BASE_MODEL} and the models fine-tuned from it.", "model", code="model_not_available")
    training = _check_file(files, body.get("training_file"), "training_file", project)
    validation = _check_file(files, body.get("validation_file"), "validation_file", project)
    hyper = _check_hyperparameters(body.get("hyperparameters"), "hyperparameters")
    method = body.get("method")
    if method is not None:
        if not isinstance(method, dict):
            raise invalid("Invalid type for 'method': expected an object.", "method")
        if method.get("type") != "supervised":
            raise invalid(f"Invalid value for 'method.type': {method.get('type')!r}. The local engine supports only "
                          "'supervised' fine-tuning.", "method.type")
        from_method = _check_hyperparameters((method.get("supervised") or {}).get("hyperparameters"),
                                             "method.supervised.hyperparameters")
        if hyper and from_method:
            raise invalid("Give the hyperparameters either in 'hyperparameters' (deprecated) or in "
                          "'method.supervised.hyperparameters', not both.", "hyperparameters")
        hyper = hyper or from_method
    suffix = body.get("suffix")
    if suffix is not None:
        if not isinstance(suffix, str) or not 1 <= len(suffix) <= 64:
            raise invalid("Invalid value for 'suffix': expected a string of 1 to 64 characters.", "suffix")
        if not set(suffix) <= _SUFFIX_CHARS:
            raise invalid("Invalid value for 'suffix': use letters, digits, '-', '_' and '.' only (it becomes "
                          "part of the model id, whose parts are separated by ':').", "suffix")
    seed = body.get("seed")
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= 2147483647:
        raise invalid(f"Invalid value for 'seed': expected an integer between 0 and 2147483647, got {seed!r}.", "seed")
    metadata = body.get("metadata")
    if metadata is not None and not (isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())):
        raise invalid("Invalid type for 'metadata': expected an object of string values.", "metadata")
    if body.get("integrations"):
        raise invalid("Integrations (Weights and Biases) are not available on the local engine.", "integrations")
    return {
        "model": model, "training_file": training, "validation_file": validation,
        "hyperparameters": {k: hyper.get(k, "auto") for k in _LIMITS},
        "suffix": suffix, "seed": seed, "metadata": metadata,
    }
