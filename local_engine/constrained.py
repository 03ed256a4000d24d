"""Constrained decoding: a token mask from a grammar, applied to the model's distribution.

Why llguidance (pinned in requirements.txt): it builds its tokenizer straight from a tiktoken
`Encoding` (`llguidance.tiktoken.lltokenizer_from_encoding`), so o200k_base's 200k ids need
no Hugging Face tokenizer files (outlines-core and xgrammar both start from an HF vocabulary
and would need one faked); it compiles JSON Schema *and* Lark grammars with inline
`%json {...}` schemas (the tool-call grammar below mixes both); a mask costs ~0.3 ms per step
on one core (no torch needed: the bitmask is plain bytes); and it is the engine behind
OpenAI-compatible structured outputs in llama.cpp, vLLM and SGLang, so it is maintained.

At each step (see `Constraint.restrict`): the allowed ids come from the matcher; every other
id gets probability 0; `<|endoftext|>` is allowed only where the grammar accepts. Then a
*closing pressure*, because an n-gram model over docstrings has no reason ever to close a
JSON string: tokens holding a quote are weighted by exp(RUN_PRESSURE * r), r = tokens since
the last token holding a quote (a quote always opens or closes a string, so r is the length
of the current string or gap), and tokens holding `}` or `]` by exp(END_PRESSURE * f),
f = the fraction of max_tokens used. The result is
renormalized; that distribution is the one sampled from and the one logprobs report (so a
forced token has logprob 0, as with the API's structured outputs).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from .lm import NextDist, TextModel

RUN_PRESSURE = 0.5
END_PRESSURE = 6.0
_ENDERS = (b"}", b"]")

# JSON is compact (no free whitespace: a model that loves "\n" cannot pad forever), and
# strings escape only \n, \t and \\ (never \", so a token holding a quote opens or closes one).
_JSON_OPTIONS = {"whitespace_flexible": False, "json_allowed_escapes": "nt\\"}


class GrammarError(ValueError):
    """The schema or grammar cannot be compiled; the message says why."""


@dataclass
class _Vocab:
    tokenizer: Any  # llguidance.LLTokenizer
    quotes: np.ndarray  # bool [vocab]: the token holds a '"'
    enders: np.ndarray  # bool [vocab]


_VOCABS: dict[str, _Vocab] = {}
_LOCK = threading.Lock()


def vocab(model: TextModel) -> _Vocab:
    """llguidance's tokenizer for the model's encoding (built once, ~1.3 s) and the pressure tables."""
    name = model.encoding.name
    with _LOCK:
        if name not in _VOCABS:
            import llguidance.tiktoken

            tok = llguidance.tiktoken.lltokenizer_from_encoding(model.encoding, n_vocab=model.vocab_size)
            quotes = np.zeros(model.vocab_size, dtype=bool)
            enders = np.zeros(model.vocab_size, dtype=bool)
            for i in range(model.vocab_size):
                raw = model.token_bytes(i)
                if raw:
                    quotes[i] = b'"' in raw
                    enders[i] = any(c in raw for c in _ENDERS)
            _VOCABS[name] = _Vocab(tok, quotes, enders)
        return _VOCABS[name]


def check_grammar(model: TextModel, grammar: str) -> None:
    """Raise GrammarError if llguidance cannot compile the grammar."""
    import llguidance

    message = llguidance.LLMatcher.validate_grammar(grammar, vocab(model).tokenizer)
    if message:
        raise GrammarError(message)


def json_schema_grammar(schema: dict[str, Any], *, lenient: bool = False) -> str:
    """lenient: keywords llguidance does not implement are ignored instead of failing."""
    import llguidance

    return llguidance.LLMatcher.grammar_from_json_schema(schema, overrides={**_JSON_OPTIONS, "lenient": lenient})


def lark_grammar(lark: str) -> str:
    import llguidance

    return llguidance.LLMatcher.grammar_from_lark(lark)


def json_inline(schema: dict[str, Any]) -> str:
    """A schema as Lark's `%json {...}` with the compact JSON options."""
    return "%json " + json.dumps({**schema, "x-guidance": _JSON_OPTIONS})


class Constraint:
    """One choice's matcher: restrict each step's distribution, then consume the sampled id."""

    def __init__(self, model: TextModel, grammar: str, max_tokens: int) -> None:
        import llguidance

        self.vocab = vocab(model)
        self.size = model.vocab_size
        self.eot = model.encoding.eot_token
        self.matcher = llguidance.LLMatcher(self.vocab.tokenizer, grammar, log_level=0)
        if self.matcher.is_error():
            raise GrammarError(self.matcher.get_error())
        self.max_tokens = max(1, max_tokens)
        self.used = 0
        self.run = 0

    def allowed(self) -> np.ndarray:
        bits = np.frombuffer(self.matcher.compute_bitmask(), dtype=np.uint8)
        return np.unpackbits(bits, bitorder="little")[: self.size].astype(bool)

    def restrict(self, dist: NextDist) -> NextDist:
        allowed = self.allowed()
        if not allowed.any():  # the grammar is done (or broken): only the end remains
            allowed[self.eot] = True
        w = np.where(allowed, dist.probs, np.float32(0)).astype(np.float64)
        boost = np.ones(self.size, dtype=np.float64)
        boost[self.vocab.quotes] = np.exp(RUN_PRESSURE * self.run)
        boost[self.vocab.enders] *= np.exp(END_PRESSURE * self.used / self.max_tokens)
        w *= boost
        total = w.sum()
        if not total > 0:
            w = allowed.astype(np.float64)
            total = w.sum()
        probs = (w / total).astype(np.float32)
        ids = np.flatnonzero(allowed)
        return NextDist(probs, ids, 1, None)

    def consume(self, token: int) -> None:
        self.used += 1
        self.run = 0 if self.vocab.quotes[token] else self.run + 1
        if token != self.eot:
            self.matcher.consume_token(int(token))

    @property
    def accepting(self) -> bool:
        return self.matcher.is_accepting()


def top_k(dist: NextDist, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k most likely allowed ids (best first, ties by lowest id) of a restricted distribution."""
    ids = dist.touched
    p = dist.probs[ids]
    if len(ids) > k:
        part = np.argpartition(-p, k - 1)[:k]
        kth = p[part].min()
        sel = np.flatnonzero(p >= kth)
        ids, p = ids[sel], p[sel]
    order = np.lexsort((ids, -p))[:k]
    ids = ids[order]
    with np.errstate(divide="ignore"):
        return ids, np.log(dist.probs[ids].astype(np.float64))
