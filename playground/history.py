"""Every run, saved to a database: searchable, exportable, never holding a key.

The database is a local SQLite file, or PostgreSQL when PLAYGROUND_DATABASE_URL names one
(playground/db.py); one list of migrations builds the schema on both
(playground/migrations.py). The history is optional to the app, and never loses a run
quietly:
- a file that is not a database, or fails SQLite's integrity check, is renamed aside
  (`history.sqlite3.corrupt-<timestamp>`, never deleted) and what can still be read from it
  is recovered into the new file (playground/recovery.py);
- a file written by a newer app, or one that cannot be written, is used read-only and
  left as it is; `read_only` says why;
- a file locked by another process is waited for: `add` retries for a minute; `save`
  queues the run and a background thread saves it as soon as the lock is gone (the
  thread that also saves the runs `save_soon` hands over);
- anything else raises a StorageError whose message says what happened.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import json
import math
import os
import re
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import orjson

from playground.db import (
    Conn,
    Damaged,
    Locked,
    PostgresDatabase,
    ReadOnly,
    SqliteDatabase,
    StorageError,
    database_url,
)
from playground.errors import scrub
from playground.logprobs import Alternative, TokenInfo
from playground.migrations import (
    LOCAL_WORKSPACE,
    MIGRATIONS,
    PG_SEARCH_TEXT,
    SCHEMA_VERSION,
    clean_tags,
    fts5_available,
    migrate,
    read_version,
)
from playground.paths import app_data_dir
from playground.recovery import recover
from playground.runner import RunResult, completion_tokens

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "fts5_available", "History", "HistoryUnavailable", "Locked", "ReadOnly", "Run",
           "RunFilter", "StorageError"]

BUSY_TIMEOUT_MS = 15_000
OPEN_WAIT_MS = 2_000  # opening (and its one-time migration) waits this long for a lock, then says "busy"
QUICK_WAIT_MS = 1_000  # save(): a lock held longer than this queues the run instead of holding up the page
LOCK_WAIT_S = 60.0  # add(): retries on a lock for this long before it gives up
READ_WAIT_S = 10.0  # readers wait this long at most for runs handed to save_soon()
# A History given `busy` (the app's scripts run) makes and writes the runs handed to save_soon()
# once it has been false this long, or this long after they were handed at most, or at once
# when a reader waits: a long run's row took 0.2 s of the app's CPU while its page's last
# messages were sent and the browser drew them.
WRITE_WHEN_QUIET_S = 0.05
WRITE_AT_MOST_AFTER_S = 1.0
FULL_CHECK_MAX_BYTES = 32_000_000  # larger files get only the cheap checks when opened
ENDPOINTS = ("completions", "chat", "embeddings", "image_variations", "evals")
# The sampling controls a run's label names, so runs of one prompt (Compare's columns) differ.
SETTINGS_SHOWN = ("temperature", "top_p", "seed", "frequency_penalty", "presence_penalty")
# Keys that may hold credentials or transport details: dropped from anything saved.
_DROPPED_KEYS = frozenset({"headers", "extra_headers", "api_key", "authorization", "api-key", "rate_limit", "ratelimit"})
# A dropped key as written in JSON text (lowercased), with a value that is not a number: numbers are
# kept (a long run's top_logprobs holds tokens such as "headers"), so their keys need no walk.
_DROPPED_KEY_IN_JSON = re.compile('"(?:' + "|".join(re.escape(key) for key in sorted(_DROPPED_KEYS)) + r')":(?![-\d])')


class HistoryUnavailable(StorageError):
    """The history cannot be used now (cannot be created, read, or reached); nothing was changed."""


class PresetExists(StorageError):
    """A preset of that name is already saved (and overwrite was not asked for)."""


class HistoryBusy(HistoryUnavailable):
    """Opening needed a write (a migration) while another process held the lock: try again."""


def default_path() -> Path:
    """PLAYGROUND_HISTORY_DB, else <app data dir>/history.sqlite3."""
    chosen = os.environ.get("PLAYGROUND_HISTORY_DB")
    return Path(chosen) if chosen else app_data_dir() / "history.sqlite3"


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
    shared: bool = False  # visible to the whole team, not only to its workspace

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Preset:
    """A preset as a workspace sees it: its own, or a colleague's shared with the team."""

    name: str
    workspace: str  # whose it is
    shared: bool
    mine: bool  # only its owner may change, share or delete it


@dataclass(frozen=True)
class RunSummary:
    """A row of the history list: no response body (fast at 10,000 runs; a page's requests are read for their labels)."""

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
    asked: str = ""  # what the user asked: a chat run's last user message, else the prompt
    settings: tuple[tuple[str, Any], ...] = ()  # the sampling controls the request set (SETTINGS_SHOWN)

    @property
    def label(self) -> str:
        """The run in a few words: its title, else what was asked."""
        return self.title or self.asked


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


def asked_text_of(request: dict[str, Any]) -> str:
    """What the run asked: a chat run's last user message (its system message is usually the
    same from run to run), else the prompt text."""
    messages = [m for m in request.get("messages") or [] if isinstance(m, dict)]
    for message in reversed(messages):
        if message.get("role") == "user" and (text := _text_of_content(message.get("content")).strip()):
            return text
    if isinstance(image := request.get("image"), str):  # an image run: its source picture
        return f"{request.get('n', '?')} × {request.get('size', '?')} of {image}"
    return prompt_text_of(request)


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
            "n": t.top_n,
            "r": t.returned,
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
            # (null: a number JSON cannot hold, written so: an infinite logprob is probability 0)
            top=tuple(Alternative(tok, -math.inf if lp is None else float(lp), raw(b)) for tok, lp, b in item.get("top") or ()),
            is_prompt=bool(item.get("p")),
            top_n=item.get("n"),
            returned=item.get("r", True),
        )
        for item in items
    ]


COUNTED_HERE = "counted_here"  # a usage key: the provider reported none (a stopped stream), these are local counts


def _counted_usage(result: RunResult) -> dict[str, Any] | None:
    """The tokens counted here for a run whose provider reported no usage (a stream stopped
    before its usage chunk): kept, marked as counted here, rather than lost."""
    if not any(c.text or c.tokens for c in result.choices):
        return None
    prompt, completion = result.prompt_tokens_local or 0, completion_tokens(result)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion, COUNTED_HERE: True}


def run_of_result(result: RunResult, *, provider: dict[str, Any], tags: Iterable[str] = (), run_id: str | None = None,
                  created: float | None = None) -> Run:
    """A text run as saved: the request body, each choice's text and normalized tokens, and
    the logprobs as the API sent them (`raw`), so the token view needs no new request."""
    usage = result.usage or _counted_usage(result)
    return Run(
        **({"id": run_id} if run_id else {}),
        **({"created": created} if created is not None else {}),
        endpoint=result.request.endpoint,
        model=result.request.model,
        provider=dict(provider),
        request=result.request.body(),
        response={
            "choices": [
                {"index": c.index, "text": c.text, "finish_reason": c.finish_reason, "tokens": tokens_to_json(c.tokens)}
                for c in result.choices
            ],
            # a stream cut short (the server went away mid-answer) is kept as stopped, with its error
            "stopped": result.stopped or (result.error is not None and any(c.text for c in result.choices)),
            **({"error": {"title": result.error.title, "detail": result.error.detail}} if result.error is not None else {}),
            "prompt_tokens_echoed": result.prompt_tokens_echoed,
            "raw": {"choices": [{"index": c.index, "logprobs": c.raw_logprobs} for c in result.choices]},
            **({"wire": result.wire.to_json()} if result.wire is not None else {}),
        },
        usage=usage,
        latency=result.latency_s,
        ttft=result.ttft_s,
        cost=result.cost,  # priced once, when the run finished
        tags=list(tags),
    )


def _described(request_json: str | None) -> dict[str, Any]:
    """A list row's `asked` and `settings`, from its saved request."""
    try:
        request = json.loads(request_json or "{}")
    except ValueError:
        return {}
    if not isinstance(request, dict):
        return {}
    settings = tuple((k, request[k]) for k in SETTINGS_SHOWN if request.get(k) is not None)
    return {"asked": asked_text_of(request)[:200], "settings": settings}


def choice_tokens(run: Run) -> list[list[TokenInfo]]:
    """Each saved choice's token table, as the token view takes it."""
    return [tokens_from_json(c.get("tokens") or []) for c in run.response.get("choices") or []]


def _strip_transport(value: Any) -> Any:
    """A copy without header or key fields at any depth. A number is kept whatever its key:
    completions' top_logprobs maps tokens to logprobs, and "headers" can be a token."""
    if isinstance(value, dict):
        return {k: _strip_transport(v) if isinstance(v, (dict, list)) else v
                for k, v in value.items() if str(k).lower() not in _DROPPED_KEYS or _is_number(v)}
    if isinstance(value, list):  # (leaves are most of a long run: no call for each)
        return [_strip_transport(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def safe_json(value: Any, secrets: Iterable[str | None] = ()) -> str:
    """JSON text of `value` with transport fields dropped and anything key-like scrubbed."""
    return _saved_json(value, secrets)[0]


def _dumps(value: Any) -> str:
    """Compact JSON, non-ASCII as is. orjson: a long run's row is megabytes, which the
    standard library takes a tenth of a second to write (and holds the interpreter meanwhile).
    It writes a NaN or infinity as null (valid JSON); what it refuses (an integer past 64
    bits), the standard library writes."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _saved_json(value: Any, secrets: Iterable[str | None] = ()) -> tuple[str, Any]:
    """(safe_json of `value`, the value that text holds). A run's JSON can be megabytes (a
    long stream's chunks): the value is walked, and the text parsed back, only when needed.
    The assert is the last line of defence: no saved text may hold this session's key."""
    secrets = [s for s in secrets if s]
    text = _dumps(value)
    lowered = text.lower()
    if _DROPPED_KEY_IN_JSON.search(lowered):  # every key is written so: exact
        value = _strip_transport(value)
        text = _dumps(value)
    cleaned = scrub(text, secrets)
    if cleaned != text:
        value = json.loads(cleaned)  # the scrub replaced characters inside strings only
    for secret in secrets:
        assert len(secret) < 4 or secret not in cleaned, "a key would have been saved to history"
    return cleaned, value


# --- the database ----------------------------------------------------------------------

Row = tuple[tuple[Any, ...], list[str]]
_INSERT = (
    "INSERT INTO runs (id, created, endpoint, model, provider, request, response, usage, latency, ttft, cost, title, "
    "prompt_text, response_text, workspace, shared) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _text(value: str) -> str:
    return value.replace("\x00", "")  # PostgreSQL text cannot hold NUL; SQLite's search ignores it


def _row(run: Run, secrets: list[str | None], workspace: str) -> Row:
    """The runs-table row of `run`, every JSON field scrubbed, and its tags."""
    request, request_saved = _saved_json(run.request, secrets)
    response, response_saved = _saved_json(run.response, secrets)
    row = (
        _text(run.id),
        float(run.created),
        _text(run.endpoint),
        _text(run.model),
        safe_json(run.provider, secrets),
        request,
        response,
        None if run.usage is None else safe_json(run.usage, secrets),
        run.latency,
        run.ttft,
        run.cost,
        _text(scrub(run.title, secrets)),
        _text(prompt_text_of(request_saved)),
        _text(response_text_of(response_saved)),
        workspace,
        int(bool(run.shared)),
    )
    return row, clean_tags(run.tags)


def _insert(db: Conn, row: tuple[Any, ...], tags: list[str], *, if_absent: bool = False) -> bool:
    """Insert one run and its tags; with `if_absent`, a run whose id is already saved is
    skipped (False), so a retried batch never saves a run twice."""
    found = db.execute(_INSERT + (" ON CONFLICT (id) DO NOTHING" if if_absent else "") + " RETURNING seq", row).fetchone()
    if found is None:
        return False
    db.executemany("INSERT INTO run_tags VALUES (?, ?) ON CONFLICT DO NOTHING", [(found[0], t) for t in tags])
    return True


def _run_of_row(row: dict[str, Any]) -> Run | None:
    """A Run from a runs-table row read back from a damaged file; None when it is not whole."""
    try:
        return Run(
            id=str(row["id"]), created=float(row["created"]), endpoint=str(row["endpoint"]), model=str(row["model"]),
            provider=json.loads(row.get("provider") or "{}"), request=json.loads(row["request"]),
            response=json.loads(row["response"]), usage=json.loads(row["usage"]) if row.get("usage") else None,
            latency=row.get("latency"), ttft=row.get("ttft"), cost=row.get("cost"), title=str(row.get("title") or ""),
            tags=list(row.get("tags") or []),
        )
    except (KeyError, TypeError, ValueError):
        return None


@dataclass(frozen=True)
class _ToMake:
    """A run handed over to be made on the writer thread, and the workspace it goes to."""

    run_id: str
    make: Callable[[], Run]
    secrets: list[str | None]
    workspace: str

    def row(self) -> Row:
        run = self.make()
        if run.id != self.run_id:
            raise ValueError("the run was made with another id")
        return _row(run, self.secrets, self.workspace)


@dataclass
class _Outbox:
    """Runs saved in order by one thread: those handed over by save_soon() and not tried
    yet (`handed`; `trying`: taken and being written), then those waiting for another
    process's lock to go (`rows`)."""

    rows: list[Row] = field(default_factory=list)
    handed: list[Row | _ToMake] = field(default_factory=list)
    trying: int = 0
    unmade: dict[str, str] = field(default_factory=dict)  # run id -> why its row could not be made
    lock: threading.Condition = field(default_factory=threading.Condition)  # `with lock` holds it
    readers: int = 0  # waiting in caught_up() or flush(): the writer does not wait for quiet
    flusher: threading.Thread | None = None
    flushed_at_exit: bool = False

    def idle(self) -> bool:
        return not self.rows and not self.handed and not self.trying


_OUTBOXES: dict[str, _Outbox] = {}
_OUTBOXES_LOCK = threading.Lock()


def _outbox_for(database: str) -> _Outbox:
    """The outbox of a database, shared by every History of it in this process (and every
    workspace's view): a run handed to one is waited for by the readers of all."""
    with _OUTBOXES_LOCK:
        return _OUTBOXES.setdefault(database, _Outbox())


class History:
    """The run history: a SQLite file at `path` (default: default_path()), or PostgreSQL at
    `url` (or a `path` that is a postgresql:// URL; when neither is given:
    PLAYGROUND_DATABASE_URL). Holds no connection
    between calls that another thread could trip on: safe to share between sessions.

    `notice`: what happened when it was opened, once (a damaged file set aside and what was
    recovered from it). `read_only`: why runs are not saved to it, while that lasts.
    Raises HistoryUnavailable when it cannot be used at all.

    `busy`: whether the app is doing work its user waits for (a page's script runs); runs
    handed to save_soon() are made and written when it is not (see WRITE_WHEN_QUIET_S)."""

    def __init__(self, path: Path | str | None = None, *, url: str | None = None,
                 busy: Callable[[], bool] | None = None) -> None:
        if isinstance(path, str) and path.startswith(("postgresql://", "postgres://")):
            path, url = None, path
        self.url = url if url is not None else (database_url() if path is None else None)
        self.path: Path | None = None
        self.db: SqliteDatabase | PostgresDatabase
        if self.url:
            self.db = PostgresDatabase(self.url)
        else:
            self.path = Path(path) if path is not None else default_path()
            self.db = SqliteDatabase(self.path, busy_ms=BUSY_TIMEOUT_MS)
        self.backend = self.db.dialect.name
        self.notice: str | None = None
        self.read_only: str | None = None
        self.has_fts = False  # SQLite's FTS5 index (PostgreSQL: the trigram index, see has_trigram)
        self.has_trigram = False
        self._version = 0
        self._reopen = threading.RLock()
        self.workspace = LOCAL_WORKSPACE
        self.busy = busy
        self._queue = _outbox_for(self.url or str(self.path.resolve()))  # one per database in this process
        self._open()

    def where(self) -> str:
        return self.db.describe()

    def scoped(self, workspace: str) -> History:
        """The same history as `workspace` sees it: its own runs and presets, and those
        shared with the team; what it saves belongs to it."""
        view = copy.copy(self)
        view.workspace = workspace
        return view

    def _visible(self, alias: str = "r") -> tuple[str, list[Any]]:
        return f"({alias}.workspace = ? OR {alias}.shared = 1)", [self.workspace]

    # opening ---------------------------------------------------------------------------

    def _open(self) -> None:
        with self._reopen:
            if isinstance(self.db, PostgresDatabase):
                self._open_postgres()
                return
            try:
                self._open_sqlite()
                return
            except Damaged as exc:
                reason = str(exc)
            except Locked as exc:
                raise HistoryBusy(f"The run history at {self.path} is busy: {exc}. It is tried again on the next page.") from exc
            except HistoryUnavailable:
                raise
            except (StorageError, OSError) as exc:
                raise HistoryUnavailable(f"The run history at {self.path} could not be opened: {exc}") from exc
            self._set_aside_and_recover(reason)

    def _open_postgres(self) -> None:
        try:
            with self.db.write() as db:
                found = migrate(db)
            with self.db.connect() as db:
                self.has_trigram = db.execute("SELECT to_regclass('runs_search_trgm')").fetchone()[0] is not None
        except StorageError as exc:
            raise HistoryUnavailable(f"The run history at {self.where()} could not be opened: {exc}") from exc
        self._version = max(found, SCHEMA_VERSION)
        if found > SCHEMA_VERSION:
            self.read_only = self._newer(found)
            self._check_reads()

    @staticmethod
    def _newer(version: int) -> str:
        return (f"it was written by a newer version of the app (schema {version}; this one knows {SCHEMA_VERSION}), "
                "so it is shown read-only and new runs are not saved to it")

    def _open_sqlite(self) -> None:
        """Open, check and migrate the file; a damaged one raises Damaged (and nothing else
        does: locked, read-only and missing files are never taken for damaged ones)."""
        assert self.path is not None
        path, folder = self.path, self.path.parent
        if path.is_dir():
            raise Damaged("a folder is in the database's place")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryUnavailable(f"The run history cannot be created at {path}: {exc.strerror or exc}.") from exc
        effective = {"effective_ids": True} if os.access in os.supports_effective_ids else {}
        exists = path.exists()
        if exists and not os.access(path, os.R_OK, **effective):
            raise HistoryUnavailable(f"The run history at {path} cannot be read (permission denied).")
        writable = os.access(folder, os.W_OK, **effective) and (not exists or os.access(path, os.W_OK, **effective))
        if not exists and not writable:
            raise HistoryUnavailable(f"The run history cannot be created at {path}: its folder cannot be written.")
        self.db.read_only = not writable
        self.read_only = None
        with self.db.connect(busy_ms=OPEN_WAIT_MS) as db:
            version = read_version(db)  # reads the header: "file is not a database" shows here
            self._check_pages(db)
            journal = str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower()
        if version > SCHEMA_VERSION:
            self.db.read_only = True  # left exactly as it is
            self.read_only = self._newer(version)
            self._check_reads()
        elif not writable:
            if version < SCHEMA_VERSION:
                raise HistoryUnavailable(f"The run history at {path} cannot be written, and this app needs to upgrade it first.")
            self.read_only = "its file or folder cannot be written, so it is shown read-only and new runs are not saved to it"
        else:
            if journal != "wal":
                with self.db.connect(busy_ms=OPEN_WAIT_MS) as db:
                    db.execute("PRAGMA journal_mode = WAL")
            if version < SCHEMA_VERSION:
                with self.db.write(busy_ms=OPEN_WAIT_MS) as db:
                    version = max(migrate(db), SCHEMA_VERSION)
        self._version = version
        with self.db.connect() as db:
            self.has_fts = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs_fts'").fetchone() is not None

    def _check_pages(self, db: Conn) -> None:
        assert self.path is not None
        size = self.path.stat().st_size if self.path.exists() else 0
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        page_count = db.execute("PRAGMA page_count").fetchone()[0]
        wal = self.path.with_name(self.path.name + "-wal")
        if page_count * page_size > size and not (wal.exists() and wal.stat().st_size):
            raise Damaged("the file is shorter than its header says: truncated")
        if size <= FULL_CHECK_MAX_BYTES:  # the full check reads every page: seconds on a large history
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise Damaged(f"integrity check failed: {check}")

    def _check_reads(self) -> None:
        """A newer app's database is read with this app's queries: they must still work."""
        try:
            self.search(limit=1)
            self.models()
            self.tags()
            self.presets("completions")
        except StorageError as exc:
            raise HistoryUnavailable(f"The run history at {self.where()} was written by a newer version of the app "
                                     f"that this one cannot read ({exc}). It was left as it is.") from exc

    def _set_aside_and_recover(self, reason: str) -> None:
        assert self.path is not None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
            n += 1
        try:
            self.path.rename(aside)
            for suffix in ("-wal", "-shm"):  # belong to the old file; keep them beside it
                side = self.path.with_name(self.path.name + suffix)
                if side.exists():
                    side.rename(aside.with_name(aside.name + suffix))
            self._open_sqlite()
        except (StorageError, OSError) as exc:
            raise HistoryUnavailable(f"The run history at {self.path} could not be opened ({reason}) nor replaced ({exc}).") from exc
        recovered = recover(aside) if aside.is_file() else None
        runs = [run for run in (_run_of_row(r) for r in (recovered.runs if recovered else [])) if run is not None]
        added, _ = self.add_many(runs)
        presets = 0
        for preset in recovered.presets if recovered else []:
            with contextlib.suppress(KeyError, TypeError, ValueError, StorageError):
                self._put_preset(str(preset["page"]), str(preset["name"]), json.loads(preset["controls"]), overwrite=True)
                presets += 1
        if added or presets:
            saved = f"{added} run{'s' if added != 1 else ''}" + (f" and {presets} preset{'s' if presets != 1 else ''}" if presets else "")
            what = f"{saved} were recovered from it into a new history ({recovered.how})."  # type: ignore[union-attr]
        else:
            what = "nothing in it could be read, so a new, empty history started."
        self.notice = f"The run history at {self.path} could not be opened ({reason}). It was kept as {aside.name}; {what}"

    def check(self) -> None:
        """A cheap look before a page uses the history: a file deleted, replaced or damaged
        since it was opened is dealt with now (recreated, or set aside and recovered), not
        in the middle of the page. Raises HistoryUnavailable when it cannot be used."""
        if self.path is None:
            return
        with self._reopen:
            try:
                with self.db.connect(busy_ms=OPEN_WAIT_MS) as db:
                    version = read_version(db)
                    db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except Locked:
                return  # readers do not wait in WAL mode; a lock here passes
            except StorageError:
                version = -1
            if version != self._version or not self.path.exists():
                self._open()

    def schema_version(self) -> int:
        with self.db.connect() as db:
            return read_version(db)

    # writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self, *, busy_ms: int | None = None) -> Iterator[Conn]:
        if self.read_only:
            raise ReadOnly(f"The run history at {self.where()} is read-only: {self.read_only}.")
        with self.db.write(busy_ms=busy_ms) as db:
            yield db

    def _write_waiting(self, work: Callable[[Conn], Any], wait_s: float = LOCK_WAIT_S) -> Any:
        """Run `work` in a write transaction, retrying while another process holds the lock."""
        deadline = time.monotonic() + wait_s
        while True:
            remaining = deadline - time.monotonic()
            try:
                with self._write(busy_ms=int(max(0.1, min(remaining, 5.0)) * 1000)) as db:
                    return work(db)
            except Locked:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def add(self, run: Run, *, secrets: Iterable[str | None] = ()) -> str:
        """Save `run` (scrubbed of `secrets` and key-like text), waiting up to LOCK_WAIT_S
        for another process's lock; returns its id."""
        row, tags = _row(run, list(secrets), self.workspace)
        self._write_waiting(lambda db: _insert(db, row, tags))
        return run.id

    def save(self, run: Run, *, secrets: Iterable[str | None] = ()) -> bool:
        """Save `run` now (True), or, when another process holds the lock, queue it and save
        it in the background as soon as the lock is gone (False; `pending()` lists it).
        Raises StorageError when it cannot be saved at all (read-only, unreachable): the
        caller still has the run."""
        prepared = _row(run, list(secrets), self.workspace)
        queue = self._queue
        with queue.lock:
            if queue.idle():  # runs already waiting go first: the order is kept
                try:
                    with self._write(busy_ms=QUICK_WAIT_MS) as db:
                        _insert(db, *prepared, if_absent=True)
                    return True
                except Locked:
                    pass
            queue.rows.append(prepared)
            self._start_flusher()
        return False

    def save_soon(self, run: Run | tuple[str, Callable[[], Run]], *, secrets: Iterable[str | None] = ()) -> None:
        """Hand `run` to the writer thread, which saves it (after any run before it) while
        the page goes on drawing: a long run's insert takes most of half a second. A Run's
        row is made here, so a run that cannot be made into one fails as save() does. Or
        (its id, a function that makes it): then the run and its row are made on that thread
        too (a 4,000-token run's took 50-170 ms at the end of its page), and one that cannot
        be made is told by unmade(). Readers of this database wait for it, so a run is never
        missing from a list made after it was handed over; a lock held by another process
        queues it as save() does. Raises ReadOnly at once when the history is read-only."""
        if self.read_only:
            raise ReadOnly(f"The run history at {self.where()} is read-only: {self.read_only}.")
        if isinstance(run, Run):
            prepared: Row | _ToMake = _row(run, list(secrets), self.workspace)
        else:
            prepared = _ToMake(*run, list(secrets), self.workspace)
        with self._queue.lock:
            self._queue.handed.append(prepared)
            self._start_flusher()

    def _start_flusher(self) -> None:  # with the queue's lock held
        queue = self._queue
        if queue.flusher is None:
            queue.flusher = threading.Thread(target=self._flush_loop, name="history-outbox", daemon=True)
            queue.flusher.start()
            if not queue.flushed_at_exit:
                queue.flushed_at_exit = True
                atexit.register(self.flush, LOCK_WAIT_S)

    def pending(self) -> list[str]:
        """Ids of runs queued for another process's lock and not written yet (runs handed
        to save_soon() count once tried: call caught_up() first)."""
        with self._queue.lock:
            return [row[0] for row, _ in self._queue.rows]

    def waits_for(self, run_id: str) -> bool:
        """Whether this run, handed to save_soon(), found another process's lock on its first try."""
        self.caught_up()
        return run_id in self.pending()

    def flush(self, timeout: float = LOCK_WAIT_S) -> bool:
        """Wait until every queued or handed-over run is written (True) or `timeout` passes (False)."""
        with self._reading():
            return self._queue.lock.wait_for(self._queue.idle, timeout)

    def unmade(self, run_id: str) -> str | None:
        """Why a run handed to save_soon() as a function could not be made into a row, if so."""
        self.caught_up()
        with self._queue.lock:
            return self._queue.unmade.get(run_id)

    def caught_up(self) -> None:
        """Wait (a little) for runs handed over and not tried yet: readers do, first."""
        with self._reading():
            self._queue.lock.wait_for(lambda: not self._queue.handed and not self._queue.trying, READ_WAIT_S)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Holding the queue's lock, as a reader the writer does not keep waiting for quiet."""
        queue = self._queue
        with queue.lock:
            queue.readers += 1
            queue.lock.notify_all()
            try:
                yield
            finally:
                queue.readers -= 1

    def _until_quiet(self) -> None:
        """Before making and writing runs just handed over: wait until not busy (see
        WRITE_WHEN_QUIET_S), with the queue's lock held."""
        if self.busy is None:
            return
        queue = self._queue
        start = quiet_since = time.monotonic()
        while not queue.readers and (now := time.monotonic()) - start < WRITE_AT_MOST_AFTER_S:
            if self.busy():
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= WRITE_WHEN_QUIET_S:
                return
            queue.lock.wait(0.02)

    def _flush_loop(self) -> None:
        queue = self._queue
        while True:
            with queue.lock:
                if queue.handed:
                    self._until_quiet()
                fresh, queue.handed = queue.handed, []
                queue.trying = len(fresh)
                if not fresh and not queue.rows:
                    queue.flusher = None
                    queue.lock.notify_all()
                    return
                waiting = list(queue.rows)
            fresh = [row for row in map(self._made, fresh) if row is not None]
            try:  # a run just handed over is tried as save() tries: readers wait for that try
                with self._write(busy_ms=QUICK_WAIT_MS if fresh else 5_000) as db:
                    for row, tags in waiting + fresh:
                        _insert(db, row, tags, if_absent=True)
            except StorageError:
                with queue.lock:  # still locked (or worse): kept in order and tried again
                    queue.rows.extend(fresh)
                    queue.trying = 0
                    queue.lock.notify_all()
                time.sleep(0.5)
                continue
            with queue.lock:
                del queue.rows[: len(waiting)]  # runs queued meanwhile stay
                queue.trying = 0
                queue.lock.notify_all()

    def _made(self, entry: Row | _ToMake) -> Row | None:
        if not isinstance(entry, _ToMake):
            return entry
        try:
            return entry.row()
        except Exception as exc:  # noqa: BLE001 - told to the page by unmade(), never lost silently
            with self._queue.lock:
                self._queue.unmade[entry.run_id] = f"{type(exc).__name__}: {exc}"
            return None

    def add_many(self, runs: Iterable[Run], *, secrets: Iterable[str | None] = ()) -> tuple[int, int]:
        """Save runs in one transaction, skipping ids already here: (added, skipped)."""
        secrets = list(secrets)
        prepared = [_row(run, secrets, self.workspace) for run in runs]
        added = self._write_waiting(lambda db: sum(_insert(db, row, tags, if_absent=True) for row, tags in prepared))
        return added, len(prepared) - added

    def update(self, run_id: str, *, title: str | None = None, tags: Iterable[str] | None = None,
               shared: bool | None = None) -> None:
        """Change a run of this workspace (KeyError: no such run; ReadOnly: another's)."""
        with self._write() as db:
            found = db.execute("SELECT seq, workspace FROM runs WHERE id = ?", (run_id,)).fetchone()
            if found is None:
                raise KeyError(run_id)
            if found[1] != self.workspace:
                raise ReadOnly("this run belongs to another workspace: only its owner can change it")
            if shared is not None:
                db.execute("UPDATE runs SET shared = ? WHERE seq = ?", (int(shared), found[0]))
            if title is not None:
                db.execute("UPDATE runs SET title = ? WHERE seq = ?", (_text(scrub(title.strip())), found[0]))
            if tags is not None:
                db.execute("DELETE FROM run_tags WHERE run_seq = ?", (found[0],))
                db.executemany("INSERT INTO run_tags VALUES (?, ?) ON CONFLICT DO NOTHING", [(found[0], t) for t in clean_tags(tags)])

    def delete(self, run_ids: Iterable[str]) -> int:
        ids = list(run_ids)
        with self._write() as db:
            return sum(db.execute("DELETE FROM runs WHERE id = ? AND workspace = ?", (i, self.workspace)).rowcount for i in ids)

    # reading ---------------------------------------------------------------------------

    def get(self, run_id: str) -> Run | None:
        self.caught_up()
        with self.db.connect() as db:
            row = db.execute(
                "SELECT seq, id, created, endpoint, model, provider, request, response, usage, latency, ttft, cost, title, shared "
                f"FROM runs r WHERE id = ? AND {self._visible()[0]}",
                (run_id, self.workspace),
            ).fetchone()
            if row is None:
                return None
            tags = sorted(t for (t,) in db.execute("SELECT tag FROM run_tags WHERE run_seq = ?", (row[0],)))
        _, id_, created, endpoint, model, provider, request, response, usage, latency, ttft, cost, title, shared = row
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
            shared=bool(shared),
        )

    def count(self) -> int:
        self.caught_up()
        visible, args = self._visible()
        with self.db.connect() as db:
            return db.execute(f"SELECT count(*) FROM runs r WHERE {visible}", args).fetchone()[0]

    def models(self) -> list[str]:
        self.caught_up()
        visible, args = self._visible()
        with self.db.connect() as db:
            return sorted(m for (m,) in db.execute(f"SELECT DISTINCT model FROM runs r WHERE {visible}", args))

    def tags(self) -> list[str]:
        self.caught_up()
        visible, args = self._visible()
        with self.db.connect() as db:
            return sorted(t for (t,) in db.execute(
                f"SELECT DISTINCT t.tag FROM run_tags t JOIN runs r ON r.seq = t.run_seq WHERE {visible}", args))

    def search(self, where: RunFilter = RunFilter(), *, limit: int = 50, offset: int = 0) -> SearchPage:
        """Matching runs, newest first, one page of them, and how many match in all."""
        self.caught_up()
        clauses, args = self._conditions(where)
        sql_where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        dialect = self.db.dialect
        tags = dialect.group_concat.format(expr="tag", sep=",")
        total_tokens = dialect.json_int.format(column="r.usage", field="total_tokens")
        with self.db.connect() as db:
            total = db.execute(f"SELECT count(*) FROM runs r {sql_where}", args).fetchone()[0]
            rows = db.execute(
                "SELECT r.seq, r.id, r.created, r.endpoint, r.model, r.title, substr(r.prompt_text, 1, 200), "
                f"substr(r.response_text, 1, 200), r.latency, r.cost, {total_tokens}, "
                f"(SELECT {tags} FROM run_tags WHERE run_seq = r.seq) "
                f"FROM runs r {sql_where} ORDER BY r.created DESC, r.seq DESC LIMIT ? OFFSET ?",
                [*args, int(limit), int(offset)],
            ).fetchall()
            # The page's requests, for their labels: read apart, so the sort above never carries them.
            seqs = [r[0] for r in rows]
            requests = dict(db.execute(f"SELECT seq, request FROM runs WHERE seq IN ({','.join('?' * len(seqs))})", seqs)
                            .fetchall()) if seqs else {}
        return SearchPage(
            [
                RunSummary(
                    id=r[1], created=r[2], endpoint=r[3], model=r[4], title=r[5], prompt=r[6], response=r[7],
                    latency=r[8], cost=r[9], total_tokens=None if r[10] is None else int(r[10]),
                    tags=tuple(sorted(r[11].split(","))) if r[11] else (), **_described(requests.get(r[0])),
                )
                for r in rows
            ],
            total,
        )

    def _conditions(self, where: RunFilter) -> tuple[list[str], list[Any]]:
        visible, args = self._visible()
        clauses: list[str] = [visible]
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
        for term in _text(where.text).split():
            pattern = "%" + re.sub(r"([%_\\])", r"\\\1", term) + "%"
            if self.backend == "postgresql":  # pg_trgm's GIN index serves ILIKE on this expression
                clauses.append(f"{PG_SEARCH_TEXT} ILIKE ? ESCAPE '\\'")
                args.append(pattern)
            elif self.has_fts and len(term) >= 3:  # trigram index: three characters or more
                fts_terms.append('"' + term.replace('"', '""') + '"')
            else:
                clauses.append("(r.prompt_text LIKE ? ESCAPE '\\' OR r.response_text LIKE ? ESCAPE '\\' OR r.title LIKE ? ESCAPE '\\')")
                args += [pattern, pattern, pattern]
        if fts_terms:
            clauses.append("r.seq IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?)")
            args.append(" AND ".join(fts_terms))
        return clauses, args

    # export and import -------------------------------------------------------------------

    def export_jsonl(self, run_ids: Iterable[str]) -> str:
        """The runs as JSON Lines, one run per line, in the order given."""
        return "".join(run_jsonl(run) for run in (self.get(i) for i in run_ids) if run is not None)

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

    # presets -----------------------------------------------------------------------------

    def _put_preset(self, page: str, name: str, controls: dict[str, Any], *, overwrite: bool) -> None:
        with self._write() as db:
            upsert = "DO UPDATE SET controls = excluded.controls, updated = excluded.updated" if overwrite else "DO NOTHING"
            added = db.execute(
                "INSERT INTO presets (workspace, page, name, controls, updated) VALUES (?, ?, ?, ?, ?) "
                f"ON CONFLICT (workspace, page, name) {upsert} RETURNING name",
                (self.workspace, page, _text(name), safe_json(controls), time.time()),
            ).fetchone()
        if added is None:
            raise PresetExists(f"a preset named “{name}” already exists here: choose another name, or delete that one first")

    def save_preset(self, page: str, name: str, controls: dict[str, Any], *, overwrite: bool = False) -> None:
        """Save a preset of this workspace. A name already taken raises PresetExists unless
        `overwrite` says to replace it: nothing is replaced silently."""
        name = name.strip()
        if not name:
            raise ValueError("A preset needs a name.")
        self._put_preset(page, name, controls, overwrite=overwrite)

    def presets(self, page: str) -> list[str]:
        """The names of this workspace's presets and of those shared with the team."""
        return sorted({preset.name for preset in self.preset_list(page)})

    def preset_list(self, page: str) -> list[Preset]:
        """This workspace's presets, then those colleagues share, each with its owner."""
        visible, args = self._visible("p")
        with self.db.connect() as db:
            rows = db.execute(f"SELECT name, workspace, shared FROM presets p WHERE page = ? AND {visible}", [page, *args]).fetchall()
        presets = [Preset(name, owner, bool(shared), owner == self.workspace) for name, owner, shared in rows]
        return sorted(presets, key=lambda p: (not p.mine, p.name.lower(), p.workspace))

    def load_preset(self, page: str, name: str, owner: str | None = None) -> dict[str, Any] | None:
        """The controls of the preset `name` (of `owner`, else one's own first)."""
        visible, args = self._visible("p")
        mine_first = "CASE WHEN workspace = ? THEN 0 ELSE 1 END, updated DESC"
        with self.db.connect() as db:
            row = db.execute(
                f"SELECT controls FROM presets p WHERE page = ? AND name = ? AND {visible} AND workspace = COALESCE(?, workspace) "
                f"ORDER BY {mine_first}",
                [page, name, *args, owner, self.workspace],
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def delete_preset(self, page: str, name: str) -> None:
        with self._write() as db:
            db.execute("DELETE FROM presets WHERE workspace = ? AND page = ? AND name = ?", (self.workspace, page, name))

    def share_preset(self, page: str, name: str, shared: bool = True) -> None:
        """Show this workspace's preset to the team (or stop)."""
        with self._write() as db:
            changed = db.execute("UPDATE presets SET shared = ? WHERE workspace = ? AND page = ? AND name = ?",
                                 (int(shared), self.workspace, page, name)).rowcount
        if not changed:
            raise KeyError(name)


def run_jsonl(run: Run, secrets: Iterable[str | None] = ()) -> str:
    """One run as a line of the JSONL export (what import_jsonl reads back)."""
    return safe_json(run.to_json(), secrets) + "\n"


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
