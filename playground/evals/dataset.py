"""An eval's dataset and its prompt template.

A dataset is a table of rows (CSV with a header, or JSONL of objects); each row's columns
fill the `{{name}}` variables of the template, and one column holds the expected answer.
The template is a completion prompt, or chat messages: a system message and a user message.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Literal

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
SAMPLES = {
    "sentiment": "Sentiment labels (classification, 24 rows)",
    "arithmetic": "Small sums (short answers, 20 rows)",
}
MAX_ROWS = 10_000
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_ \-]*?)\s*\}\}")


class DatasetError(ValueError):
    """A file that cannot be read as a dataset; the message says where and why."""


@dataclass
class Dataset:
    columns: list[str]
    rows: list[dict[str, str]]
    name: str = "dataset"

    def __len__(self) -> int:
        return len(self.rows)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "columns": self.columns, "rows": self.rows}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dataset:
        return cls(list(data["columns"]), [dict(r) for r in data["rows"]], data.get("name", "dataset"))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)


def load_dataset(content: bytes | str, filename: str) -> Dataset:
    """A CSV (header row first) or JSONL (one object a line) file as a Dataset."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DatasetError(f"{filename} is not UTF-8 text (byte {exc.start}).") from None
    name = Path(filename).stem or "dataset"
    if filename.lower().endswith((".jsonl", ".json", ".ndjson")):
        dataset = _load_jsonl(content, name)
    else:
        dataset = _load_csv(content, name, "\t" if filename.lower().endswith(".tsv") else ",")
    if not dataset.rows:
        raise DatasetError(f"{filename} has no rows.")
    if len(dataset.rows) > MAX_ROWS:
        raise DatasetError(f"{filename} has {len(dataset.rows):,} rows; an eval takes at most {MAX_ROWS:,}.")
    return dataset


def json_object_lines(content: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of JSON Lines; DatasetError names the first bad line."""
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"line {number}: not JSON ({exc.msg}).") from None
        if not isinstance(data, dict):
            raise DatasetError(f"line {number}: a JSON object is needed, not {type(data).__name__}.")
        yield number, data


def _load_jsonl(content: str, name: str) -> Dataset:
    columns: list[str] = []
    rows = []
    for _, data in json_object_lines(content):
        for key in data:
            if key not in columns:
                columns.append(str(key))
        rows.append({str(k): _text(v) for k, v in data.items()})
    return Dataset(columns, [{c: r.get(c, "") for c in columns} for r in rows], name)


def _load_csv(content: str, name: str, delimiter: str) -> Dataset:
    reader = csv.reader(io.StringIO(content), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise DatasetError("the file is empty.") from None
    except csv.Error as exc:
        raise DatasetError(f"line 1: {exc}.") from None
    columns = [h.strip() for h in header]
    if not any(columns) or len(set(columns)) != len(columns):
        raise DatasetError("line 1 must be a header of distinct column names.")
    rows = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(columns):
                raise DatasetError(f"line {reader.line_num}: {len(values)} values for {len(columns)} columns.")
            rows.append({c: (values[i] if i < len(values) else "") for i, c in enumerate(columns)})
    except csv.Error as exc:
        raise DatasetError(f"line {reader.line_num}: {exc}.") from None
    return Dataset(columns, rows, name)


def load_sample(name: str) -> Dataset:
    if name not in SAMPLES:
        raise DatasetError(f"no sample named {name!r}; the samples are {', '.join(SAMPLES)}.")
    path = next(SAMPLES_DIR.glob(f"{name}.*"))
    return load_dataset(path.read_bytes(), path.name)


def variables(text: str) -> list[str]:
    """The {{variables}} of a template text, in order of first use."""
    found: list[str] = []
    for match in _VARIABLE.finditer(text):
        if match.group(1) not in found:
            found.append(match.group(1))
    return found


def fill(text: str, row: dict[str, str]) -> str:
    """The text with each {{variable}} replaced by the row's value (unknown ones left as they are)."""
    return _VARIABLE.sub(lambda m: row.get(m.group(1), m.group(0)), text)


@dataclass
class Template:
    """What is sent for each row: a completion prompt, or chat messages."""

    endpoint: Literal["completions", "chat"] = "completions"
    prompt: str = ""
    system: str = ""
    user: str = ""
    expected: str | None = None  # the column with the expected answer
    extra: dict[str, Any] = field(default_factory=dict)

    def texts(self) -> list[str]:
        return [self.prompt] if self.endpoint == "completions" else [self.system, self.user]

    def variables(self) -> list[str]:
        found: list[str] = []
        for text in self.texts():
            found += [v for v in variables(text) if v not in found]
        return found

    def problems(self, dataset: Dataset) -> list[str]:
        """What keeps this template from running on the dataset, in words."""
        out = []
        if self.endpoint == "completions" and not self.prompt.strip():
            out.append("Write the prompt template.")
        if self.endpoint == "chat" and not self.user.strip():
            out.append("Write the user message template.")
        missing = [v for v in self.variables() if v not in dataset.columns]
        if missing:
            out.append(f"The dataset has no column {', '.join(repr(m) for m in missing)} (its columns: {', '.join(dataset.columns)}).")
        if self.expected and self.expected not in dataset.columns:
            out.append(f"The expected-answer column {self.expected!r} is not in the dataset.")
        return out

    def prompt_for(self, row: dict[str, str]) -> tuple[str | None, list[dict[str, str]] | None]:
        """(prompt, None) for completions, (None, messages) for chat."""
        if self.endpoint == "completions":
            return fill(self.prompt, row), None
        messages = [{"role": "system", "content": fill(self.system, row)}] if self.system.strip() else []
        return None, messages + [{"role": "user", "content": fill(self.user, row)}]

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "prompt": self.prompt, "system": self.system, "user": self.user,
                "expected": self.expected}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Template:
        endpoint = data.get("endpoint", "completions")
        if endpoint not in ("completions", "chat"):
            raise ValueError(f"template endpoint must be completions or chat, not {endpoint!r}")
        return cls(endpoint, str(data.get("prompt", "")), str(data.get("system", "")), str(data.get("user", "")),
                   data.get("expected"))
