"""The engine's settings, from the command line or from tests."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_MAX_JSON_BYTES = 8 * 1024 * 1024
DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "playground-engine"


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "playground-engine"


@dataclass
class EngineConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    api_key: str | None = None
    rpm: int | None = None
    # Files, fine-tuning jobs and their models: kept across restarts.
    data_dir: Path = field(default_factory=default_data_dir)
    # Derived, rebuildable data: the trained n-gram tables.
    cache_dir: Path = field(default_factory=default_cache_dir)
    # Seconds to pause after each fine-tuning step, so a job can be watched.
    fine_tune_pace: float = 0.5
    # Keep the last request bodies for GET /local/requests (tests, debugging).
    record_requests: bool = False
    # Azure deployment name -> model id.
    azure_deployments: dict[str, str] = field(default_factory=dict)
    # Bodies beyond these get 413 before parsing. Uploads: the API's 512 MB per file.
    max_json_bytes: int = DEFAULT_MAX_JSON_BYTES
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES

    def __repr__(self) -> str:  # never print the key
        key = "set" if self.api_key else None
        return f"EngineConfig(host={self.host!r}, port={self.port}, api_key={key}, rpm={self.rpm})"
