"""Conditioning on the request: a cache model of the corpus passages nearest the prompt.

The n-gram model alone knows only the last three tokens, so at temperature 1 it drifts off
any subject within a few words. For each request the text routes call `condition(model,
prompt)`, which returns the same model with one more mixing layer (a `Recall`), built from

- the TOP_K passages of the training corpus whose WordLlama embeddings are nearest to the
  embedding of the prompt's text (its last QUERY_TOKENS tokens), and
- the prompt's own last QUERY_TOKENS tokens,

as a cache language model (Kuhn & De Mori, 1990) over those tokens:

    p_0(w) = (1 - UNIGRAM_WEIGHT) p(w) + UNIGRAM_WEIGHT c(w) / N       (the topic's words)
    p_k(w) = (1 - lambda_k) p_{k-1}(w) + lambda_k c(h_k, w) / c(h_k)    k = 1, 2, 3 (Witten-Bell,
             lambda_k = CACHE_WEIGHT c(h_k) / (CACHE_WEIGHT c(h_k) + T(h_k)))

where p is the n-gram distribution, c the counts in the cache tokens. The layer goes first,
under any fine-tuned layers. Every id keeps its nonzero probability (each step only mixes),
and the logprobs the routes report are those of this conditioned distribution: the model's
distribution for that request.

The passages: every corpus document cut into pieces of at most PASSAGE_TOKENS tokens. Their
embeddings (float16) and token ids are computed at first start and cached as .npz in the
engine's cache dir under a key naming INDEX_VERSION, the corpus hash and the embedding model.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from . import embedder, lm

log = logging.getLogger("local_engine.retrieval")

INDEX_VERSION = "passages-v1"  # bump when passages or their embeddings change: invalidates caches
PASSAGE_TOKENS = 160
TOP_K = 8
QUERY_TOKENS = 256
UNIGRAM_WEIGHT = 0.02
CACHE_WEIGHT = 1.0
CACHE_ORDER = 4  # contexts of up to 3 tokens, as the n-gram model


class PassageIndex:
    """The corpus passages: their token ids (CSR) and unit embeddings."""

    def __init__(self, tables: dict[str, np.ndarray], fingerprint: str = "") -> None:
        self.tokens = tables["tokens"]  # int32, every passage's ids, concatenated
        self.offsets = tables["offsets"]  # int64 [passages + 1]
        self.vectors = tables["vectors"].astype(np.float32)  # [passages, dims] (float16 on disk)
        self.fingerprint = fingerprint

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def passage(self, i: int) -> np.ndarray:
        return self.tokens[self.offsets[i] : self.offsets[i + 1]]

    def nearest(self, query: np.ndarray, k: int = TOP_K) -> np.ndarray:
        """Indices of the k passages nearest the unit vector `query`, best first."""
        sims = self.vectors @ query.astype(np.float32)
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        return top[np.argsort(-sims[top], kind="stable")]

    @staticmethod
    def build(encoding, model: embedder.Embedder, corpus: Path = lm.CORPUS_PATH) -> dict[str, np.ndarray]:
        raw = gzip.decompress(corpus.read_bytes()).decode("utf-8")
        docs = [d for d in raw.split("\n<|endoftext|>\n") if d.strip()]
        pieces: list[list[int]] = []
        for ids in encoding.encode_batch(docs, num_threads=2, disallowed_special=()):
            pieces.extend(ids[i : i + PASSAGE_TOKENS] for i in range(0, len(ids), PASSAGE_TOKENS))
        pieces = [p for p in pieces if p]
        texts = [encoding.decode_bytes(p).decode("utf-8", errors="replace") for p in pieces]
        vectors = model.embed(texts).astype(np.float16)
        lengths = np.array([len(p) for p in pieces], dtype=np.int64)
        return {
            "tokens": np.fromiter((t for p in pieces for t in p), dtype=np.int32, count=int(lengths.sum())),
            "offsets": np.concatenate([[0], np.cumsum(lengths)]),
            "vectors": vectors,
        }

    @classmethod
    def load(cls, encoding, model: embedder.Embedder, cache_dir: Path | str | None,
             corpus: Path = lm.CORPUS_PATH) -> PassageIndex:
        digest = hashlib.sha256(gzip.decompress(corpus.read_bytes())).hexdigest()[:16]
        key = f"retrieval-{INDEX_VERSION}-{PASSAGE_TOKENS}-{model.fingerprint}-{digest}"
        path = Path(cache_dir) / f"{key}.npz" if cache_dir else None
        if path is not None and path.exists():
            try:
                with np.load(path) as data:
                    return cls({k: data[k] for k in data.files}, key)
            except (OSError, ValueError, KeyError) as exc:  # a damaged cache: build again
                log.warning("ignoring damaged cache %s: %s", path, exc)
        t0 = time.perf_counter()
        tables = cls.build(encoding, model, corpus)
        log.info("passage index: %d passages in %.2fs", len(tables["offsets"]) - 1, time.perf_counter() - t0)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
            np.savez(tmp, **tables)
            tmp.replace(path)
        return cls(tables, key)


class Recall:
    """The cache layer of one request (see the module docstring); a layer of `lm.TextModel`."""

    def __init__(self, pieces: Sequence[Sequence[int]], vocab_size: int) -> None:
        flat = np.concatenate([np.asarray(p, dtype=np.int64) for p in pieces]) if pieces else np.zeros(0, np.int64)
        flat = flat[(flat >= 0) & (flat < vocab_size)]
        ids, counts = np.unique(flat, return_counts=True)
        self.unigram = lm.Step(1.0 - UNIGRAM_WEIGHT, ids, (UNIGRAM_WEIGHT * counts / max(counts.sum(), 1)).astype(np.float32))
        self.memory = lm.Adaptation([list(map(int, p)) for p in pieces], CACHE_WEIGHT, CACHE_ORDER)
        self.signature = f"recall-{INDEX_VERSION}-{TOP_K}"  # the same for every request: a configuration

    def steps(self, context: Sequence[int]) -> list[lm.Step]:
        steps = [self.unigram] if len(self.unigram.ids) else []
        return steps + self.memory.steps(context)


class Retriever:
    """Conditions a text model on a prompt: `condition(model, prompt_ids)`."""

    def __init__(self, index: PassageIndex, model: embedder.Embedder, encoding) -> None:
        self.index, self.embedder, self.encoding = index, model, encoding

    def query_text(self, prompt: Sequence[int]) -> str:
        ids = [int(t) for t in prompt[-QUERY_TOKENS:] if int(t) < self.encoding.eot_token]
        return self.encoding.decode_bytes(ids).decode("utf-8", errors="replace")

    def passages(self, prompt: Sequence[int], query: str | None = None) -> list[np.ndarray]:
        text = query if query is not None else self.query_text(prompt)
        if not text.strip():
            return []
        query = self.embedder.embed([text])[0]
        return [self.index.passage(int(i)) for i in self.index.nearest(query)]

    def condition(self, model: lm.TextModel, prompt: Sequence[int], query: str | None = None) -> lm.TextModel:
        """The model with a `Recall` layer for this prompt under its other layers; `query` (the
        text to search with) defaults to the prompt's text."""
        recent = [int(t) for t in prompt[-QUERY_TOKENS:] if int(t) < self.encoding.eot_token]
        pieces = [*self.passages(prompt, query), recent]
        pieces = [p for p in pieces if len(p)]
        if not pieces:
            return model
        return model.with_adaptations([Recall(pieces, model.vocab_size), *model.adaptations])


_RETRIEVER: Retriever | None = None


def retriever(cache_dir: Path | str | None = None) -> Retriever:
    """The process-wide retriever (its index loaded or built once)."""
    global _RETRIEVER
    if _RETRIEVER is None:
        encoding = lm.base_model(cache_dir).encoding
        model = embedder.base_embedder()
        _RETRIEVER = Retriever(PassageIndex.load(encoding, model, cache_dir), model, encoding)
    return _RETRIEVER


def condition(model: lm.TextModel, prompt: Sequence[int], query: str | None = None) -> lm.TextModel:
    """`model` conditioned on `prompt` (token ids); the model itself when no index is loaded."""
    return _RETRIEVER.condition(model, prompt, query) if _RETRIEVER is not None else model
