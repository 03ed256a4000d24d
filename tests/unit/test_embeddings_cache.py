"""The embedding cache on disk: exact float32 round trips, a file near the vectors' own size,
and the first format's vectors carried over."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np

from playground.embeddings.cache import LEGACY_NAME, EmbeddingCache, digest


def test_vectors_come_back_bit_for_bit_as_one_float32_matrix(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "vectors.sqlite")
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((50, 256)).astype(np.float32)
    vectors[0, :3] = [np.float32(1e-45), np.float32(-0.0), np.finfo(np.float32).max]  # subnormal, signed zero, max
    keys = [digest(f"text {i}") for i in range(50)]
    cache.put_many("local", "local-embedding", None, dict(zip(keys, vectors)))

    wanted = [keys[3], digest("not cached"), keys[0], keys[3]]
    matrix, found = cache.get_matrix("local", "local-embedding", None, wanted)
    assert matrix.dtype == np.float32 and matrix.shape == (4, 256)
    assert found.tolist() == [True, False, True, True]
    assert matrix[[0, 2, 3]].tobytes() == vectors[[3, 0, 3]].tobytes()
    assert not matrix[1].any()
    assert cache.cached("local", "local-embedding", None, wanted).tolist() == [True, False, True, True]
    # Another space (dimensions, model or provider) holds none of them.
    assert not cache.cached("local", "local-embedding", 64, wanted).any()
    assert not cache.cached("openai:https://api.openai.com", "local-embedding", None, wanted).any()


def test_the_file_stays_within_a_fifth_over_the_vectors_bytes(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "vectors.sqlite")
    rng = np.random.default_rng(2)
    rows, dims = 20_000, 256
    for start in range(0, rows, 2048):  # as the page writes them: one batch a request
        part = rng.standard_normal((min(2048, rows - start), dims)).astype(np.float32)
        cache.put_many("local", "local-embedding", None, {digest(f"row {start + i}"): v for i, v in enumerate(part)})
    on_disk = sum(f.stat().st_size for f in tmp_path.iterdir())
    assert on_disk <= 1.2 * rows * dims * 4, on_disk / (rows * dims * 4)


def test_the_first_formats_vectors_are_carried_over(tmp_path: Path) -> None:
    legacy = tmp_path / LEGACY_NAME
    vector = np.arange(8, dtype=np.float32)
    with closing(sqlite3.connect(legacy)) as db, db:
        db.execute(
            "CREATE TABLE vectors (provider TEXT, model TEXT, dimensions INTEGER, text_hash TEXT, vector BLOB, "
            "PRIMARY KEY (provider, model, dimensions, text_hash)) WITHOUT ROWID"
        )
        db.execute("INSERT INTO vectors VALUES (?, ?, ?, ?, ?)", ("local", "local-embedding", 0, digest("kept").hex(), vector.tobytes()))
    cache = EmbeddingCache(tmp_path / "vectors.sqlite")
    matrix, found = cache.get_matrix("local", "local-embedding", None, [digest("kept")])
    assert found.all() and matrix[0].tobytes() == vector.tobytes()
    assert not legacy.exists()
