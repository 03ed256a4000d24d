"""The history's schema, as one ordered list of migrations that both SQLite and PostgreSQL
run. Each takes a Conn (playground/db.py) inside the transaction that applies it; SQL is
shared, with per-dialect pieces only where the two differ (column types, the text index).

The number applied is kept in SQLite's `PRAGMA user_version`, and in PostgreSQL in the
one-row table `playground_schema`, whose update is serialized by an advisory lock so
several app processes starting at once migrate once.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable

from playground.db import Conn

# pg_advisory_xact_lock key: any constant unique to this app
_PG_MIGRATION_LOCK = 0x706C6179  # "play"


def clean_tags(tags: Iterable[Any]) -> list[str]:
    seen: list[str] = []
    for tag in tags:
        tag = str(tag).strip().lower()[:40]
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def _m001_runs(db: Conn) -> None:
    db.execute(
        f"""CREATE TABLE runs (
            seq {db.sql.serial_pk},
            id TEXT NOT NULL UNIQUE,
            created {db.sql.float} NOT NULL,
            endpoint TEXT NOT NULL,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            request TEXT NOT NULL,
            response TEXT NOT NULL,
            usage TEXT,
            latency {db.sql.float},
            cost {db.sql.float},
            title TEXT NOT NULL DEFAULT '',
            tags TEXT NOT NULL DEFAULT '[]'
        )"""
    )


def _m002_ttft_search_text_indexes(db: Conn) -> None:
    """Time to first token; the prompt and response text as columns (search, list preview)."""
    from playground.history import prompt_text_of, response_text_of

    db.execute(f"ALTER TABLE runs ADD COLUMN ttft {db.sql.float}")
    db.execute("ALTER TABLE runs ADD COLUMN prompt_text TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE runs ADD COLUMN response_text TEXT NOT NULL DEFAULT ''")
    rows = db.execute("SELECT seq, request, response FROM runs").fetchall()
    for seq, request, response in rows:
        db.execute(
            "UPDATE runs SET prompt_text = ?, response_text = ? WHERE seq = ?",
            (prompt_text_of(json.loads(request)), response_text_of(json.loads(response)), seq),
        )
    db.execute("CREATE INDEX runs_created ON runs(created)")
    db.execute("CREATE INDEX runs_model_created ON runs(model, created)")
    db.execute("CREATE INDEX runs_endpoint_created ON runs(endpoint, created)")


def _m003_tag_table(db: Conn) -> None:
    """Tags move from a JSON column to a table, so a tag filter uses an index."""
    seq_type = "BIGINT" if db.dialect == "postgresql" else "INTEGER"
    db.execute(
        f"CREATE TABLE run_tags (run_seq {seq_type} NOT NULL REFERENCES runs(seq) ON DELETE CASCADE, "
        "tag TEXT NOT NULL, PRIMARY KEY (run_seq, tag))"
    )
    db.execute("CREATE INDEX run_tags_tag ON run_tags(tag)")
    for seq, tags in db.execute("SELECT seq, tags FROM runs").fetchall():
        for tag in clean_tags(json.loads(tags or "[]")):
            db.execute("INSERT INTO run_tags VALUES (?, ?) ON CONFLICT DO NOTHING", (seq, tag))
    db.execute("ALTER TABLE runs DROP COLUMN tags")


# The text a PostgreSQL search looks in: one expression, matched by the trigram index.
# chr(10) between the columns: a search word has no whitespace, so it never spans two.
PG_SEARCH_TEXT = "(r.title || chr(10) || r.prompt_text || chr(10) || r.response_text)"


def _m004_full_text(db: Conn) -> None:
    """A text index for substring search: SQLite's FTS5 with its trigram tokenizer when this
    SQLite has FTS5; PostgreSQL's pg_trgm GIN index over title, prompt and response, which
    serves ILIKE '%word%' (the same substring semantics). Without either, search scans."""
    if db.dialect == "postgresql":
        # pg_trgm is a trusted extension: a database owner may create it.
        if db.try_execute("CREATE EXTENSION IF NOT EXISTS pg_trgm"):
            db.execute(f"CREATE INDEX runs_search_trgm ON runs USING gin ({PG_SEARCH_TEXT.replace('r.', '')} gin_trgm_ops)")
        return
    if not fts5_available(db):
        return
    db.execute(
        "CREATE VIRTUAL TABLE runs_fts USING fts5(title, prompt_text, response_text, "
        "content='runs', content_rowid='seq', tokenize='trigram')"
    )
    db.execute("INSERT INTO runs_fts(runs_fts) VALUES ('rebuild')")
    # One statement per execute: executescript() would commit the migration's transaction.
    db.execute(
        """CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN
            INSERT INTO runs_fts(rowid, title, prompt_text, response_text)
            VALUES (new.seq, new.title, new.prompt_text, new.response_text);
        END"""
    )
    db.execute(
        """CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN
            INSERT INTO runs_fts(runs_fts, rowid, title, prompt_text, response_text)
            VALUES ('delete', old.seq, old.title, old.prompt_text, old.response_text);
        END"""
    )
    db.execute(
        """CREATE TRIGGER runs_fts_update AFTER UPDATE OF title, prompt_text, response_text ON runs BEGIN
            INSERT INTO runs_fts(runs_fts, rowid, title, prompt_text, response_text)
            VALUES ('delete', old.seq, old.title, old.prompt_text, old.response_text);
            INSERT INTO runs_fts(rowid, title, prompt_text, response_text)
            VALUES (new.seq, new.title, new.prompt_text, new.response_text);
        END"""
    )


def _m005_presets(db: Conn) -> None:
    db.execute(
        f"""CREATE TABLE presets (
            page TEXT NOT NULL,
            name TEXT NOT NULL,
            controls TEXT NOT NULL,
            updated {db.sql.float} NOT NULL,
            PRIMARY KEY (page, name)
        )"""
    )


LOCAL_WORKSPACE = "local"  # everything saved before workspaces, and a single-user app's own


def _m006_workspaces(db: Conn) -> None:
    """Runs and presets belong to a workspace (a user); `shared` makes one visible to the
    team. Presets are keyed by workspace too, so two users' "team" presets are two presets."""
    db.execute(f"ALTER TABLE runs ADD COLUMN workspace TEXT NOT NULL DEFAULT '{LOCAL_WORKSPACE}'")
    db.execute("ALTER TABLE runs ADD COLUMN shared INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX runs_workspace_created ON runs(workspace, created)")
    db.execute("CREATE INDEX runs_shared_created ON runs(shared, created)")
    # A new primary key: both databases rebuild the table for that.
    db.execute(
        f"""CREATE TABLE presets_by_workspace (
            workspace TEXT NOT NULL,
            page TEXT NOT NULL,
            name TEXT NOT NULL,
            controls TEXT NOT NULL,
            updated {db.sql.float} NOT NULL,
            shared INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (workspace, page, name)
        )"""
    )
    db.execute(
        "INSERT INTO presets_by_workspace (workspace, page, name, controls, updated) "
        f"SELECT '{LOCAL_WORKSPACE}', page, name, controls, updated FROM presets"
    )
    db.execute("DROP TABLE presets")
    db.execute("ALTER TABLE presets_by_workspace RENAME TO presets")


MIGRATIONS: list[Callable[[Conn], None]] = [
    _m001_runs,
    _m002_ttft_search_text_indexes,
    _m003_tag_table,
    _m004_full_text,
    _m005_presets,
    _m006_workspaces,
]
SCHEMA_VERSION = len(MIGRATIONS)


def fts5_available(db: Conn) -> bool:
    options = {row[0] for row in db.execute("PRAGMA compile_options")}
    return "ENABLE_FTS5" in options


def read_version(db: Conn) -> int:
    """How many migrations this database has had (0: a new one)."""
    if db.dialect == "postgresql":
        exists = db.execute("SELECT to_regclass('playground_schema')").fetchone()[0]
        if exists is None:
            return 0
        row = db.execute("SELECT version FROM playground_schema").fetchone()
        return 0 if row is None else int(row[0])
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Conn) -> int:
    """Apply the migrations the database lacks, inside the caller's write transaction;
    returns the version found before. A newer database is left as it is."""
    if db.dialect == "postgresql":
        db.execute("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))
        db.execute("CREATE TABLE IF NOT EXISTS playground_schema (version INTEGER NOT NULL)")
    found = read_version(db)
    if found >= SCHEMA_VERSION:
        return found
    for migration in MIGRATIONS[found:]:
        migration(db)
    if db.dialect == "postgresql":
        db.execute("DELETE FROM playground_schema")
        db.execute("INSERT INTO playground_schema (version) VALUES (?)", (SCHEMA_VERSION,))
    else:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return found
