"""The run history: survives restarts, concurrent writers, old schemas and corrupt files."""

from __future__ import annotations

import json
import math
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Callable

import openai
import pytest

from playground.catalog import model_info
from playground.db import ReadOnly
from playground.history import (
    SCHEMA_VERSION,
    History,
    Run,
    RunFilter,
    choice_tokens,
    run_of_result,
    tokens_to_json,
)
from playground.logprobs import Alternative, TokenInfo
from playground.requests import build_request
from playground.runner import run
from tests.enginerunner import ROOT


def _run(prompt: str = "Return the sum", text: str = "of the values", **kw) -> Run:
    return Run(
        endpoint=kw.pop("endpoint", "completions"),
        model=kw.pop("model", "local-text"),
        request={"model": "local-text", "prompt": prompt, "temperature": 0.5},
        response={"choices": [{"index": 0, "text": text, "tokens": []}]},
        usage={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        **kw,
    )


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_real_run_is_saved_and_its_token_view_comes_back(client: openai.OpenAI, history_target: Callable[[], str]) -> None:
    request = build_request("completions", model_info("local-text"), dict(max_tokens=8, logprobs=3, seed=7, stream=True), prompt="Return the")
    result = run(client, request)
    assert result.error is None and result.choices[0].tokens
    history = History(history_target())
    run_id = history.add(run_of_result(result, provider={"provider": "local"}, tags=["demo"]))

    saved = history.get(run_id)
    assert saved is not None
    assert saved.request["prompt"] == "Return the" and saved.request["seed"] == 7
    assert saved.response["choices"][0]["text"] == result.choices[0].text
    assert choice_tokens(saved) == [result.choices[0].tokens]  # every field, bytes included
    assert saved.usage == result.usage and saved.latency == pytest.approx(result.latency_s)
    assert saved.tags == ["demo"]


def test_a_run_handed_over_to_be_made_is_made_and_saved_on_the_writer_thread(history_target: Callable[[], str]) -> None:
    import threading

    history = History(history_target())
    made_on = []

    def make() -> Run:
        made_on.append(threading.current_thread().name)
        return _run("Made later", id="later1")

    def broken() -> Run:
        raise ValueError("not a run")

    history.save_soon(("later1", make))
    history.save_soon(("broken1", broken))
    history.save_soon(_run("After them", id="after1"))
    saved = history.get("later1")  # readers wait for what was handed over
    assert saved is not None and saved.request["prompt"] == "Made later"
    assert made_on == ["history-outbox"]
    assert history.unmade("broken1") == "ValueError: not a run" and history.get("broken1") is None
    assert history.unmade("later1") is None and history.get("after1") is not None  # the runs after it are saved


def test_a_run_handed_over_while_the_app_is_busy_is_written_once_it_is_quiet(history_target: Callable[[], str]) -> None:
    import threading
    import time

    from playground.history import WRITE_AT_MOST_AFTER_S

    busy = threading.Event()
    busy.set()  # a page's script runs: its last messages go out, the browser draws them
    history = History(history_target(), busy=busy.is_set)
    made = threading.Event()

    def make() -> Run:
        made.set()
        return _run("Made when quiet", id="quiet1")

    history.save_soon(("quiet1", make))
    assert not made.wait(0.3)  # not while busy
    busy.clear()
    assert made.wait(5)  # soon after
    assert history.get("quiet1") is not None

    busy.set()  # busy for good (a team on one server): written at most WRITE_AT_MOST_AFTER_S late
    made.clear()
    start = time.monotonic()
    history.save_soon(("quiet2", lambda: (made.set(), _run("Made late", id="quiet2"))[1]))
    assert made.wait(WRITE_AT_MOST_AFTER_S + 5)
    assert time.monotonic() - start >= WRITE_AT_MOST_AFTER_S * 0.9
    assert history.flush(5)


def test_a_reader_does_not_wait_for_the_app_to_be_quiet(history_target: Callable[[], str]) -> None:
    import time

    history = History(history_target(), busy=lambda: True)
    start = time.monotonic()
    history.save_soon(("read1", lambda: _run("Read at once", id="read1")))
    assert history.get("read1") is not None  # the reader's wait makes the writer go on
    assert time.monotonic() - start < 0.5


def test_a_run_survives_an_app_restart(history_target: Callable[[], str]) -> None:
    db = history_target()
    write = _python(
        "import sys; from playground.history import History, Run\n"
        "h = History(sys.argv[1])\n"
        "print(h.add(Run('chat', 'local-text', {'messages': [{'role': 'user', 'content': 'hello there'}]},"
        " {'choices': [{'text': 'general kenobi'}]}, title='kept', tags=['t1'])))",
        str(db),
    )
    assert write.returncode == 0, write.stderr
    run_id = write.stdout.strip()
    read = _python(
        "import sys, json; from playground.history import History, RunFilter\n"
        "h = History(sys.argv[1]); r = h.get(sys.argv[2])\n"
        "print(json.dumps([r.title, r.tags, r.request, h.search(RunFilter(text='kenobi')).total]))",
        str(db), run_id,
    )
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout) == ["kept", ["t1"], {"messages": [{"role": "user", "content": "hello there"}]}, 1]


def test_three_processes_writing_at_once_lose_nothing(history_target: Callable[[], str]) -> None:
    db = history_target()
    History(db)
    writer = (
        "import sys; from playground.history import History, Run\n"
        "h = History(sys.argv[1])\n"
        "for i in range(int(sys.argv[3])):\n"
        "    h.add(Run('completions', 'm-' + sys.argv[2], {'prompt': f'p{i}'}, {'choices': [{'text': f'r{i}'}]}, tags=[sys.argv[2]]))\n"
    )
    per_writer = 100
    writers = [
        subprocess.Popen([sys.executable, "-c", writer, str(db), name, str(per_writer)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for name in ("a", "b", "c")
    ]
    for process in writers:
        _, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
    history = History(db)
    assert history.count() == 3 * per_writer
    for name in ("a", "b", "c"):
        assert history.search(RunFilter(tag=name)).total == per_writer
        assert history.search(RunFilter(model=f"m-{name}")).total == per_writer


def _v1_database(path: Path) -> None:
    """The first schema, written by hand as an app of that version would have."""
    db = sqlite3.connect(path)
    db.execute(
        """CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, created REAL NOT NULL,
        endpoint TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL, request TEXT NOT NULL, response TEXT NOT NULL,
        usage TEXT, latency REAL, cost REAL, title TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '[]')"""
    )
    db.execute(
        "INSERT INTO runs (id, created, endpoint, model, provider, request, response, usage, latency, cost, title, tags) "
        "VALUES ('old1', 1700000000, 'completions', 'local-text', '{\"provider\":\"local\"}', "
        "'{\"model\":\"local-text\",\"prompt\":\"An ancient prompt\"}', '{\"choices\":[{\"text\":\"a vintage answer\"}]}', "
        "'{\"total_tokens\":9}', 0.25, 0.001, 'Old run', '[\"Legacy\",\"keep\"]')"
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_an_old_schema_database_migrates_and_keeps_its_runs(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    _v1_database(db)
    history = History(db)
    assert history.notice is None
    assert history.schema_version() == SCHEMA_VERSION
    old = history.get("old1")
    assert old is not None
    assert (old.title, old.tags, old.latency, old.cost, old.ttft) == ("Old run", ["keep", "legacy"], 0.25, 0.001, None)
    assert old.request["prompt"] == "An ancient prompt"
    # the columns and indexes added later work on the old rows
    assert [r.id for r in history.search(RunFilter(text="vintage")).runs] == ["old1"]
    assert [r.id for r in history.search(RunFilter(tag="legacy")).runs] == ["old1"]
    history.add(_run())
    history.save_preset("completions", "p", {"temperature": 0.2})
    assert history.count() == 2 and history.load_preset("completions", "p") == {"temperature": 0.2}
    # opening again applies nothing twice
    assert History(db).schema_version() == SCHEMA_VERSION


def _aside_files(db: Path) -> list[Path]:
    return sorted(db.parent.glob(db.name + ".corrupt-*"))


@pytest.mark.parametrize("damage", ["random bytes", "truncated", "truncated, no full check", "directory"])
def test_a_corrupt_database_is_set_aside_with_a_message(tmp_path: Path, damage: str, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "history.sqlite3"
    if damage.endswith("no full check"):  # as for a history too large for the full check
        monkeypatch.setattr("playground.history.FULL_CHECK_MAX_BYTES", 0)
    if damage == "random bytes":
        original = os.urandom(8192)
        db.write_bytes(original)
    elif damage.startswith("truncated"):
        history = History(db)
        for i in range(300):
            history.add(_run(prompt=f"prompt {i} " * 20))
        original = db.read_bytes()[: len(db.read_bytes()) // 2]
        db.write_bytes(original)
    else:
        db.mkdir()
        (db / "something.txt").write_text("user data")

    history = History(db)

    assert history.notice and "could not be opened" in history.notice and "kept as" in history.notice
    aside = _aside_files(db)
    assert len(aside) == 1 and aside[0].name in history.notice
    if damage == "directory":
        assert (aside[0] / "something.txt").read_text() == "user data"
    else:
        assert aside[0].read_bytes() == original  # kept as it was, not deleted
    run_id = history.add(_run())
    assert History(db).get(run_id) is not None and History(db).notice is None


def test_export_and_import_round_trip(history_target: Callable[[], str]) -> None:
    source = History(history_target())
    ids = [source.add(_run(prompt=f"prompt {i}", title=f"t{i}", tags=["x", f"n{i}"], latency=0.1 * i)) for i in range(5)]
    exported = source.export_jsonl(ids[:3])
    assert len(exported.splitlines()) == 3

    target = History(history_target())
    report = target.import_jsonl(exported.encode())
    assert (report.added, report.duplicates, report.problems) == (3, 0, [])
    for run_id in ids[:3]:
        assert target.get(run_id) == source.get(run_id)

    again = target.import_jsonl(exported + '{"id": "x"}\nnot json\n[1]\n')
    assert (again.added, again.duplicates) == (0, 3)
    assert [p.split(":")[0] for p in again.problems] == ["line 4", "line 5", "line 6"]
    assert "not valid JSON" in again.problems[1]
    assert target.count() == 3
    assert target.import_jsonl(b"\xff\xfe").problems  # not text: a message, nothing added


def test_search_and_filter(history_target: Callable[[], str]) -> None:
    history = History(history_target())
    day = 86_400.0
    history.add(_run(prompt="Sort the list", text="in place", model="local-text", tags=["sorting"], created=10 * day))
    history.add(_run(prompt="Open the file", text="for reading", model="gpt-4o-mini", tags=["io"], created=11 * day, endpoint="chat"))
    history.add(_run(prompt="Close the file", text="when done", model="local-text", tags=["io"], created=12 * day, title="Closing"))
    for i in range(60):
        history.add(_run(prompt=f"filler {i}", text="x", created=20 * day + i))

    def ids(**kw: object) -> list[str]:
        return [r.prompt for r in history.search(RunFilter(**kw)).runs]  # type: ignore[arg-type]

    assert ids(text="file") == ["Close the file", "Open the file"]  # newest first
    assert ids(text="FILE reading") == ["Open the file"]  # every word, any case, prompt or response
    assert ids(text="closing") == ["Close the file"]  # the title
    assert ids(text="in") == ["Close the file", "Open the file", "Sort the list"]  # short words: substring anywhere
    assert ids(text="100%_") == []
    assert ids(model="gpt-4o-mini") == ["Open the file"]
    assert ids(endpoint="chat") == ["Open the file"]
    assert ids(tag="io") == ["Close the file", "Open the file"]
    assert ids(since=10.5 * day, until=12 * day) == ["Open the file"]
    assert ids(tag="io", model="local-text", text="close") == ["Close the file"]
    page = history.search(RunFilter(text="filler"), limit=25, offset=50)
    assert page.total == 60 and len(page.runs) == 10 and page.runs[-1].prompt == "filler 0"
    assert history.models() == ["gpt-4o-mini", "local-text"] and history.tags() == ["io", "sorting"]


def test_edit_and_delete(history_target: Callable[[], str]) -> None:
    history = History(history_target())
    keep, gone = history.add(_run()), history.add(_run())
    history.update(keep, title="Best so far", tags=["Good", "good", " final "])
    assert (history.get(keep).title, history.get(keep).tags) == ("Best so far", ["final", "good"])  # type: ignore[union-attr]
    assert history.search(RunFilter(text="best")).total == 1
    assert history.delete([gone]) == 1
    assert history.get(gone) is None and history.count() == 1
    with pytest.raises(KeyError):
        history.update(gone, title="x")


def test_no_key_and_no_header_is_ever_saved(history_target: Callable[[], str]) -> None:
    key = "sk-proj-" + "SECRETsecretSECRET123"  # built here so no scanner takes it for a key
    azure_key = "fedcba9876543210" * 2
    history = History(history_target())
    run_id = history.add(
        Run(
            "chat", "local-text",
            request={"messages": [{"role": "user", "content": f"my key is {key}"}], "extra_headers": {"Authorization": f"Bearer {key}"}},
            response={"choices": [{"text": f"0123456789abcdef0123456789abcdef {azure_key}"}], "headers": {"x-request-id": "r1"}},
            provider={"provider": "openai", "base_url": None},
            title=f"about {key}",
        ),
        secrets=[key, azure_key],
    )
    saved = history.get(run_id)
    assert saved is not None
    assert "extra_headers" not in saved.request and "headers" not in saved.response
    assert "[key hidden]" in saved.request["messages"][0]["content"]
    # An Azure key (32 hex digits) is removed by value; other hex data (token bytes) is kept intact.
    assert saved.response["choices"][0]["text"] == "0123456789abcdef0123456789abcdef [key hidden]"
    exported = history.export_jsonl([run_id])
    raw = _stored(history)
    assert key not in exported and key.encode() not in raw
    assert azure_key not in exported and azure_key.encode() not in raw
    assert b"SECRETsecret" not in raw


def test_a_token_named_like_a_header_keeps_its_alternative(history_target: Callable[[], str]) -> None:
    top = {"headers": -0.4, "authorization": -1.6, " the": -2.0}  # completions' top_logprobs: token -> logprob
    history = History(history_target())
    run_id = history.add(Run("completions", "local-text", request={"prompt": "HTTP"},
                             response={"choices": [{"text": "headers", "logprobs": {"top_logprobs": [top]}}],
                                       "headers": {"x-request-id": "r1"}}))
    saved = history.get(run_id)
    assert saved is not None
    assert saved.response["choices"][0]["logprobs"]["top_logprobs"] == [top]
    assert "headers" not in saved.response  # the transport's own headers still go


def test_numbers_json_cannot_hold_are_saved_and_read_back(history_target: Callable[[], str]) -> None:
    # A server's infinite logprob (a masked token) or NaN, and an integer past 64 bits: the
    # run is saved, not lost, and its tokens read back (null for the numbers JSON has not).
    token = TokenInfo(index=0, token="a", token_id=64, logprob=-0.5, bytes=b"a", text_offset=0,
                      top=(Alternative("a", -0.5, b"a"), Alternative("b", -math.inf, b"b"), Alternative("c", math.nan, b"c")))
    history = History(history_target())
    run_id = history.add(Run("completions", "local-text", request={"prompt": "x", "seed": 2**70},
                             response={"choices": [{"index": 0, "text": "a", "tokens": tokens_to_json([token])}]}))
    saved = history.get(run_id)
    assert saved is not None and saved.request["seed"] == 2**70
    [[back]] = choice_tokens(saved)
    assert back.top[:2] == token.top[:2] and back.top[2].logprob == -math.inf


def _stored(history: History) -> bytes:
    """Everything the database holds: the SQLite files' bytes, or every PostgreSQL row."""
    if history.path is not None:
        return b"".join(p.read_bytes() for p in history.path.parent.iterdir() if p.is_file())
    with history.db.connect() as db:
        tables = [t for (t,) in db.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return repr([db.execute(f"SELECT * FROM {t}").fetchall() for t in tables]).encode()


def test_text_with_nul_and_every_script_is_saved_and_found(history_target: Callable[[], str]) -> None:
    history = History(history_target())
    run_id = history.add(_run(prompt="naïve 日本語 text\x00with a NUL", text="ünïcödé 🙂 answer"))
    saved = history.get(run_id)
    assert saved is not None and saved.request["prompt"] == "naïve 日本語 text\x00with a NUL"  # the JSON keeps it
    assert [r.id for r in history.search(RunFilter(text="日本語")).runs] == [run_id]
    assert [r.id for r in history.search(RunFilter(text="🙂")).runs] == [run_id]


def test_one_set_of_migrations_upgrades_a_postgresql_database(postgres_server) -> None:  # noqa: ANN001
    """A PostgreSQL history made by the first version's migration, with a run in it, is
    brought up to date by the same migrations SQLite runs, and keeps its run."""
    from playground.db import PostgresDatabase
    from playground.migrations import MIGRATIONS

    url = postgres_server.new_database()
    old = PostgresDatabase(url)
    with old.write() as db:
        MIGRATIONS[0](db)
        db.execute("CREATE TABLE playground_schema (version INTEGER NOT NULL)")
        db.execute("INSERT INTO playground_schema VALUES (1)")
        db.execute(
            "INSERT INTO runs (id, created, endpoint, model, provider, request, response, usage, latency, cost, title, tags) "
            "VALUES ('old1', 1700000000, 'completions', 'local-text', '{}', '{\"prompt\":\"An ancient prompt\"}', "
            "'{\"choices\":[{\"text\":\"a vintage answer\"}]}', '{\"total_tokens\":9}', 0.25, 0.001, 'Old run', '[\"Legacy\"]')"
        )
    old.close()
    history = History(url)
    assert history.schema_version() == SCHEMA_VERSION and history.has_trigram
    assert [r.id for r in history.search(RunFilter(text="vintage")).runs] == ["old1"]
    assert [r.id for r in history.search(RunFilter(tag="legacy")).runs] == ["old1"]
    assert history.search(RunFilter(text="vintage")).runs[0].total_tokens == 9


def test_a_newer_postgresql_database_is_read_only(postgres_server) -> None:  # noqa: ANN001
    url = postgres_server.new_database()
    History(url).add(_run())
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute("UPDATE playground_schema SET version = version + 1")
    history = History(url)
    assert history.read_only and "newer version" in history.read_only and history.count() == 1
    with pytest.raises(ReadOnly):
        history.save(_run())
