"""An eval described in a TOML file, for the headless command:

```toml
name = "sentiment"
threshold = 0.8          # every configuration's mean score (first grader) must reach it
concurrency = 4
repeats = 1

[dataset]
path = "reviews.jsonl"   # CSV or JSONL, relative to this file; or: sample = "sentiment"

[template]
endpoint = "completions" # or "chat", with system = "..." and user = "..."
prompt = "Review: {{review}}\\nSentiment:"
expected = "label"

[[configs]]
name = "base"
provider = "local"       # local, openai, azure, compatible
model = "local-text"
# base_url = "http://127.0.0.1:8000/v1"; api_key_env = "MY_KEY" (the key itself never goes in the file)
params = { temperature = 0, max_tokens = 2 }

[[graders]]
kind = "label"
labels = ["positive", "negative"]
```
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from playground.evals.config import EvalConfig, connection_from_spec
from playground.evals.dataset import Template, load_dataset, load_sample
from playground.evals.graders import Grader
from playground.evals.runner import DEFAULT_CONCURRENCY, Eval
from playground.providers import Connection

_TOP = {"name", "threshold", "concurrency", "repeats", "dataset", "template", "configs", "graders"}


class SpecError(ValueError):
    """A spec that cannot be run; the message names the part at fault."""


@dataclass
class Spec:
    eval: Eval
    threshold: float | None
    concurrency: int


def load_spec(path: Path | str, *, local: Callable[[], Connection] | None = None) -> Spec:
    """Read and check a spec file. `local` gives the local engine's connection for
    configurations with provider "local" and no base_url (started on demand)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"cannot read {path}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path} is not valid TOML: {exc}") from None
    return spec_from_dict(data, base_dir=path.parent, local=local)


def spec_from_dict(data: dict[str, Any], *, base_dir: Path = Path("."), local: Callable[[], Connection] | None = None) -> Spec:
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise SpecError(f"unknown top-level key {', '.join(unknown)}")
    dataset_part = data.get("dataset") or {}
    try:
        if "sample" in dataset_part:
            dataset = load_sample(str(dataset_part["sample"]))
        elif "path" in dataset_part:
            file = base_dir / str(dataset_part["path"])
            dataset = load_dataset(file.read_bytes(), file.name)
        else:
            raise SpecError("[dataset] needs path = \"FILE\" or sample = \"NAME\"")
    except OSError as exc:
        raise SpecError(f"[dataset]: cannot read {dataset_part.get('path')}: {exc.strerror}") from None
    except ValueError as exc:
        raise SpecError(f"[dataset]: {exc}") from None
    try:
        template = Template.from_json(data.get("template") or {})
    except ValueError as exc:
        raise SpecError(f"[template]: {exc}") from None
    configs = []
    for number, part in enumerate(data.get("configs") or [], 1):
        try:
            if "model" not in part:
                raise ValueError("needs model = \"...\"")
            connection_part = {k: v for k, v in part.items() if k not in ("name", "model", "params")}
            if connection_part.get("provider", "local") == "local" and not connection_part.get("base_url") and local is not None:
                connection = local()
            else:
                connection = connection_from_spec(connection_part)
            configs.append(EvalConfig(str(part["model"]), connection, dict(part.get("params") or {}), str(part.get("name") or "")))
        except ValueError as exc:
            raise SpecError(f"[[configs]] number {number}: {exc}") from None
    graders = []
    for number, part in enumerate(data.get("graders") or [], 1):
        try:
            graders.append(Grader.from_json(dict(part)))
        except (TypeError, ValueError) as exc:
            raise SpecError(f"[[graders]] number {number}: {exc}") from None
    ev = Eval(dataset, template, configs, graders, int(data.get("repeats", 1)), str(data.get("name") or dataset.name))
    problems = ev.problems()
    if problems:
        raise SpecError(" ".join(problems))
    threshold = data.get("threshold")
    if threshold is not None and not isinstance(threshold, (int, float)):
        raise SpecError("threshold must be a number from 0 to 1")
    return Spec(ev, None if threshold is None else float(threshold), int(data.get("concurrency", DEFAULT_CONCURRENCY)))


def below_threshold(ev: Eval, threshold: float | None) -> list[str]:
    """The configurations whose mean score (first grader) is below the threshold, or that
    have failed cells, each with its reason."""
    from playground.evals.report import summarize  # report imports the runner, as this module does

    failing = []
    for summary in summarize(ev):
        if summary.errors:
            failing.append(f"{summary.label}: {summary.errors} cells failed")
        interval = summary.scores[0] if summary.scores else None
        if threshold is not None and (interval is None or interval.mean < threshold):
            got = "no scores" if interval is None else f"{interval.mean:.3f}"
            failing.append(f"{summary.label}: mean {got} < threshold {threshold:g}")
    return failing
