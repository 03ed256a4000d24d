"""Start the local engine as a real process on a free loopback port, for tests and benches."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from playground.engine_process import free_port, wait_ready

ROOT = Path(__file__).resolve().parent.parent


_processes: dict[str, subprocess.Popen] = {}


def engine_pid(url: str) -> int:
    """The process id of an engine started by running_engine (to read its memory and CPU)."""
    return _processes[url].pid


@contextlib.contextmanager
def running_engine(*args: str, data_dir: Path, cache_dir: Path | None = None, timeout: float = 120.0) -> Iterator[str]:
    """Yield the base URL (".../v1") of an engine started with `args`; stop it afterwards."""
    port = free_port()
    cache = cache_dir or Path(os.environ.get("PLAYGROUND_TEST_CACHE", ROOT / ".cache" / "engine"))
    cmd = [
        sys.executable, "-m", "local_engine", "--port", str(port),
        "--data-dir", str(data_dir), "--cache-dir", str(cache), *args,
    ]
    log = open(data_dir / f"engine-{port}.log", "wb")
    process = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, data_dir / f"engine-{port}.log", timeout)
        _processes[f"{base}/v1"] = process
        yield f"{base}/v1"
    finally:
        _processes.pop(f"{base}/v1", None)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
