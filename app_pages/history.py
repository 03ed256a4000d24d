"""History: every saved run, searchable; open one to see its tokens again, re-run it, open
it in its page with its controls, edit, delete, export and import."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import streamlit as st

from components.connection import get_client
from components.errors import show_exception, show_problem
from components.history import get_history, history_action, open_in_images, record_image_run, record_run, run_labels
from components.models import capabilities_of
from components.plain import inert
from components.presets import open_in_page
from components.state import owned
from components.token_diff_view import render_token_diff
from components.token_view import render_choices
from components.wire_view import render_wire
from playground.counting import format_cost
from playground.history import COUNTED_HERE, Run, RunFilter, choice_tokens
from playground.images import SIZES, KeptPictures, create_variations, kept_pictures, result_png, variation_cost
from playground.migrations import LOCAL_WORKSPACE
from playground.params import controls_from_request
from playground.requests import TextRequest
from playground.runner import run
from playground.wire import Wire

PAGE_SIZE = 50
RERAN = "hist_reran"  # the id of the run Re-run just saved: opened on the next run of the page, filters cleared if they hide it
ENDPOINT_LABELS = {"completions": "Completions", "chat": "Chat", "embeddings": "Embeddings", "image_variations": "Image variations"}

st.title("History")
history = get_history()
if history is None:
    st.stop()



def filter_of(text: str, model: str, endpoint: str, tag: str, dates: object) -> RunFilter:
    since = until = None
    if dates:
        first, last = (dates[0], dates[-1]) if isinstance(dates, (tuple, list)) else (dates, dates)
        since = dt.datetime.combine(first, dt.time()).timestamp()
        until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time()).timestamp()
    return RunFilter(
        text=text.strip(),
        model=None if model == "All" else model,
        endpoint=None if endpoint == "All" else endpoint,
        tag=None if tag == "All" else tag,
        since=since,
        until=until,
    )


def rerun_image(saved: Run, pictures: KeptPictures) -> None:
    """Send a saved image run's source again, with its model, n and size; save and open the new run."""
    n, size = int(saved.request.get("n") or 1), str(saved.request.get("size") or SIZES[0])
    started = time.monotonic()
    try:
        with st.spinner("Running again…"):
            response = create_variations(get_client(), png=pictures.source_png or b"", model=saved.model, n=n, size=size)
            pngs = [result_png(item) for item in response.data]
    except Exception as exc:  # every SDK or network failure becomes a message
        show_exception(exc)
        return
    new_id = record_image_run(pictures.source_name, pictures.source_png or b"", model=saved.model, n=n, size=size, pngs=pngs,
                              seconds=time.monotonic() - started,
                              cost=variation_cost(capabilities_of(saved.model), size, len(pngs)), tags=["re-run"])
    if new_id is not None:
        st.session_state[RERAN] = new_id
        st.rerun()


def show_pictures(pictures: KeptPictures) -> None:
    """An image run's source and its results' thumbnails, as the history keeps them."""
    if pictures.source_png is None:
        st.caption("This run was saved before the history kept pictures: it cannot be shown, re-run or reopened.")
        return
    left, right = st.columns([1, 3])
    left.image(pictures.source_png, caption=f"Source: {pictures.source_name}", width=200)
    if pictures.source_note:
        left.caption(inert(pictures.source_note))
    columns = right.columns(4)
    for i, thumb in enumerate(pictures.thumbnails):
        columns[i % 4].image(thumb, caption=f"{i + 1} (thumbnail)", width=150)


# --- filters ---------------------------------------------------------------------------
KEYS = owned("hist", text="", model="All", endpoint="All", tag="All", dates=(), page=1)
FILTERS = ("text", "model", "endpoint", "tag", "dates")
models, tags = ["All", *history.models()], ["All", *history.tags()]
for name, options in (("model", models), ("tag", tags)):
    if KEYS.get(name) not in options:  # its last run was deleted
        KEYS.put(name, "All")
if (reran := st.session_state.pop(RERAN, None)) is not None:
    # The new run is the newest: shown first unless a filter hides it; then the filters go.
    shown = history.search(filter_of(*(KEYS.get(name) for name in FILTERS)), limit=1).runs
    hidden = not shown or shown[0].id != reran
    if hidden:
        for name, cleared in zip(FILTERS, ("", "All", "All", "All", ())):
            KEYS.put(name, cleared)
    st.session_state["hist_reran_note"] = hidden
    KEYS.put("page", 1)
    st.session_state.pop("hist_table", None)  # a row selection would hide it from "Open a run"
    st.session_state["hist_open"] = reran
f1, f2, f3, f4, f5 = st.columns([3, 2, 2, 2, 2])
with f1:
    text = KEYS.widget(st.text_input, "Search", "text", placeholder="words in the prompt, the response or the title")
with f2:
    model = KEYS.widget(st.selectbox, "Model", "model", options=models)
with f3:
    endpoint = KEYS.widget(st.selectbox, "Endpoint", "endpoint", options=["All", *ENDPOINT_LABELS],
                           format_func=lambda e: ENDPOINT_LABELS.get(e, e))
with f4:
    tag = KEYS.widget(st.selectbox, "Tag", "tag", options=tags)
with f5:
    dates = KEYS.widget(st.date_input, "Dates", "dates", format="YYYY-MM-DD", help="A day, or a first and a last day.")

where = filter_of(text, model, endpoint, tag, dates)

total = history.search(where, limit=0).total
pages = max(1, -(-total // PAGE_SIZE))
page_number = 1
if pages > 1:
    KEYS.put("page", min(KEYS.get("page"), pages))
    page_number = int(KEYS.widget(st.number_input, f"Page (of {pages})", "page", min_value=1, max_value=pages, step=1))
found = history.search(where, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)

if not found.runs:
    st.info("No saved run matches." if history.count() else "No runs yet: a run on Completions or Chat is saved here.")
else:
    st.caption(f"{total:,} run{'s' if total != 1 else ''} match · newest first · select rows to export or delete them")
    table = pd.DataFrame(
        {
            "when": [dt.datetime.fromtimestamp(r.created) for r in found.runs],
            "page": [ENDPOINT_LABELS.get(r.endpoint, r.endpoint) for r in found.runs],
            "model": [r.model for r in found.runs],
            "title": [r.title for r in found.runs],
            "tags": [", ".join(r.tags) for r in found.runs],
            "prompt": [r.asked.replace("\n", " ⏎ ") for r in found.runs],  # chat: the last user message
            "response": [r.response.replace("\n", " ⏎ ") for r in found.runs],
            "tokens": [r.total_tokens for r in found.runs],
            "latency (s)": [r.latency for r in found.runs],
            "cost ($)": [r.cost for r in found.runs],
        }
    )
    picked = st.dataframe(
        table,
        key="hist_table",
        on_select="rerun",
        selection_mode="multi-row",
        hide_index=True,
        column_config={
            "when": st.column_config.DatetimeColumn("when", format="YYYY-MM-DD HH:mm:ss"),
            "latency (s)": st.column_config.NumberColumn(format="%.2f"),
            "cost ($)": st.column_config.NumberColumn(format="%.6f"),
        },
    )
    selected_rows = list(getattr(getattr(picked, "selection", None), "rows", []) or [])
    selected_ids = [found.runs[i].id for i in selected_rows if i < len(found.runs)]

    if len(selected_ids) == 2:
        pair = [history.get(run_id) for run_id in selected_ids]
        tokens = [(choice_tokens(run) or [[]])[0] if run and run.endpoint in ("completions", "chat") else [] for run in pair]
        if all(tokens):
            with st.expander("Token diff of the two selected runs", expanded=True):
                st.text(f"A: {pair[0].title}\nB: {pair[1].title}")  # plain text: titles hold user and model text
                render_token_diff(tokens[0], tokens[1], ("A", "B"))

    # --- selected runs: export, delete ---------------------------------------------------
    ids_for_bulk = selected_ids or [r.id for r in found.runs]
    scope = f"the {len(selected_ids)} selected" if selected_ids else f"the {len(ids_for_bulk)} shown"
    b1, b2, _ = st.columns([2, 2, 4])
    b1.download_button(
        f"Export {scope} (JSONL)",
        data=lambda ids=tuple(ids_for_bulk): history.export_jsonl(ids),  # built only when clicked
        file_name=f"playground-runs-{time.strftime('%Y%m%d-%H%M%S')}.jsonl",
        mime="application/jsonl",
        key="hist_export",
        icon=":material/download:",
        # No rerun: the one a click made could start after the file was made and drop the
        # answer still queued for the browser (which then waited with a spinner).
        on_click="ignore",
    )
    with b2.popover(f"Delete {scope}…", icon=":material/delete:"):
        st.write(f"Delete {len(ids_for_bulk)} run(s) from the history? This cannot be undone; export them first to keep a copy.")
        if st.button("Yes, delete", key="hist_delete_confirm", type="primary"):
            removed = history_action(lambda: history.delete(ids_for_bulk), "delete the runs")
            if removed is not None:
                st.session_state.pop("hist_open", None)
                st.toast(f"Deleted {removed} run(s).")
                st.rerun()

    # --- one run: open, edit, re-run, open in its page ----------------------------------
    st.divider()
    labels = run_labels(found.runs)
    open_choices = selected_ids or list(labels)
    # Newest first, and a new run at the top is opened, unless the user chose another run.
    followed_newest = st.session_state.get("hist_open") == st.session_state.get("hist_open_newest")
    if st.session_state.get("hist_open") not in open_choices or followed_newest:
        st.session_state["hist_open"] = open_choices[0]
    st.session_state["hist_open_newest"] = open_choices[0]
    opened_id = st.selectbox("Open a run", open_choices, key="hist_open", format_func=lambda i: labels.get(i, i))
    opened = history.get(opened_id)
    if opened is None:
        st.warning("That run is no longer in the history (deleted in another session?).")
    else:
        meta = st.columns(5)
        meta[0].metric("Model", inert(opened.model))
        meta[1].metric("Latency", "—" if opened.latency is None else f"{opened.latency:.2f} s")
        meta[2].metric("First token", "—" if opened.ttft is None else f"{opened.ttft:.2f} s")
        counted = " (counted here)" if (opened.usage or {}).get(COUNTED_HERE) else ""  # the provider reported none
        meta[3].metric("Tokens", "—" if not opened.usage else f"{opened.usage.get('total_tokens', '—')}{counted}",
                       help="Stopped before the provider reported usage: counted here." if counted else None)
        meta[4].metric("Cost", format_cost(opened.cost))

        with st.form(f"hist_edit_{opened.id}", border=False):
            new_shared = None if history.workspace == LOCAL_WORKSPACE else st.checkbox(  # a team server: per-user workspaces
                "Shared with the team", value=opened.shared, key=f"hist_shared_{opened.id}",
                help="Everyone on this server sees this run; only you can change or delete it.")
            e1, e2, e3 = st.columns([3, 3, 1], vertical_alignment="bottom")
            new_title = e1.text_input("Title", value=opened.title, key=f"hist_title_{opened.id}")
            new_tags = e2.text_input("Tags", value=", ".join(opened.tags), key=f"hist_tags_{opened.id}", help="Comma-separated.")
            if e3.form_submit_button("Save", use_container_width=True):
                if history_action(lambda: history.update(opened.id, title=new_title, tags=new_tags.split(","), shared=new_shared), "save the title and tags"):
                    st.toast("Saved title and tags.")
                    st.rerun()

        text_run = opened.endpoint in ("completions", "chat")
        pictures = kept_pictures(opened.request, opened.response) if opened.endpoint == "image_variations" else None
        image_run = pictures is not None and pictures.source_png is not None
        a1, a2, _ = st.columns([2, 2, 4])
        rerun_clicked = a1.button("Re-run", key="hist_rerun", icon=":material/replay:", disabled=not (text_run or image_run),
                                  help="The same request again, on the current connection." if text_run or image_run
                                  else "This run was saved without what it needs to be sent again.")
        if a2.button(f"Open in {ENDPOINT_LABELS.get(opened.endpoint, opened.endpoint)}", key="hist_open_page",
                     icon=":material/open_in_new:", disabled=not (text_run or image_run), help="With every control as it was."):
            if image_run:
                open_in_images(opened)
            open_in_page(opened.endpoint, controls_from_request(opened.endpoint, opened.request))

        if (cleared := st.session_state.pop("hist_reran_note", None)) is not None:
            st.success("Ran again and saved as a new run: it is the one opened here, newest in the list"
                       + (" (the filters are cleared: they hid it)." if cleared else "."))
        if rerun_clicked and image_run:
            rerun_image(opened, pictures)
        elif rerun_clicked:
            params = {k: v for k, v in opened.request.items() if k != "model"}
            with st.spinner("Running again…"):
                request = TextRequest(opened.endpoint, opened.model, params, capabilities_of(opened.model))  # type: ignore[arg-type]
                result = run(get_client(), request)
            if result.error is not None:
                show_problem(result.error)
            elif (new_id := record_run(result, tags=["re-run"])) is not None:
                st.session_state[RERAN] = new_id
                st.rerun()  # open it, with the filters that would hide it cleared
            else:
                render_choices([c.tokens for c in result.choices], key="hist_rerun_view", texts=[c.text for c in result.choices])

        if pictures is not None:
            show_pictures(pictures)
        if opened.response.get("stopped"):
            st.caption("This run was stopped before the end: what arrived is shown.")
            if cut_by := (opened.response.get("error") or {}).get("title"):
                st.text(f"It was cut short by an error: {cut_by}")  # plain text: may quote the server
        if text_run:
            try:
                choices = choice_tokens(opened)
            except (ValueError, KeyError, TypeError):
                choices = []
                st.warning("This run's token data could not be read; its text and JSON are below.")
            with st.expander("Response text", expanded=not any(choices)):
                for _i, choice in enumerate(opened.response.get("choices") or []):
                    st.text(choice.get("text") or "")
            if any(choices):
                render_choices(choices, key=f"hist_view_{opened.id}",
                               texts=[str(c.get("text") or "") for c in opened.response.get("choices") or []])
        if isinstance(opened.response.get("wire"), dict):
            render_wire(Wire.from_json(opened.response["wire"]), key=f"hist_wire_{opened.id}")
        with st.expander("Request and response (JSON)"):
            st.json({"request": opened.request, "usage": opened.usage, "provider": opened.provider}, expanded=False)

# --- import ------------------------------------------------------------------------------
st.divider()
with st.expander("Import runs (JSONL)", icon=":material/upload:"):
    upload = st.file_uploader("A file exported from this page", type=["jsonl", "json", "txt"], key="hist_import_file")
    if upload is not None and st.button("Import", key="hist_import"):
        report = history_action(lambda: history.import_jsonl(upload.getvalue()), "import the runs")
        if report is not None:
            st.success(f"Imported {report.added} run(s); {report.duplicates} already here and skipped.")
        if report is not None and report.problems:
            st.warning(f"{len(report.problems)} line(s) refused:\n\n" + "\n".join(f"- {inert(p)}" for p in report.problems[:20]))
