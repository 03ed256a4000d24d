"""Benchmark: everyday-English retrieval with local-embedding against word overlap (BM25).

    .venv/bin/python -m bench.bench_retrieval

The set (`bench/data/everyday_retrieval.py`): 300 product-review and shop-FAQ rows in 50
topics (6 rows each) and one question per topic, written apart from the rows. Each question
ranks every row by cosine similarity of the engine's embeddings (`local_engine.embedder`, in
this process); the baseline, named `bm25`, ranks them by Okapi BM25 (k1 = 1.2, b = 0.75) over
lower-cased words, also in this process. A row is relevant when it is of the question's topic.
  recall_at_5  relevant rows among the top 5, over 5 (each topic has 6), mean over questions
  hit_at_1     share of questions whose best row is relevant
  mrr          mean reciprocal rank of the first relevant row
Ends with: BENCH retrieval recall_at_5=... mrr=... hit_at_1=... bm25_recall_at_5=... bm25_mrr=...
bm25_hit_at_1=... mrr_ratio=... (model / bm25)
"""

from __future__ import annotations

import math
import re
import tempfile
from collections import Counter

import numpy as np

from bench.data.everyday_retrieval import QUERIES, corpus
from local_engine import embedder

_WORD = re.compile(r"\w+")


def bm25_scores(rows: list[str], queries: list[str], k1: float = 1.2, b: float = 0.75) -> np.ndarray:
    docs = [Counter(_WORD.findall(r.lower())) for r in rows]
    lengths = np.array([sum(d.values()) for d in docs], dtype=float)
    df = Counter(w for d in docs for w in d)
    n = len(docs)
    out = np.zeros((len(queries), n))
    for qi, q in enumerate(queries):
        for w in set(_WORD.findall(q.lower())):
            if w not in df:
                continue
            idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
            tf = np.array([d.get(w, 0) for d in docs], dtype=float)
            out[qi] += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / lengths.mean()))
    return out


def metrics(scores: np.ndarray, row_topics: list[str], query_topics: list[str]) -> dict[str, float]:
    recall, hit, mrr = [], [], []
    topics = np.array(row_topics)
    for s, topic in zip(scores, query_topics):
        ranked = topics[np.argsort(-s, kind="stable")]
        relevant = ranked == topic
        recall.append(relevant[:5].sum() / 5)
        hit.append(float(relevant[0]))
        mrr.append(1.0 / (int(np.argmax(relevant)) + 1))
    return {"recall_at_5": float(np.mean(recall)), "mrr": float(np.mean(mrr)), "hit_at_1": float(np.mean(hit))}


def main() -> None:
    rows, row_topics = corpus()
    query_topics, queries = list(QUERIES), list(QUERIES.values())
    with tempfile.TemporaryDirectory() as cache:
        model = embedder.base_embedder(cache)
        vectors = model.embed(rows + queries)
    ours = metrics(vectors[len(rows):] @ vectors[: len(rows)].T, row_topics, query_topics)
    base = metrics(bm25_scores(rows, queries), row_topics, query_topics)
    fields = {**ours, **{f"bm25_{k}": v for k, v in base.items()}, "mrr_ratio": ours["mrr"] / base["mrr"]}
    print("BENCH retrieval " + " ".join(f"{k}={v:.3f}" for k, v in fields.items()))


if __name__ == "__main__":
    main()
