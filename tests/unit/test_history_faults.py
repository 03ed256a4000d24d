"""The history under faults: a damaged file is set aside and what can be read comes back;
a locked, read-only, unreadable or newer file is never set aside and never changed; a
run saved while another process holds the lock for 20 s is not lost."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from playground.db import ReadOnly, SqliteDatabase
from playground.errors import Problem
from playground.history import MIGRATIONS, SCHEMA_VERSION, History, HistoryBusy, HistoryUnavailable, Run, RunFilter, run_of_result
from playground.requests import TextRequest
from playground.runner import ChoiceResult, RunResult
from tests.enginerunner import ROOT
from tests.history_faults import frozen, hold_lock


def _run(i: int, **kw) -> Run:
    return Run("completions", "local-text", {"prompt": f"prompt number {i} " + "padding " * 30}, {"choices": [{"text": f"answer {i}"}]}, **kw)


def _filled(path: Path, n: int) -> list[str]:
    history = History(path)
    ids = [history.add(_run(i, tags=["kept"] if i % 2 else [])) for i in range(n)]
    history.save_preset("chat", "terse", {"temperature": 0.1})
    return ids


def _aside(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.glob(path.name + ".corrupt-*") if not p.name.endswith(("-wal", "-shm")))


def _checkpoint(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def _damage_one_page(path: Path, page_number: int) -> None:
    """Overwrite one page in the middle of the runs table, as a bad sector would."""
    db = sqlite3.connect(path)
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    with path.open("r+b") as f:
        f.seek(page_size * page_number)
        f.write(b"\xa5" * page_size)


@pytest.mark.parametrize("with_cli", [True, False], ids=["sqlite3 .recover", "row by row"])
def test_a_damaged_page_sets_the_file_aside_and_the_readable_runs_come_back(tmp_path: Path, with_cli: bool,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    if with_cli:
        assert shutil.which("sqlite3"), "scripts/test installs Debian's sqlite3"
    else:
        monkeypatch.setattr("playground.recovery.shutil.which", lambda name: None)
    path = tmp_path / "history.sqlite3"
    ids = _filled(path, 400)
    _checkpoint(path)
    pages = path.stat().st_size // 4096
    _damage_one_page(path, pages // 2)
    damaged = path.read_bytes()

    history = History(path)

    assert history.notice and "kept as" in history.notice and "recovered" in history.notice
    (aside,) = _aside(path)
    assert aside.read_bytes() == damaged  # kept exactly as it was
    back = history.count()
    assert 0.9 * len(ids) <= back < len(ids)  # one page of ~400 rows lost, not the whole file
    assert f"{back} runs and 1 preset were recovered" in history.notice
    some = history.get(ids[1])
    assert some is not None and some.tags == ["kept"] and some.request["prompt"].startswith("prompt number 1 ")
    assert history.search(RunFilter(text="number")).total == back  # the search index is rebuilt for them
    assert history.load_preset("chat", "terse") == {"temperature": 0.1}
    assert History(path).notice is None  # the new file is healthy


def test_a_file_that_is_not_a_database_starts_empty_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"not a database at all " * 500)
    history = History(path)
    assert history.notice and "nothing in it could be read" in history.notice
    assert _aside(path)[0].read_bytes() == b"not a database at all " * 500
    assert history.count() == 0


def test_a_locked_database_is_opened_and_never_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    ids = _filled(path, 5)
    with hold_lock(path, seconds=10):
        started = time.monotonic()
        history = History(path)  # readers do not wait for a writer
        assert time.monotonic() - started < 5
        assert history.notice is None and history.read_only is None and not _aside(path)
        assert history.count() == 5 and history.get(ids[0]) is not None


def test_an_old_database_locked_while_it_needs_upgrading_is_busy_not_replaced(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    old = SqliteDatabase(path)
    with old.write() as db:  # as the app before the last migration left it
        for migration in MIGRATIONS[:-1]:
            migration(db)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
        db.execute(
            "INSERT INTO runs (id, created, endpoint, model, provider, request, response, title) "
            "VALUES ('old', 1, 'chat', 'm', '{}', '{}', '{}', 'kept')"
        )
    with hold_lock(path, seconds=8):
        with pytest.raises(HistoryBusy, match="busy"):
            History(path)
        assert not _aside(path)
    history = History(path)  # the lock is gone: it upgrades
    assert history.schema_version() == SCHEMA_VERSION and history.count() == 1


def test_a_newer_database_is_read_only_and_left_exactly_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    ids = _filled(path, 4)
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 3}")
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    history = History(path)

    assert history.read_only and "newer version" in history.read_only and history.notice is None
    assert history.count() == 4 and history.get(ids[0]) is not None and history.search(RunFilter(tag="kept")).total == 2
    with pytest.raises(ReadOnly, match="read-only"):
        history.save(_run(99))
    with pytest.raises(ReadOnly):
        history.save_preset("chat", "x", {})
    history.check()
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if not p.name.endswith("-shm")}  # SQLite's reader index
    assert after.pop("history.sqlite3-wal", b"") == b"" and after == before  # not renamed, not written


def test_a_read_only_database_is_shown_and_never_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    _filled(path, 3)
    _checkpoint(path)
    with frozen(tmp_path):
        history = History(path)
        assert history.read_only and "cannot be written" in history.read_only
        assert history.count() == 3 and history.presets("chat") == ["terse"]
        with pytest.raises(ReadOnly):
            history.save(_run(7))
        assert not _aside(path)
    assert History(path).read_only is None  # writable again: used as before


def test_an_unreadable_database_is_unavailable_and_untouched(tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="history-unreadable-"))  # outside pytest's private tmp: another user can enter
    try:
        folder.chmod(0o755)
        path = folder / "history.sqlite3"
        _filled(path, 2)
        _checkpoint(path)
        path.chmod(0o600 if os.geteuid() == 0 else 0o000)
        # As another user (root reads any file): the effective uid changes after the imports.
        become = "os.setegid(65534); os.seteuid(65534)\n" if os.geteuid() == 0 else ""
        code = (
            "import os, sys\nfrom playground.history import History, HistoryUnavailable\n" + become +
            "try:\n    History(sys.argv[1])\nexcept HistoryUnavailable as exc:\n    print('unavailable:', exc)\n"
        )
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=60)
        path.chmod(0o600)
        assert out.returncode == 0, out.stderr  # no traceback
        assert out.stdout.startswith("unavailable:") and "cannot be read" in out.stdout
        assert not _aside(path) and History(path).count() == 2
    finally:
        shutil.rmtree(folder)


def test_twenty_seconds_of_lock_lose_no_run(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    History(path)
    saved_in_thread: list[str] = []
    with hold_lock(path, seconds=20) as lock:
        history = History(path)
        # add() waits for the lock (evals saves this way) ...
        waiting = threading.Thread(target=lambda: saved_in_thread.append(history.add(_run(-1))))
        waiting.start()
        # ... save() (the pages) queues and returns at once
        queued = [history.save(_run(i)) for i in range(10)]
        assert queued == [False] * 10 and len(history.pending()) == 10
        assert history.count() == 0
        lock.released.wait(60)
    assert history.flush(timeout=60)
    waiting.join(60)
    assert saved_in_thread and history.count() == 11 and history.pending() == []
    prompts = [r.prompt for r in history.search(limit=20).runs]
    assert all(f"prompt number {i} " in " ".join(prompts) for i in range(10))


def test_a_stream_cut_short_is_saved_as_stopped_with_its_error(tmp_path: Path) -> None:
    result = RunResult(TextRequest("completions", "local-text", {"prompt": "Return", "stream": True}))
    result.choices.append(ChoiceResult(0, text=" the sum of"))
    result.error = Problem(title="The connection to the server was lost", detail="peer closed connection", action="Run again.")
    result.done = True
    history = History(tmp_path / "h.sqlite3")
    saved = history.get(history.add(run_of_result(result, provider={"provider": "local"})))
    assert saved is not None
    assert saved.response["stopped"] is True and saved.response["choices"][0]["text"] == " the sum of"
    assert saved.response["error"]["title"] == "The connection to the server was lost"


def test_a_history_that_cannot_be_created_says_why(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(HistoryUnavailable, match="cannot be created"):
        History(blocker / "history.sqlite3")
    assert blocker.read_text() == "a file where a folder should be"


def test_a_file_damaged_while_the_app_runs_is_handled_at_the_next_check(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    history = History(path)
    history.add(_run(1))
    _checkpoint(path)
    with path.open("r+b") as f:
        f.write(b"garbage!" * 16)  # the header overwritten
    history.check()
    assert history.notice and "kept as" in history.notice
    history.add(_run(2))
    assert history.count() >= 1


def test_a_file_whose_first_page_was_overwritten_gets_its_runs_back(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    ids = _filled(path, 60)
    _checkpoint(path)
    with path.open("r+b") as f:
        f.write(b"garbage!" * 16)  # the header and the start of the table list overwritten

    history = History(path)

    assert history.notice and "kept as" in history.notice and "under a new first page" in history.notice
    assert history.count() == len(ids)
    some = history.get(ids[1])
    assert some is not None and some.tags == ["kept"] and some.request["prompt"].startswith("prompt number 1 ")
    assert history.load_preset("chat", "terse") == {"temperature": 0.1}
