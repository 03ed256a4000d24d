"""The engine's front door: API keys, a requests-per-minute limit, and a request log.

A plain ASGI middleware, so streamed responses pass through untouched.
"""

from __future__ import annotations

import collections
import email.policy
import hmac
import json
import math
import threading
import time
from email.parser import BytesParser
from typing import Any, Callable

from starlette.responses import JSONResponse

from .asgi import read_body, replaying
from .azure import INVALID_KEY
from .errors import APIError
from .http_errors import error_response

# Without a key: the health probe, and the image URLs the engine hands out (each a random
# 128-bit name that expires after an hour, as the API's own image URLs do).
HEALTH_PATH = "/health"
PUBLIC_IMAGES = "/images-public/"


RECORDED_MAX = 50_000  # request bodies kept by --record-requests


class RateLimiter:
    """At most `rpm` requests in any 60-second window, as OpenAI counts them."""

    def __init__(self, rpm: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rpm = rpm
        self.clock = clock
        self._times: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until a slot frees)."""
        with self._lock:
            now = self.clock()
            while self._times and now - self._times[0] >= 60.0:
                self._times.popleft()
            if len(self._times) >= self.rpm:
                return False, 0, 60.0 - (now - self._times[0])
            self._times.append(now)
            reset = 60.0 - (now - self._times[0])
            return True, self.rpm - len(self._times), reset

    def headers(self, remaining: int, reset: float) -> dict[str, str]:
        return {
            "x-ratelimit-limit-requests": str(self.rpm),
            "x-ratelimit-remaining-requests": str(remaining),
            "x-ratelimit-reset-requests": _duration(reset),
        }


def _duration(seconds: float) -> str:
    """OpenAI's reset format: '1s', '6m0s', '120ms'."""
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))}ms"
    whole = math.ceil(seconds)
    minutes, secs = divmod(whole, 60)
    return f"{minutes}m{secs}s" if minutes else f"{secs}s"


def presented_key(headers: dict[str, str]) -> str | None:
    """The key a request carries: `Authorization: Bearer K` (OpenAI) or `api-key: K` (Azure)."""
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return headers.get("api-key")


def _form_fields(content_type: str, body: bytes) -> dict[str, Any]:
    """A multipart body as {name: text} with files as {name: {"filename", "bytes"}}."""
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        fields[str(name)] = (
            {"filename": filename, "bytes": len(payload)} if filename is not None else payload.decode("utf-8", "replace")
        )
    return fields


class GateState:
    """What the gate keeps between requests; the app holds it so routes can read it."""

    def __init__(self, *, api_key: str | None, rpm: int | None, record: bool) -> None:
        self.api_key = api_key
        self.limiter = RateLimiter(rpm) if rpm else None
        # --record-requests is for tests, which count the requests a step sent by slicing the
        # log: a whole test session (thousands of requests) must fit, or the counts read 0.
        self.recorded: collections.deque[dict[str, Any]] | None = (
            collections.deque(maxlen=RECORDED_MAX) if record else None
        )


class Gate:
    def __init__(self, app: Any, state: GateState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or scope["path"] == HEALTH_PATH or scope["path"].startswith(PUBLIC_IMAGES):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}

        if self.state.api_key is not None:
            given = presented_key(headers)
            if given is None or not hmac.compare_digest(given.encode(), self.state.api_key.encode()):
                if scope["path"].startswith("/openai/"):  # Azure's layout, Azure's words
                    status, body = INVALID_KEY
                    await JSONResponse(json.loads(body), status_code=status)(scope, receive, send)
                    return
                error = APIError(
                    401,
                    "Incorrect API key provided. Pass the key the local engine was started with "
                    "(--api-key) as `Authorization: Bearer <key>`."
                    if given
                    else "You didn't provide an API key. Send it as `Authorization: Bearer <key>`.",
                    code="invalid_api_key",
                )
                await error_response(error)(scope, receive, send)
                return

        extra: dict[str, str] = {}
        if self.state.limiter is not None:
            allowed, remaining, reset = self.state.limiter.take()
            extra = self.state.limiter.headers(remaining, reset)
            if not allowed:
                wait = max(1, math.ceil(reset))
                error = APIError(
                    429,
                    f"Rate limit reached for requests on the local engine: limit {self.state.limiter.rpm} "
                    f"/ min. Please try again in {_duration(reset)}.",
                    type="requests",
                    code="rate_limit_exceeded",
                    headers={**extra, "retry-after": str(wait), "retry-after-ms": str(int(reset * 1000))},
                )
                await error_response(error)(scope, receive, send)
                return

        if self.state.recorded is not None and scope["method"] == "POST":
            receive = await self._record(scope, receive, headers)

        if not extra:
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k.encode(), v.encode()) for k, v in extra.items()
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _record(self, scope: dict, receive: Callable, headers: dict[str, str]) -> Callable:
        body = await read_body(receive)
        entry: dict[str, Any] = {"path": scope["path"], "time": time.time()}
        if headers.get("content-type", "").startswith("application/json"):
            try:
                entry["body"] = json.loads(body or b"null")
            except (ValueError, RecursionError):
                entry["body"] = None
        elif headers.get("content-type", "").startswith("multipart/form-data"):
            entry["body"] = _form_fields(headers["content-type"], body)
        self.state.recorded.append(entry)  # type: ignore[union-attr]
        return replaying(body, receive)
