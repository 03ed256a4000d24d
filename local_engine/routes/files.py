"""/v1/files: upload, list, retrieve, content, delete, in the API's wire format (OpenAIFile).

The store is `engine.files` (`local_engine.files.FileStore`); each call works in the request's
project (`local_engine.projects`): another project's file is a 404, as if it did not exist. Uploads (up to the engine's
upload limit, the API's 512 MB) are spooled to disk by the form parser and copied to the
store in blocks: never held whole in memory.

Upload checks, as the API does them: `purpose` must be one of the API's upload purposes; a
`fine-tune` file must be named `.jsonl`, be UTF-8, and hold one JSON object per line (blank
lines are skipped) — otherwise a 400 that names the line. The schema of each line (chat or
prompt/completion) is checked when a job uses the file: the job fails with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from ..errors import invalid
from ..files import FileStore, check_jsonl
from ..projects import of_request

router = APIRouter()

UPLOAD_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")


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
    filename = Path(file.filename or "upload").name
    if purpose == "fine-tune":
        if not filename.lower().endswith(".jsonl"):
            raise invalid(
                f"Invalid file format for Fine-Tuning API: '{filename}'. Must be .jsonl", "file",
                code="invalid_file_format",
            )
        try:
            await run_in_threadpool(check_jsonl, file.file)
        except ValueError as exc:
            raise invalid(
                f"Invalid file format for Fine-Tuning API: {exc}. Each line must be one JSON object "
                "(a training example).", "file", code="invalid_file_format",
            ) from None
    await file.seek(0)
    return await run_in_threadpool(_store(request).add_stream, file.file, filename, purpose, of_request(request))


@router.get("/v1/files")
def list_files(
    request: Request,
    purpose: str | None = None,
    limit: int = Query(10000, ge=1, le=10000),
    order: Literal["asc", "desc"] = "desc",
    after: str | None = None,
) -> dict:
    files = [f for f in _store(request).all(of_request(request)) if purpose is None or f["purpose"] == purpose]
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
    return _store(request).get(file_id, of_request(request))


@router.get("/v1/files/{file_id}/content")
def file_content(file_id: str, request: Request) -> FileResponse:
    return FileResponse(_store(request).path(file_id, of_request(request)), media_type="application/octet-stream")


@router.delete("/v1/files/{file_id}")
def delete_file(file_id: str, request: Request) -> dict:
    _store(request).delete(file_id, of_request(request))
    return {"id": file_id, "object": "file", "deleted": True}
