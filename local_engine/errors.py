"""Errors in OpenAI's wire format: {"error": {"message", "type", "param", "code"}}.

No HTTP here: the models raise these; `local_engine.http_errors` turns them into responses."""

from __future__ import annotations

from typing import Any


class APIError(Exception):
    """An error the API answers with; raise it anywhere in a route."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def invalid(message: str, param: str | None = None, code: str | None = None) -> APIError:
    return APIError(400, message, param=param, code=code)


def typed_object(value: Any, where: str, kind: str, refused: str) -> dict[str, Any]:
    """`value` as a JSON object whose "type" is `kind`; else the API's 400 naming `where`.
    `refused` says why another type is not taken ({kind!r} is filled in with the one given)."""
    if not isinstance(value, dict):
        raise invalid(f"Invalid type for '{where}': expected an object.", where)
    given = value.get("type")
    if given != kind:
        raise invalid(f"Invalid value for '{where}.type': {refused.format(kind=given)}", f"{where}.type")
    return value


def model_not_found(model: str) -> APIError:
    return APIError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )
