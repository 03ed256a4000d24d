"""Sampling with the OpenAI API's semantics, over a `TextModel`'s next-token distributions.

At each step, with p the model's distribution and c[j] how often token j was already
generated in this choice (the prompt does not count):

    z[j] = log p[j] + logit_bias[j] - c[j] * frequency_penalty - [c[j] > 0] * presence_penalty

temperature 0 picks argmax z (ties: the lowest id); otherwise q = softmax(z / temperature),
cut to the nucleus (the smallest set of most likely tokens whose q sums to >= top_p; top_p 0
keeps only the most likely one), renormalized, and one token is drawn with the choice's own
numpy Generator (seeded from the request's seed, so the same seed and parameters give the same
text).

Reported logprobs are those of the model's distribution p *before* temperature, penalties,
logit_bias and top_p, as the API documents: they say what the model thought, not what the
sampler did.

A generated `<|endoftext|>` (or another special or unassigned id) ends the choice with
finish_reason "stop" and adds no text, no logprob entry and no completion token. Stop sequences are matched on the decoded text, also
across token boundaries; the returned text ends before the stop, which is never returned. Text
that might be the beginning of a stop sequence is held back (never streamed) until it is
resolved. Logprob entries accompany the chunk where their token's first character is
released; on a stop, tokens that start at or after the stop are dropped from logprobs (they
still count in usage, as generated tokens are billed).

Text is decoded incrementally (UTF-8, errors="replace"): a token holding only part of a
multibyte character releases no text until the token that completes it; its `bytes` carry
the raw bytes so callers can rebuild the character from per-token data.
"""

from __future__ import annotations

import codecs
import math
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np

from .cancel import stop_if_client_gone
from .constrained import Constraint
from .constrained import top_k as allowed_top_k
from .lm import NextDist, TextModel


@dataclass
class SamplingParams:
    temperature: float = 1.0
    top_p: float = 1.0
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    logit_bias: dict[int, float] = field(default_factory=dict)
    max_tokens: int = 16
    stop: list[str] = field(default_factory=list)
    top_logprobs: int | None = None  # None: no per-token data needed


@dataclass
class TokenInfo:
    id: int
    logprob: float  # under the model, before temperature/penalties/bias
    top: list[tuple[int, float]]  # the most likely ids at this step and their logprobs
    bytes: bytes | None


@dataclass
class Chunk:
    """Text released by one or more steps, and the tokens whose first character it holds."""

    text: str
    tokens: list[TokenInfo]


def is_special(model: TextModel, token: int) -> bool:
    """<|endoftext|>, <|endofprompt|> and the ids o200k_base leaves unassigned."""
    return token >= model.encoding.eot_token or model.token_bytes(token) is None


def token_text(model: TextModel, token: int) -> str:
    """A token as the API shows it: its bytes decoded alone with errors="replace"."""
    raw = model.token_bytes(token)
    if raw is None:
        return f"<|reserved_{token}|>"
    return raw.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- one step


def choose(dist: NextDist, params: SamplingParams, counts: dict[int, int], rng: np.random.Generator) -> int:
    """One token id from the distribution under the sampling parameters."""
    p = dist.probs
    adj: dict[int, float] = {}
    for tok, bias in params.logit_bias.items():
        adj[tok] = adj.get(tok, 0.0) + bias
    if params.frequency_penalty or params.presence_penalty:
        for tok, c in counts.items():
            adj[tok] = adj.get(tok, 0.0) - c * params.frequency_penalty - params.presence_penalty
    adj = {k: v for k, v in adj.items() if v != 0.0}
    u = rng.random()  # always one draw per step: streams stay aligned whatever the path

    if params.temperature == 0 and not adj:
        return int(np.argmax(p))
    if not adj and params.temperature == 1.0:
        weights = p
    elif params.temperature == 1.0:
        # softmax(log p + bias) is p * exp(bias), normalized: scale the biased ids alone instead
        # of a log and an exp over the whole vocabulary (2.5 ms a step). A positive bias needs
        # float64 (exp(100) overflows float32); bans and other negative biases do not.
        scale = np.exp(np.fromiter(adj.values(), dtype=np.float64, count=len(adj)))
        weights = p.astype(np.float64) if scale.max() > 1.0 else p.copy()
        weights[np.fromiter(adj.keys(), dtype=np.int64, count=len(adj))] *= scale
    else:
        z = np.log(p)
        if adj:
            ids = np.fromiter(adj.keys(), dtype=np.int64, count=len(adj))
            z[ids] += np.fromiter(adj.values(), dtype=np.float32, count=len(adj))
        if params.temperature == 0:
            return int(np.argmax(z))
        z -= z.max()
        z /= np.float32(params.temperature)
        weights = np.exp(z)

    if params.top_p < 1.0:
        keep = None
        if dist.base_order is not None:
            special = np.concatenate([dist.touched, np.fromiter(adj.keys(), dtype=np.int64, count=len(adj))])
            keep = _nucleus_ordered(weights, params.top_p, special, dist.base_order)
        if keep is None:
            keep = _nucleus(weights, params.top_p)
        w = weights[keep].astype(np.float64)
        cs = np.cumsum(w)
        i = int(np.searchsorted(cs, u * cs[-1], side="right"))
        return int(keep[min(i, len(keep) - 1)])
    return _draw(weights, u)


_BLOCK = 512


def _draw(weights: np.ndarray, u: float) -> int:
    """The id where u * total falls in the running sum of weights (inverse-CDF sampling).

    Two levels, because a cumulative sum over 200k floats is sequential and slow (~1.3 ms):
    the sums of blocks of 512 (vectorized), then the running sum within one block.
    """
    n = len(weights)
    pad = (-n) % _BLOCK
    w = np.concatenate([weights, np.zeros(pad, dtype=weights.dtype)]) if pad else weights
    blocks = w.reshape(-1, _BLOCK).sum(axis=1, dtype=np.float64)
    cb = np.cumsum(blocks)
    target = u * cb[-1]
    b = min(int(np.searchsorted(cb, target, side="right")), len(cb) - 1)
    while blocks[b] <= 0 and b > 0:  # float edge: never land in an empty block
        b -= 1
    rest = target - (cb[b - 1] if b > 0 else 0.0)
    inner = np.cumsum(w[b * _BLOCK : (b + 1) * _BLOCK], dtype=np.float64)
    i = int(np.searchsorted(inner, min(rest, inner[-1] * (1 - 1e-12)), side="right"))
    i = min(i, _BLOCK - 1)
    while w[b * _BLOCK + i] <= 0 and i > 0:
        i -= 1
    return min(b * _BLOCK + i, n - 1)


def _nucleus_ordered(
    weights: np.ndarray, top_p: float, special: np.ndarray, base_order: np.ndarray
) -> np.ndarray | None:
    """The nucleus when every id outside `special` keeps the base order (weights are a
    monotonic function of the base probabilities there): sort only `special` plus a growing
    head of the base order. None if the head never suffices (then sort everything)."""
    total = float(weights.sum(dtype=np.float64))
    target = top_p * total
    m = 256
    while m < len(base_order):
        cand = np.unique(np.concatenate([special, base_order[:m]]))
        w = weights[cand]
        order = np.lexsort((cand, -w))
        cand, w = cand[order], w[order]
        cs = np.cumsum(w, dtype=np.float64)
        k = int(np.searchsorted(cs, target, side="left")) + 1
        k = max(1, min(k, len(cand)))
        # every id left out weighs at most the next one of the base order
        bound = float(weights[base_order[m]])
        if cs[k - 1] >= target * (1 - 1e-9) and float(w[k - 1]) >= bound:
            return cand[:k]
        m *= 8
    return None


def _nucleus(weights: np.ndarray, top_p: float) -> np.ndarray:
    """Ids of the smallest most-likely set holding top_p of the mass, best first."""
    total = float(weights.sum(dtype=np.float64))
    target = top_p * total
    n = len(weights)
    m = 64
    while True:
        if m >= n:
            idx = np.arange(n)
        else:
            idx = np.argpartition(-weights, m)[:m]
        idx = idx[np.lexsort((idx, -weights[idx]))]
        cs = np.cumsum(weights[idx], dtype=np.float64)
        if cs[-1] >= target * (1 - 1e-9) or m >= n:
            k = int(np.searchsorted(cs, target, side="left")) + 1
            return idx[: max(1, min(k, len(idx)))]
        m *= 8


# --------------------------------------------------------------------------- stop sequences


class StopBuffer:
    """Releases text as it is generated, holding back what could start a stop sequence."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = [s for s in stops if s]
        self.held = ""
        self.tokens: list[tuple[TokenInfo, int]] = []  # held tokens and their start in `held`

    def feed(self, token: TokenInfo | None, text: str) -> tuple[Chunk | None, bool]:
        """Add a token's text; (what can be released now, whether a stop sequence was hit)."""
        if token is not None:
            self.tokens.append((token, len(self.held)))
        self.held += text
        hits = [i for i in (self.held.find(s) for s in self.stops) if i >= 0]
        if hits:
            return self._release(min(hits), stopped=True), True
        keep = 0
        for s in self.stops:
            for k in range(min(len(s) - 1, len(self.held)), keep, -1):
                if self.held.endswith(s[:k]):
                    keep = k
                    break
        return self._release(len(self.held) - keep, stopped=False), False

    def flush(self, text: str = "") -> tuple[Chunk | None, bool]:
        chunk, stopped = self.feed(None, text)
        if stopped:
            return chunk, True
        rest = self._release(len(self.held), stopped=False, everything=True)
        if chunk and rest:
            return Chunk(chunk.text + rest.text, chunk.tokens + rest.tokens), False
        return chunk or rest, False

    def _release(self, upto: int, *, stopped: bool, everything: bool = False) -> Chunk | None:
        text = self.held[:upto]
        out = [t for t, start in self.tokens if start < upto or everything]
        if stopped:
            self.held, self.tokens = "", []
        else:
            self.held = self.held[upto:]
            self.tokens = [(t, start - upto) for t, start in self.tokens if not (start < upto or everything)]
        if not text and not out:
            return None
        return Chunk(text, out)


# --------------------------------------------------------------------------- one choice


class Generation:
    """One choice: iterate for its chunks; then read finish_reason, n_tokens, sum_logprob."""

    def __init__(
        self,
        model: TextModel,
        context: Sequence[int],
        params: SamplingParams,
        rng: np.random.Generator,
        constraint: Constraint | None = None,
    ) -> None:
        self.model = model
        self.constraint = constraint  # a grammar's token mask (see local_engine.constrained)
        self.context = list(context)
        self.params = params
        self.rng = rng
        self.finish_reason: str | None = None
        self.n_tokens = 0
        self.sum_logprob = 0.0
        self.text = ""

    @property
    def mean_logprob(self) -> float:
        return self.sum_logprob / self.n_tokens if self.n_tokens else 0.0

    def __iter__(self) -> Iterator[Chunk]:
        model, params = self.model, self.params
        ctx = self.context
        counts: dict[int, int] = {}
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        buf = StopBuffer(params.stop)
        want_top = params.top_logprobs
        constraint = self.constraint
        for _ in range(params.max_tokens):
            stop_if_client_gone()
            dist = model.next_dist(ctx)
            if constraint is not None:
                dist = constraint.restrict(dist)
                with np.errstate(divide="ignore"):  # masked ids have probability 0
                    tok = choose(dist, params, counts, self.rng)
                constraint.consume(tok)
            else:
                tok = choose(dist, params, counts, self.rng)
            if is_special(model, tok):
                # The end of the text, not a token of it: like the API, not in usage.
                self.finish_reason = "stop"
                break
            lp = math.log(max(float(dist.probs[tok]), 1e-45))
            self.n_tokens += 1
            self.sum_logprob += lp
            ctx.append(tok)
            counts[tok] = counts.get(tok, 0) + 1
            top: list[tuple[int, float]] = []
            if want_top:
                ids, lps = model.top_k(dist, want_top) if constraint is None else allowed_top_k(dist, want_top)
                top = list(zip(ids.tolist(), lps.tolist()))
            raw = model.token_bytes(tok)
            info = TokenInfo(tok, lp, top, raw)
            chunk, stopped = buf.feed(info, decoder.decode(raw or b""))
            if chunk is not None:
                self.text += chunk.text
                yield chunk
            if stopped:
                self.finish_reason = "stop"
                return
        else:
            self.finish_reason = "length"
        chunk, _ = buf.flush(decoder.decode(b"", final=True))
        if chunk is not None:
            self.text += chunk.text
            yield chunk


def rng_for(seed: int | None, *stream: int) -> np.random.Generator:
    """The Generator of one choice: seed + (prompt index, choice index); fresh entropy if no seed."""
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([seed & 0xFFFFFFFFFFFFFFFF, *stream])
