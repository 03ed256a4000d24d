"""The embedded local engine: started once per app process on a free loopback port.

It gets a random key of its own (by environment: a command line is readable by every local
account), keeps its files, jobs and fine-tuned models under this app's data directory
(PLAYGROUND_DATA_DIR), and logs there, in a directory only this account can read. Loopback
is reachable by other accounts on the machine: the key is what keeps them out.

PLAYGROUND_ENGINE_URL points the app at an engine that is already running instead
(tests, or a shared one); PLAYGROUND_ENGINE_KEY is its key, if it needs one.
"""

from __future__ import annotations

import atexit
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from playground.paths import DataDirUnusable, app_data_dir

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT = 120.0
# Secrets of the app that the engine has no use for: not passed on.
_NOT_FOR_THE_ENGINE = ("OPENAI_API_KEY", "PLAYGROUND_ENGINE_KEY", "AZURE_OPENAI_API_KEY")


@dataclass(frozen=True)
class LocalEngine:
    base_url: str  # ".../v1"
    api_key: str | None = field(repr=False)
    log_path: Path | None


class EngineStartError(RuntimeError):
    pass


_lock = threading.Lock()
_engine: LocalEngine | None = None
_process: subprocess.Popen | None = None


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(root: str, process: subprocess.Popen | None, log_path: Path | None, timeout: float = READY_TIMEOUT) -> None:
    """Return once the engine at `root` answers /health; EngineStartError with its log's tail if it exits or stays silent."""
    deadline = time.monotonic() + timeout
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
    raise EngineStartError(f"The local engine did not answer at {root} within {timeout:.0f} s.")


def engine_dir() -> Path:
    """<PLAYGROUND_DATA_DIR>/engine, readable by this account only."""
    try:
        directory = app_data_dir() / "engine"
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        directory.chmod(0o700)
    except OSError as exc:
        raise EngineStartError(str(exc) if isinstance(exc, DataDirUnusable) else
                               f"Its data folder cannot be used ({exc}): set PLAYGROUND_DATA_DIR to a folder "
                               "this account can write.") from None
    return directory


def stop_local_engine() -> None:
    """Stop the engine this process started (if any); the next local_engine() starts a new one."""
    global _engine, _process
    if _process is not None and _process.poll() is None:
        _process.terminate()
        try:
            _process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _process.kill()
    _engine = _process = None


def local_engine() -> LocalEngine:
    """The running engine, starting it on first call (blocks until it answers)."""
    global _engine, _process
    with _lock:
        if _engine is not None and (_process is None or _process.poll() is None):
            return _engine
        external = os.environ.get("PLAYGROUND_ENGINE_URL")
        if external:
            root = external.rstrip("/").removesuffix("/v1")
            wait_ready(root, None, None)
            _engine = LocalEngine(f"{root}/v1", os.environ.get("PLAYGROUND_ENGINE_KEY") or None, None)
            return _engine
        port = free_port()
        key = secrets.token_urlsafe(32)
        directory = engine_dir()
        log_path = directory / "engine.log"
        env = {name: value for name, value in os.environ.items() if name not in _NOT_FOR_THE_ENGINE}
        env["LOCAL_ENGINE_API_KEY"] = key
        log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(log_fd, "wb") as log:
            _process = subprocess.Popen(
                [sys.executable, "-m", "local_engine", "--host", "127.0.0.1", "--port", str(port),
                 "--data-dir", str(directory / "data")],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        atexit.register(stop_local_engine)
        root = f"http://127.0.0.1:{port}"
        wait_ready(root, _process, log_path)
        _engine = LocalEngine(f"{root}/v1", key, log_path)
        return _engine
