"""Uploaded files on disk: `<id>` holds the bytes, `<id>.json` the OpenAIFile object and the
project it belongs to, so they survive a restart. Fine-tuning reads training files and writes
result files here. A file is seen only by its own project (`projects.sees`)."""

from __future__ import annotations

import io
import json
import secrets
import shutil
import string
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from .errors import APIError
from .jsonl import iter_jsonl
from .projects import saved_owner, sees

COPY_BLOCK = 1024 * 1024
MAX_LINE_BYTES = 16 * 1024 * 1024
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def file_not_found(file_id: str) -> APIError:
    return APIError(404, f"No such File object: {file_id}", param="id", code="file_not_found")


def _lines(source: BinaryIO) -> Iterator[bytes]:
    """The file's lines, each read alone; one longer than MAX_LINE_BYTES is refused, so a
    file without newlines is never read whole."""
    number = 0
    while line := source.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise ValueError(f"line {number} is longer than {MAX_LINE_BYTES // (1024 * 1024)} MB")
        yield line


def check_jsonl(source: BinaryIO) -> int:
    """How many examples (JSON objects, one a line) a file holds, read line by line;
    ValueError naming the first bad line, or when there are none."""
    count = sum(1 for _ in iter_jsonl(_lines(source)))
    if not count:
        raise ValueError("the file holds no examples")
    return count


class FileStore:
    """Files on disk: bytes in `<id>`, the OpenAIFile object and its project in `<id>.json`.
    Every lookup names the caller's project: another project's file is not found."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._meta: dict[str, dict[str, Any]] = {}
        self._created_ns: dict[str, int] = {}  # exact upload order (created_at has 1 s steps)
        self._owner: dict[str, str] = {}
        for path in root.glob("file-*.json"):
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
                meta = entry["file"]
            except (OSError, ValueError, KeyError):
                continue  # a half-written entry from a crash: ignore it
            if (root / meta["id"]).exists():
                self._meta[meta["id"]] = meta
                self._created_ns[meta["id"]] = int(entry.get("created_ns", 0))
                self._owner[meta["id"]] = saved_owner(entry)

    def add(self, content: bytes, filename: str, purpose: str, project: str) -> dict[str, Any]:
        return self.add_stream(io.BytesIO(content), filename, purpose, project)

    def add_stream(self, source: BinaryIO, filename: str, purpose: str, project: str) -> dict[str, Any]:
        """Copy an upload to disk in blocks (never whole in memory)."""
        file_id = new_id("file-")
        with open(self.root / file_id, "wb") as out:
            shutil.copyfileobj(source, out, COPY_BLOCK)
        meta = {
            "id": file_id,
            "object": "file",
            "bytes": (self.root / file_id).stat().st_size,
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "status_details": None,
            "expires_at": None,
        }
        created_ns = time.time_ns()
        tmp = self.root / f"{meta['id']}.json.tmp"
        tmp.write_text(json.dumps({"file": meta, "created_ns": created_ns, "project": project}), encoding="utf-8")
        tmp.replace(self.root / f"{meta['id']}.json")
        with self._lock:
            self._meta[meta["id"]] = meta
            self._created_ns[meta["id"]] = created_ns
            self._owner[meta["id"]] = project
        return meta

    def get(self, file_id: str, project: str) -> dict[str, Any]:
        with self._lock:
            meta = self._meta.get(file_id)
            if meta is None or not sees(project, self._owner[file_id]):
                raise file_not_found(file_id)
            return meta

    def path(self, file_id: str, project: str) -> Path:
        self.get(file_id, project)
        return self.root / file_id

    def content(self, file_id: str, project: str) -> bytes:
        return self.path(file_id, project).read_bytes()

    def delete(self, file_id: str, project: str) -> None:
        self.get(file_id, project)
        with self._lock:
            self._meta.pop(file_id, None)
        (self.root / f"{file_id}.json").unlink(missing_ok=True)
        (self.root / file_id).unlink(missing_ok=True)

    def all(self, project: str) -> list[dict[str, Any]]:
        """The project's files, oldest first."""
        with self._lock:
            mine = [meta for file_id, meta in self._meta.items() if sees(project, self._owner[file_id])]
        return sorted(mine, key=lambda f: self._created_ns.get(f["id"], 0))


