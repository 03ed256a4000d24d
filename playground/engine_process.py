"""The embedded local engine: started once per app process on a free loopback port.

PLAYGROUND_ENGINE_URL points the app at an engine that is already running instead
(tests, or a shared one); PLAYGROUND_ENGINE_KEY is its key, if it needs one.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 120.0


@dataclass(frozen=True)
class LocalEngine:
    base_url: str  # ".../v1"
    api_key: str | None
    log_path: Path | None


class EngineStartError(RuntimeError):
    pass


_lock = threading.Lock()
_engine: LocalEngine | None = None
_process: subprocess.Popen | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(root: str, process: subprocess.Popen | None, log_path: Path | None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:] if log_path else ""
            raise EngineStartError(f"The local engine stopped while starting.\n{tail}")
        try:
            if httpx.get(f"{root}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise EngineStartError(f"The local engine did not answer at {root} within {READY_TIMEOUT:.0f} s.")


def _stop() -> None:
    if _process is not None and _process.poll() is None:
        _process.terminate()
        try:
            _process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _process.kill()


def local_engine() -> LocalEngine:
    """The running engine, starting it on first call (blocks until it answers)."""
    global _engine, _process
    with _lock:
        if _engine is not None and (_process is None or _process.poll() is None):
            return _engine
        external = os.environ.get("PLAYGROUND_ENGINE_URL")
        if external:
            root = external.rstrip("/").removesuffix("/v1")
            _wait_ready(root, None, None)
            _engine = LocalEngine(f"{root}/v1", os.environ.get("PLAYGROUND_ENGINE_KEY") or None, None)
            return _engine
        port = _free_port()
        log_path = Path(tempfile.gettempdir()) / f"playground-engine-{port}.log"
        log = open(log_path, "wb")
        _process = subprocess.Popen(
            [sys.executable, "-m", "local_engine", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        atexit.register(_stop)
        root = f"http://127.0.0.1:{port}"
        _wait_ready(root, _process, log_path)
        _engine = LocalEngine(f"{root}/v1", None, log_path)
        return _engine
