"""A run's controls as named presets and as a share link (URL query parameters).

Controls are a plain dict of the request parameters a text page sets (model, temperature,
top_p, penalties, max tokens, n, stop, seed, logprobs, prompt or messages...). A link
carries only those: never a key, a base URL or an endpoint (where user info and keys
hide). Long text (prompt, messages) is zlib-compressed and base64url-encoded. Reading a
link checks every value's type and range, so a hand-edited or truncated link gives a
message, not a crash.
"""

from __future__ import annotations

import base64
import json
import math
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from playground.errors import scrub

PAGES = ("completions", "chat")
# Text longer than this in the URL is compressed (and base64url-encoded).
PLAIN_TEXT_LIMIT = 200
MAX_TEXT = 200_000  # characters of prompt or messages a link may restore
COMPRESSED_SUFFIX = ".z"


class ShareLinkError(ValueError):
    """A link whose parameters cannot be restored; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Spec:
    kind: str  # "float", "int", "bool", "str", "text" (may be compressed), "json"
    low: float | None = None
    high: float | None = None
    pages: tuple[str, ...] = PAGES
    check: Callable[[Any], str | None] | None = None  # extra check: a problem, or None


def _stop_problem(value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(s, str) and s for s in value):
        return "must be a list of non-empty strings"
    if len(value) > 4:
        return "takes at most 4 sequences"
    return None


def _messages_problem(value: Any) -> str | None:
    if not isinstance(value, list):
        return "must be a list of messages"
    for message in value:
        if not isinstance(message, dict) or message.get("role") not in ("system", "developer", "user", "assistant"):
            return "each message needs a role: system, user or assistant"
        if not isinstance(message.get("content", ""), str):
            return "each message's content must be text"
    return None


# Every control a link or preset may hold. Anything else is left out of a link.
CONTROLS: dict[str, Spec] = {
    "model": Spec("str"),
    "temperature": Spec("float", 0, 2),
    "top_p": Spec("float", 0, 1),
    "frequency_penalty": Spec("float", -2, 2),
    "presence_penalty": Spec("float", -2, 2),
    "max_tokens": Spec("int", 1, 1_000_000),
    "n": Spec("int", 1, 128),
    "stop": Spec("json", check=_stop_problem),
    "seed": Spec("int", -(2**63), 2**63 - 1),
    "stream": Spec("bool"),
    # completions
    "prompt": Spec("text", pages=("completions",)),
    "suffix": Spec("text", pages=("completions",)),
    "echo": Spec("bool", pages=("completions",)),
    "best_of": Spec("int", 1, 20, pages=("completions",)),
    "logprobs": Spec("int", 0, 5, pages=("completions",)),
    # chat
    "messages": Spec("json", pages=("chat",), check=_messages_problem),
    "chat_logprobs": Spec("bool", pages=("chat",)),
    "top_logprobs": Spec("int", 0, 20, pages=("chat",)),
}


def _encode_text(text: str) -> tuple[bool, str]:
    """(compressed?, value) for the URL."""
    if len(text) <= PLAIN_TEXT_LIMIT:
        return False, text
    packed = zlib.compress(text.encode("utf-8"), 9)
    return True, base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def _decode_text(value: str) -> str:
    try:
        packed = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_TEXT * 4)  # a bound: no zip bomb
        if inflater.unconsumed_tail:
            raise ValueError("is longer than a link may restore")
        return raw.decode("utf-8")
    except (ValueError, zlib.error, UnicodeDecodeError) as exc:
        raise ValueError(f"is not readable compressed text ({exc})") from exc


def to_query_params(controls: Mapping[str, Any], *, page: str, secrets: Iterable[str | None] = ()) -> dict[str, str]:
    """The URL query parameters that restore `controls` on `page`. Only the known controls
    go in (no key, no base URL); text that looks like a key, or is one of `secrets`, is
    replaced by "[key hidden]"."""
    if page not in PAGES:
        raise ValueError(f"no share links for the page {page!r}")
    secrets = [s for s in secrets if s]
    params: dict[str, str] = {"page": page}
    for name, spec in CONTROLS.items():
        value = controls.get(name)
        if value is None or value == "" or page not in spec.pages:  # empty text is the default
            continue
        if spec.kind == "bool":
            text = "1" if value else "0"
        elif spec.kind == "json":
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        elif spec.kind == "float":
            text = repr(float(value))
        else:
            text = str(value)
        text = scrub(text, secrets)
        if spec.kind in ("text", "json"):
            compressed, text = _encode_text(text)
            params[name + COMPRESSED_SUFFIX if compressed else name] = text
        else:
            params[name] = text
    link_text = json.dumps(params)
    assert not any(len(s) >= 4 and s in link_text for s in secrets), "a key would have gone into a link"
    return params


def from_query_params(params: Mapping[str, str | list[str]]) -> tuple[str, dict[str, Any]]:
    """(page, controls) from a link's query parameters. Unknown parameters are ignored;
    a value of the wrong type or out of range raises ShareLinkError naming each one."""
    page = _one(params.get("page"))
    if page not in PAGES:
        raise ShareLinkError([f"the link names no page this app restores (page={page!r}; expected completions or chat)"])
    controls: dict[str, Any] = {}
    problems: list[str] = []
    for name, spec in CONTROLS.items():
        raw = params.get(name)
        compressed = False
        if raw is None and spec.kind in ("text", "json"):
            raw = params.get(name + COMPRESSED_SUFFIX)
            compressed = raw is not None
        if raw is None:
            continue
        if page not in spec.pages:
            problems.append(f"{name} does not apply to the {page} page")
            continue
        try:
            controls[name] = _parse(_one(raw), spec, compressed)
        except ValueError as exc:
            problems.append(f"{name} {exc}")
    if problems:
        raise ShareLinkError(problems)
    return page, controls


def _one(value: str | list[str] | None) -> str | None:
    if isinstance(value, list):
        return value[-1] if value else None
    return value


def _parse(text: str | None, spec: Spec, compressed: bool) -> Any:
    text = text or ""
    if spec.kind in ("text", "json"):
        if compressed:
            text = _decode_text(text)
        if len(text) > MAX_TEXT:
            raise ValueError("is longer than a link may restore")
    if spec.kind == "str":
        if not text.strip() or len(text) > 200:
            raise ValueError("must be a name of 1 to 200 characters")
        return text.strip()
    if spec.kind == "text":
        return text
    if spec.kind == "bool":
        if text not in ("0", "1", "true", "false"):
            raise ValueError(f"must be 0 or 1, not {text!r}")
        return text in ("1", "true")
    if spec.kind == "json":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON ({exc.msg})") from exc
        if spec.check and (problem := spec.check(value)):
            raise ValueError(problem)
        return value
    number: float | int
    try:
        number = int(text) if spec.kind == "int" else float(text)
    except ValueError:
        raise ValueError(f"must be {'a whole number' if spec.kind == 'int' else 'a number'}, not {text[:40]!r}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError("must be a finite number")
    if (spec.low is not None and number < spec.low) or (spec.high is not None and number > spec.high):
        raise ValueError(f"must be between {spec.low:g} and {spec.high:g}, not {text[:40]}")
    return number


def controls_from_request(endpoint: str, request: Mapping[str, Any]) -> dict[str, Any]:
    """The controls of a saved run's request body (history -> page, history -> link)."""
    controls: dict[str, Any] = {}
    for name, spec in CONTROLS.items():
        if endpoint in spec.pages and name in request and name not in ("logprobs", "chat_logprobs"):
            controls[name] = request[name]
    if "max_completion_tokens" in request and "max_tokens" not in controls:
        controls["max_tokens"] = request["max_completion_tokens"]
    if isinstance(controls.get("stop"), str):
        controls["stop"] = [controls["stop"]]
    if endpoint == "completions" and request.get("logprobs") is not None:
        controls["logprobs"] = request["logprobs"]
    if endpoint == "chat" and request.get("logprobs") is not None:
        controls["chat_logprobs"] = bool(request["logprobs"])
    return controls
