"""GET /v1/models and /v1/models/{model}: the base models and the caller's project's fine-tunes."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..projects import of_request

router = APIRouter()


@router.get("/v1/models")
def list_models(request: Request) -> dict:
    engine = request.app.state.engine
    return {"object": "list", "data": [card.wire() for card in engine.models(of_request(request))]}


@router.get("/v1/models/{model:path}")
def retrieve_model(model: str, request: Request) -> dict:
    return request.app.state.engine.card(model, project=of_request(request)).wire()
