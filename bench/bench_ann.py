"""Search at corpus sizes users bring: exact search over 100,000 x 256 (the app's numpy
matrix product + argpartition), and from a million rows the approximate index
(playground.embeddings.search.Searcher: faiss IVF-Flat) with its recall@10 against exact
search over the same rows, measured in the same process.

Data: deterministic clustered vectors (a mixture of Gaussians, rows normalized), the shape
real embeddings have; queries are other draws from the same mixture.

Run: .venv/bin/python -m bench.bench_ann [--rows 1000000] [--dims 256] [--queries 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from playground.embeddings import search


def clustered(rows: int, dims: int, clusters: int, seed: int, draw: int = 0) -> np.ndarray:
    """`rows` draws from the mixture `seed` names; another `draw` gives other rows of the same mixture."""
    centres = np.random.default_rng(seed).standard_normal((clusters, dims), dtype=np.float32)
    rng = np.random.default_rng([seed, draw])
    out = np.empty((rows, dims), np.float32)
    step = 100_000
    for start in range(0, rows, step):
        n = min(step, rows - start)
        out[start : start + n] = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, dims), dtype=np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out


def timed_queries(find, queries: np.ndarray) -> tuple[float, list[list[int]]]:  # noqa: ANN001
    times, found = [], []
    for q in queries:
        start = time.perf_counter()
        hits = find(q[None, :])[0]
        times.append(time.perf_counter() - start)
        found.append([h.position for h in hits])
    return statistics.median(times), found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dims", type=int, default=256)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()

    small = clustered(100_000, args.dims, 500, seed=1)
    small_queries = clustered(50, args.dims, 500, seed=1, draw=1)
    exact_small, _ = timed_queries(lambda q: search.top_k(small, q, 10), small_queries)
    print(f"BENCH search_exact rows=100000 dims={args.dims} median_ms={exact_small * 1000:.2f}", flush=True)

    matrix = clustered(args.rows, args.dims, 2000, seed=2)
    queries = clustered(args.queries, args.dims, 2000, seed=2, draw=1)
    start = time.perf_counter()
    searcher = search.Searcher(matrix)
    build_s = time.perf_counter() - start
    assert searcher.approximate == (args.rows >= search.APPROXIMATE_FROM)
    exact_ms, exact = timed_queries(lambda q: search.top_k(matrix, q, 10), queries)
    approx_ms, approx = timed_queries(lambda q: searcher.top_k(q, 10), queries)
    recall = statistics.mean(len(set(a) & set(e)) / 10 for a, e in zip(approx, exact))
    print(
        f"BENCH search_approximate rows={args.rows} dims={args.dims} index={'faiss-ivf-flat' if searcher.approximate else 'exact'} "
        f"build_s={build_s:.1f} exact_ms={exact_ms * 1000:.1f} approximate_ms={approx_ms * 1000:.2f} "
        f"speedup={exact_ms / approx_ms:.0f} recall_at_10={recall:.3f} queries={len(queries)}",
        flush=True,
    )


if __name__ == "__main__":
    main()
