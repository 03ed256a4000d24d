"""A 2-D map of embeddings: PCA (numpy) by default; UMAP or t-SNE when their packages are
installed; k-means clusters to colour it."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np

PCA = "PCA"
UMAP = "UMAP"
TSNE = "t-SNE"
MAX_POINTS = 2000  # a map of more points is sampled (deterministically); 5,000 held the browser (software WebGL) 0.6-1.5 s more per search


def available_methods() -> list[str]:
    methods = [PCA]
    if importlib.util.find_spec("umap") is not None:
        methods.append(UMAP)
    if importlib.util.find_spec("sklearn") is not None:
        methods.append(TSNE)
    return methods


PACKAGES = {UMAP: "umap-learn", TSNE: "scikit-learn"}  # the PyPI package each optional method needs


def missing_methods() -> dict[str, str]:
    """The projections not available here -> the package to install for each."""
    have = available_methods()
    return {method: package for method, package in PACKAGES.items() if method not in have}


def sample_positions(n: int, limit: int = MAX_POINTS, keep: np.ndarray | None = None) -> np.ndarray:
    """Up to `limit` positions of n, evenly spread, always including `keep` (the neighbours)."""
    if n <= limit:
        return np.arange(n)
    chosen = np.linspace(0, n - 1, limit).round().astype(np.int64)
    if keep is not None and len(keep):
        chosen = np.union1d(chosen, keep)
    return np.unique(chosen)


@dataclass
class Map:
    points: np.ndarray  # (n, 2) for the rows
    extra: np.ndarray  # (m, 2) for the extra vectors (queries)
    explained: tuple[float, float] | None = None  # PCA: share of variance on each axis


@dataclass
class Pca:
    """Two principal axes fitted on some rows; any other rows are placed with them."""

    mean: np.ndarray
    axes: np.ndarray  # (dimensions, 2)
    explained: tuple[float, float] | None

    def apply(self, rows: np.ndarray | None) -> np.ndarray:
        if rows is None or not len(rows):
            return np.zeros((0, 2))
        return (np.asarray(rows, dtype=np.float64) - self.mean) @ self.axes


def fit_pca(matrix: np.ndarray, seed: int = 0) -> Pca:
    """The first two principal components (randomized SVD: cheap for wide rows), in a fixed orientation."""
    x = np.asarray(matrix, dtype=np.float64)
    if len(x) < 2:
        return Pca(np.zeros(x.shape[1]), np.zeros((x.shape[1], 2)), None)
    mean = x.mean(axis=0)
    centered = x - mean
    rng = np.random.default_rng(seed)
    width = min(12, *centered.shape)
    q = centered @ rng.standard_normal((x.shape[1], width))
    for _ in range(4):
        q, _ = np.linalg.qr(q)
        q = centered @ (centered.T @ q)
    q, _ = np.linalg.qr(q)
    _, s, vt = np.linalg.svd(q.T @ centered, full_matrices=False)
    axes = vt[:2].T
    if axes.shape[1] < 2:
        axes = np.hstack([axes, np.zeros((x.shape[1], 2 - axes.shape[1]))])
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), [0, 1]])  # a fixed orientation
    axes = axes * np.where(signs == 0, 1, signs)
    total = float((centered**2).sum()) or 1.0
    explained = tuple(float(v) for v in (s[:2] ** 2 / total)) if len(s) >= 2 else None
    return Pca(mean, axes, explained)  # type: ignore[arg-type]


def pca_2d(matrix: np.ndarray, extra: np.ndarray | None = None, seed: int = 0) -> Map:
    """The rows on their first two principal components; `extra` rows placed with the same projection."""
    pca = fit_pca(matrix, seed)
    return Map(pca.apply(matrix), pca.apply(extra), pca.explained)


def project(matrix: np.ndarray, method: str = PCA, extra: np.ndarray | None = None, seed: int = 0) -> Map:
    """2-D coordinates. UMAP and t-SNE place `extra` by fitting it along with the rows."""
    if method == PCA:
        return pca_2d(matrix, extra, seed)
    extra = np.zeros((0, matrix.shape[1]), np.float32) if extra is None else extra
    both = np.vstack([matrix, extra]).astype(np.float32)
    if len(both) < 5:
        return pca_2d(matrix, extra, seed)
    if method == UMAP:
        import umap  # optional: only offered when installed

        coords = umap.UMAP(n_components=2, random_state=seed, metric="cosine").fit_transform(both)
    elif method == TSNE:
        from sklearn.manifold import TSNE as TSNEModel  # optional: only offered when installed

        perplexity = float(min(30, max(2, (len(both) - 1) // 3)))
        coords = TSNEModel(n_components=2, random_state=seed, metric="cosine", perplexity=perplexity, init="pca").fit_transform(both)
    else:
        raise ValueError(f"Unknown map method {method!r}: choose one of {available_methods()}.")
    coords = np.asarray(coords, dtype=np.float64)
    return Map(coords[: len(matrix)], coords[len(matrix) :])


def kmeans(matrix: np.ndarray, k: int, seed: int = 0, iterations: int = 50) -> np.ndarray:
    """Cluster labels 0..k-1 (k-means++ start, Lloyd's iterations), deterministic for a seed."""
    return fit_kmeans(matrix, k, seed, iterations)[0]


def fit_kmeans(matrix: np.ndarray, k: int, seed: int = 0, iterations: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """(labels, centres): labels numbered by cluster size, largest first, so they read the
    same across runs; centre j is the mean of cluster j."""
    x = np.asarray(matrix, dtype=np.float64)
    n = len(x)
    k = max(1, min(k, n))
    if n == 0:
        return np.zeros(0, np.int64), np.zeros((0, x.shape[1] if x.ndim == 2 else 0))
    rng = np.random.default_rng(seed)
    squared = (x**2).sum(axis=1)
    centers = [x[rng.integers(n)]]
    closest = ((x - centers[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = closest.sum()
        pick = rng.choice(n, p=closest / total) if total > 0 else rng.integers(n)
        centers.append(x[pick])
        closest = np.minimum(closest, ((x - x[pick]) ** 2).sum(axis=1))
    c = np.array(centers)
    labels = np.full(n, -1)
    for _ in range(iterations):
        distances = squared[:, None] - 2 * x @ c.T + (c**2).sum(axis=1)[None, :]
        new = distances.argmin(axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        for j in range(k):
            members = x[labels == j]
            if len(members):
                c[j] = members.mean(axis=0)
    order = np.argsort(-np.bincount(labels, minlength=k), kind="stable")
    rank = np.empty(k, np.int64)
    rank[order] = np.arange(k)
    return rank[labels], c[order]


def nearest_centre(centres: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The label of the centre closest to each row."""
    if not len(rows):
        return np.zeros(0, np.int64)
    x = np.asarray(rows, dtype=np.float64)
    return ((x[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
