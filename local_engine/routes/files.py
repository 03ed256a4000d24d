"""/v1/files: upload, list, retrieve, content, delete, in the API's wire format (OpenAIFile).

Files live under `config.data_dir/files/`: `<id>` holds the bytes, `<id>.json` the
OpenAIFile object, so they survive a restart. The store is `engine.files` (a `FileStore`);
fine-tuning reads training files and writes its result files through it.

Upload checks, as the API does them: `purpose` must be one of the API's upload purposes; a
`fine-tune` file must be named `.jsonl`, be UTF-8, and hold one JSON object per line (blank
lines are skipped) — otherwise a 400 that names the line. The schema of each line (chat or
prompt/completion) is checked when a job uses the file: the job fails with the reason.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
import time
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from ..engine import Engine
from ..errors import APIError, invalid
from ..jsonl import read_jsonl

router = APIRouter()

UPLOAD_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


def file_not_found(file_id: str) -> APIError:
    return APIError(404, f"No such File object: {file_id}", param="id", code="file_not_found")


def check_jsonl(content: bytes) -> list[Any]:
    """The JSON object on each non-blank line; ValueError naming the first bad line."""
    rows = [row for _, row in read_jsonl(content)]
    if not rows:
        raise ValueError("the file holds no examples")
    return rows


class FileStore:
    """Files on disk: bytes in `<id>`, the OpenAIFile object in `<id>.json`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._meta: dict[str, dict[str, Any]] = {}
        self._created_ns: dict[str, int] = {}  # exact upload order (created_at has 1 s steps)
        for path in root.glob("file-*.json"):
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
                meta = entry["file"]
            except (OSError, ValueError, KeyError):
                continue  # a half-written entry from a crash: ignore it
            if (root / meta["id"]).exists():
                self._meta[meta["id"]] = meta
                self._created_ns[meta["id"]] = int(entry.get("created_ns", 0))

    def add(self, content: bytes, filename: str, purpose: str) -> dict[str, Any]:
        meta = {
            "id": new_id("file-"),
            "object": "file",
            "bytes": len(content),
            "created_at": int(time.time()),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
            "status_details": None,
            "expires_at": None,
        }
        created_ns = time.time_ns()
        (self.root / meta["id"]).write_bytes(content)
        tmp = self.root / f"{meta['id']}.json.tmp"
        tmp.write_text(json.dumps({"file": meta, "created_ns": created_ns}), encoding="utf-8")
        tmp.replace(self.root / f"{meta['id']}.json")
        with self._lock:
            self._meta[meta["id"]] = meta
            self._created_ns[meta["id"]] = created_ns
        return meta

    def get(self, file_id: str) -> dict[str, Any]:
        with self._lock:
            meta = self._meta.get(file_id)
        if meta is None:
            raise file_not_found(file_id)
        return meta

    def content(self, file_id: str) -> bytes:
        self.get(file_id)
        return (self.root / file_id).read_bytes()

    def delete(self, file_id: str) -> None:
        self.get(file_id)
        with self._lock:
            self._meta.pop(file_id, None)
        (self.root / f"{file_id}.json").unlink(missing_ok=True)
        (self.root / file_id).unlink(missing_ok=True)

    def all(self) -> list[dict[str, Any]]:
        """Every file, oldest first."""
        with self._lock:
            return sorted(self._meta.values(), key=lambda f: self._created_ns.get(f["id"], 0))


def setup(engine: Engine) -> None:
    engine.files = FileStore(Path(engine.config.data_dir) / "files")  # type: ignore[attr-defined]


def _store(request: Request) -> FileStore:
    return request.app.state.engine.files


@router.post("/v1/files")
async def upload_file(request: Request, file: UploadFile | None = File(None), purpose: str | None = Form(None)) -> dict:
    if file is None:
        raise invalid("Missing required parameter: 'file'.", "file")
    if purpose is None:
        raise invalid("Missing required parameter: 'purpose'.", "purpose")
    if purpose not in UPLOAD_PURPOSES:
        allowed = ", ".join(f"'{p}'" for p in UPLOAD_PURPOSES)
        raise invalid(f"Invalid value for 'purpose': '{purpose}'. Supported values are: {allowed}.", "purpose")
    content = await file.read()
    filename = Path(file.filename or "upload").name
    if purpose == "fine-tune":
        if not filename.lower().endswith(".jsonl"):
            raise invalid(
                f"Invalid file format for Fine-Tuning API: '{filename}'. Must be .jsonl", "file",
                code="invalid_file_format",
            )
        try:
            check_jsonl(content)
        except ValueError as exc:
            raise invalid(
                f"Invalid file format for Fine-Tuning API: {exc}. Each line must be one JSON object "
                "(a training example).", "file", code="invalid_file_format",
            ) from None
    return _store(request).add(content, filename, purpose)


@router.get("/v1/files")
def list_files(
    request: Request,
    purpose: str | None = None,
    limit: int = Query(10000, ge=1, le=10000),
    order: Literal["asc", "desc"] = "desc",
    after: str | None = None,
) -> dict:
    files = [f for f in _store(request).all() if purpose is None or f["purpose"] == purpose]
    if order == "desc":
        files.reverse()
    if after is not None:
        ids = [f["id"] for f in files]
        files = files[ids.index(after) + 1 :] if after in ids else []
    page = files[:limit]
    return {
        "object": "list",
        "data": page,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
        "has_more": len(files) > limit,
    }


@router.get("/v1/files/{file_id}")
def retrieve_file(file_id: str, request: Request) -> dict:
    return _store(request).get(file_id)


@router.get("/v1/files/{file_id}/content")
def file_content(file_id: str, request: Request) -> Response:
    return Response(_store(request).content(file_id), media_type="application/octet-stream")


@router.delete("/v1/files/{file_id}")
def delete_file(file_id: str, request: Request) -> dict:
    _store(request).delete(file_id)
    return {"id": file_id, "object": "file", "deleted": True}
