"""What can still be read from a damaged SQLite history.

The damaged file is never changed: it is copied (with its -wal) into a temporary folder
and read from there, first with the sqlite3 command-line tool's `.recover` (which walks
every page it can parse, even with the schema or an index gone), else, without that tool,
table by table and row by row with Python's sqlite3, skipping what cannot be read. A file
whose first page was overwritten gets a new one (header and table list) from a new history.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playground.db import SqliteDatabase
from playground.migrations import migrate

RECOVER_TIMEOUT_S = 120
_ROW_PROBE_LIMIT = 1_000_000  # row-by-row: rowids tried past the last one read


@dataclass
class Recovered:
    runs: list[dict[str, Any]] = field(default_factory=list)  # runs-table columns; "tags" a list
    presets: list[dict[str, Any]] = field(default_factory=list)
    how: str = ""  # "sqlite3 .recover", "row by row" or "" (nothing readable)


def recover(damaged: Path) -> Recovered:
    """The runs and presets readable in `damaged` (left as it is)."""
    with tempfile.TemporaryDirectory(prefix="history-recover-") as work:
        copy = Path(work) / "damaged.sqlite3"
        shutil.copyfile(damaged, copy)
        wal = damaged.with_name(damaged.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        rebuilt = Path(work) / "recovered.sqlite3"
        if _cli_recover(copy, rebuilt):
            found = _read_tables(rebuilt)
            if found.runs or found.presets:
                found.how = "sqlite3 .recover"
                return found
        found = _read_tables(copy)
        if found.runs or found.presets:
            found.how = "row by row"
            return found
        patched = _with_a_new_first_page(copy, Path(work))
        found = _read_tables(patched) if patched is not None else Recovered()
        found.how = "row by row, under a new first page" if found.runs or found.presets else ""
        return found


def _with_a_new_first_page(damaged: Path, work: Path) -> Path | None:
    """A copy of `damaged` with page 1 (the file header and the table list) taken from a new
    history file, for a file whose first page was overwritten. The migrations create the
    tables in the same order in every file, so the first tables' root pages are the same and
    their rows beyond page 1 read again (tables added by a later upgrade of an older file may
    sit elsewhere: their rows are then unreadable or refused when they are checked)."""
    template = work / "template.sqlite3"
    try:
        with SqliteDatabase(template).write() as db:
            migrate(db)
        raw = sqlite3.connect(template)
        try:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            page_size = raw.execute("PRAGMA page_size").fetchone()[0]
        finally:
            raw.close()
        first_page = template.read_bytes()[:page_size]
        data = bytearray(damaged.read_bytes())
    except (OSError, sqlite3.Error):
        return None
    if len(data) < 2 * page_size:
        return None
    data[:page_size] = first_page
    data[28:32] = (len(data) // page_size).to_bytes(4, "big")  # the file's page count
    data[32:40] = bytes(8)  # no free-page list: its pages are not known
    patched = work / "new-first-page.sqlite3"
    patched.write_bytes(bytes(data))
    return patched


def _cli_recover(source: Path, target: Path) -> bool:
    cli = shutil.which("sqlite3")
    if cli is None:
        return False
    try:
        dump = subprocess.run([cli, str(source), ".recover"], capture_output=True, timeout=RECOVER_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    if not dump.stdout:
        return False
    db = sqlite3.connect(target)
    try:
        db.executescript(dump.stdout.decode("utf-8", "replace"))
        return True
    except sqlite3.Error:
        return False
    finally:
        db.close()


def _rows(db: sqlite3.Connection, table: str) -> list[dict[str, Any]]:
    """Every readable row of `table`: all at once, else one rowid at a time past a bad page."""
    try:
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    except sqlite3.Error:
        return []
    if not columns:
        return []
    select = f"SELECT rowid, {', '.join(columns)} FROM {table}"
    found: dict[int, dict[str, Any]] = {}
    try:
        for row in db.execute(select):
            found[row[0]] = dict(zip(columns, row[1:]))
        return list(found.values())
    except sqlite3.Error:
        pass
    last = max(found, default=0)
    misses = 0
    rowid = 0
    while misses < _ROW_PROBE_LIMIT and rowid < last + _ROW_PROBE_LIMIT:
        rowid += 1
        if rowid in found:
            continue
        try:
            row = db.execute(f"{select} WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.Error:
            row = None
        if row is None:
            misses += 1
            if rowid > last and misses > 10_000:  # well past the end
                break
            continue
        misses = 0
        last = max(last, rowid)
        found[rowid] = dict(zip(columns, row[1:]))
    return [found[k] for k in sorted(found)]


def _read_tables(path: Path) -> Recovered:
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return Recovered()
    try:
        runs = _rows(db, "runs")
        tags_by_seq: dict[Any, list[str]] = {}
        for row in _rows(db, "run_tags"):
            tags_by_seq.setdefault(row.get("run_seq"), []).append(str(row.get("tag")))
        for run in runs:
            if "tags" in run:  # the first schema kept tags as JSON in the row
                try:
                    run["tags"] = [str(t) for t in json.loads(run["tags"] or "[]")]
                except (TypeError, ValueError):
                    run["tags"] = []
            else:
                run["tags"] = tags_by_seq.get(run.get("seq"), [])
        return Recovered(runs=runs, presets=_rows(db, "presets"))
    finally:
        db.close()
