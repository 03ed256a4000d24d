"""logit_bias from what a user types: words or token ids -> the exact tokens, checked.

Input, one entry per line or separated by commas:
  1234          a token id (a bare number is always an id)
  "hello"       exactly this text, quotes with JSON escapes ("\\n", "\\u00e9"); " hello" with its space
  hello         a bare word: this text, and with `with_space_variant` also " hello"
  {"1234": -100, "5678": 5}   the API's own JSON object, biases included
A text that is several tokens is all of them, each biased (the API biases tokens, not words).

The wire format (OpenAI spec, CreateCompletionRequest/CreateChatCompletionRequest
.logit_bias): an object of token ids as strings to integers from -100 to 100. The spec sets
no limit on the number of entries; OpenAI's help article "Using logit bias to alter token
probability with the OpenAI API" (https://help.openai.com/en/articles/5247780) has long
said the API takes up to 300 tokens, so we refuse more than MAX_ENTRIES.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

MIN_BIAS, MAX_BIAS = -100, 100
BAN, FORCE = MIN_BIAS, MAX_BIAS
MAX_ENTRIES = 300

_NUMBER = re.compile(r"[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class TokenRow:
    token_id: int
    text: str  # the token decoded alone (U+FFFD where it splits a character)
    source: str  # the entry it came from, as typed
    bias: int


@dataclass
class ParsedBias:
    rows: list[TokenRow] = field(default_factory=list)  # unique token ids, in input order
    errors: list[str] = field(default_factory=list)  # refusals: nothing is sent while any
    notes: list[str] = field(default_factory=list)  # what the user should know (multi-token words, duplicates)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_request(self) -> dict[str, int] | None:
        """The logit_bias to send ({} for none), or None while there are errors."""
        if self.errors:
            return None
        return {str(r.token_id): r.bias for r in self.rows}


@dataclass(frozen=True)
class _Entry:
    source: str
    token_id: int | None = None
    text: str | None = None
    bias: Any = None  # from a pasted JSON object
    error: str | None = None


def split_entries(raw: str) -> list[str]:
    """Entries separated by newlines or commas; commas inside quotes stay."""
    entries, current, quote, escaped = [], [], "", False
    for ch in raw:
        if quote:
            current.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
            continue
        if ch in "\n,":
            entries.append("".join(current))
            current = []
            continue
        if ch in "\"'" and not "".join(current).strip():
            quote = ch
        current.append(ch)
    entries.append("".join(current))
    return [e.strip() for e in entries if e.strip()]


def _parse_entry(item: str) -> _Entry:
    if item[0] in "\"'":
        if len(item) < 2 or item[-1] != item[0]:
            return _Entry(item, error=f"{item}: the closing quote is missing.")
        body = item[1:-1]
        if item[0] == "'":  # single quotes: the same escapes as JSON
            body = body.replace('\\"', '"').replace("\\'", "'").replace('"', '\\"')
        try:
            text = json.loads(f'"{body}"')
        except json.JSONDecodeError:
            return _Entry(item, error=f"{item}: not a valid quoted string (escapes as in JSON: \\n, \\t, \\\", \\u00e9).")
        if not text:
            return _Entry(item, error=f"{item}: an empty string is no token.")
        return _Entry(item, text=text)
    if _NUMBER.fullmatch(item):
        try:
            return _Entry(item, token_id=int(item))
        except ValueError:
            return _Entry(item, error=f"{item}: a token id is a whole number. To bias this text, quote it: \"{item}\".")
    return _Entry(item, text=item)


def parse_entries(raw: str) -> list[_Entry]:
    stripped = raw.strip()
    if stripped.startswith("{"):
        try:
            obj = json.loads(stripped)
        except json.JSONDecodeError as exc:
            return [_Entry(stripped[:40], error=f"The JSON object does not parse: {exc.msg} (line {exc.lineno}, column {exc.colno}).")]
        if not isinstance(obj, dict):
            return [_Entry(stripped[:40], error="Expected a JSON object of token ids to biases.")]
        out = []
        for key, value in obj.items():
            source = json.dumps({key: value})
            try:
                token_id = int(key)
            except ValueError:
                out.append(_Entry(source, error=f"{key!r}: keys of logit_bias are token ids (whole numbers)."))
                continue
            out.append(_Entry(source, token_id=token_id, bias=value))
        return out
    return [_parse_entry(item) for item in split_entries(raw)]


def check_bias(value: Any, where: str) -> tuple[int | None, str | None]:
    """A bias as the API takes it (an integer from -100 to 100), or an error message."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None, f"{where}: the bias {value!r} is not a number."
    if isinstance(value, float):
        if value != value or not value.is_integer():
            return None, f"{where}: the bias {value} must be a whole number (the API takes integers)."
        value = int(value)
    if not MIN_BIAS <= value <= MAX_BIAS:
        return None, f"{where}: the bias {value} is out of range; it must be from {MIN_BIAS} (ban) to {MAX_BIAS} (force)."
    return value, None


def token_text(encoding: Any, token_id: int) -> str | None:
    """The token decoded alone, or None when the id has no token in this encoding."""
    try:
        return encoding.decode_single_token_bytes(token_id).decode("utf-8", errors="replace")
    except KeyError:
        return None


def resolve(
    raw: str,
    encoding: Any,
    *,
    default_bias: int = 0,
    biases: dict[int, Any] | None = None,
    with_space_variant: bool = True,
) -> ParsedBias:
    """The tokens the input names in `encoding` (a tiktoken.Encoding), each with its bias:
    `biases[id]` if the user set one, else a bias from pasted JSON, else `default_bias`."""
    result = ParsedBias()
    seen: dict[int, str] = {}
    n_vocab = encoding.n_vocab

    def add(token_id: int, source: str, pasted_bias: Any) -> None:
        if token_id in seen:
            result.notes.append(f"{source}: token {token_id} is already listed (from {seen[token_id]}); biased once.")
            return
        seen[token_id] = source
        chosen = (biases or {}).get(token_id, pasted_bias if pasted_bias is not None else default_bias)
        bias, error = check_bias(chosen, f"token {token_id} ({source})")
        if error:
            result.errors.append(error)
            return
        result.rows.append(TokenRow(token_id, token_text(encoding, token_id) or "", source, bias))  # type: ignore[arg-type]

    for entry in parse_entries(raw):
        if entry.error:
            result.errors.append(entry.error)
        elif entry.token_id is not None:
            if not 0 <= entry.token_id < n_vocab:
                result.errors.append(
                    f"{entry.source}: {entry.token_id} is not a token id of {encoding.name} (ids go from 0 to {n_vocab - 1})."
                )
            elif token_text(encoding, entry.token_id) is None:
                result.errors.append(f"{entry.source}: {encoding.name} has no token with id {entry.token_id} (an unused id).")
            else:
                add(entry.token_id, entry.source, entry.bias)
        else:
            texts = [entry.text]
            bare = entry.source[0] not in "\"'"
            if bare and with_space_variant and not entry.text.startswith(" "):  # type: ignore[union-attr]
                texts.append(" " + entry.text)  # type: ignore[operator]
            for text in texts:
                ids = encoding.encode(text, disallowed_special=())  # type: ignore[arg-type]
                label = json.dumps(text, ensure_ascii=False)
                if len(ids) > 1:
                    pieces = ", ".join(f"{json.dumps(token_text(encoding, t), ensure_ascii=False)} ({t})" for t in ids)
                    result.notes.append(f"{label} is {len(ids)} tokens: {pieces}. Each is biased, so each is affected wherever it appears.")
                for token_id in ids:
                    add(token_id, label, None)
    if len(result.rows) > MAX_ENTRIES:
        result.errors.append(
            f"{len(result.rows)} tokens: the API takes at most {MAX_ENTRIES} logit_bias entries. Remove some words or ids."
        )
    return result
