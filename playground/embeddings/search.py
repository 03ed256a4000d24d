"""Nearest neighbours by cosine similarity: one matrix product for all queries at once, then
np.argpartition for the top k of each (no full sort of the corpus)."""

from __future__ import annotations

from dataclasses import dataclass

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
