"""Reading JSONL uploads: one JSON object a line, errors that name the line."""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator


def iter_jsonl(lines: Iterable[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line of raw lines (a file read line by line
    is never held whole); ValueError naming the first bad line."""
    offset = 0
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"the file is not UTF-8 text (bad byte at offset {offset + exc.start})") from None
        offset += len(raw)
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number} is not valid JSON ({exc.msg} at column {exc.colno})") from None
        except RecursionError:
            raise ValueError(f"line {number} is nested too deeply") from None
        if not isinstance(row, dict):
            raise ValueError(f"line {number} is not a JSON object")
        yield number, row


def read_jsonl(content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; ValueError naming the first bad line."""
    return list(iter_jsonl(content.splitlines(keepends=True)))
