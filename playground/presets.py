"""A run's controls as named presets and as a share link (URL query parameters).

Controls are a plain dict of the request parameters a text page sets, one per row of the
parameter table (playground/params.py). A link carries only those: never a key, a base URL
or an endpoint (where user info and keys hide), and only the values that send something (a
parameter left out is restored to "not sent"). Long text (prompt, messages) is
zlib-compressed and base64url-encoded. Reading a link checks every value's type and range,
so a hand-edited or truncated link gives a message, not a crash.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any, Iterable, Mapping

from playground.errors import scrub
from playground.params import PARAMS, TEXT_ENDPOINTS, Param, complete, params_for

PAGES = TEXT_ENDPOINTS
# Text longer than this in the URL is compressed (and base64url-encoded).
PLAIN_TEXT_LIMIT = 200
MAX_TEXT = 200_000  # characters of prompt or messages a link may restore
COMPRESSED_SUFFIX = ".z"


class ShareLinkError(ValueError):
    """A link whose parameters cannot be restored; `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


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


def _packed(param: Param) -> bool:
    """Text and JSON values may be long: they go compressed past PLAIN_TEXT_LIMIT."""
    return param.kind in ("text", "json", "list")


def to_query_params(controls: Mapping[str, Any], *, page: str, secrets: Iterable[str | None] = ()) -> dict[str, str]:
    """The URL query parameters that restore `controls` on `page`. Only the page's
    parameters go in (no key, no base URL), and only values that send something; text that
    looks like a key, or is one of `secrets`, is replaced by "[key hidden]"."""
    if page not in PAGES:
        raise ValueError(f"no share links for the page {page!r}")
    secrets = [s for s in secrets if s]
    params: dict[str, str] = {"page": page}
    for name, param in params_for(page).items():
        value = controls.get(name)
        if value is None or (value == param.unset and not param.required) or value == "":
            continue
        if param.kind == "bool":
            text = "1" if value else "0"
        elif param.kind in ("json", "list"):
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        elif param.kind == "float":
            text = repr(float(value))
        else:
            text = str(value)
        text = scrub(text, secrets)
        if _packed(param):
            compressed, text = _encode_text(text)
            params[name + COMPRESSED_SUFFIX if compressed else name] = text
        else:
            params[name] = text
    link_text = json.dumps(params)
    assert not any(len(s) >= 4 and s in link_text for s in secrets), "a key would have gone into a link"
    return params


def from_query_params(params: Mapping[str, str | list[str]]) -> tuple[str, dict[str, Any]]:
    """(page, controls) from a link's query parameters: every control of the page, those
    the link leaves out set to "not sent". Unknown parameters are ignored; a value of the
    wrong type or out of range raises ShareLinkError naming each one."""
    page = _one(params.get("page"))
    if page not in PAGES:
        raise ShareLinkError([f"the link names no page this app restores (page={page!r}; expected completions or chat)"])
    mine = params_for(page)
    others = {p.name for p in PARAMS} - set(mine)
    controls: dict[str, Any] = {}
    problems: list[str] = [f"{name} does not apply to the {page} page" for name in sorted(others) if name in params]
    for name, param in mine.items():
        raw = next((params[n] for n in (name, *param.aliases) if n in params), None)
        compressed = False
        if raw is None and _packed(param):
            raw = params.get(name + COMPRESSED_SUFFIX)
            compressed = raw is not None
        if raw is None:
            continue
        try:
            controls[name] = _parse(_one(raw), param, compressed)
        except ValueError as exc:
            problems.append(f"{name} {exc}")
    if problems:
        raise ShareLinkError(problems)
    return page, complete(page, controls)


def _one(value: str | list[str] | None) -> str | None:
    if isinstance(value, list):
        return value[-1] if value else None
    return value


def _parse(text: str | None, param: Param, compressed: bool) -> Any:
    text = text or ""
    if _packed(param):
        if compressed:
            text = _decode_text(text)
        if len(text) > MAX_TEXT:
            raise ValueError("is longer than a link may restore")
    if param.kind == "str":
        if not text.strip() or len(text) > 200:
            raise ValueError("must be a name of 1 to 200 characters")
        return text.strip()
    if param.kind == "text":
        return text
    if param.kind == "bool":
        if text not in ("0", "1", "true", "false"):
            raise ValueError(f"must be 0 or 1, not {text!r}")
        return text in ("1", "true")
    if param.kind in ("json", "list"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"is not valid JSON ({exc.msg})") from exc
    else:
        try:
            value = int(text) if param.kind == "int" else float(text)
        except ValueError:
            raise ValueError(f"must be {'a whole number' if param.kind == 'int' else 'a number'}, not {text[:40]!r}") from None
    if problem := param.problem(value):
        raise ValueError(problem)
    return value
