"""/v1/fine_tuning/jobs (create, list, retrieve, cancel, events, checkpoints) and
DELETE /v1/models/{model} for fine-tuned models, each in the request's project. The work is in
`local_engine.fine_tune`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from ..engine import Engine
from ..fine_tune import FineTuning
from ..projects import of_request
from ..request_body import parse_json

router = APIRouter()


def setup(engine: Engine) -> None:
    engine.fine_tuning = FineTuning(engine)


def shutdown(engine: Engine) -> None:
    if engine.fine_tuning is not None:
        engine.fine_tuning.shutdown()


def _jobs(request: Request) -> FineTuning:
    jobs = request.app.state.engine.fine_tuning
    assert jobs is not None, "set up at start-up, before any request"
    return jobs


@router.post("/v1/fine_tuning/jobs")
async def create_job(request: Request) -> dict[str, Any]:
    body = parse_json(await request.body())
    return await run_in_threadpool(_jobs(request).create, body, of_request(request))


@router.get("/v1/fine_tuning/jobs")
def list_jobs(request: Request, after: str | None = None, limit: int = Query(20, ge=1, le=100)) -> dict[str, Any]:
    page = _jobs(request).list(of_request(request), after, limit)
    return {"object": "list", "data": page["data"], "has_more": page["has_more"]}


@router.get("/v1/fine_tuning/jobs/{job_id}")
def retrieve_job(job_id: str, request: Request) -> dict[str, Any]:
    return _jobs(request).get(job_id, of_request(request))


@router.post("/v1/fine_tuning/jobs/{job_id}/cancel")
def cancel_job(job_id: str, request: Request) -> dict[str, Any]:
    return _jobs(request).cancel(job_id, of_request(request))


@router.get("/v1/fine_tuning/jobs/{job_id}/events")
def list_events(
    job_id: str, request: Request, after: str | None = None, limit: int = Query(20, ge=1, le=10000)
) -> dict[str, Any]:
    return _jobs(request).events(job_id, of_request(request), after, limit)


@router.get("/v1/fine_tuning/jobs/{job_id}/checkpoints")
def list_checkpoints(
    job_id: str, request: Request, after: str | None = None, limit: int = Query(10, ge=1, le=100)
) -> dict[str, Any]:
    return _jobs(request).checkpoints(job_id, of_request(request), after, limit)


@router.delete("/v1/models/{model:path}")
def delete_model(model: str, request: Request) -> dict[str, Any]:
    return _jobs(request).delete_model(model, of_request(request))
