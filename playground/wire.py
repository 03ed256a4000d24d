"""The wire behind a run: the request body as sent, the response as it came back, and for a
stream every chunk with its arrival time. The key is never part of it: it travels in a
header, and headers are not kept.

Kept with the run in the history, so it is capped: past MAX_CHARS of JSON the remaining
chunks are counted, timed and dropped, and the wire says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_CHARS = 400_000  # of JSON text kept per run (request, response and chunks together)


@dataclass
class Wire:
    request: dict[str, Any]
    response: dict[str, Any] | None = None  # a non-streamed run's whole response
    chunks: list[dict[str, Any]] = field(default_factory=list)  # {"t": seconds after sending, "data": chunk}
    times: list[float] = field(default_factory=list)  # every chunk's arrival, kept or not
    dropped: int = 0  # chunks past the cap: timed, not kept
    chars: int = 0

    def __post_init__(self) -> None:
        self.chars = len(json.dumps(self.request, ensure_ascii=False, default=str))

    def add_chunk(self, data: dict[str, Any], t: float) -> None:
        self.times.append(t)
        if self.dropped:  # past the cap: not even measured
            self.dropped += 1
            return
        size = len(json.dumps(data, ensure_ascii=False, default=str))
        if self.chars + size > MAX_CHARS:
            self.dropped += 1
            return
        self.chars += size
        self.chunks.append({"t": t, "data": data})

    def set_response(self, data: dict[str, Any]) -> None:
        size = len(json.dumps(data, ensure_ascii=False, default=str))
        if self.chars + size > MAX_CHARS:
            self.dropped = 1
            return
        self.chars += size
        self.response = data

    @property
    def capped(self) -> bool:
        return self.dropped > 0

    @property
    def gaps(self) -> list[float]:
        """Seconds between consecutive chunks."""
        return [b - a for a, b in zip(self.times, self.times[1:])]

    def to_json(self) -> dict[str, Any]:
        return {"request": self.request, "response": self.response, "chunks": self.chunks,
                "times": [round(t, 6) for t in self.times], "dropped": self.dropped}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Wire:
        wire = cls(dict(data.get("request") or {}))
        wire.response = data.get("response")
        wire.chunks = list(data.get("chunks") or [])
        wire.times = [float(t) for t in data.get("times") or []]
        wire.dropped = int(data.get("dropped") or 0)
        return wire
