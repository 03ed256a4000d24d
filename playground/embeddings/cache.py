"""Embeddings kept on disk, so running again or adding rows pays only for new texts.

One SQLite file under the app's data directory. A vector is keyed by the provider (its
kind and host: never the key), the model (or Azure deployment), the dimensions asked for
(0: the model's own) and the SHA-256 of the exact text sent.
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from playground.paths import app_data_dir
from playground.providers import Connection, safe_host

_SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    dimensions INTEGER NOT NULL,
    text_hash TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (provider, model, dimensions, text_hash)
) WITHOUT ROWID
"""
_BATCH = 500  # SQLite host parameters per query stay well under its limit


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def provider_key(connection: Connection) -> str:
    """Which server made a vector: the provider and its host, never a key. The local engine's
    model is the same whatever port it runs on."""
    if connection.provider == "local":
        return "local"
    return f"{connection.provider}:{safe_host(connection.where)}"


def default_path() -> Path:
    return app_data_dir() / "embeddings" / "cache.sqlite"


class EmbeddingCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as db, db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        return db

    def get_many(self, provider: str, model: str, dimensions: int | None, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among `hashes` (float32)."""
        wanted = list(dict.fromkeys(hashes))
        found: dict[str, np.ndarray] = {}
        with closing(self._connect()) as db:
            for start in range(0, len(wanted), _BATCH):
                part = wanted[start : start + _BATCH]
                rows = db.execute(
                    f"SELECT text_hash, vector FROM vectors WHERE provider = ? AND model = ? AND dimensions = ? "
                    f"AND text_hash IN ({','.join('?' * len(part))})",
                    (provider, model, dimensions or 0, *part),
                )
                for digest, blob in rows:
                    found[digest] = np.frombuffer(blob, dtype="<f4")
        return found

    def put_many(self, provider: str, model: str, dimensions: int | None, vectors: Mapping[str, np.ndarray]) -> None:
        with closing(self._connect()) as db, db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?, ?, ?)",
                [
                    (provider, model, dimensions or 0, digest, np.asarray(v, dtype="<f4").tobytes())
                    for digest, v in vectors.items()
                ],
            )

    def count(self) -> int:
        with closing(self._connect()) as db:
            return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def clear(self) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM vectors")
