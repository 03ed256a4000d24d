"""Evals: one prompt template over a dataset, across up to four configurations (each with its
own provider), graded; cancel and resume, re-run a cell or a column, saved to the history."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from components.connection import current_connection, local_engine_connection
from components.errors import show_problem
from components.evals import (
    EVAL_KEY,
    PENDING_KEY,
    classification_view,
    comparison_view,
    config_editor,
    graders_editor,
    grid_view,
    kept,
    summary_view,
)
from components.history import get_history
from components.plain import plain
from components.token_view import render_token_view
from playground.counting import format_cost
from playground.evals import report
from playground.evals.config import MAX_CONFIGS, MAX_REPEATS, EvalConfig
from playground.evals.dataset import SAMPLES, Dataset, DatasetError, Template, load_dataset, load_sample
from playground.evals.runner import DEFAULT_CONCURRENCY, Eval, estimate, regrade, start
from playground.history import RunFilter

PROGRESS_KEY = "evals_progress"
SAVED_KEY = "_evals_saved"
REDRAW_S = 0.25
SAMPLE_TEMPLATES = {
    "sentiment": ("Review: {{review}}\nSentiment:", "label"),
    "arithmetic": ("{{a}} + {{b}} =", "answer"),
}
EXPECTED_NAMES = ("expected", "answer", "label", "completion", "ideal", "target")


def _reconnect(ev: Eval) -> None:
    """A reopened eval's configurations get this session's connections back (its keys were never saved)."""
    sidebar = current_connection()
    for i, config in enumerate(ev.configs):
        saved = config.connection
        if saved.provider == "local":
            local = local_engine_connection()  # says why when the engine cannot start
            if local is None:
                continue
            ev.configs[i] = EvalConfig(config.model, local, config.params, config.name)
        elif saved.public() == sidebar.public():
            ev.configs[i] = EvalConfig(config.model, sidebar, config.params, config.name)


def _show_eval(ev: Eval) -> None:
    st.session_state[EVAL_KEY] = ev
    st.session_state.pop(PROGRESS_KEY, None)


def _run(ev: Eval, keys: list | None = None, concurrency: int = DEFAULT_CONCURRENCY) -> None:
    st.session_state[PROGRESS_KEY] = start(ev, keys, concurrency=concurrency)
    st.rerun()


st.title("Evals")
st.caption("One prompt template over a dataset, across up to four configurations and providers, graded per row.")
history = get_history()

if (pending := st.session_state.pop(PENDING_KEY, None)) is not None:
    _show_eval(pending)
wanted = st.query_params.get("eval")
if wanted and st.session_state.get("_evals_param") != wanted and history is not None:
    st.session_state["_evals_param"] = wanted
    saved = history.get(wanted)
    if saved is not None and saved.endpoint == report.HISTORY_ENDPOINT:
        reopened = report.from_run(saved)
        _reconnect(reopened)
        _show_eval(reopened)
    else:
        st.warning("The eval in this link is not in the history.")

if history is not None:
    with st.expander("Open a saved eval"):
        saved_evals = history.search(RunFilter(endpoint=report.HISTORY_ENDPOINT), limit=100).runs
        if not saved_evals:
            st.caption("No saved evals yet: every eval is saved when it finishes or is cancelled.")
        else:
            names = {r.id: f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(r.created))} · {r.title} · {r.model}" for r in saved_evals}
            chosen = st.selectbox("Saved eval", list(names), format_func=names.get, key="ev_saved")
            if st.button("Open this eval", key="ev_open", icon=":material/folder_open:"):
                run = history.get(chosen)
                if run is not None:
                    reopened = report.from_run(run)
                    _reconnect(reopened)
                    _show_eval(reopened)
                    st.query_params["eval"] = reopened.id
                    st.session_state["_evals_param"] = reopened.id

# --- set up --------------------------------------------------------------------------------

st.subheader("1. Dataset")
source = kept(st.segmented_control, "Source", key="ev_source", options=["Sample", "Upload"], default="Sample") or "Sample"
dataset: Dataset | None = None
if source == "Sample":
    sample = kept(st.selectbox, "Sample", key="ev_sample", options=list(SAMPLES), format_func=SAMPLES.get)
    dataset = load_sample(sample)
else:
    upload = st.file_uploader("CSV or JSONL", type=["csv", "tsv", "jsonl", "json"], key="ev_upload",
                              help="CSV with a header row, or one JSON object a line. Columns fill {{variables}}.")
    if upload is not None:
        try:
            dataset = load_dataset(upload.getvalue(), upload.name)
        except DatasetError as exc:
            st.error(plain(f"{upload.name}: {exc}"))
if dataset is not None:
    st.caption(plain(f"{len(dataset)} rows · columns: {', '.join(dataset.columns)}"))
    st.dataframe(pd.DataFrame(dataset.rows[:50]), hide_index=True, height=180, key="ev_preview")

draft: Eval | None = None
if dataset is not None:
    st.subheader("2. Prompt")
    default_prompt, default_expected = SAMPLE_TEMPLATES.get(dataset.name, ("", None))
    endpoint = kept(st.segmented_control, "Endpoint", key="ev_endpoint", options=["completions", "chat"],
                    default="completions", format_func=str.capitalize) or "completions"
    if endpoint == "completions":
        prompt = kept(st.text_area, "Prompt template", key=f"ev_prompt_{dataset.name}", value=default_prompt, height=110,
                      help="{{column}} is replaced by the row's value.")
        template = Template("completions", prompt=prompt)
    else:
        system = kept(st.text_area, "System message", key=f"ev_system_{dataset.name}", value="Answer briefly.", height=68)
        user = kept(st.text_area, "User message template", key=f"ev_user_{dataset.name}",
                    value=default_prompt.split(":")[0] if default_prompt else "", height=90)
        template = Template("chat", system=system, user=user)
    options = ["(none)", *dataset.columns]
    guess = default_expected or next((c for c in dataset.columns if c.lower() in EXPECTED_NAMES), "(none)")
    expected = kept(st.selectbox, "Expected-answer column", key=f"ev_expected_{dataset.name}", options=options,
                    index=options.index(guess) if guess in options else 0)
    template.expected = None if expected == "(none)" else expected
    found = template.variables()
    st.caption("Variables: " + (plain(", ".join(f"{{{{{v}}}}}" for v in found)) if found else "none"))

    st.subheader("3. Configurations")
    top = st.columns([1, 1, 1, 3])
    count = int(kept(top[0].number_input, "Configurations", key="ev_count", value=2, min_value=1, max_value=MAX_CONFIGS))
    repeats = int(kept(top[1].number_input, "Repeats per row", key="ev_repeats", value=1, min_value=1, max_value=MAX_REPEATS,
                       help="Run each row this often per configuration, to see the variance."))
    concurrency = int(kept(top[2].number_input, "Parallel requests", key="ev_concurrency", value=DEFAULT_CONCURRENCY,
                           min_value=1, max_value=16))
    configs = []
    for i, column in enumerate(st.columns(count)):
        with column, st.container(border=True):
            config = config_editor(i, endpoint)
            if config is not None:
                configs.append(config)

    st.subheader("4. Graders")
    graders = graders_editor(count)
    name = kept(st.text_input, "Eval name", key="ev_title", value="", placeholder=dataset.name) or dataset.name
    if len(configs) == count:
        draft = Eval(dataset, template, configs, graders, repeats, name)
        problems = draft.problems()
        for problem in problems:
            st.warning(plain(problem), icon=":material/tune:")
        costs = estimate(draft)
        st.dataframe(pd.DataFrame([{"configuration": e.config, "cells": e.cells, "prompt tokens": e.prompt_tokens,
                                    "max completion tokens": e.max_completion_tokens,
                                    "cost at most": format_cost(e.dollars, free=e.dollars == 0)} for e in costs]),
                     hide_index=True, key="ev_estimate")
        known = [e.dollars for e in costs]
        st.caption("Cost before the run: " + (format_cost(sum(known), free=sum(known) == 0) + " at most (every cell writing max tokens)"
                                              if None not in known else "a price is unknown for a model here."))
        running = st.session_state.get(PROGRESS_KEY) is not None and st.session_state[PROGRESS_KEY].running
        if st.button("Run eval", type="primary", icon=":material/play_arrow:", key="ev_run", disabled=bool(problems) or running):
            _show_eval(draft)
            _run(draft, concurrency=concurrency)

# --- the eval on screen --------------------------------------------------------------------

ev: Eval | None = st.session_state.get(EVAL_KEY)
if ev is None:
    st.stop()
st.divider()
st.subheader(f"Results: {plain(ev.name)}")
st.caption(f"{len(ev.dataset)} rows × {len(ev.configs)} configurations × {ev.repeats} repeats · "
           + plain(" | ".join(c.describe() for c in ev.configs)))
progress = st.session_state.get(PROGRESS_KEY)
if progress is not None and progress.running:
    if st.button("Cancel", key="ev_cancel", icon=":material/stop_circle:", help="Stop; every finished cell is kept."):
        progress.cancel.set()
        progress.wait(30)
        st.rerun()
    bar, note = st.progress(0.0), st.empty()
    while progress.running:
        bar.progress(progress.done / max(progress.total, 1), text=f"{progress.done} of {progress.total} cells")
        note.caption(progress.waiting or (f"{progress.waits} rate-limit waits so far" if progress.waits else ""))
        time.sleep(REDRAW_S)
    st.rerun()

if progress is not None and st.session_state.get(SAVED_KEY) is not progress and history is not None:
    st.session_state[SAVED_KEY] = progress
    try:
        history.delete([ev.id])  # the eval's record, replaced by this fuller one
        history.add(report.to_run(ev, elapsed=progress.elapsed), secrets=[s for c in ev.configs for s in c.connection.secrets])
        st.toast("Eval saved to the history.", icon=":material/history:")
    except Exception as exc:  # a full disk must not cost the results on screen
        st.warning(f"This eval was not saved to the history: {type(exc).__name__}: {exc}")
if progress is not None and progress.cancelled:
    st.info(f"Cancelled: {len(ev.cells)} of {len(ev.keys())} cells finished and kept.")
if progress is not None and progress.waits:
    st.caption(f"{progress.waits} rate-limit waits (429) during the last run.")

missing = ev.missing()
if missing:
    costs = estimate(ev, missing)
    known = [e.dollars for e in costs]
    label = "Run" if len(missing) == len(ev.keys()) else "Resume"
    cost = format_cost(sum(known), free=sum(known) == 0) if None not in known else "unknown cost"
    if st.button(f"{label}: {len(missing)} cells ({cost} at most)", key="ev_resume", icon=":material/play_arrow:",
                 type="primary" if not ev.cells else "secondary"):
        _run(ev, missing)

if draft is not None and ev.cells and draft.graders != ev.graders and report.same_requests(draft, ev):
    if st.button("Grade again with the graders above (no new completions)", key="ev_regrade", icon=":material/grading:"):
        ev.graders = draft.graders
        regrade(ev, [c.client() for c in ev.configs])
        st.session_state.pop(SAVED_KEY, None)
        st.rerun()

if not ev.cells:
    st.stop()
summary_view(ev)
comparison_view(ev)
classification_view(ev)

st.subheader("Rows")
repeat = 0
if ev.repeats > 1:
    repeat = int(st.number_input("Repeat shown", min_value=1, max_value=ev.repeats, value=1, key="ev_repeat")) - 1
clicked = grid_view(ev, repeat)
if clicked is not None:
    st.session_state["ev_ins_row"], st.session_state["ev_ins_config"] = clicked[0] + 1, clicked[1]
st.caption("Click an output to inspect it below.")
left, right = st.columns(2)
row_number = int(left.number_input("Row", min_value=1, max_value=len(ev.dataset), value=1, key="ev_ins_row"))
config_index = right.selectbox("Configuration", range(len(ev.configs)), format_func=lambda i: ev.configs[i].label,
                               key="ev_ins_config")
key = (row_number - 1, config_index, repeat)
cell = ev.cells.get(key)
with st.container(border=True):
    st.markdown(f"**Row {row_number} · {plain(ev.configs[config_index].label)}**")
    prompt_text = ev.row_input(key[0])
    st.code(prompt_text, language=None, wrap_lines=True)
    if ev.template.expected:
        st.text(f"Expected: {ev.expected(key[0])}")
    if cell is None:
        st.caption("Not run yet.")
    elif cell.error is not None:
        show_problem(cell.error)
    else:
        st.code(cell.text or " ", language=None, wrap_lines=True)
        st.dataframe(pd.DataFrame([{"grader": g.label, "score": s.score, "passed": s.passed, "label": s.label,
                                    "label probability": s.prob, "detail": s.detail} for g, s in zip(ev.graders, cell.grades)]),
                     hide_index=True, key="ev_cell_grades")
        usage = cell.usage or {}
        st.caption(" · ".join([
            f"latency {cell.latency:.2f} s" if cell.latency is not None else "latency —",
            f"first token {cell.ttft:.2f} s" if cell.ttft is not None else "first token —",
            f"{usage.get('prompt_tokens', '?')} + {usage.get('completion_tokens', '?')} tokens",
            format_cost(cell.cost, free=cell.cost == 0),
        ] + ([f"{cell.waits} rate-limit waits"] if cell.waits else [])))
        render_token_view(cell.tokens, key=f"ev_tokens:{key}")
    busy = progress is not None and progress.running
    b1, b2 = st.columns(2)
    if b1.button("Re-run this cell", key="ev_rerun_cell", icon=":material/refresh:", disabled=busy):
        ev.forget([key])
        _run(ev, [key])
    if b2.button(f"Re-run column {config_index + 1}", key="ev_rerun_column", icon=":material/view_column:", disabled=busy):
        column = ev.column(config_index)
        ev.forget(column)
        _run(ev, column)

st.subheader("Export")
d1, d2 = st.columns(2)
d1.download_button("CSV", report.to_csv(ev), file_name=f"{ev.name}.csv", mime="text/csv", key="ev_csv", icon=":material/download:")
d2.download_button("JSONL", report.to_jsonl(ev), file_name=f"{ev.name}.jsonl", mime="application/jsonl", key="ev_jsonl",
                   icon=":material/download:")
