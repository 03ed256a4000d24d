"""Reading JSONL uploads: one JSON object a line, errors that name the line."""

from __future__ import annotations

import json
from typing import Any


def read_jsonl(content: bytes) -> list[tuple[int, dict[str, Any]]]:
    """(line number, object) for each non-blank line; ValueError naming the first bad line."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the file is not UTF-8 text (bad byte at offset {exc.start})") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number} is not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(row, dict):
            raise ValueError(f"line {number} is not a JSON object")
        rows.append((number, row))
    return rows
