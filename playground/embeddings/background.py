"""An embedding run on a thread of its own: it goes on while the user is on another page
(a page switch interrupts the page's script, not this thread), and any later run of the page
reads its progress and result from the job it kept.

Cancel stops after the request in flight; every finished batch is already in the cache.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

from playground.embeddings.batching import EmbedResult, Progress

# work(should_cancel, on_progress, on_wait) -> EmbedResult
Work = Callable[[Callable[[], bool], Callable[[Progress], None], Callable[[float, int, Any], None]], EmbedResult]


class EmbedJob:
    def __init__(self, work: Work, total: int, **about: Any) -> None:
        self.about = about  # what the page needs to use the result (documents, model, signature...)
        self.progress = Progress(0, total, 0, [])
        self.waiting: tuple[float, int] | None = None  # (seconds, attempt) of a rate-limit wait in progress
        self.result: EmbedResult | None = None
        self.error: Exception | None = None
        self.started = time.monotonic()
        self.finished_at: float | None = None
        self.reported = False  # the page has shown how it ended
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(work,), name="embed", daemon=True)

    def start(self) -> EmbedJob:
        self._thread.start()
        return self

    def _run(self, work: Work) -> None:
        try:
            self.result = work(self._cancel.is_set, self._on_progress, self._on_wait)
        except Exception as exc:  # noqa: BLE001 - the page shows it; finished batches are cached
            self.error = exc
        finally:
            self.finished_at = time.monotonic()
            self._done.set()

    def _on_progress(self, progress: Progress) -> None:
        self.progress = progress
        self.waiting = None

    def _on_wait(self, seconds: float, attempt: int, _exc: Any) -> None:
        self.waiting = (seconds, attempt)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelling(self) -> bool:
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def wait(self, seconds: float) -> bool:
        """True once the job has ended (waits at most `seconds`)."""
        return self._done.wait(seconds)
