"""Nearest neighbours by cosine similarity: one matrix product for all queries at once, then
np.argpartition for the top k of each (no full sort of the corpus)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np


@dataclass(frozen=True)
class Hit:
    position: int  # row of the searched matrix
    similarity: float


def normalize(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as float32 (all-zero rows stay zero)."""
    m = np.asarray(matrix, dtype=np.float32)
    if m.ndim == 1:
        m = m[None, :]
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1)


def top_k(index: np.ndarray, queries: np.ndarray, k: int, threshold: float | None = None) -> list[list[Hit]]:
    """For each query, its k most similar rows of `index` (both already normalized), best first,
    only those with similarity >= threshold."""
    if index.shape[0] == 0 or k < 1:
        return [[] for _ in range(len(queries))]
    if queries.shape[1] != index.shape[1]:
        raise ValueError(
            f"The queries have {queries.shape[1]} dimensions and the corpus {index.shape[1]}: "
            "embed them with the same model and dimensions."
        )
    k = min(k, index.shape[0])
    scores = queries @ index.T  # (queries, rows)
    if k < index.shape[0]:
        best = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        best = np.broadcast_to(np.arange(index.shape[0]), (len(queries), index.shape[0]))
    out = []
    for q, candidates in enumerate(best):
        chosen = candidates[np.argsort(-scores[q, candidates], kind="stable")]
        out.append(
            [Hit(int(i), float(scores[q, i])) for i in chosen if threshold is None or scores[q, i] >= threshold]
        )
    return out


APPROXIMATE_FROM = 1_000_000  # rows: from here an approximate index answers (exact below)


class Searcher:
    """Top-k search over one corpus matrix (rows normalized). Exact (`top_k`) below
    APPROXIMATE_FROM rows; from there an IVF index of faiss (inverted lists over k-means
    cells, exact inner products inside the `nprobe` nearest cells). bench.bench_ann reports
    its recall@10 against exact search. faiss is imported only for such a corpus."""

    def __init__(self, matrix: np.ndarray, *, approximate: bool | None = None, nprobe: int = 32, seed: int = 0) -> None:
        self.matrix = matrix
        self.approximate = len(matrix) >= APPROXIMATE_FROM if approximate is None else approximate
        self._index = self._build(matrix, nprobe, seed) if self.approximate and len(matrix) else None

    @staticmethod
    def _build(matrix: np.ndarray, nprobe: int, seed: int):  # noqa: ANN205 - a faiss index
        import faiss  # only for a corpus this large: the import and the index cost seconds

        n, d = matrix.shape
        cells = max(1, min(int(np.sqrt(n)), n // 40))  # 1,000 cells for 1M rows; faiss wants >= 39 training rows a cell
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, cells, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(seed)
        train = matrix[np.sort(rng.choice(n, size=min(n, 40 * cells), replace=False))]
        index.train(np.ascontiguousarray(train, dtype=np.float32))
        index.add(np.ascontiguousarray(matrix, dtype=np.float32))
        index.nprobe = min(nprobe, cells)
        return index

    def top_k(self, queries: np.ndarray, k: int, threshold: float | None = None) -> list[list[Hit]]:
        if self._index is None:
            return top_k(self.matrix, queries, k, threshold)
        if queries.shape[1] != self.matrix.shape[1]:
            return top_k(self.matrix[:1], queries, k, threshold)  # raises the message about dimensions
        scores, rows = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, len(self.matrix)))
        return [
            [Hit(int(i), float(s)) for s, i in zip(row_scores, row_ids) if i >= 0 and (threshold is None or s >= threshold)]
            for row_scores, row_ids in zip(scores, rows)
        ]


def top_k_distinct(
    find: Callable[[int], list[list[Hit]]], texts: Sequence[str], k: int, available: int
) -> list[list[Hit]]:
    """The k best hits of each query with one hit per distinct text (a review posted five
    times is one match). `find(n)` gives each query's n best hits; it is asked for more
    until each query has k distinct texts or nothing is left."""
    want = min(available, 2 * k)
    while True:
        found = find(want)
        distinct = []
        for hits in found:
            seen: set[str] = set()
            kept = []
            for hit in hits:
                text = texts[hit.position]
                if text not in seen and len(kept) < k:
                    seen.add(text)
                    kept.append(hit)
            distinct.append(kept)
        if want >= available or all(len(d) >= k or len(h) < want for d, h in zip(distinct, found)):
            return distinct
        want = min(available, 4 * want)
