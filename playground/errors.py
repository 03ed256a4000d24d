"""Every SDK exception as a short message: what happened and what to do. Never a key."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Iterable

import httpx
import openai

from playground.providers import BaseURLMissing, safe_host

# OpenAI-style keys. (Azure keys are 32 hex digits, as are hashes and hex-encoded token bytes:
# those are scrubbed by value, from the session's own secrets, never by shape.)
_KEY_LIKE = re.compile(r"\bsk-[A-Za-z0-9_\-]{8,}")


@dataclass(frozen=True)
class Problem:
    title: str  # what happened, one line
    detail: str  # the server's words, scrubbed
    action: str  # what to do
    retry_after: float | None = None  # seconds, for rate limits
    param: str | None = None  # the request parameter at fault


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove anything that is or looks like a key."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "[key hidden]")
    return _KEY_LIKE.sub("[key hidden]", text) if "sk-" in text else text  # (the search alone: a tenth of the time)


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body) if isinstance(body.get("error", body), dict) else body
        message = inner.get("message") if isinstance(inner, dict) else None
        if message:
            return str(message)
    return str(getattr(exc, "message", "") or exc)


def retry_after_seconds(headers: httpx.Headers | None) -> float | None:
    """Seconds to wait, from retry-after-ms, retry-after or x-ratelimit-reset-requests."""
    if headers is None:
        return None
    if value := headers.get("retry-after-ms"):
        try:
            return float(value) / 1000
        except ValueError:
            pass
    if value := headers.get("retry-after"):
        try:
            return float(value)
        except ValueError:
            pass
    for name in ("x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"):
        if value := headers.get(name):
            return parse_duration(value)
    return None


def parse_duration(text: str) -> float | None:
    """OpenAI's '1m30s', '6.5s', '120ms' -> seconds."""
    total, found = 0.0, False
    for number, unit in re.findall(r"([\d.]+)(ms|h|m|s)", text):
        found = True
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total if found else None


def unreadable_chunk(chunk: object, *, secrets: Iterable[str | None] = (), where: str | None = None) -> Problem:
    """A streamed chunk that is JSON but not the object a chunk is (say a bare string, or a
    choice that is a number): the stream stops there, what arrived before it is kept."""
    host = safe_host(where) if where else "the server"
    shown = json.dumps(chunk, ensure_ascii=False)
    return Problem(
        f"{host} sent a stream chunk this app cannot read: the answer stops there.",
        scrub(shown[:300] + ("…" if len(shown) > 300 else ""), secrets),
        "What arrived before it is kept. The server may not be OpenAI-compatible for streaming: "
        "try again with Stream off.",
    )


def explain(exc: BaseException, *, secrets: Iterable[str | None] = (), where: str | None = None,
            after_output: bool = False) -> Problem:
    """The user-facing account of an exception raised by an SDK call; `after_output`: part of
    the answer had already arrived (a stream cut short)."""
    secrets = list(secrets)
    host = safe_host(where) if where else "the server"

    def clean(text: str) -> str:
        return scrub(text, secrets)

    if isinstance(exc, BaseURLMissing) or isinstance(exc.__cause__, BaseURLMissing):
        return Problem("No server address yet: nothing was sent.", "",
                       "Enter the server's base URL in the sidebar (for example http://localhost:11434/v1), then try again.")
    if after_output and isinstance(exc, (openai.APIConnectionError, httpx.TransportError)):
        return Problem(
            f"The connection to {host} broke mid-answer.",
            clean(str(exc.__cause__ or exc) or type(exc).__name__),
            "What arrived is kept. Check that the server is still running, then run again.",
        )
    if isinstance(exc, openai.APITimeoutError):
        return Problem("The request timed out.", clean(str(exc)), f"{host} took too long to answer. Try again, or ask for fewer tokens.")
    if isinstance(exc, openai.APIConnectionError):
        return Problem(
            f"Could not reach {host}.",
            clean(str(exc.__cause__ or exc)),
            "Check that the server is running and the URL in the sidebar is right, then try again.",
        )
    if isinstance(exc, openai.APIStatusError):
        message = clean(_server_message(exc))
        param = code = None
        if isinstance(exc.body, dict):
            inner = exc.body.get("error", exc.body)
            if isinstance(inner, dict):
                param, code = inner.get("param"), inner.get("code")
        status = exc.status_code
        if azure := _azure_problem(status, code, message):
            return azure
        if isinstance(exc, openai.AuthenticationError):
            return Problem("The API key was refused (401).", message, "Check the key in the sidebar: it may be mistyped, revoked, or for another provider.", param=param)
        if isinstance(exc, openai.PermissionDeniedError):
            return Problem("This key may not do that (403).", message, "Use a key or project with access to this model or endpoint.", param=param)
        if isinstance(exc, openai.RateLimitError):
            wait = retry_after_seconds(exc.response.headers if exc.response is not None else None)
            if "quota" in message.lower():
                action = "Your quota is used up: check the billing settings of your account."
            elif wait is not None:
                action = f"Wait {wait:.0f} s and run again."
            else:
                action = "Wait a little and run again, or lower the number of requests."
            return Problem("Rate limit reached (429).", message, action, retry_after=wait, param=param)
        if isinstance(exc, openai.NotFoundError):
            return Problem("Not found (404).", message, "Pick another model from the list, or check the deployment name or URL.", param=param)
        if isinstance(exc, openai.BadRequestError) or isinstance(exc, openai.UnprocessableEntityError):
            title = f"The server refused the parameter '{param}' ({status})." if param else f"The server refused the request ({status})."
            return Problem(title, message, "Change that value and run again." if param else "Check the inputs and run again.", param=param)
        if isinstance(exc, openai.InternalServerError) or status >= 500:
            return Problem(f"The server failed ({status}).", message, "This is on the server's side. Try again in a moment.", param=param)
        return Problem(f"The request failed ({status}).", message, "Check the inputs and the connection, then try again.", param=param)
    if isinstance(exc, openai.OpenAIError):
        return Problem("The OpenAI client refused to send the request.", clean(str(exc)), "Check the connection settings in the sidebar.")
    return Problem(f"Unexpected error: {type(exc).__name__}.", clean(str(exc)), "Try again; if it persists, report it with the steps that led to it.")


def _azure_problem(status: int, code: object, message: str) -> Problem | None:
    """Azure's own errors, in plain words: they name what to fix in the sidebar."""
    if code == "DeploymentNotFound":
        return Problem(
            "No deployment by that name on this Azure resource (404).", message,
            "Check the deployment name: it is the name you gave the deployment in Azure, "
            "which may differ from the model's name.",
        )
    if status == 400 and message == "API version not supported":
        return Problem(
            "Azure does not support this api-version (400).", message,
            "Set the API version in the sidebar to a supported one, such as 2024-10-21.",
        )
    if status == 404 and message == "Resource not found":
        return Problem(
            "Azure found nothing at this address (404).", message,
            "Check the endpoint (https://NAME.openai.azure.com) and that an API version is set.",
        )
    if status == 401 and "subscription key" in message:
        return Problem(
            "Azure refused the key (401).", message,
            "Use a key of this resource (Azure portal: Keys and Endpoint) or a valid Entra ID token, "
            "and check that the endpoint is the resource's own.",
        )
    return None
