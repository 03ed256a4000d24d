"""The FastAPI application: routes, error format, the gate."""

from __future__ import annotations

import importlib
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI

from .azure import AzureLayout
from .bounds import Bounds
from .config import EngineConfig
from .engine import Engine
from .gate import Gate, GateState
from .http_errors import AsciiJSONResponse, install_handlers

log = logging.getLogger("local_engine")

# Order matters only for start-up: text models load first.
ROUTE_MODULES = ("models", "text", "responses", "embeddings", "files", "fine_tuning", "images")


def create_app(config: EngineConfig) -> FastAPI:
    engine = Engine(config)
    modules = [importlib.import_module(f".routes.{name}", __package__) for name in ROUTE_MODULES]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for module in modules:
            if hasattr(module, "setup"):
                module.setup(engine)
        log.info("local engine ready: %s", ", ".join(c.id for c in engine.models(None)))
        yield
        for module in modules:
            if hasattr(module, "shutdown"):
                module.shutdown(engine)

    app = FastAPI(title="Playground local engine", lifespan=lifespan, docs_url="/docs", redoc_url=None)
    app.state.engine = engine
    install_handlers(app)
    for module in modules:
        app.include_router(module.router)

    # Outermost first: the bounds (body size, disconnects), then the gate (key, rate limit)
    # sees every request, then Azure's layout is rewritten onto the /v1 routes.
    app.add_middleware(AzureLayout, deployments=config.azure_deployments)
    gate = GateState(api_key=config.api_key, rpm=config.rpm, record=config.record_requests)
    app.add_middleware(Gate, state=gate)
    app.add_middleware(Bounds, json_limit=config.max_json_bytes, upload_limit=config.max_upload_bytes)

    @app.get("/health")
    def health() -> dict:
        # Open to anyone (no key): names the base models, never a project's fine-tunes.
        return {"status": "ok", "models": [c.id for c in engine.models(None)]}

    @app.get("/local/requests")
    def recorded_requests() -> AsciiJSONResponse:
        """The bodies of the last POST requests, when started with --record-requests (they
        may quote malformed text, hence ASCII)."""
        return AsciiJSONResponse({"data": list(gate.recorded or [])})

    @app.delete("/local/requests")
    def clear_recorded_requests() -> dict:
        if gate.recorded is not None:
            gate.recorded.clear()
        return {"cleared": True}
    return app
