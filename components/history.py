"""The run history as the pages use it. The history is optional to every page: when it
cannot be used the page says so once and works without it.

- `get_history()`: the shared History, or None; either way one warning when something is
  wrong (set aside and recovered, read-only, unavailable, runs waiting for a lock).
- `record_run(...)`: the one line a page adds after a run. Saving never costs the user a
  run: one that cannot be saved is said to be unsaved, with a button to export it.
- `history_action(...)`: a write the user asked for (edit, delete, import, presets); a
  failure becomes a warning, not a traceback.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import time
import uuid
from typing import Any, Callable, Iterable, TypeVar

import streamlit as st

from components.collector import script_running
from components.connection import current_connection
from components.plain import inert
from components.workspace import current_workspace
from playground.code_export import public_url
from playground.compare import setting_text
from playground.db import StorageError, database_url
from playground.history import History, Run, RunFilter, RunSummary, default_path, run_jsonl, run_of_result
from playground.images import KeptPictures, image_run_record, kept_pictures
from playground.paths import DataDirUnusable
from playground.providers import Connection
from playground.runner import RunResult, finish
from playground.workspaces import identity_header

T = TypeVar("T")
ICON = ":material/history:"
OPEN_IMAGE = "images_open_from_history"  # a saved image run the Image variations page opens: its source, model, n, size
IMAGES_PAGE = "app_pages/images.py"
GALLERY_RUNS = 8  # image runs a new session's gallery takes back from the history


@st.cache_resource(show_spinner=False)
def _history_at(where: str) -> History:
    # Holds no connection between calls: safe to share between sessions. Not cached when
    # it raises, so an unavailable history is tried again on the next run.
    # A postgresql:// address is taken as such. Runs are made and written when no script runs:
    # not while a page's last messages go out.
    return History(where, busy=script_running)


def open_history() -> tuple[History | None, str | None]:
    """(this session's view of the history or None, a warning for the page or None), without drawing anything."""
    workspace = current_workspace()
    if workspace is None:
        return None, (f"The run history is per user, and this request did not come with the {identity_header()} "
                      "header the proxy sets: it is not shown and runs are not saved.")
    try:
        history = _history_at(database_url() or str(default_path()))
        history.check()
    except (StorageError, DataDirUnusable) as exc:
        return None, f"{exc} The page works without it; runs are not saved meanwhile."
    history = history.scoped(workspace)
    warnings = []
    if history.notice and st.session_state.get("_history_notice_seen") != history.notice:
        st.session_state["_history_notice_seen"] = history.notice  # an event: told once per session
        warnings.append(history.notice)
    if history.read_only:
        warnings.append(f"The run history at {history.where()} is read-only: {history.read_only}.")
    if waiting := len(history.pending()):
        warnings.append(f"{waiting} run{'s wait' if waiting != 1 else ' waits'} for the run history, locked by another "
                        "process; saved as soon as it is free.")
    return history, " ".join(warnings) or None


def get_history() -> History | None:
    """The history (None when it cannot be used), with one warning when something is wrong."""
    history, warning = open_history()
    if warning:
        st.warning(inert(warning), icon=ICON)
    return history


def history_action(action: Callable[[], T | None], what: str) -> T | bool | None:
    """Do a write the user asked for: its result (True for an action that returns nothing),
    or None when it failed, with a warning saying `what` did not happen."""
    try:
        result = action()
    except StorageError as exc:
        st.warning(f"Could not {what}: {inert(exc)}", icon=ICON)
        return None
    return True if result is None else result


def _unsaved(run: Run, secrets: list[str | None], reason: str) -> None:
    st.warning(f"This run is not saved to the history: {inert(reason)}", icon=ICON)
    st.download_button(
        "Export this run (JSONL; History → Import takes it back)", data=run_jsonl(run, secrets),
        file_name=f"playground-run-{run.id}.jsonl", mime="application/jsonl", key=f"unsaved_export:{run.id}",
        icon=":material/download:",
    )


def _provider_of(connection: Connection) -> dict[str, Any]:
    """The connection as a run keeps it: no key, no credentials in the URLs."""
    return {k: public_url(v) if k in ("base_url", "azure_endpoint") and v else v for k, v in connection.public().items()}


def stopped_run_saver() -> Callable[[RunResult], None]:
    """What saving needs from the session, taken now, for a run whose script may be stopped
    mid-stream (the user went to another page or reloaded): a stopped script cannot read the
    session, so the returned function saves the result as stopped without touching Streamlit."""
    connection, (history, _) = current_connection(), open_history()
    provider = _provider_of(connection)

    def save(result: RunResult) -> None:
        finish(result, stopped=True)
        if history is None or result.history_id is not None or not any(c.text for c in result.choices):
            return
        run = run_of_result(result, provider=provider)
        with contextlib.suppress(StorageError):  # nowhere to say so: the page is gone
            history.save(run, secrets=connection.secrets)
            result.history_id = run.id

    return save


def run_labels(runs: Iterable[RunSummary], *, width: int = 60) -> dict[str, str]:
    """Run id -> a label for a list to choose from: when, model, the sampling settings its
    request set, and what it asked (a chat run's last user message). Labels are distinct
    (a widget that shows two the same cannot tell them apart)."""
    labels: dict[str, str] = {}
    for r in runs:
        settings = " ".join(setting_text(k, v) for k, v in r.settings)
        asked = " ".join(r.label.split())
        label = " · ".join(p for p in (f"{dt.datetime.fromtimestamp(r.created):%Y-%m-%d %H:%M:%S}", r.model, settings,
                                       asked[:width] + ("…" if len(asked) > width else "")) if p)
        labels[r.id] = f"{label} · #{r.id[:6]}" if label in labels.values() else label
    return labels


def record_run(result: RunResult | None = None, *, tags: Iterable[str] = (), connection: Connection | None = None,
               **fields: Any) -> str | None:
    """Save a run to the history; returns its id, or None when it is not saved. A
    RunResult is saved once, however often a page calls this with it. `connection`: the
    one the run went through, when not the sidebar's (its key is scrubbed, never saved).

    Text pages pass the RunResult: `record_run(result)`. Other pages pass the fields of a
    Run: `record_run(endpoint="embeddings", model=..., request={...}, response={...}, latency=...)`.
    """
    connection = connection or current_connection()
    provider = _provider_of(connection)
    if result is not None:
        if (saved_as := getattr(result, "history_id", None)) is not None:
            if (kept_by := getattr(result, "history_of", None)) is not None:
                if kept_by.waits_for(saved_as):
                    st.info("The run history is locked by another process: this run waits and is saved as soon as it is free.",
                            icon=ICON)
                elif (problem := kept_by.unmade(saved_as)) is not None:
                    _unsaved(run_of_result(result, provider=provider, tags=tags, run_id=saved_as), connection.secrets, problem)
                    return None
            return saved_as
        if not result.done or result.error is not None and not any(c.text for c in result.choices):
            return None  # still arriving, or a failed call with nothing to come back to
        # Made when saved, on the history's writer thread: a long run's tokens take a while.
        run_id = getattr(result, "history_run_id", None) or uuid.uuid4().hex
        result.history_run_id = run_id  # type: ignore[attr-defined]  # the same id when tried again on a rerun
        make = functools.partial(run_of_result, result, provider=provider, tags=list(tags), run_id=run_id, created=time.time())
        handed: Run | tuple[str, Callable[[], Run]] = (run_id, make)
    else:
        run = Run(provider=provider, tags=list(tags), **fields)
        run_id, make, handed = run.id, (lambda: run), run
    history, problem = open_history()  # the page's get_history() shows the warning, if any
    if history is None:
        _unsaved(make(), connection.secrets, problem or "the history is not available.")
        return None
    try:
        history.save_soon(handed, secrets=connection.secrets)  # written while the page draws
    except StorageError as exc:
        _unsaved(make(), connection.secrets, str(exc))
        return None
    if result is not None:
        result.history_id = run_id  # type: ignore[attr-defined]
        result.history_of = history  # type: ignore[attr-defined]  # asked on later runs whether it still waits
    return run_id


def record_image_run(source_name: str, source_png: bytes, *, model: str, n: int, size: str, pngs: list[bytes],
                     seconds: float, cost: float | None, tags: Iterable[str] = ()) -> str | None:
    """Save an image run with its thumbnails and source (size-capped), so History can re-run
    it and open it on its page, and the gallery comes back after a reload."""
    request, response = image_run_record(source_name, source_png, model=model, n=n, size=size, pngs=pngs)
    return record_run(endpoint="image_variations", model=model, request=request, response=response,
                      latency=seconds, cost=cost, tags=tags)


def open_in_images(run: Run) -> None:
    """Switch to Image variations with a saved run's source, model, n and size."""
    pictures = kept_pictures(run.request, run.response)
    st.session_state[OPEN_IMAGE] = {"name": pictures.source_name, "png": pictures.source_png, "note": pictures.source_note,
                                    "model": run.model, "n": run.request.get("n"), "size": run.request.get("size")}
    st.switch_page(IMAGES_PAGE)


def saved_image_runs(limit: int = GALLERY_RUNS) -> list[tuple[Run, KeptPictures]]:
    """The newest image runs of the history that kept their pictures, oldest first (a new
    session's gallery); none when the history cannot be used."""
    history, _ = open_history()  # the page works without it; nothing to say here
    if history is None:
        return []
    with contextlib.suppress(StorageError):
        found = [history.get(r.id) for r in history.search(RunFilter(endpoint="image_variations"), limit=limit).runs]
        kept = [(run, kept_pictures(run.request, run.response)) for run in found if run is not None]
        return [(run, pictures) for run, pictures in reversed(kept) if pictures.thumbnails]
    return []
