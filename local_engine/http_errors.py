"""Errors as HTTP responses, in OpenAI's shape; the handlers FastAPI calls for them."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import APIError, invalid


class AsciiJSONResponse(JSONResponse):
    """ASCII-escaped, so a body that quotes a malformed input (a lone surrogate) still renders."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(error: APIError) -> JSONResponse:
    return AsciiJSONResponse(error.body(), status_code=error.status, headers=error.headers)


def _param_of(loc: tuple[Any, ...]) -> str | None:
    """('body', 'messages', 0, 'role') -> 'messages[0].role'."""
    parts = [p for p in loc if p != "body"]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or "[" in str(part):
            continue  # pydantic's internal validator names
        else:
            out += f".{part}" if out else str(part)
    return out or None


def _validation_message(err: dict[str, Any], param: str | None) -> str:
    kind = err.get("type", "")
    where = f"'{param}'" if param else "the request body"
    if kind == "missing":
        return f"Missing required parameter: {where}."
    if kind == "json_invalid":
        return "We could not parse the JSON body of your request. Send valid JSON."
    ctx = err.get("ctx") or {}
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = next(iter(ctx.values()), None)
        word = {
            "greater_than_equal": "greater than or equal to",
            "less_than_equal": "less than or equal to",
            "greater_than": "greater than",
            "less_than": "less than",
        }[kind]
        return f"Invalid value for {where}: expected a value {word} {bound}, got {err.get('input')!r}."
    if kind == "extra_forbidden":
        return f"Unrecognized request argument supplied: {param}"
    return f"Invalid value for {where}: {err.get('msg', 'invalid value')}."


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0] if exc.errors() else {}
        param = _param_of(tuple(err.get("loc", ())))
        return error_response(invalid(_validation_message(err, param), param=param))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = f"Invalid URL ({request.method} {request.url.path})"
        elif exc.status_code == 405:
            message = f"Method {request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return error_response(APIError(exc.status_code, message))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, (RecursionError, UnicodeError)):
            # Raised by what a request holds (nesting too deep, text that is not Unicode): its fault.
            return error_response(invalid(f"The request could not be processed: {exc.__class__.__name__}. "
                                          "Send valid, less deeply nested JSON with valid Unicode text."))
        return error_response(APIError(
            500, f"The local engine failed: {type(exc).__name__}: {exc}", type="server_error"
        ))
