"""Every page works when the history does not: damaged while the app runs, locked by
another process, read-only, or written by a newer app. One warning, no traceback, and a
run is either saved (at once or when the lock goes) or said to be unsaved with an export."""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Callable, Iterator

import pytest
from streamlit.testing.v1 import AppTest

from playground.history import SCHEMA_VERSION, History, Run, default_path
from tests.history_faults import frozen, hold_lock

PAGES = ["app_pages/completions.py", "app_pages/chat.py", "app_pages/history.py", "app_pages/compare.py",
         "app_pages/embeddings.py", "app_pages/images.py", "app_pages/tokenizer.py", "app_pages/evals.py", "app_pages/home.py"]


@pytest.fixture
def history_file(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A history with three runs, in a folder of its own (so it can be made read-only)."""
    path = app_env / "history" / "history.sqlite3"
    monkeypatch.setenv("PLAYGROUND_HISTORY_DB", str(path))
    path.parent.mkdir()
    history = History(path)
    for i in range(3):
        history.add(Run("completions", "local-text", {"prompt": f"saved prompt {i}"}, {"choices": [{"text": "x"}]}))
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@contextlib.contextmanager
def fault(name: str, path: Path) -> Iterator[Callable[[], None]]:
    """Inside: the history has the fault (the yielded function ends it early, where it can end)."""
    if name == "damaged":
        with path.open("r+b") as f:
            f.write(b"overwritten by something else " * 20)  # the header gone, while the app runs
        yield lambda: None
    elif name == "locked":
        with hold_lock(path, seconds=300) as lock:
            yield lock.release
    elif name == "read-only":
        with frozen(path.parent):
            yield lambda: None
    else:
        db = sqlite3.connect(path)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        db.commit()
        db.close()
        yield lambda: None


def _history_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "history" in w.value.lower()]


@pytest.mark.parametrize("name", ["damaged", "locked", "read-only", "newer"])
def test_every_page_works_with_a_faulty_history_and_no_run_is_lost_silently(
    open_app: Callable[..., AppTest], history_file: Path, name: str
) -> None:
    at = open_app("app_pages/history.py")  # the app has the history open before the fault
    assert not _history_warnings(at)
    with fault(name, history_file) as end_fault:
        told: list[str] = []
        for page in PAGES:
            at.switch_page(page)
            at.run()
            assert not at.exception, (page, [e.message for e in at.exception])
            warnings = _history_warnings(at)
            assert len(warnings) <= 1, (page, warnings)
            told += warnings
            if page.endswith("history.py") and name in ("read-only", "newer"):  # a state: said on each page using it
                assert len(warnings) == 1 and "read-only" in warnings[0], warnings
                if name != "damaged":
                    assert at.dataframe, "the saved runs are still listed"

        if name == "damaged":  # an event: said once in the session
            assert len(told) == 1 and "kept as history.sqlite3.corrupt-" in told[0], told
        if name == "locked":
            assert told == []  # readers do not wait for a writer

        # a run on Completions: saved, queued for the lock, or said to be unsaved with an export
        at.switch_page("app_pages/completions.py")
        at.run()
        at.text_area(key="completions_prompt").set_value("def run_during_fault():")
        at.number_input(key="completions_max_tokens").set_value(6)
        at.run()
        at.button(key="completions_run").click().run(timeout=120)
        assert not at.exception, [e.message for e in at.exception]
        exports = [b for b in at.get("download_button") if "Export this run" in b.proto.label]
        unsaved = [w for w in _history_warnings(at) if "not saved" in w]
        if name in ("read-only", "newer"):
            assert unsaved and exports
        else:
            assert not unsaved and not exports
        if name == "locked":  # the run is handed to the history's writer; the page's next run says it waits
            at.run()
            assert any("saved as soon as it is free" in i.value for i in at.info)
        end_fault()

    history = History(default_path())
    if name == "locked":
        assert _wait_for(lambda: history.search().total == 4)  # queued, then saved when the lock went
    elif name == "damaged":
        assert history.search().total == 4  # its first page overwritten: the 3 runs recovered, and the new run saved
    else:
        assert history.search().total == 3  # as it was
    assert [r.prompt for r in history.search().runs].count("def run_during_fault():") == (name in ("locked", "damaged"))


def _wait_for(check: Callable[[], bool], timeout: float = 60) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True
