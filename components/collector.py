"""Python's full garbage collections, moved to when no script is running.

The app keeps large object graphs: a long run's tokens, its wire record and its history
row, a 100k-row corpus. CPython starts a full collection (of the oldest generation) once a
quarter more objects have survived since the last one, which a 4,000-token run's end
always did: each took 100-280 ms in the middle of drawing the result, with the page
waiting. Here the objects made while the app started are frozen (never scanned again),
full collections no longer start on their own, and a thread runs one once no script has
run for QUIET_S, or while scripts keep running, every AT_MOST_S at the latest (cycles are
still freed). The young generations are collected as before: those pauses are short.

A run is seen two ways: the app's script is wrapped in `script()`, and Streamlit's script
thread is alive. A fragment's own rerun (Run on a text page, a search) runs on that thread
without the app's script around it.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from typing import Iterator

QUIET_S = 1.0  # no script ran for this long: nobody waits on this process
AT_MOST_S = 60.0  # a full collection this often at the latest, however busy
POLL_S = 0.25
_NEVER = 1_000_000_000  # young collections before a full one starts on its own
SCRIPT_THREAD = "ScriptRunner.scriptThread"  # Streamlit's name for the thread of a run, whole page or fragment


def script_running() -> bool:
    """Whether a script (a page's, or a fragment's own rerun) runs in this process now."""
    return any(thread.name == SCRIPT_THREAD for thread in threading.enumerate())


class IdleCollector:
    def __init__(self, *, quiet_s: float = QUIET_S, at_most_s: float = AT_MOST_S) -> None:
        self.quiet_s, self.at_most_s = quiet_s, at_most_s
        self._lock = threading.Lock()
        self._running = 0
        self._last_end = self._last_full = time.monotonic()
        self._since_full = False  # a script ran since the last full collection
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self.full_collections = 0

    @contextlib.contextmanager
    def script(self) -> Iterator[None]:
        """Around a script run: no full collection is started for being idle meanwhile."""
        with self._lock:
            self._running += 1
            self._since_full = True
            first = self._thread is None
            if first:
                gc.set_threshold(*gc.get_threshold()[:2], _NEVER)
                self._thread = threading.Thread(target=self._loop, name="idle-gc", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            if first:
                gc.freeze()  # what starting the app and its first page made: kept for good
            with self._lock:
                self._running -= 1
                self._last_end = time.monotonic()

    def _due(self, now: float) -> bool:
        seen_running = script_running()
        with self._lock:
            if seen_running:
                self._last_end, self._since_full = now, True
            idle = self._running == 0 and not seen_running and now - self._last_end >= self.quiet_s
            due = self._since_full and (idle or now - self._last_full >= self.at_most_s)
            if due:
                self._since_full, self._last_full = False, now
            return due

    def close(self) -> None:
        """End its thread (the app's lives as long as the process; tests make several)."""
        self._closed.set()

    def _loop(self) -> None:
        while not self._closed.wait(POLL_S):
            if self._due(time.monotonic()):
                gc.collect()
                self.full_collections += 1


collector = IdleCollector()
