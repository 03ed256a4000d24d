"""Every run, saved to a local SQLite database: searchable, exportable, never holding a key.

One connection per call (sqlite3 connections are not shared across threads); WAL mode and
a busy timeout so two browser sessions writing at once both get their runs in. The schema
grows by an ordered list of migrations (PRAGMA user_version counts the ones applied), so a
database written by an older app opens in a newer one. A file that is not a database is
renamed aside (`history.sqlite3.corrupt-<timestamp>`), never deleted, and a fresh one
started, with a notice the page shows.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from playground.errors import scrub
from playground.logprobs import Alternative, TokenInfo
from playground.paths import app_data_dir
from playground.runner import RunResult

BUSY_TIMEOUT_MS = 15_000
FULL_CHECK_MAX_BYTES = 32_000_000  # larger files get only the cheap checks when opened
ENDPOINTS = ("completions", "chat", "embeddings", "image_variations")
# Keys that may hold credentials or transport details: dropped from anything saved.
_DROPPED_KEYS = frozenset({"headers", "extra_headers", "api_key", "authorization", "api-key", "rate_limit", "ratelimit"})


class HistoryUnavailable(RuntimeError):
    """Neither the configured database nor a fresh one could be opened."""


def default_path() -> Path:
    """PLAYGROUND_HISTORY_DB, else <app data dir>/history.sqlite3."""
    chosen = os.environ.get("PLAYGROUND_HISTORY_DB")
    return Path(chosen) if chosen else app_data_dir() / "history.sqlite3"


# --- the schema, as migrations -------------------------------------------------------


def _m001_runs(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE runs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            created REAL NOT NULL,
            endpoint TEXT NOT NULL,
            model TEXT NOT NULL,
            provider TEXT NOT NULL,
            request TEXT NOT NULL,
            response TEXT NOT NULL,
            usage TEXT,
            latency REAL,
            cost REAL,
            title TEXT NOT NULL DEFAULT '',
            tags TEXT NOT NULL DEFAULT '[]'
        )"""
    )


def _m002_ttft_search_text_indexes(db: sqlite3.Connection) -> None:
    """Time to first token; the prompt and response text as columns (search, list preview)."""
    db.execute("ALTER TABLE runs ADD COLUMN ttft REAL")
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


def _m003_tag_table(db: sqlite3.Connection) -> None:
    """Tags move from a JSON column to a table, so a tag filter uses an index."""
    db.execute("CREATE TABLE run_tags (run_seq INTEGER NOT NULL REFERENCES runs(seq) ON DELETE CASCADE, tag TEXT NOT NULL, PRIMARY KEY (run_seq, tag))")
    db.execute("CREATE INDEX run_tags_tag ON run_tags(tag)")
    for seq, tags in db.execute("SELECT seq, tags FROM runs").fetchall():
        for tag in _clean_tags(json.loads(tags or "[]")):
            db.execute("INSERT OR IGNORE INTO run_tags VALUES (?, ?)", (seq, tag))
    db.execute("ALTER TABLE runs DROP COLUMN tags")


def _m004_full_text(db: sqlite3.Connection) -> None:
    """An FTS5 index (trigram: substring matches, like LIKE) when this SQLite has FTS5."""
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


def _m005_presets(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE presets (
            page TEXT NOT NULL,
            name TEXT NOT NULL,
            controls TEXT NOT NULL,
            updated REAL NOT NULL,
            PRIMARY KEY (page, name)
        )"""
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m001_runs,
    _m002_ttft_search_text_indexes,
    _m003_tag_table,
    _m004_full_text,
    _m005_presets,
]
SCHEMA_VERSION = len(MIGRATIONS)


def fts5_available(db: sqlite3.Connection) -> bool:
    options = {row[0] for row in db.execute("PRAGMA compile_options")}
    return "ENABLE_FTS5" in options


# --- records ---------------------------------------------------------------------------


@dataclass
class Run:
    """One saved run. `response` holds `choices` (text, finish_reason and the normalized
    tokens, enough to draw the token view again) and `raw` (the provider's response)."""

    endpoint: str
    model: str
    request: dict[str, Any]
    response: dict[str, Any]
    provider: dict[str, Any] = field(default_factory=dict)
    usage: dict[str, Any] | None = None
    latency: float | None = None
    ttft: float | None = None
    cost: float | None = None
    title: str = ""
    tags: list[str] = field(default_factory=list)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunSummary:
    """A row of the history list: no request or response bodies (fast at 10,000 runs)."""

    id: str
    created: float
    endpoint: str
    model: str
    title: str
    tags: tuple[str, ...]
    prompt: str  # first characters
    response: str
    latency: float | None
    cost: float | None
    total_tokens: int | None


@dataclass(frozen=True)
class RunFilter:
    text: str = ""  # in the prompt, the response or the title
    model: str | None = None
    endpoint: str | None = None
    tag: str | None = None
    since: float | None = None  # unix time, inclusive
    until: float | None = None  # unix time, exclusive


@dataclass(frozen=True)
class SearchPage:
    runs: list[RunSummary]
    total: int  # matching runs, all pages


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)  # "line 3: ..." for refused lines


# --- text extraction and (de)serialization -------------------------------------------


def _text_of_content(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # chat content parts
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def prompt_text_of(request: dict[str, Any]) -> str:
    """What the user wrote: the prompt, the messages, or the embedding query."""
    parts: list[str] = []
    prompt = request.get("prompt")
    if isinstance(prompt, str):
        parts.append(prompt)
    elif isinstance(prompt, list):
        parts.extend(p for p in prompt if isinstance(p, str))
    for message in request.get("messages") or []:
        if isinstance(message, dict):
            parts.append(_text_of_content(message.get("content")))
    for name in ("input", "query", "suffix"):
        value = request.get(name)
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, list):
            parts.extend(v for v in value if isinstance(v, str))
    return "\n".join(p for p in parts if p)


def response_text_of(response: dict[str, Any]) -> str:
    texts = [str(c.get("text") or "") for c in response.get("choices") or [] if isinstance(c, dict)]
    return "\n\n".join(t for t in texts if t)


def tokens_to_json(tokens: Sequence[TokenInfo]) -> list[dict[str, Any]]:
    """TokenInfo -> JSON-able dicts (bytes as hex)."""
    return [
        {
            "i": t.index,
            "t": t.token,
            "id": t.token_id,
            "lp": t.logprob,
            "b": None if t.bytes is None else t.bytes.hex(),
            "o": t.text_offset,
            "top": [[a.token, a.logprob, None if a.bytes is None else a.bytes.hex()] for a in t.top],
            "p": t.is_prompt,
        }
        for t in tokens
    ]


def tokens_from_json(items: Iterable[dict[str, Any]]) -> list[TokenInfo]:
    def raw(value: str | None) -> bytes | None:
        return None if value is None else bytes.fromhex(value)

    return [
        TokenInfo(
            index=item["i"],
            token=item["t"],
            token_id=item.get("id"),
            logprob=item.get("lp"),
            bytes=raw(item.get("b")),
            text_offset=item.get("o"),
            top=tuple(Alternative(tok, float(lp), raw(b)) for tok, lp, b in item.get("top") or ()),
            is_prompt=bool(item.get("p")),
        )
        for item in items
    ]


def run_of_result(result: RunResult, *, provider: dict[str, Any], tags: Iterable[str] = ()) -> Run:
    """A text run as saved: the request body, each choice's text and normalized tokens, and
    the logprobs as the API sent them (`raw`), so the token view needs no new request."""
    usage = result.usage or None
    return Run(
        endpoint=result.request.endpoint,
        model=result.request.model,
        provider=dict(provider),
        request=result.request.body(),
        response={
            "choices": [
                {"index": c.index, "text": c.text, "finish_reason": c.finish_reason, "tokens": tokens_to_json(c.tokens)}
                for c in result.choices
            ],
            "stopped": result.stopped,
            "prompt_tokens_echoed": result.prompt_tokens_echoed,
            "raw": {"choices": [{"index": c.index, "logprobs": c.raw_logprobs} for c in result.choices]},
        },
        usage=usage,
        latency=result.latency_s,
        ttft=result.ttft_s,
        cost=result.cost,  # priced once, when the run finished
        tags=list(tags),
    )


def choice_tokens(run: Run) -> list[list[TokenInfo]]:
    """Each saved choice's token table, as the token view takes it."""
    return [tokens_from_json(c.get("tokens") or []) for c in run.response.get("choices") or []]


def _strip_transport(value: Any) -> Any:
    """A copy without header or key fields at any depth."""
    if isinstance(value, dict):
        return {k: _strip_transport(v) for k, v in value.items() if str(k).lower() not in _DROPPED_KEYS}
    if isinstance(value, list):
        return [_strip_transport(v) for v in value]
    return value


def safe_json(value: Any, secrets: Iterable[str | None] = ()) -> str:
    """JSON text of `value` with transport fields dropped and anything key-like scrubbed.
    The assert is the last line of defence: no saved text may hold this session's key."""
    secrets = [s for s in secrets if s]
    text = json.dumps(_strip_transport(value), ensure_ascii=False, separators=(",", ":"))
    cleaned = scrub(text, secrets)
    if cleaned != text:
        json.loads(cleaned)  # the scrub replaced characters inside strings only
    for secret in secrets:
        assert len(secret) < 4 or secret not in cleaned, "a key would have been saved to history"
    return cleaned


def _clean_tags(tags: Iterable[Any]) -> list[str]:
    seen: list[str] = []
    for tag in tags:
        tag = str(tag).strip().lower()
        if tag and tag not in seen:
            seen.append(tag[:40])
    return seen


# --- the database ----------------------------------------------------------------------


def _row(run: Run, secrets: list[str | None]) -> tuple[tuple[Any, ...], list[str]]:
    """The runs-table row of `run`, every JSON field scrubbed, and its tags."""
    request = safe_json(run.request, secrets)
    response = safe_json(run.response, secrets)
    row = (
        run.id,
        float(run.created),
        run.endpoint,
        run.model,
        safe_json(run.provider, secrets),
        request,
        response,
        None if run.usage is None else safe_json(run.usage, secrets),
        run.latency,
        run.ttft,
        run.cost,
        scrub(run.title, secrets),
        prompt_text_of(json.loads(request)),
        response_text_of(json.loads(response)),
    )
    return row, _clean_tags(run.tags)


def _insert(db: sqlite3.Connection, row: tuple[Any, ...], tags: list[str]) -> None:
    seq = db.execute(
        "INSERT INTO runs (id, created, endpoint, model, provider, request, response, usage, latency, ttft, cost, title, "
        "prompt_text, response_text) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        row,
    ).lastrowid
    db.executemany("INSERT OR IGNORE INTO run_tags VALUES (?, ?)", [(seq, t) for t in tags])


class History:
    """The run history at `path`. Holds no open connection: safe to share between threads
    and sessions. `notice` says what happened when the file had to be set aside."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.notice: str | None = None
        self.has_fts = False
        self._open_or_replace()

    # connections

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA foreign_keys = ON")
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction taken at once (BEGIN IMMEDIATE): no lock upgrade deadlock."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _open_or_replace(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._prepare()
            return
        except (sqlite3.DatabaseError, OSError) as exc:
            reason = str(exc) or type(exc).__name__
        if not self.path.exists():
            raise HistoryUnavailable(f"The run history could not be created at {self.path}: {reason}.")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while aside.exists():
            aside = aside.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
            n += 1
        try:
            self.path.rename(aside)
            for suffix in ("-wal", "-shm"):  # belong to the old file; keep them beside it
                side = self.path.with_name(self.path.name + suffix)
                if side.exists():
                    side.rename(aside.with_name(aside.name + suffix))
            self._prepare()
        except (sqlite3.DatabaseError, OSError) as exc:
            raise HistoryUnavailable(f"The run history at {self.path} could not be opened ({reason}) nor replaced ({exc}).") from exc
        self.notice = (
            f"The run history at {self.path} could not be opened ({reason}). It was kept as "
            f"{aside.name} and a new, empty history started."
        )

    def _prepare(self) -> None:
        """Open, check, switch to WAL and apply the migrations this file lacks."""
        if self.path.is_dir():
            raise sqlite3.DatabaseError("a directory is in the database's place")
        with self._connect() as db:
            db.execute("PRAGMA user_version").fetchone()  # reads the header: "file is not a database"
            size = self.path.stat().st_size if self.path.exists() else 0
            page_size = db.execute("PRAGMA page_size").fetchone()[0]
            page_count = db.execute("PRAGMA page_count").fetchone()[0]
            wal = self.path.with_name(self.path.name + "-wal")
            if page_count * page_size > size and not (wal.exists() and wal.stat().st_size):
                raise sqlite3.DatabaseError("the file is shorter than its header says: truncated")
            if size <= FULL_CHECK_MAX_BYTES:  # the full check reads every page: seconds on a large history
                check = db.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    raise sqlite3.DatabaseError(f"integrity check failed: {check}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("BEGIN IMMEDIATE")
            try:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise sqlite3.DatabaseError(f"written by a newer app (schema {version}, this app knows {SCHEMA_VERSION})")
                for migration in MIGRATIONS[version:]:
                    migration(db)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            self.has_fts = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs_fts'").fetchone() is not None

    def schema_version(self) -> int:
        with self._connect() as db:
            return db.execute("PRAGMA user_version").fetchone()[0]

    # writing

    def add(self, run: Run, *, secrets: Iterable[str | None] = ()) -> str:
        """Save `run` (scrubbed of `secrets` and key-like text); returns its id."""
        row, tags = _row(run, list(secrets))
        with self._write() as db:
            _insert(db, row, tags)
        return run.id

    def add_many(self, runs: Iterable[Run], *, secrets: Iterable[str | None] = ()) -> tuple[int, int]:
        """Save runs in one transaction, skipping ids already here: (added, skipped)."""
        secrets = list(secrets)
        prepared = [_row(run, secrets) for run in runs]
        added = 0
        with self._write() as db:
            for row, tags in prepared:
                if db.execute("SELECT 1 FROM runs WHERE id = ?", (row[0],)).fetchone() is None:
                    _insert(db, row, tags)
                    added += 1
        return added, len(prepared) - added

    def update(self, run_id: str, *, title: str | None = None, tags: Iterable[str] | None = None) -> None:
        with self._write() as db:
            found = db.execute("SELECT seq FROM runs WHERE id = ?", (run_id,)).fetchone()
            if found is None:
                raise KeyError(run_id)
            if title is not None:
                db.execute("UPDATE runs SET title = ? WHERE seq = ?", (scrub(title.strip()), found[0]))
            if tags is not None:
                db.execute("DELETE FROM run_tags WHERE run_seq = ?", (found[0],))
                db.executemany("INSERT OR IGNORE INTO run_tags VALUES (?, ?)", [(found[0], t) for t in _clean_tags(tags)])

    def delete(self, run_ids: Iterable[str]) -> int:
        ids = list(run_ids)
        with self._write() as db:
            return db.executemany("DELETE FROM runs WHERE id = ?", [(i,) for i in ids]).rowcount

    # reading

    def get(self, run_id: str) -> Run | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT seq, id, created, endpoint, model, provider, request, response, usage, latency, ttft, cost, title "
                "FROM runs WHERE id = ?",
                (run_id,),
            ).fetchone()
            if row is None:
                return None
            tags = [t for (t,) in db.execute("SELECT tag FROM run_tags WHERE run_seq = ? ORDER BY tag", (row[0],))]
        _, id_, created, endpoint, model, provider, request, response, usage, latency, ttft, cost, title = row
        return Run(
            id=id_,
            created=created,
            endpoint=endpoint,
            model=model,
            provider=json.loads(provider),
            request=json.loads(request),
            response=json.loads(response),
            usage=None if usage is None else json.loads(usage),
            latency=latency,
            ttft=ttft,
            cost=cost,
            title=title,
            tags=tags,
        )

    def count(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT count(*) FROM runs").fetchone()[0]

    def models(self) -> list[str]:
        with self._connect() as db:
            return [m for (m,) in db.execute("SELECT DISTINCT model FROM runs ORDER BY model")]

    def tags(self) -> list[str]:
        with self._connect() as db:
            return [t for (t,) in db.execute("SELECT DISTINCT tag FROM run_tags ORDER BY tag")]

    def search(self, where: RunFilter = RunFilter(), *, limit: int = 50, offset: int = 0) -> SearchPage:
        """Matching runs, newest first, one page of them, and how many match in all."""
        clauses, args = self._conditions(where)
        sql_where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._connect() as db:
            total = db.execute(f"SELECT count(*) FROM runs r {sql_where}", args).fetchone()[0]
            rows = db.execute(
                "SELECT r.seq, r.id, r.created, r.endpoint, r.model, r.title, substr(r.prompt_text, 1, 200), "
                "substr(r.response_text, 1, 200), r.latency, r.cost, json_extract(r.usage, '$.total_tokens'), "
                "(SELECT group_concat(tag, ',') FROM run_tags WHERE run_seq = r.seq) "
                f"FROM runs r {sql_where} ORDER BY r.created DESC, r.seq DESC LIMIT ? OFFSET ?",
                [*args, int(limit), int(offset)],
            ).fetchall()
        return SearchPage(
            [
                RunSummary(
                    id=r[1], created=r[2], endpoint=r[3], model=r[4], title=r[5], prompt=r[6], response=r[7],
                    latency=r[8], cost=r[9], total_tokens=r[10], tags=tuple(sorted((r[11] or "").split(","))) if r[11] else (),
                )
                for r in rows
            ],
            total,
        )

    def _conditions(self, where: RunFilter) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if where.model:
            clauses.append("r.model = ?")
            args.append(where.model)
        if where.endpoint:
            clauses.append("r.endpoint = ?")
            args.append(where.endpoint)
        if where.tag:
            clauses.append("r.seq IN (SELECT run_seq FROM run_tags WHERE tag = ?)")
            args.append(where.tag.strip().lower())
        if where.since is not None:
            clauses.append("r.created >= ?")
            args.append(where.since)
        if where.until is not None:
            clauses.append("r.created < ?")
            args.append(where.until)
        fts_terms: list[str] = []
        for term in where.text.split():
            if self.has_fts and len(term) >= 3:  # trigram index: three characters or more
                fts_terms.append('"' + term.replace('"', '""') + '"')
            else:
                pattern = "%" + re.sub(r"([%_\\])", r"\\\1", term) + "%"
                clauses.append("(r.prompt_text LIKE ? ESCAPE '\\' OR r.response_text LIKE ? ESCAPE '\\' OR r.title LIKE ? ESCAPE '\\')")
                args += [pattern, pattern, pattern]
        if fts_terms:
            clauses.append("r.seq IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?)")
            args.append(" AND ".join(fts_terms))
        return clauses, args

    # export and import

    def export_jsonl(self, run_ids: Iterable[str]) -> str:
        """The runs as JSON Lines, one run per line, in the order given."""
        lines = []
        for run_id in run_ids:
            run = self.get(run_id)
            if run is not None:
                lines.append(json.dumps(run.to_json(), ensure_ascii=False, separators=(",", ":")))
        return "".join(line + "\n" for line in lines)

    def import_jsonl(self, text: str | bytes) -> ImportReport:
        """Add the runs of a JSONL export; lines that are not valid runs are refused with
        their line number, runs whose id is already here are skipped."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                return ImportReport(problems=["The file is not UTF-8 text: export runs from the History page and import that file."])
        report = ImportReport()
        runs: list[Run] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                report.problems.append(f"line {number}: not valid JSON ({exc.msg}, column {exc.colno})")
                continue
            try:
                runs.append(run_from_json(data))
            except (ValueError, TypeError) as exc:
                report.problems.append(f"line {number}: {exc}")
        unique = list({run.id: run for run in runs}.values())  # the same id twice in a file: once
        report.added, skipped = self.add_many(unique)
        report.duplicates = skipped + len(runs) - len(unique)
        return report

    # presets

    def save_preset(self, page: str, name: str, controls: dict[str, Any]) -> None:
        name = name.strip()
        if not name:
            raise ValueError("A preset needs a name.")
        with self._write() as db:
            db.execute(
                "INSERT INTO presets (page, name, controls, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (page, name) DO UPDATE SET controls = excluded.controls, updated = excluded.updated",
                (page, name, safe_json(controls), time.time()),
            )

    def presets(self, page: str) -> list[str]:
        with self._connect() as db:
            return [n for (n,) in db.execute("SELECT name FROM presets WHERE page = ? ORDER BY name", (page,))]

    def load_preset(self, page: str, name: str) -> dict[str, Any] | None:
        with self._connect() as db:
            row = db.execute("SELECT controls FROM presets WHERE page = ? AND name = ?", (page, name)).fetchone()
        return None if row is None else json.loads(row[0])

    def delete_preset(self, page: str, name: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM presets WHERE page = ? AND name = ?", (page, name))


def run_from_json(data: Any) -> Run:
    """A Run from one exported line, its fields checked."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")

    def need(name: str, kinds: type | tuple[type, ...], label: str, *, optional: bool = False) -> Any:
        value = data.get(name)
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ValueError(f"field {name!r} is missing or not {label}")
        return value

    run_id = need("id", str, "a string")
    if not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", run_id):
        raise ValueError("field 'id' is not a run id")
    endpoint = need("endpoint", str, "a string")
    if endpoint not in ENDPOINTS:
        raise ValueError(f"field 'endpoint' is {endpoint!r}, not one of {', '.join(ENDPOINTS)}")
    tags = need("tags", list, "a list", optional=True) or []
    if not all(isinstance(t, str) for t in tags):
        raise ValueError("field 'tags' is not a list of strings")
    return Run(
        id=run_id,
        created=float(need("created", (int, float), "a number")),
        endpoint=endpoint,
        model=need("model", str, "a string"),
        provider=need("provider", dict, "an object", optional=True) or {},
        request=need("request", dict, "an object"),
        response=need("response", dict, "an object"),
        usage=need("usage", dict, "an object", optional=True),
        latency=need("latency", (int, float), "a number", optional=True),
        ttft=need("ttft", (int, float), "a number", optional=True),
        cost=need("cost", (int, float), "a number", optional=True),
        title=need("title", str, "a string", optional=True) or "",
        tags=tags,
    )
