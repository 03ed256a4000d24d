"""A throwaway PostgreSQL server for tests and benches: Debian's `postgresql` package
(scripts/test installs it), initdb into a temporary folder, started on a free port with
its unix socket in that folder and no TCP listener, stopped and removed afterwards.

As root, the server runs as the `postgres` account the package creates (PostgreSQL
refuses to run as root). Each test gets a database of its own from `new_database()`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tests.enginerunner import free_port


def server_binaries() -> Path | None:
    """The folder with initdb, pg_ctl and postgres: the newest installed version."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class PostgresServer:
    socket_dir: Path
    port: int
    user: str = "playground"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{database}?host={self.socket_dir}&port={self.port}"

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    binaries = server_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL's server is not installed: ./scripts/test installs Debian's postgresql package")
    root = Path(tempfile.mkdtemp(prefix="playground-pg-"))
    as_owner: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL will not run as root
        shutil.chown(root, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, log = root / "data", root / "server.log"
    port = free_port()
    try:
        subprocess.run([*as_owner, str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "playground",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)
        options = f"-p {port} -k {root} -c listen_addresses='' -c fsync=off -c max_connections=200"
        started = subprocess.run([*as_owner, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "120",
                                  "-o", options, "start"], capture_output=True, text=True, timeout=180)
        if started.returncode != 0:
            raise RuntimeError(f"PostgreSQL did not start: {started.stderr}\n{log.read_text() if log.exists() else ''}")
        yield PostgresServer(root, port)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*as_owner, str(binaries / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)
