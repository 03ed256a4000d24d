"""Per-request bounds, as a plain ASGI middleware in front of everything else.

- A body larger than its limit gets 413 before anything parses it: at once when its
  Content-Length says so, else as soon as the bytes counted while streaming in pass the
  limit (so memory holds at most the limit, never the whole body). Multipart uploads have
  their own, larger limit (they are spooled to disk, not held in memory).
- Once the body is read, a watcher waits for the client's disconnect and raises the flag of
  `local_engine.cancel`, so a generation stops, streamed or not, when nobody waits for it.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from starlette.exceptions import HTTPException

from .cancel import ClientGone, watch
from .errors import APIError
from .http_errors import error_response


class BodyTooLarge(HTTPException):
    """Raised from receive(): routes let HTTPException through, and the app's handler answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body too large: the limit is {limit:,} bytes for this kind of request.")


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _only_client_gone(exc: BaseException) -> bool:
    if isinstance(exc, ClientGone):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_client_gone(e) for e in exc.exceptions)
    return False


class Bounds:
    def __init__(self, app: Any, *, json_limit: int, upload_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit

    def limit_for(self, scope: dict) -> int:
        content_type = (_header(scope, b"content-type") or "").lower()
        return self.upload_limit if content_type.startswith("multipart/form-data") else self.json_limit

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await error_response(APIError(400, "Invalid Content-Length header."))(scope, receive, send)
                return
            if int(declared) > limit:
                await error_response(APIError(413, str(BodyTooLarge(limit).detail)))(scope, receive, send)
                return

        gone = watch()
        received = 0
        body_done = False
        disconnected = asyncio.Event()
        watcher: asyncio.Task | None = None
        started = False

        async def watch_disconnect() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    gone.set()
                    disconnected.set()
                    return

        async def bounded_receive() -> dict:
            nonlocal received, body_done, watcher
            if body_done:  # the watcher owns the real receive() now
                await disconnected.wait()
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
                return message
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
            if not message.get("more_body"):
                body_done = True
                watcher = asyncio.create_task(watch_disconnect())
            return message

        async def tracked_send(message: dict) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracked_send)
        except BodyTooLarge as exc:  # raised where no route could answer (a middleware reading the body)
            if not started:
                await error_response(APIError(413, str(exc.detail)))(scope, receive, send)
        except BaseException as exc:
            if not _only_client_gone(exc):
                raise
        finally:
            if watcher is not None:
                watcher.cancel()
