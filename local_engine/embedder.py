"""The local embedding model: TF-IDF over words and character n-grams, reduced by a truncated
SVD (latent semantic analysis) fitted on the shipped corpus, L2-normalized.

Features of a text (after lower-casing and keeping only its words, `\\w+`):
- its words, and
- the character 3- and 4-grams of " word word ... " (spaces included, so n-grams also
  tie neighbouring words together),
each hashed (a fixed polynomial hash, the same on every machine) into its own space. Only the
features seen in at least MIN_DF corpus documents become columns; the rest carry no
information the projection knows about. Weights are sublinear TF (1 + log tf) times smoothed
IDF; the word part and the character part are each L2-normalized, then mixed with
WORD_SHARE / 1 - WORD_SHARE of the squared norm.

The projection is the first DIMENSIONS right singular vectors of the corpus' TF-IDF matrix
(randomized SVD, Halko et al. 2011, numpy only, fixed seed): an embedding is the TF-IDF row
times those vectors, L2-normalized. Components are ordered by singular value, so the first d
coordinates are the best d-dimensional summary: `dimensions=d` keeps them and re-normalizes,
as text-embedding-3 does.

A text with no known feature (punctuation only, an unseen script) projects to zero; it gets
a unit vector drawn from a generator seeded with the text's hash, so equal texts still embed
equally and different ones differ.

Fitted at first start (a few seconds) and cached as .npz in the engine's cache dir, keyed by
the corpus hash and CODE_VERSION.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import re
import time
import zlib
from pathlib import Path
from typing import Sequence

import numpy as np

from .lm import CORPUS_PATH

log = logging.getLogger("local_engine.embedder")

CODE_VERSION = "lsa-v1"  # bump when features or fitting change: invalidates caches
DIMENSIONS = 256
CHAR_NGRAMS = (3, 4)
HASH_BITS = 22  # per feature family: 4M buckets, collisions rare among ~100k features
MIN_DF = 2
MAX_DF = 0.1  # features in more documents are stop-words: a third of all entries, little meaning
WORD_SHARE = 0.5
SVD_OVERSAMPLE = 24
SVD_POWER_ITERATIONS = 1
SVD_SEED = 20240513
_WORD = re.compile(r"\w+")
_MASK = np.uint64((1 << HASH_BITS) - 1)
# Family tags keep words and n-grams of different lengths in separate hash spaces.
_WORD_FAMILY = np.uint64(1 << HASH_BITS)
_CHUNK = 2048  # entries per gather in sparse products: the buffer stays in cache


def _unique_counts(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and their counts (np.unique without counts is slow on uint64)."""
    s = np.sort(a)
    first = np.concatenate([[True], s[1:] != s[:-1]]) if len(s) else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    return s[starts], np.diff(np.append(starts, len(s)))


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: spreads a polynomial hash over all 64 bits."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def raw_features(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every (text index, feature key) occurrence of the texts: int64 rows, uint64 keys."""
    word_lists = [_words(t) for t in texts]
    rows: list[np.ndarray] = []
    keys: list[np.ndarray] = []

    # Words: crc32 of the UTF-8 word, in the word family.
    crc: dict[str, int] = {}
    flat = [w for ws in word_lists for w in ws]
    if flat:
        hashes = np.fromiter(
            (crc.get(w) if w in crc else crc.setdefault(w, zlib.crc32(w.encode())) for w in flat),
            dtype=np.uint64,
            count=len(flat),
        )
        rows.append(np.repeat(np.arange(len(texts), dtype=np.int64), [len(ws) for ws in word_lists]))
        keys.append((_mix(hashes) & _MASK) | _WORD_FAMILY)

    # Character n-grams of " w1 w2 ... ", all texts at once: code points joined by a 0 separator.
    padded = "\0".join(" " + " ".join(ws) + " " for ws in word_lists)
    codes = np.frombuffer(padded.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    seps = np.concatenate([[0], np.cumsum(codes == 0)])  # separators before each position
    for n in CHAR_NGRAMS:
        length = len(codes) - n + 1
        if length <= 0:
            continue
        h = np.zeros(length, dtype=np.uint64)
        for j in range(n):
            h = h * np.uint64(1_000_003) + codes[j : j + length]
        inside = seps[n : n + length] == seps[:length]  # the window crosses no separator
        rows.append(seps[:length][inside])
        keys.append((_mix(h[inside]) & _MASK) | np.uint64((n + 1) << HASH_BITS))
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    return np.concatenate(rows), np.concatenate(keys)


class _Csr:
    """A sparse matrix in CSR form, with the two products randomized SVD needs."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n_cols: int) -> None:
        self.indptr, self.indices, self.data, self.n_cols = indptr, indices, data, n_cols
        self.n_rows = len(indptr) - 1

    def matmul(self, dense: np.ndarray) -> np.ndarray:
        """self @ dense; rows without entries give 0."""
        out = np.zeros((self.n_rows, dense.shape[1]), dtype=np.float32)
        row_of = np.repeat(np.arange(self.n_rows), np.diff(self.indptr))
        buffer = np.empty((_CHUNK, dense.shape[1]), dtype=np.float32)
        for a in range(0, len(self.indices), _CHUNK):
            b = min(a + _CHUNK, len(self.indices))
            part = buffer[: b - a]
            np.take(dense, self.indices[a:b], axis=0, out=part)
            part *= self.data[a:b, None]
            rows = row_of[a:b]
            starts = np.flatnonzero(np.concatenate([[True], rows[1:] != rows[:-1]]))
            out[rows[starts]] += np.add.reduceat(part, starts, axis=0)
        return out

    def transposed(self) -> _Csr:
        order = np.argsort(self.indices, kind="stable")
        row_of = np.repeat(np.arange(self.n_rows), np.diff(self.indptr))
        counts = np.bincount(self.indices, minlength=self.n_cols)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        return _Csr(indptr, row_of[order], self.data[order], self.n_rows)


def _orthonormal(m: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(m.astype(np.float32))
    return q


def randomized_svd_components(x: _Csr, k: int) -> np.ndarray:
    """The top-k right singular vectors of x, as a (n_cols, k) float32 matrix."""
    rng = np.random.default_rng(SVD_SEED)
    xt = x.transposed()
    # The first sketch x @ omega with a sparse sign omega (CountSketch: one +-1 per column),
    # which costs one pass over the entries instead of a dense product.
    width = k + SVD_OVERSAMPLE
    bucket = rng.integers(0, width, x.n_cols)
    sign = rng.choice(np.array([-1.0, 1.0], np.float32), x.n_cols)
    row_of = np.repeat(np.arange(x.n_rows), np.diff(x.indptr))
    sketch = np.bincount(
        row_of * width + bucket[x.indices], weights=x.data * sign[x.indices], minlength=x.n_rows * width
    ).reshape(x.n_rows, width)
    q = _orthonormal(sketch)
    for _ in range(SVD_POWER_ITERATIONS):
        q = _orthonormal(x.matmul(_orthonormal(xt.matmul(q))))
    b_t = xt.matmul(q)  # (n_cols, k + p) = (q^T x)^T
    # Right singular vectors of the small b = q^T x from the eigenvectors of b b^T.
    gram = (b_t.T @ b_t).astype(np.float64)
    eigenvalues, eigenvectors = np.linalg.eigh(gram)
    top = np.argsort(eigenvalues)[::-1][:k]
    components = (b_t @ eigenvectors[:, top].astype(np.float32)) / np.sqrt(eigenvalues[top]).astype(np.float32)
    # A fixed sign per component (largest entry positive): the same model on every machine.
    signs = np.sign(components[np.abs(components).argmax(axis=0), np.arange(k)])
    return (components * signs).astype(np.float32)


class Embedder:
    """Text -> unit vector of DIMENSIONS floats (see the module docstring)."""

    def __init__(self, tables: dict[str, np.ndarray], fingerprint: str = "") -> None:
        self.feature_keys = tables["feature_keys"]  # uint64, sorted: the columns
        self.idf = tables["idf"]  # float32 per column
        self.is_word = tables["is_word"]  # bool per column
        self.components = tables["components"]  # float32 (columns, DIMENSIONS)
        self.fingerprint = fingerprint

    @property
    def dimensions(self) -> int:
        return int(self.components.shape[1])

    # -- fitting -----------------------------------------------------------------------

    @staticmethod
    def fit(docs: Sequence[str], dimensions: int = DIMENSIONS) -> dict[str, np.ndarray]:
        rows, keys = raw_features(docs)
        # Each feature once per document (keys fit in HASH_BITS + 3 bits).
        pairs, _ = _unique_counts((rows.astype(np.uint64) << np.uint64(HASH_BITS + 3)) | keys)
        feature_keys, df = _unique_counts(pairs & np.uint64((1 << (HASH_BITS + 3)) - 1))
        kept = (df >= MIN_DF) & (df <= MAX_DF * len(docs))
        feature_keys, df = feature_keys[kept], df[kept]
        idf = (np.log((1 + len(docs)) / (1 + df)) + 1).astype(np.float32)
        tables = {
            "feature_keys": feature_keys,
            "idf": idf,
            "is_word": (feature_keys >> np.uint64(HASH_BITS)) == 1,
            "components": np.zeros((len(feature_keys), 0), np.float32),
        }
        x = Embedder(tables).tfidf(docs)
        tables["components"] = randomized_svd_components(x, dimensions)
        return tables

    @classmethod
    def load(cls, cache_dir: Path | str | None = None, corpus: Path = CORPUS_PATH) -> Embedder:
        """The model from the cache, or fitted on the corpus and cached."""
        raw = gzip.decompress(corpus.read_bytes())
        key = f"embedding-{CODE_VERSION}-{DIMENSIONS}-{hashlib.sha256(raw).hexdigest()[:16]}"
        path = Path(cache_dir) / f"{key}.npz" if cache_dir else None
        if path is not None and path.exists():
            try:
                with np.load(path) as data:
                    tables = {k: data[k] for k in data.files}
                return cls(tables, key)
            except (OSError, ValueError, KeyError) as exc:  # a damaged cache: fit again
                log.warning("ignoring damaged cache %s: %s", path, exc)
        t0 = time.perf_counter()
        docs = [d for d in raw.decode("utf-8").split("\n<|endoftext|>\n") if d.strip()]
        tables = cls.fit(docs)
        log.info("embedding model fitted on %d documents in %.2fs", len(docs), time.perf_counter() - t0)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
            np.savez(tmp, **tables)
            tmp.replace(path)
        return cls(tables, key)

    # -- embedding ---------------------------------------------------------------------

    def tfidf(self, texts: Sequence[str]) -> _Csr:
        """The texts' TF-IDF rows over the known features (see the module docstring)."""
        rows, keys = raw_features(texts)
        cols = np.searchsorted(self.feature_keys, keys)
        cols = np.minimum(cols, len(self.feature_keys) - 1)
        known = self.feature_keys[cols] == keys
        rows, cols = rows[known], cols[known].astype(np.int64)
        n_cols = len(self.feature_keys)
        pair, tf = _unique_counts(rows * n_cols + cols)
        rows, cols = pair // n_cols, pair % n_cols
        weight = (1 + np.log(tf)) * self.idf[cols]
        # Each text's word part and character part to unit norm, then mixed.
        part = rows * 2 + self.is_word[cols]
        norms = np.sqrt(np.bincount(part, weights=weight**2, minlength=2 * len(texts)))
        share = np.where(self.is_word[cols], np.sqrt(WORD_SHARE), np.sqrt(1 - WORD_SHARE))
        data = (weight / norms[part] * share).astype(np.float32)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=len(texts)))])
        return _Csr(indptr, cols, data, n_cols)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), DIMENSIONS) float32, each row of unit length."""
        if not texts:
            return np.zeros((0, self.dimensions), np.float32)
        vectors = self.tfidf(texts).matmul(self.components)
        norms = np.linalg.norm(vectors, axis=1)
        for i in np.flatnonzero(norms < 1e-6):
            seed = int.from_bytes(hashlib.sha256(texts[i].encode("utf-8", "surrogatepass")).digest()[:8], "little")
            vectors[i] = np.random.default_rng(seed).standard_normal(self.dimensions)
            norms[i] = np.linalg.norm(vectors[i])
        return (vectors / norms[:, None]).astype(np.float32)


def shorten(vectors: np.ndarray, dimensions: int) -> np.ndarray:
    """The first `dimensions` coordinates, re-normalized to unit length."""
    cut = vectors[:, :dimensions]
    norms = np.linalg.norm(cut, axis=1, keepdims=True)
    return (cut / np.where(norms > 0, norms, 1)).astype(np.float32)


_MODEL: Embedder | None = None


def base_embedder(cache_dir: Path | str | None = None) -> Embedder:
    """The process-wide embedding model (loaded once)."""
    global _MODEL
    if _MODEL is None:
        _MODEL = Embedder.load(cache_dir)
    return _MODEL
