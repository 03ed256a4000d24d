"""Small ASGI helpers for the engine's middlewares."""

from __future__ import annotations

from typing import Callable


async def read_body(receive: Callable) -> bytes:
    """The whole request body."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def replaying(body: bytes, receive: Callable) -> Callable:
    """A receive() that hands `body` to the app once, then defers to the real one
    (which reports the client's disconnect)."""
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
