"""Embeddings kept on disk, so running again or adding rows pays only for new texts.

One SQLite file per workspace under the app's data directory. A vector is keyed by its space (the
provider: its kind and host, never the key; the model or Azure deployment; the dimensions
asked for, 0 for the model's own) and the SHA-256 of the exact text sent (32 raw bytes).
Vectors are raw little-endian float32 blobs in 64 KiB pages, so a page holds many rows
and none spills into overflow pages: the file stays near the vectors' own size.
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from playground.migrations import LOCAL_WORKSPACE
from playground.paths import app_data_dir
from playground.providers import Connection, safe_host

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spaces (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    dimensions INTEGER NOT NULL,
    UNIQUE (provider, model, dimensions)
);
CREATE TABLE IF NOT EXISTS vectors (
    space INTEGER NOT NULL REFERENCES spaces (id),
    digest BLOB NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (space, digest)
);
"""
_PAGE_SIZE = 65536
_BATCH = 900  # SQLite host parameters per query stay well under its limit
LEGACY_NAME = "cache.sqlite"  # the first format: hex digests, one row per page overflow


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def text_hash(text: str) -> str:
    return digest(text).hex()


def provider_key(connection: Connection) -> str:
    """Which server made a vector: the provider and its host, never a key. The local engine's
    model is the same whatever port it runs on."""
    if connection.provider == "local":
        return "local"
    return f"{connection.provider}:{safe_host(connection.where)}"


def default_path(workspace: str = LOCAL_WORKSPACE) -> Path:
    """The workspace's own file: whether a text is cached says someone embedded it, so a
    user on a team server never reads another's (the local workspace keeps the first place)."""
    folder = app_data_dir() / "embeddings"
    if workspace != LOCAL_WORKSPACE:
        folder = folder / "workspaces" / hashlib.sha256(workspace.encode("utf-8")).hexdigest()[:32]
    return folder / "vectors.sqlite"


class EmbeddingCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=30)) as db:
            db.execute(f"PRAGMA page_size = {_PAGE_SIZE}")  # takes effect only on a new file
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        legacy = self.path.with_name(LEGACY_NAME)
        if legacy != self.path and legacy.exists():
            self._import_legacy(legacy)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_size_limit = 8388608")  # the WAL file shrinks back after a checkpoint
        db.execute("PRAGMA wal_autocheckpoint = 128")
        return db

    def _space(self, db: sqlite3.Connection, provider: str, model: str, dimensions: int | None, create: bool) -> int | None:
        key = (provider, model, dimensions or 0)
        row = db.execute("SELECT id FROM spaces WHERE provider = ? AND model = ? AND dimensions = ?", key).fetchone()
        if row is None and create:
            return db.execute("INSERT INTO spaces (provider, model, dimensions) VALUES (?, ?, ?)", key).lastrowid
        return None if row is None else int(row[0])

    def _rows(self, provider: str, model: str, dimensions: int | None, digests: Sequence[bytes], columns: str):
        """(digest, ...) rows of the cached texts among `digests`."""
        wanted = list(dict.fromkeys(digests))
        with closing(self._connect()) as db:
            space = self._space(db, provider, model, dimensions, create=False)
            if space is None:
                return
            for start in range(0, len(wanted), _BATCH):
                part = wanted[start : start + _BATCH]
                yield from db.execute(
                    f"SELECT {columns} FROM vectors WHERE space = ? AND digest IN ({','.join('?' * len(part))})",
                    (space, *part),
                )

    def cached(self, provider: str, model: str, dimensions: int | None, digests: Sequence[bytes]) -> np.ndarray:
        """Which of `digests` have a vector (read from the index alone, no vector is loaded)."""
        known = {row[0] for row in self._rows(provider, model, dimensions, digests, "digest")}
        return np.fromiter((d in known for d in digests), dtype=bool, count=len(digests))

    def get_matrix(self, provider: str, model: str, dimensions: int | None, digests: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """(one float32 row per digest, zeros where not cached; which rows were found)."""
        places: dict[bytes, list[int]] = {}
        for position, d in enumerate(digests):
            places.setdefault(d, []).append(position)
        matrix: np.ndarray | None = None
        found = np.zeros(len(digests), dtype=bool)
        for d, blob in self._rows(provider, model, dimensions, digests, "digest, vector"):
            vector = np.frombuffer(blob, dtype="<f4")
            if matrix is None:
                matrix = np.zeros((len(digests), len(vector)), dtype=np.float32)
            matrix[places[d]] = vector
            found[places[d]] = True
        return (np.zeros((len(digests), 0), np.float32) if matrix is None else matrix), found

    def get_many(self, provider: str, model: str, dimensions: int | None, digests: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors among `digests`, by digest."""
        return {d: np.frombuffer(blob, dtype="<f4") for d, blob in self._rows(provider, model, dimensions, digests, "digest, vector")}

    def put_many(self, provider: str, model: str, dimensions: int | None, vectors: Mapping[bytes, np.ndarray]) -> None:
        with closing(self._connect()) as db, db:
            space = self._space(db, provider, model, dimensions, create=True)
            db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(space, d, np.asarray(v, dtype="<f4").tobytes()) for d, v in vectors.items()],
            )

    def count(self) -> int:
        with closing(self._connect()) as db:
            return int(db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])

    def clear(self) -> None:
        """Forget every vector, and give the disk space back."""
        with closing(self._connect()) as db:
            with db:
                db.execute("DELETE FROM vectors")
                db.execute("DELETE FROM spaces")
            db.execute("VACUUM")
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def size_bytes(self) -> int:
        """The file's size on disk, its write-ahead log included (a stat: no query)."""
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def _import_legacy(self, legacy: Path) -> None:
        """Move the vectors of the first format's file into this one (they were paid for), then remove it."""
        with closing(sqlite3.connect(legacy, timeout=30)) as old:
            try:
                spaces = old.execute("SELECT DISTINCT provider, model, dimensions FROM vectors").fetchall()
            except sqlite3.DatabaseError:
                spaces = []
            for provider, model, dimensions in spaces:
                rows = old.execute(
                    "SELECT text_hash, vector FROM vectors WHERE provider = ? AND model = ? AND dimensions = ?",
                    (provider, model, dimensions),
                )
                while part := rows.fetchmany(5000):
                    self.put_many(provider, model, dimensions, {bytes.fromhex(h): np.frombuffer(v, "<f4") for h, v in part})
        for suffix in ("", "-wal", "-shm"):
            Path(f"{legacy}{suffix}").unlink(missing_ok=True)
