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
JSON string or number. Quotes are never escaped (below), so counting them tells whether the
text is inside a string. With r = tokens since the last quote: inside a string, tokens holding
a quote are weighted by exp(RUN_PRESSURE * r); outside, tokens holding `,`, `}` or `]` are, so
numbers end too; tokens holding `}` or `]` also by exp(END_PRESSURE * f + ITEM_PRESSURE * q / 4),
f = the fraction of max_tokens used, q = the quotes so far (about four per key and string value,
so free objects and arrays stay a few items long). The result is
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
ITEM_PRESSURE = 0.7
MAX_EXPONENT = 60.0  # e^60 already decides; float32 overflows past e^88

# JSON is compact (no free whitespace: a model that loves "\n" cannot pad forever), and
# strings escape only \n, \t and \\ (never \", so a token holding a quote opens or closes one).
_JSON_OPTIONS = {"whitespace_flexible": False, "json_allowed_escapes": "nt\\"}


class GrammarError(ValueError):
    """The schema or grammar cannot be compiled; the message says why."""


@dataclass
class _Vocab:
    tokenizer: Any  # llguidance.LLTokenizer
    quotes: np.ndarray  # int [vocab]: how many '"' the token holds
    quote_ids: np.ndarray  # ids of the tokens holding '"'
    closer_ids: np.ndarray  # ids of the tokens holding ',', '}' or ']'
    ender_ids: np.ndarray  # ids of the tokens holding '}' or ']'


_VOCABS: dict[str, _Vocab] = {}
_LOCK = threading.Lock()


def vocab(model: TextModel) -> _Vocab:
    """llguidance's tokenizer for the model's encoding (built once, ~1.3 s) and the pressure tables."""
    name = model.encoding.name
    with _LOCK:
        if name not in _VOCABS:
            import llguidance.tiktoken

            tok = llguidance.tiktoken.lltokenizer_from_encoding(model.encoding, n_vocab=model.vocab_size)
            raws = [model.token_bytes(i) or b"" for i in range(model.vocab_size)]
            quotes = np.array([raw.count(b'"') for raw in raws])
            enders = np.array([b"}" in raw or b"]" in raw for raw in raws])
            closers = enders | np.array([b"," in raw for raw in raws])
            _VOCABS[name] = _Vocab(tok, quotes, np.flatnonzero(quotes), np.flatnonzero(closers), np.flatnonzero(enders))
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
        self.quotes = 0

    def allowed(self) -> np.ndarray:
        """1 where the grammar allows the id next, else 0 (uint8 [vocab])."""
        bits = np.unpackbits(np.frombuffer(self.matcher.compute_bitmask(), dtype=np.uint8), bitorder="little")
        return bits[: self.size]

    def restrict(self, dist: NextDist) -> NextDist:
        # Dense passes only: a scatter over the ~200k ids a string allows costs 40x more.
        w = dist.probs * self.allowed()
        run = np.float32(np.exp(min(RUN_PRESSURE * self.run, MAX_EXPONENT)))
        if self.quotes % 2:  # inside a string
            w[self.vocab.quote_ids] *= run
        else:
            w[self.vocab.closer_ids] *= run
            end = END_PRESSURE * self.used / self.max_tokens + ITEM_PRESSURE * self.quotes / 4
            w[self.vocab.ender_ids] *= np.float32(np.exp(min(end, MAX_EXPONENT)))
        total = float(w.sum(dtype=np.float64))
        if not total > 0 or not np.isfinite(total):  # nothing allowed: the grammar is done
            w = np.zeros(self.size, dtype=np.float32)
            w[self.eot] = 1.0
            total = 1.0
        w /= np.float32(total)
        return NextDist(w, np.zeros(0, dtype=np.int64), 0, None)

    def consume(self, token: int) -> None:
        self.used += 1
        quotes = int(self.vocab.quotes[token])
        self.run = 0 if quotes else self.run + 1
        self.quotes += quotes
        if token != self.eot:
            self.matcher.consume_token(int(token))

    @property
    def accepting(self) -> bool:
        return self.matcher.is_accepting()


def top_k(dist: NextDist, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k most likely allowed ids (best first, ties by lowest id) of a restricted distribution."""
    p = dist.probs
    cand = np.argpartition(-p, k - 1)[:k] if k < len(p) else np.arange(len(p))
    kth = p[cand].min()
    cand = np.flatnonzero(p >= kth) if kth > 0 else cand[p[cand] > 0]
    order = np.lexsort((cand, -p[cand]))[:k]
    ids = cand[order]
    return ids, np.log(p[ids].astype(np.float64))
