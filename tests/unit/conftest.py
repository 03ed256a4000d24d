"""History tests run on both backends: `history_target()` is a new, empty history's
location (a SQLite file, or a database on the session's PostgreSQL server)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.postgres_server import PostgresServer, running_postgres

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session, started the first time a test asks."""
    with running_postgres() as server:
        yield server


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def history_target(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], str]:
    """Each call: where a new, empty history lives (a file path, or a postgresql:// URL)."""
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        return server.new_database
    numbers = itertools.count()
    return lambda: str(tmp_path / f"history-{next(numbers)}.sqlite3")
