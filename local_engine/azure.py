"""Azure OpenAI's data-plane layout, in front of the engine's /v1 routes.

Azure differs from OpenAI where it breaks apps: the URL names a deployment instead of a
model (`/openai/deployments/{deployment}/chat/completions`), every request needs an
`api-version` query parameter, the key comes in an `api-key` header (or an Entra ID
bearer token), and responses carry `prompt_filter_results` / `content_filter_results`.
This ASGI layer answers that layout by rewriting each Azure request to the /v1 route
that serves it (the deployment's model put into the body), and adding Azure's fields
and error shapes to what comes back. The /v1 routes never know Azure exists.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable
from urllib.parse import parse_qs

from .asgi import read_body, replaying

# api-versions of the Azure OpenAI data plane (GA and preview) that this layer accepts.
SUPPORTED_API_VERSIONS = frozenset(
    {
        "2022-12-01", "2023-03-15-preview", "2023-05-15", "2023-06-01-preview",
        "2023-07-01-preview", "2023-08-01-preview", "2023-09-01-preview", "2023-10-01-preview",
        "2023-12-01-preview", "2024-02-01", "2024-02-15-preview", "2024-03-01-preview",
        "2024-04-01-preview", "2024-05-01-preview", "2024-06-01", "2024-07-01-preview",
        "2024-08-01-preview", "2024-09-01-preview", "2024-10-01-preview", "2024-10-21",
        "2024-12-01-preview", "2025-01-01-preview", "2025-02-01-preview", "2025-03-01-preview",
        "2025-04-01-preview",
    }
)

DEPLOYMENT_ROUTE = re.compile(
    r"^/openai/deployments/(?P<deployment>[^/]+)/(?P<op>completions|chat/completions|embeddings|images/variations)$"
)
PASS_THROUGH = re.compile(r"^/openai/(?P<rest>files.*|fine_tuning/.*|models.*)$")
# The GA "v1" layout: OpenAI's paths under /openai/v1, no api-version, the body's model a deployment.
GA_ROUTE = re.compile(r"^/openai/v1/(?P<rest>chat/completions|responses(/.*)?|embeddings|models.*)$")
FILTERED_OPS = ("completions", "chat/completions")

_SAFE = {"filtered": False, "severity": "safe"}
CONTENT_FILTER_RESULTS = {"hate": _SAFE, "self_harm": _SAFE, "sexual": _SAFE, "violence": _SAFE}
PROMPT_FILTER_RESULTS = {
    **CONTENT_FILTER_RESULTS,
    "jailbreak": {"filtered": False, "detected": False},
}


def azure_error(status: int, code: str, message: str) -> tuple[int, bytes]:
    """Azure's error shape: {"error": {"code", "message"}} (no type or param)."""
    return status, json.dumps({"error": {"code": code, "message": message}}).encode()


NOT_FOUND = azure_error(404, "404", "Resource not found")
VERSION_NOT_SUPPORTED = azure_error(400, "BadRequest", "API version not supported")
INVALID_KEY = azure_error(
    401,
    "401",
    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a "
    "valid key for an active subscription and use a correct regional API endpoint for your resource.",
)


def deployment_not_found(name: str) -> tuple[int, bytes]:
    return azure_error(
        404,
        "DeploymentNotFound",
        f"The API deployment {name} for this resource does not exist. If you created the deployment "
        "within the last 5 minutes, please wait a moment and try again.",
    )


async def _send_json(send: Callable, status: int, body: bytes, headers: list | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": body})


def with_filter_results(obj: Any) -> Any:
    """Add Azure's not-filtered results to a completion, chat completion, or chunk."""
    if not isinstance(obj, dict) or "choices" not in obj:
        return obj
    if obj.get("object") in ("text_completion", "chat.completion"):
        obj["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": PROMPT_FILTER_RESULTS}]
    for choice in obj["choices"]:
        choice["content_filter_results"] = CONTENT_FILTER_RESULTS
    return obj


class AzureLayout:
    """ASGI middleware: /openai/... requests in Azure's layout -> the engine's /v1 routes."""

    def __init__(self, app: Any, deployments: dict[str, str]) -> None:
        self.app = app
        self.deployments = deployments

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/openai/"):
            await self.app(scope, receive, send)
            return
        ga = GA_ROUTE.match(path)
        if ga:
            await self._ga(scope, receive, send, ga["rest"])
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        version = (query.get("api-version") or [None])[0]
        if version is None:
            await _send_json(send, *NOT_FOUND)
            return
        if version not in SUPPORTED_API_VERSIONS:
            await _send_json(send, *VERSION_NOT_SUPPORTED)
            return

        if path == "/openai/deployments":
            await self._list_deployments(scope, receive, send)
            return
        routed = DEPLOYMENT_ROUTE.match(path)
        if routed:
            deployment, op = routed["deployment"], routed["op"]
            model = self.deployments.get(deployment)
            if model is None:
                await _send_json(send, *deployment_not_found(deployment))
                return
            receive = await _with_model(scope, receive, model)
            scope = {**scope, "path": f"/v1/{op}", "raw_path": f"/v1/{op}".encode()}
            if op in FILTERED_OPS:
                send = _FilterResultsSender(send)
            await self.app(scope, receive, send)
            return
        passed = PASS_THROUGH.match(path)
        if passed:
            new_path = f"/v1/{passed['rest']}"
            await self.app({**scope, "path": new_path, "raw_path": new_path.encode()}, receive, send)
            return
        await _send_json(send, *NOT_FOUND)

    async def _ga(self, scope: dict, receive: Callable, send: Callable, rest: str) -> None:
        """/openai/v1/...: the same route under /v1, a deployment name in "model" read as its model."""
        if scope["method"] == "POST" and _header(scope, "content-type").startswith("application/json"):
            # JSON only (bounded); a multipart upload streams through as it is
            body = await read_body(receive)
            try:
                name = json.loads(body or b"null").get("model")
            except (ValueError, AttributeError):
                name = None
            receive = replaying(body, receive)
            if isinstance(name, str) and name in self.deployments:
                receive = await _with_model(scope, receive, self.deployments[name])
        if rest == "chat/completions":
            send = _FilterResultsSender(send)
        new_path = f"/v1/{rest}"
        await self.app({**scope, "path": new_path, "raw_path": new_path.encode()}, receive, send)

    async def _list_deployments(self, scope: dict, receive: Callable, send: Callable) -> None:
        """GET /openai/deployments: the deployment list of the 2022-12-01 data plane, which
        tools still use to fill a deployment picker."""
        if scope["method"] != "GET":
            await _send_json(send, *NOT_FOUND)
            return
        data = [
            {"id": name, "model": model, "object": "deployment", "status": "succeeded",
             "owner": "organization-owner", "scale_settings": {"scale_type": "standard"}}
            for name, model in sorted(self.deployments.items())
        ]
        await _send_json(send, 200, json.dumps({"object": "list", "data": data}).encode())


async def _with_model(scope: dict, receive: Callable, model: str) -> Callable:
    """A receive() whose body names `model`: JSON bodies (bounded by the engine's JSON limit)
    get "model" replaced; multipart bodies (uploads, up to 512 MB) get a last `model` field
    (the last value of a repeated field wins) as they stream through, never held whole."""
    content_type = _header(scope, "content-type")
    if content_type.startswith("multipart/form-data") and "boundary=" in content_type:
        boundary = content_type.split("boundary=", 1)[1].split(";")[0].strip().strip('"').encode()
        part = b"--" + boundary + b'\r\nContent-Disposition: form-data; name="model"\r\n\r\n' + model.encode() + b"\r\n"
        length = _header(scope, "content-length")
        _set_length(scope, str(int(length) + len(part)) if length.isdigit() else None)
        return _inserting_before(b"--" + boundary + b"--", part, receive)
    body = await read_body(receive)
    if content_type.startswith("application/json"):
        try:
            data = json.loads(body or b"null")
        except ValueError:
            data = None
        if isinstance(data, dict):
            data["model"] = model
            body = json.dumps(data).encode()
    _set_length(scope, str(len(body)))
    return replaying(body, receive)


def _header(scope: dict, name: str) -> str:
    return next((v.decode("latin-1") for k, v in scope["headers"] if k.decode("latin-1").lower() == name), "")


def _set_length(scope: dict, length: str | None) -> None:
    """Replace content-length (dropped when None: the body is then read to its end)."""
    scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"] + (
        [(b"content-length", length.encode())] if length is not None else [])


def _inserting_before(closing: bytes, part: bytes, receive: Callable) -> Callable:
    """A receive() that streams the body through, putting `part` just before its last
    `closing` marker. Only a marker's length is held back between chunks (it may straddle two)."""
    held = b""

    async def rewritten() -> dict:
        nonlocal held
        message = await receive()
        if message["type"] != "http.request":
            return message
        data = held + message.get("body", b"")
        if message.get("more_body"):
            keep = min(len(data), len(closing) + 4)  # the marker and its line end
            held, data = data[len(data) - keep:], data[:len(data) - keep]
            return {**message, "body": data}
        held = b""
        at = data.rfind(closing)
        if at != -1:
            data = data[:at] + part + data[at:]
        return {**message, "body": data}

    return rewritten


class _FilterResultsSender:
    """Adds content-filter results to a JSON response or to each SSE event of a stream."""

    def __init__(self, send: Callable) -> None:
        self.send = send
        self.start: dict | None = None
        self.streaming = False
        self.ok = False
        self.buffer = b""
        self.first_event = True

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            headers = dict((k.lower(), v) for k, v in message.get("headers", []))
            self.streaming = headers.get(b"content-type", b"").startswith(b"text/event-stream")
            self.ok = message["status"] == 200
            if self.streaming or not self.ok:
                await self.send(message)
            else:
                self.start = message  # sent with the rewritten body, whose length changes
            return
        if message["type"] != "http.response.body" or not self.ok:
            await self.send(message)
            return
        self.buffer += message.get("body", b"")
        more = message.get("more_body", False)
        if self.streaming:
            events, _, self.buffer = self.buffer.rpartition(b"\n\n")
            out = b"".join(self._event(e) for e in events.split(b"\n\n") if e) if events else b""
            if not more and self.buffer:
                out += self._event(self.buffer)
                self.buffer = b""
            await self.send({"type": "http.response.body", "body": out, "more_body": more})
            return
        if more:
            return
        try:
            body = json.dumps(with_filter_results(json.loads(self.buffer))).encode()
        except ValueError:
            body = self.buffer
        assert self.start is not None
        self.start["headers"] = [(k, v) for k, v in self.start["headers"] if k.lower() != b"content-length"] + [
            (b"content-length", str(len(body)).encode())
        ]
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": body})

    def _event(self, event: bytes) -> bytes:
        if not event.startswith(b"data: ") or event.strip() == b"data: [DONE]":
            return event + b"\n\n"
        try:
            obj = json.loads(event[6:])
        except ValueError:
            return event + b"\n\n"
        prefix = b""
        if self.first_event:
            # Azure opens a stream with a chunk that holds only the prompt's filter results.
            self.first_event = False
            opening = {
                "id": "", "object": "", "created": 0, "model": "", "choices": [],
                "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": PROMPT_FILTER_RESULTS}],
            }
            prefix = b"data: " + json.dumps(opening).encode() + b"\n\n"
        if obj.get("choices"):
            obj = with_filter_results(obj)
        return prefix + b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"
