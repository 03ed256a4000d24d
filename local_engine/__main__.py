"""LOCAL_ENGINE_API_KEY=KEY python -m local_engine --host 127.0.0.1 --port 8765 [--rpm N] ...

The key is best given by environment: a command line is visible to every local account."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import uvicorn

from .config import (
    DEFAULT_MAX_JSON_BYTES,
    DEFAULT_MAX_UPLOAD_BYTES,
    EngineConfig,
    default_cache_dir,
    default_data_dir,
)
from .server import create_app

# Each local model under its own name and under the name an Azure user would typically
# give the deployment of the OpenAI model it stands in for.
DEFAULT_AZURE_DEPLOYMENTS = {
    "local-text": "local-text",
    "local-embedding": "local-embedding",
    "local-image": "local-image",
    "gpt-4o-mini": "local-text",
    "text-embedding-3-small": "local-embedding",
    "dall-e-2": "local-image",
}


def _deployment(text: str) -> tuple[str, str]:
    name, sep, model = text.partition("=")
    if not sep or not name or not model:
        raise argparse.ArgumentTypeError("expected NAME=MODEL, e.g. gpt-4o-mini=local-text")
    return name, model


def parse_args(argv: list[str] | None = None) -> tuple[EngineConfig, str]:
    parser = argparse.ArgumentParser(
        prog="python -m local_engine", description="An OpenAI-compatible server with small local models."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback by default)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--api-key",
        default=os.environ.get("LOCAL_ENGINE_API_KEY"),
        help="require `Authorization: Bearer KEY` on every request but /health; prefer setting "
        "LOCAL_ENGINE_API_KEY (a command line is visible to other local accounts)",
    )
    parser.add_argument("--rpm", type=int, default=None, help="at most N requests a minute (429 beyond)")
    parser.add_argument("--data-dir", type=Path, default=default_data_dir(), help="files, jobs, fine-tuned models")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir(), help="rebuildable model tables")
    parser.add_argument(
        "--fine-tune-pace", type=float, default=0.5, metavar="SECONDS", help="pause after each training step"
    )
    parser.add_argument(
        "--max-json-bytes", type=int, default=DEFAULT_MAX_JSON_BYTES, help="larger JSON bodies get 413 before parsing"
    )
    parser.add_argument(
        "--max-upload-bytes", type=int, default=DEFAULT_MAX_UPLOAD_BYTES, help="larger uploads (multipart) get 413"
    )
    parser.add_argument("--record-requests", action="store_true", help="keep request bodies for GET /local/requests")
    parser.add_argument(
        "--azure-deployment",
        type=_deployment,
        action="append",
        default=None,
        metavar="NAME=MODEL",
        help="an Azure deployment name and the model it serves (repeatable)",
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    return EngineConfig(
        host=args.host,
        port=args.port,
        api_key=args.api_key or None,
        rpm=args.rpm,
        data_dir=args.data_dir,
        cache_dir=args.cache_dir,
        fine_tune_pace=args.fine_tune_pace,
        record_requests=args.record_requests,
        max_json_bytes=args.max_json_bytes,
        max_upload_bytes=args.max_upload_bytes,
        azure_deployments=dict(args.azure_deployment) if args.azure_deployment else dict(DEFAULT_AZURE_DEPLOYMENTS),
    ), args.log_level


def main(argv: list[str] | None = None) -> None:
    config, log_level = parse_args(argv)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    config.data_dir.mkdir(parents=True, exist_ok=True)
    config.cache_dir.mkdir(parents=True, exist_ok=True)
    uvicorn.run(create_app(config), host=config.host, port=config.port, log_level=log_level, access_log=False)


if __name__ == "__main__":
    main()
