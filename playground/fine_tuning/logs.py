"""Training logs from any trainer, read into the metrics frame (`metrics.COLUMNS`).

Formats:
- Hugging Face `trainer_state.json` (Transformers' Trainer, and TRL, Axolotl, Unsloth, which
  use it): `log_history` is a list of dicts, one per log call. Training entries carry `loss`,
  `grad_norm`, `learning_rate`, `epoch`, `step` (and `num_input_tokens_seen`,
  `mean_token_accuracy` when enabled); evaluation entries `eval_loss`, `eval_*`; the last entry
  is the run's summary (`train_runtime`, `train_loss` = the mean over the run), left out here.
  `eval_loss` is over the whole evaluation set: it goes to full_valid_loss.
- TensorBoard event files (`events.out.tfevents.*`), read with tensorboard's EventAccumulator.
  Tags as Hugging Face's callback writes them (`train/loss`, `eval/loss`, `train/epoch`, ...);
  scalars written as simple values (tensorboardX, torch) or as tensors (TF2 summaries).
- W&B run history exported as CSV: `run.history()` columns (`_step`, `train/loss`,
  `train/global_step`, `eval/loss`, ...) or a chart panel's "Export CSV" (`Step`, then
  `<run name> - <metric>` with `__MIN`/`__MAX` companions), which may hold several runs.
- OpenAI results files (`metrics.parse_results`).

A path is a file or a folder. A folder yields every log found up to MAX_DEPTH levels down:
the newest trainer_state.json of each output folder (the trainer writes one per
`checkpoint-N/` while it runs, and one at the top at the end), each folder of event files,
and each CSV. Reads are cached by the file's size and modification time, so following a
folder every few seconds re-reads only what changed; a file caught half-written keeps its
last good reading.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from playground.fine_tuning.metrics import MetricsError, known_columns, parse_results, to_frame

MAX_DEPTH = 4
MAX_ENTRIES = 5000  # folder entries looked at per scan: a path like / must not hang the page
EVENTS = "events.out.tfevents"
STATE = "trainer_state.json"
_CHECKPOINT_DIR = re.compile(r"^checkpoint-(\d+)$")
# Step columns, most specific first: Hugging Face's global step beats W&B's own row counter.
_STEP_KEYS = ("train/global_step", "trainer/global_step", "global_step", "step", "Step", "_step")


@dataclass(frozen=True)
class Checkpoint:
    step: int
    name: str  # a model id (OpenAI, local engine) or a folder (Hugging Face)
    model: str | None = None  # set when the provider serves it: then it can be tried
    valid_loss: float | None = None  # as the checkpoint reports it (OpenAI: full_valid_loss)


@dataclass
class Run:
    label: str
    source: str  # "trainer_state", "tensorboard", "wandb", "openai", "job"
    frame: pd.DataFrame
    checkpoints: list[Checkpoint] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- one file's content


def from_trainer_state(content: bytes | str, label: str = STATE, folder: Path | None = None) -> Run:
    """A Hugging Face trainer_state.json; `folder` (its output folder) adds the checkpoints on disk."""
    try:
        state = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MetricsError(f"This trainer_state.json is not valid JSON ({exc}).") from None
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list):
        raise MetricsError("This JSON has no 'log_history' list: it is not a trainer_state.json.")
    rows = [e for e in history if isinstance(e, dict) and "step" in e and "train_runtime" not in e]
    if not rows or not known_columns(set().union(*rows)):
        raise MetricsError("The log_history has no losses yet (the trainer logs every `logging_steps` steps).")
    run = Run(label, "trainer_state", to_frame(pd.DataFrame(rows)))
    best = state.get("best_model_checkpoint")
    if best:
        run.notes.append(f"The trainer's own best checkpoint ({state.get('best_metric')} by its metric_for_best_model): {best}")
    if folder is not None:
        run.checkpoints = [Checkpoint(step, str(path)) for step, path in checkpoint_dirs(folder)]
    return run


def from_tensorboard(path: Path, label: str | None = None) -> Run:
    """The event files of one folder (or one event file)."""
    from tensorboard.backend.event_processing import event_accumulator, tag_types
    from tensorboard.util import tensor_util

    accumulator = event_accumulator.EventAccumulator(
        str(path), size_guidance={tag_types.SCALARS: 0, tag_types.TENSORS: 0})
    try:
        accumulator.Reload()
    except Exception as exc:  # the reader raises its own types for damaged records
        raise MetricsError(f"The event file cannot be read: {type(exc).__name__}: {exc}") from None
    values: dict[str, dict[int, float]] = {}
    tags = accumulator.Tags()
    for tag in tags.get("scalars", []):
        values[tag] = {e.step: e.value for e in accumulator.Scalars(tag)}
    for tag in tags.get("tensors", []):
        points = {}
        for event in accumulator.Tensors(tag):
            array = tensor_util.make_ndarray(event.tensor_proto)
            if array.size == 1 and np.issubdtype(array.dtype, np.number):
                points[event.step] = float(array.reshape(()))
        if points:
            values.setdefault(tag, points)
    if not known_columns(values):
        found = ", ".join(sorted(values)[:12]) or "none"
        raise MetricsError(f"No training metrics among the event file's scalars (found: {found}). "
                           "Expected tags such as train/loss, eval/loss, loss, val_loss.")
    table = pd.DataFrame(values).rename_axis("step").reset_index()
    return Run(label or path.name, "tensorboard", to_frame(table))


def from_tensorboard_bytes(content: bytes, name: str) -> Run:
    """An uploaded event file: the reader wants a path, so it goes through a temporary file."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / (name if EVENTS in name else f"{EVENTS}.upload")
        target.write_bytes(content)
        return from_tensorboard(target, name)


def from_wandb_csv(content: bytes | str, label: str = "wandb") -> list[Run]:
    """A W&B export: a run's history, or a chart panel's CSV with one column group per run."""
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    try:
        table = pd.read_csv(io.StringIO(text.lstrip("\ufeff")))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise MetricsError(f"The CSV cannot be read: {exc}") from None
    table.columns = [str(c).strip() for c in table.columns]
    step_key = next((k for k in _STEP_KEYS if k in table.columns and table[k].notna().any()), None)
    if step_key is None:
        raise MetricsError("The CSV has no step column (train/global_step, _step or Step).")
    panel = [c for c in table.columns if " - " in c and not c.endswith(("__MIN", "__MAX"))]
    if panel:  # "<run> - <metric>" columns: one run per name
        names = dict.fromkeys(c.split(" - ", 1)[0] for c in panel)
        groups = {name: {c.split(" - ", 1)[1]: c for c in panel if c.startswith(f"{name} - ")} for name in names}
    else:
        groups = {label: {c: c for c in table.columns}}
    runs = []
    for name, columns in groups.items():
        if not known_columns(columns):
            continue
        part = pd.DataFrame({metric: table[column] for metric, column in columns.items() if metric != "step"})
        part["step"] = table[step_key]
        runs.append(Run(name, "wandb", to_frame(part)))
    if not runs:
        raise MetricsError("The CSV has no metric columns W&B's Hugging Face integration writes "
                           "(train/loss, eval/loss, train/learning_rate, ...).")
    return runs


def from_content(content: bytes, name: str) -> list[Run]:
    """An uploaded file of any supported format, told apart by its name and first bytes."""
    head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    if EVENTS in name or (not head[:1].isascii() or b"\x00" in content[:64]):
        return [from_tensorboard_bytes(content, name)]
    if head.startswith(b"{"):
        return [from_trainer_state(content, name)]
    if head.startswith(b"step") or not any(c in head for c in (b",", b"\n")):
        run = Run(name, "openai", parse_results(content))  # today's or legacy CSV, or its base64
        return [run]
    return from_wandb_csv(content, name)


# --------------------------------------------------------------------------- files and folders


def checkpoint_dirs(folder: Path) -> list[tuple[int, Path]]:
    """The `checkpoint-N` folders in a trainer's output folder, by step."""
    found = []
    try:
        for entry in os.scandir(folder):
            match = _CHECKPOINT_DIR.match(entry.name)
            if match and entry.is_dir():
                found.append((int(match.group(1)), Path(entry.path)))
    except OSError:
        return []
    return sorted(found)


def find_logs(root: Path) -> list[tuple[str, Path]]:
    """(kind, path) of every log under `root`: ("trainer_state", output folder's newest
    trainer_state.json), ("tensorboard", a folder of event files), ("csv", a file)."""
    states: dict[Path, Path] = {}  # output folder -> its newest trainer_state.json
    found: list[tuple[str, Path]] = []
    seen = 0
    for folder, dirs, files in os.walk(root):
        depth = len(Path(folder).relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")) if depth < MAX_DEPTH else []
        seen += len(dirs) + len(files)
        if seen > MAX_ENTRIES:
            break
        here = Path(folder)
        if STATE in files:
            output = here.parent if _CHECKPOINT_DIR.match(here.name) else here
            current = states.get(output)
            if current is None or _mtime(here / STATE) > _mtime(current):
                states[output] = here / STATE
        if any(EVENTS in f for f in files):
            found.append(("tensorboard", here))
        found.extend(("csv", here / f) for f in sorted(files) if f.endswith(".csv"))
    return [("trainer_state", path) for path in states.values()] + found


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _signature(path: Path) -> tuple[int, int]:
    """What changes when a trainer writes: sizes and times of the file, or of a folder's event files."""
    paths = [path] if path.is_file() else [p for p in path.iterdir() if EVENTS in p.name]
    total_size = total_time = 0
    for p in paths:
        try:
            stat = p.stat()
        except OSError:
            continue
        total_size += stat.st_size
        total_time = max(total_time, stat.st_mtime_ns)
    return total_size, total_time


_cache: dict[tuple[str, str], tuple[tuple[int, int], list[Run]]] = {}
MAX_CACHED = 64  # logs kept parsed; past that the cache starts afresh


def _read(kind: str, path: Path, root: Path) -> list[Run]:
    label = str(path.relative_to(root)) if path != root and path.is_relative_to(root) else path.name
    if kind == "trainer_state":
        output = path.parent.parent if _CHECKPOINT_DIR.match(path.parent.name) else path.parent
        name = str(output.relative_to(root)) if output != root and output.is_relative_to(root) else output.name
        return [from_trainer_state(path.read_bytes(), f"{name or output.name} · trainer_state", output)]
    if kind == "tensorboard":
        return [from_tensorboard(path, f"{label or path.name} · tensorboard")]
    return from_content(path.read_bytes(), label)


def load_path(path: str | Path) -> tuple[list[Run], list[str]]:
    """(runs, problems) of a file or folder on this machine; a problem is a sentence per log."""
    root = Path(path).expanduser()
    if not root.exists():
        return [], [f"{root}: no such file or folder on the server."]
    if root.is_dir():
        logs = find_logs(root)
        if not logs:
            return [], [f"{root}: no trainer_state.json, event file or CSV in it (looked {MAX_DEPTH} levels down). "
                        "It fills as soon as the trainer writes its first log."]
    elif root.name == STATE:
        logs = [("trainer_state", root)]
    elif EVENTS in root.name:
        logs = [("tensorboard", root)]
    else:
        logs = [("csv", root)]
    runs: list[Run] = []
    problems: list[str] = []
    for kind, log in logs:
        key = (kind, str(log))
        signature = _signature(log)
        cached = _cache.get(key)
        if cached and cached[0] == signature:
            runs.extend(cached[1])
            continue
        try:
            found = _read(kind, log, root if root.is_dir() else root.parent)
        except (OSError, MetricsError) as exc:
            if cached:  # caught half-written: keep the last good reading
                runs.extend(cached[1])
            else:
                problems.append(f"{log}: {exc}")
            continue
        if len(_cache) >= MAX_CACHED:
            _cache.clear()
        _cache[key] = (signature, found)
        runs.extend(found)
    return runs, problems
