"""Top-k search against brute force; the 2-D map and k-means; exports and loading them back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playground.embeddings import export, projection, search
from playground.embeddings.corpus import TEXT, CorpusError


def test_top_k_matches_a_full_sort_for_several_queries() -> None:
    rng = np.random.default_rng(7)
    index = search.normalize(rng.standard_normal((3000, 64)))
    queries = search.normalize(rng.standard_normal((4, 64)))
    hits = search.top_k(index, queries, 10)
    for q, found in enumerate(hits):
        brute = sorted(range(len(index)), key=lambda i: -float(index[i] @ queries[q]))[:10]
        assert [h.position for h in found] == brute
        assert [h.similarity for h in found] == pytest.approx([float(index[i] @ queries[q]) for i in brute], abs=1e-5)


def test_threshold_k_larger_than_corpus_and_mismatched_dimensions() -> None:
    index = search.normalize(np.array([[1, 0], [0.8, 0.6], [0, 1], [-1, 0]], dtype=np.float32))
    query = search.normalize(np.array([1, 0]))
    assert [(h.position, round(h.similarity, 2)) for h in search.top_k(index, query, 10)[0]] == [(0, 1.0), (1, 0.8), (2, 0.0), (3, -1.0)]
    assert [h.position for h in search.top_k(index, query, 10, threshold=0.5)[0]] == [0, 1]
    with pytest.raises(ValueError, match="same model"):
        search.top_k(index, np.ones((1, 3), np.float32), 2)
    assert search.normalize(np.zeros((1, 3))).tolist() == [[0, 0, 0]]


def test_pca_separates_clusters_and_places_queries_with_the_same_projection() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0, 0.05, (50, 20)) + np.eye(20)[0]
    b = rng.normal(0, 0.05, (50, 20)) + np.eye(20)[1]
    mapped = projection.project(np.vstack([a, b]), projection.PCA, extra=a[:1])
    assert mapped.points.shape == (100, 2) and mapped.extra.shape == (1, 2)
    np.testing.assert_allclose(mapped.extra[0], mapped.points[0], atol=1e-9)
    assert mapped.explained[0] > 0.8
    first_axis = mapped.points[:, 0]
    assert (np.sign(first_axis[:50]) != np.sign(first_axis[50:].mean())).all()
    labels = projection.kmeans(np.vstack([a, b]), 2)
    assert sorted(np.bincount(labels).tolist()) == [50, 50]
    assert len(set(labels[:50])) == 1 and len(set(labels[50:])) == 1
    np.testing.assert_array_equal(labels, projection.kmeans(np.vstack([a, b]), 2))  # deterministic


def test_map_sampling_keeps_the_neighbours() -> None:
    shown = projection.sample_positions(100_000, limit=1000, keep=np.array([7, 99_998]))
    assert len(shown) <= 1002 and {7, 99_998} <= set(shown.tolist())
    assert projection.sample_positions(10).tolist() == list(range(10))
    assert projection.PCA in projection.available_methods()


def _documents() -> tuple[pd.DataFrame, np.ndarray]:
    docs = pd.DataFrame({TEXT: ["alpha, \"quoted\"", "béta\nline", "gamma"], "category": ["a", "b", "a"]})
    matrix = search.normalize(np.random.default_rng(1).standard_normal((3, 8)))
    return docs, matrix


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_embeddings_round_trip(kind: str) -> None:
    docs, matrix = _documents()
    frame = export.embeddings_frame(docs, matrix, "local-embedding")
    data = export.to_csv(frame) if kind == "csv" else export.to_parquet(frame)
    saved = export.load_saved(f"e.{kind}", data)
    assert saved.model == "local-embedding"
    pd.testing.assert_frame_equal(saved.documents, docs)
    np.testing.assert_array_equal(saved.matrix, matrix)


def test_results_export_has_query_rank_similarity_and_columns() -> None:
    docs, matrix = _documents()
    hits = search.top_k(matrix, matrix[[2, 0]], 2)
    table = export.results_frame(docs, ["q gamma", "q alpha"], hits)
    assert table.columns.tolist() == ["query", "rank", "similarity", TEXT, "category"]
    assert table.iloc[0][TEXT] == "gamma" and table.iloc[0]["similarity"] == pytest.approx(1.0)
    back = pd.read_parquet(__import__("io").BytesIO(export.to_parquet(table)))
    pd.testing.assert_frame_equal(back, table)


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("e.txt", b"x", "not an embeddings export"),
        ("e.csv", b"", "empty"),
        ("e.csv", b"title,text\na,b\n", "no column"),
        ("e.csv", f"{TEXT},embedding\na,\"[1, 2]\"\nb,\"[1]\"\n".encode(), "same number of dimensions"),
        ("e.csv", f"{TEXT},embedding\na,\"[1, NaN]\"\n".encode(), "not lists of numbers|missing or infinite"),
        ("e.csv", f"{TEXT},embedding\na,not a list\n".encode(), "not lists of numbers"),
        ("e.parquet", b"PAR1 damaged", "could not be read"),
    ],
)
def test_bad_saved_embeddings_are_refused(name: str, data: bytes, says: str) -> None:
    with pytest.raises(CorpusError, match=says):
        export.load_saved(name, data)


def test_the_approximate_index_finds_what_exact_search_finds() -> None:
    rng = np.random.default_rng(3)
    centres = rng.standard_normal((40, 32)).astype(np.float32)
    rows = search.normalize(centres[rng.integers(0, 40, 20_000)] + 0.5 * rng.standard_normal((20_000, 32)).astype(np.float32))
    queries = search.normalize(centres[:20] + 0.5 * rng.standard_normal((20, 32)).astype(np.float32))
    approximate = search.Searcher(rows, approximate=True)
    assert approximate.approximate and not search.Searcher(rows).approximate  # exact below a million rows
    exact = search.top_k(rows, queries, 10)
    found = approximate.top_k(queries, 10)
    recall = np.mean([len({h.position for h in a} & {h.position for h in e}) / 10 for a, e in zip(found, exact)])
    assert recall >= 0.9
    for hits in found:  # best first, similarities as exact search computes them
        assert [h.similarity for h in hits] == sorted((h.similarity for h in hits), reverse=True)
        np.testing.assert_allclose([h.similarity for h in hits], [float(rows[h.position] @ queries[found.index(hits)]) for h in hits], rtol=1e-5)
    assert all(h.similarity >= 0.5 for h in approximate.top_k(queries, 10, threshold=0.5)[0])
