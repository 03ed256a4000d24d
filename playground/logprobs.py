"""One per-token table for both text endpoints, and the numbers the token view shows.

Completions give parallel lists `tokens / token_logprobs / top_logprobs / text_offset`
(top as {token: logprob}, no bytes); chat gives `content[]` of
`token / logprob / bytes / top_logprobs[]`. Both become a list of TokenInfo.

A token can hold part of a multi-byte character (an emoji, a Korean syllable): its
string is then "\ufffd" and only its bytes are right. `spans` groups the tokens whose
bytes decode only together, `rebuild_text` rebuilds the text from the bytes.
"""

from __future__ import annotations

import codecs
import math
from dataclasses import dataclass, replace
from functools import cached_property
from operator import attrgetter
from typing import Any, Callable, Iterable, Protocol, Sequence

_LOG2E = 1 / math.log(2)


class Encoding(Protocol):  # the part of tiktoken.Encoding used here
    def encode_single_token(self, text_or_bytes: str | bytes) -> int: ...


@dataclass(frozen=True)
class Alternative:
    token: str
    logprob: float
    bytes: bytes | None

    @property
    def prob(self) -> float:
        return math.exp(self.logprob)


@dataclass(frozen=True)
class TokenInfo:
    index: int  # position in the returned sequence (prompt tokens first with echo)
    token: str
    token_id: int | None
    logprob: float | None  # None: the first prompt token under echo has no context
    bytes: bytes | None
    text_offset: int | None
    top: tuple[Alternative, ...]  # most likely first
    is_prompt: bool = False
    top_n: int | None = None  # alternatives asked for (logprobs / top_logprobs); None: not known
    returned: bool = True  # False: past the end of the returned text (a stop sequence's token)

    @property
    def prob(self) -> float | None:
        return None if self.logprob is None else math.exp(self.logprob)

    @cached_property
    def rank(self) -> int | None:
        """1-based rank of the chosen token among `top`; None when it is not among them."""
        for i, alt in enumerate(self.top):
            if alt.token == self.token and (alt.bytes is None or self.bytes is None or alt.bytes == self.bytes):
                return i + 1
        return None

    @property
    def among_top(self) -> bool:
        """Whether the chosen token is one of the top N asked for. The completions endpoint
        appends the chosen token to its top list when it is not, so a rank above N is not a rank."""
        return self.rank is not None and (self.top_n is None or self.rank <= self.top_n)

    @property
    def rank_text(self) -> str:
        """'2', or 'not among the top 5' (N as asked, else as many as were listed); '' when
        no alternatives were asked for."""
        if not self.top or self.top_n == 0:
            return ""
        if self.among_top:
            return str(self.rank)
        listed = self.top_n if self.top_n is not None else len(self.top) - (self.rank is not None)
        return f"not among the top {listed}"

    @cached_property
    def entropy(self) -> float | None:
        """Entropy in bits of the top N alternatives, renormalized to sum to 1."""
        return entropy_bits([a.logprob for a in (self.top if self.top_n is None else self.top[: self.top_n])])


def entropy_bits(logprobs: Sequence[float]) -> float | None:
    if not logprobs:
        return None
    m = max(logprobs)
    weights = [math.exp(lp - m) for lp in logprobs]
    total = sum(weights)
    h = 0.0
    for w in weights:
        if w > 0:
            p = w / total
            h -= p * math.log(p)
    return max(h * _LOG2E, 0.0)


def _get(obj: Any, name: str) -> Any:
    """A field of an SDK object or of a plain dict (e.g. a response read back from JSON)."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _token_id(encoding: Encoding | None, raw: bytes | None) -> int | None:
    if encoding is None or raw is None:
        return None
    try:
        return encoding.encode_single_token(raw)
    except (KeyError, ValueError, TypeError):
        return None


def token_string_bytes(token: str) -> bytes | None:
    """Bytes from a completions token string: OpenAI writes a partial character as
    "bytes:\\xe2\\x80"; "\ufffd" means the bytes are lost (the local engine's form)."""
    if token.startswith("bytes:"):
        try:
            return codecs.escape_decode(token[6:].encode("ascii"))[0]
        except (UnicodeEncodeError, ValueError):
            return None
    if "\ufffd" in token:
        return None
    return token.encode("utf-8")


def from_completion_logprobs(
    lp: Any,
    *,
    prompt_token_count: int = 0,
    encoding: Encoding | None = None,
    text: str | None = None,
    top_n: int | None = None,
    reuse: Sequence[TokenInfo] = (),
) -> list[TokenInfo]:
    """choice.logprobs of /v1/completions -> tokens. With echo, the first
    `prompt_token_count` tokens are the prompt's. Given the choice's `text` and the model's
    `encoding`, the bytes of tokens that split a character are recovered from the text.
    `reuse`: the tokens built from the first part of the same lists (as a stream arrived),
    kept as far as nothing after them can change them (up to a token that split a character)."""
    if lp is None:
        return []
    tokens: list[str] = list(_get(lp, "tokens") or [])
    logprobs = list(_get(lp, "token_logprobs") or [])
    tops = list(_get(lp, "top_logprobs") or [])
    offsets = list(_get(lp, "text_offset") or [])
    count = len(tokens)
    logprobs += [None] * (count - len(logprobs))
    tops += [None] * (count - len(tops))
    offsets += [None] * (count - len(offsets))
    kept = 0
    for t in reuse[:count]:
        if t.token != tokens[kept] or t.bytes is None or t.is_prompt != (kept < prompt_token_count):
            break
        kept += 1
    raws = [t.bytes for t in reuse[:kept]] + [token_string_bytes(t) for t in tokens[kept:]]
    if encoding is not None and text is not None and None in raws:
        _recover_bytes(raws, tokens, offsets, text, encoding)
    out: list[TokenInfo] = list(reuse[:kept])
    for i in range(kept, count):
        top = tops[i]
        alts: tuple[Alternative, ...] = ()
        if top:
            alts = tuple(
                Alternative(t, float(v), token_string_bytes(t))
                for t, v in sorted(top.items(), key=lambda kv: -kv[1])
            )
        out.append(
            TokenInfo(
                index=i,
                token=tokens[i],
                token_id=_token_id(encoding, raws[i]),
                logprob=None if logprobs[i] is None else float(logprobs[i]),
                bytes=raws[i],
                text_offset=offsets[i],
                top=alts,
                is_prompt=i < prompt_token_count,
                top_n=top_n,
            )
        )
    return out


def _recover_bytes(
    raws: list[bytes | None], tokens: list[str], offsets: list[int | None], text: str, encoding: Any
) -> None:
    """Fill the bytes of "\ufffd" tokens: re-encode the text their run covers (offsets are
    relative to the choice text's start, which is offsets[0]) and keep the result only when
    it has as many tokens as the run and each decodes to the token string the API gave."""
    if offsets[0] is None:
        return
    base = offsets[0]
    i, n = 0, len(raws)
    while i < n:
        if raws[i] is not None:
            i += 1
            continue
        j = i
        while j < n and raws[j] is None:
            j += 1
        start, end = offsets[i], offsets[j] if j < n else base + len(text)
        if start is not None and end is not None:
            piece = text[start - base : end - base]
            ids = encoding.encode(piece, disallowed_special=())
            if len(ids) == j - i:
                got = [encoding.decode_single_token_bytes(t) for t in ids]
                if all(g.decode("utf-8", errors="replace") == tokens[i + k] for k, g in enumerate(got)):
                    raws[i:j] = got
        i = j


def _fields(sample: Any, names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """A getter of several fields at once, for dicts or SDK objects (chosen once per list:
    this runs for every token and alternative)."""
    if isinstance(sample, dict):
        return lambda d: tuple(d.get(n) for n in names)
    return attrgetter(*names)


def from_chat_logprobs(lp: Any, *, encoding: Encoding | None = None, top_n: int | None = None,
                       reuse: Sequence[TokenInfo] = ()) -> list[TokenInfo]:
    """choice.logprobs of /v1/chat/completions (its `content` list) -> tokens. `reuse`: the
    tokens built from the first part of the same list (each depends on its own item only)."""
    if lp is None:
        return []
    content = _get(lp, "content") or []
    if not content:
        return []
    item_fields = _fields(content[0], ("token", "logprob", "bytes", "top_logprobs"))
    alt_fields: Callable[[Any], tuple[Any, ...]] | None = None
    out: list[TokenInfo] = []
    for t in reuse[: len(content)]:
        if t.token != item_fields(content[len(out)])[0]:
            break
        out.append(t)
    for i, item in enumerate(content[len(out):], start=len(out)):
        token, logprob, raw, top = item_fields(item)
        raw_b = bytes(raw) if raw is not None else None
        alts: list[Alternative] = []
        if top:
            alt_fields = alt_fields or _fields(top[0], ("token", "logprob", "bytes"))
            for alt_token, alt_logprob, alt_raw in map(alt_fields, top):
                alts.append(Alternative(alt_token, float(alt_logprob), bytes(alt_raw) if alt_raw is not None else None))
            if any(alts[j].logprob < alts[j + 1].logprob for j in range(len(alts) - 1)):
                alts.sort(key=_by_logprob, reverse=True)  # the API sends them sorted already
        out.append(
            TokenInfo(
                index=i,
                token=token,
                token_id=_token_id(encoding, raw_b),
                logprob=None if logprob is None else float(logprob),
                bytes=raw_b,
                text_offset=None,
                top=tuple(alts),
                top_n=top_n,
            )
        )
    return out


def _by_logprob(alt: Alternative) -> float:
    return alt.logprob


def mark_unreturned(tokens: list[TokenInfo], text: str) -> list[TokenInfo]:
    """The tokens, those past the end of the returned `text` marked not returned: a provider
    may include in logprobs the token that holds the stop sequence (the text stops before it).
    A token is returned when its bytes end within the text's."""
    limit, end = len(text.encode("utf-8")), 0
    out = []
    for t in tokens:
        end += len(t.bytes if t.bytes is not None else t.token.encode("utf-8"))
        out.append(t if end <= limit else replace(t, returned=False))
    return out


def spans(tokens: Iterable[TokenInfo]) -> list[tuple[str, list[int]]]:
    """Display units: (decoded text, indexes of the tokens it covers). Tokens whose bytes
    end inside a character are grouped with the following ones until it is complete."""
    out: list[tuple[str, list[int]]] = []
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending: list[int] = []
    pieces: list[str] = []
    for t in tokens:
        if t.bytes is None:
            if pending:  # bytes cut short: show what is there
                out.append(("".join(pieces) + decoder.decode(b"", final=True), pending))
                decoder.reset()
                pending, pieces = [], []
            out.append((t.token, [t.index]))
            continue
        pending.append(t.index)
        pieces.append(decoder.decode(t.bytes))
        if not decoder.getstate()[0]:
            out.append(("".join(pieces), pending))
            pending, pieces = [], []
    if pending:
        out.append(("".join(pieces) + decoder.decode(b"", final=True), pending))
    return out


def rebuild_text(tokens: Iterable[TokenInfo]) -> str:
    """The text the tokens spell, from their bytes where known."""
    return "".join(text for text, _ in spans(tokens))


@dataclass
class Summary:
    count: int  # generated tokens with a logprob
    mean_logprob: float | None
    perplexity: float | None  # exp(-mean logprob)
    least_confident: list[TokenInfo]  # lowest probability first


def summarize(tokens: Sequence[TokenInfo], k: int = 5) -> Summary:
    """Over the generated tokens (not echoed prompt ones, not those past a stop), skipping
    those without a logprob."""
    scored = [t for t in tokens if not t.is_prompt and t.returned and t.logprob is not None]
    if not scored:
        return Summary(0, None, None, [])
    mean = sum(t.logprob for t in scored) / len(scored)  # type: ignore[misc]
    least = sorted(scored, key=lambda t: t.logprob)[:k]  # type: ignore[arg-type, return-value]
    return Summary(len(scored), mean, math.exp(-mean), least)


def echo_prompt_token_count(lp: Any, prompt: str) -> int:
    """With echo, how many of a completions choice's tokens are the prompt's: those that
    start before the prompt's end (text_offset counts characters from the prompt's start)."""
    offsets = _get(lp, "text_offset") or []
    return sum(1 for offset in offsets if offset is not None and offset < len(prompt))

