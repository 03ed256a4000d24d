"""Work stops when its client has gone: the HTTP layer sets a flag, long loops check it.

The flag lives in a context variable, so it follows a request into the worker thread that
runs its generation (anyio copies the context) without any route passing it along.
"""

from __future__ import annotations

import threading
from contextvars import ContextVar

_gone: ContextVar[threading.Event | None] = ContextVar("client_gone", default=None)


class ClientGone(Exception):
    """The client disconnected: nobody will read the rest of this work."""


def watch() -> threading.Event:
    """A fresh flag for the current request (set it when the client disconnects)."""
    event = threading.Event()
    _gone.set(event)
    return event


def stop_if_client_gone() -> None:
    event = _gone.get()
    if event is not None and event.is_set():
        raise ClientGone
