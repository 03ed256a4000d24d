"""Faults for history tests: another process holding the write lock, a folder that cannot
be written (even by root, who ignores file modes: the immutable attribute)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Iterator

_HOLD = """
import select, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
select.select([sys.stdin], [], [], float(sys.argv[2]))  # until the time is up, or told to let go
db.execute("COMMIT")
"""


class LockHolder:
    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.released = threading.Event()
        threading.Thread(target=lambda: (process.wait(), self.released.set()), daemon=True).start()

    def release(self) -> None:
        if self.process.poll() is None and self.process.stdin is not None:
            self.process.stdin.write("go\n")
            self.process.stdin.flush()
        self.released.wait(60)


@contextlib.contextmanager
def hold_lock(path: Path, *, seconds: float) -> Iterator[LockHolder]:
    """Another process holds `path`'s write lock for `seconds` (or until `.release()`)."""
    process = subprocess.Popen([sys.executable, "-c", _HOLD, str(path), str(seconds)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "locked"
        yield LockHolder(process)
    except BaseException:
        process.kill()  # the test failed: do not keep the lock
        raise
    finally:
        process.wait(timeout=seconds + 60)


@contextlib.contextmanager
def frozen(folder: Path) -> Iterator[None]:
    """`folder` and the files in it cannot be written while inside."""
    paths = [folder, *(p for p in folder.iterdir() if p.is_file())]
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", *map(str, paths)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
        return
    modes = {p: p.stat().st_mode for p in paths}
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        yield
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
