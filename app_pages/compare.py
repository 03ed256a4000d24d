"""Compare: one prompt with up to four configurations side by side, streamed together; or
saved runs from the history. What differs from the first column is highlighted."""

from __future__ import annotations

import time

import streamlit as st

from components.connection import get_client
from components.errors import show_problem
from components.evals import connection_and_model
from components.history import get_history, record_run, run_labels
from components.plain import inert
from components.sampling_controls import draw_control
from components.state import owned
from components.stop_button import RunTriggers, stop_button
from components.token_diff_view import render_token_diff
from components.token_view import render_token_view
from playground import compare
from playground.counting import format_cost
from playground.history import RunFilter, choice_tokens
from playground.params import params_for
from playground.providers import make_client

BATCH_KEY = "compare_batch"
REDRAW_EVERY_S = 0.1


def _show(outcomes: list[compare.Outcome], key: str) -> None:
    columns = st.columns(len(outcomes))
    base = outcomes[0].text
    for i, (column, outcome) in enumerate(zip(columns, outcomes)):
        with column:
            st.markdown(f"**{i + 1}. {inert(outcome.label)}**")
            if outcome.error is not None:
                show_problem(outcome.error)
            usage = outcome.usage or {}
            prompt_tokens, completion_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if completion_tokens is None:
                completion_tokens = len(outcome.tokens)
            facts = [
                f"latency {outcome.latency:.2f} s" if outcome.latency is not None else "latency —",
                f"first token {outcome.ttft:.2f} s" if outcome.ttft is not None else "first token —",
                f"{prompt_tokens if prompt_tokens is not None else '?'} + {completion_tokens} tokens",
                format_cost(outcome.cost) if outcome.cost is not None else "no price known",
            ]
            st.caption(inert(" · ".join(facts)) + (" · **stopped**" if outcome.stopped else ""))
            for note in outcome.dropped:
                st.warning(inert(note), icon=":material/report:")
            if i == 0:
                st.code(outcome.text or " ", language=None, wrap_lines=True)
            else:
                st.html(compare.diff_block(base, outcome.text))
                st.caption(f"{100 * compare.similarity(base, outcome.text):.0f}% the same words as column 1")
    st.caption("Columns 2–4: green words are not in column 1, struck red ones are column 1's words they lack.")
    with_tokens = [i for i, o in enumerate(outcomes) if o.tokens]
    if len(with_tokens) >= 2:
        st.markdown("**Token diff**")
        pick_a, pick_b = st.columns(2)
        names = {i: f"{i + 1}. {outcomes[i].label}" for i in with_tokens}
        a = pick_a.selectbox("Run A", with_tokens, format_func=names.get, key=f"{key}:diff_a")
        b = pick_b.selectbox("Run B", with_tokens, index=1, format_func=names.get, key=f"{key}:diff_b")
        render_token_diff(outcomes[a].tokens, outcomes[b].tokens, (f"{a + 1}.", f"{b + 1}."))
    tabs = st.tabs([f"{i + 1}. tokens" for i in range(len(outcomes))])
    for i, (tab, outcome) in enumerate(zip(tabs, outcomes)):
        with tab:
            render_token_view(outcome.tokens, key=f"{key}:{i}", title=outcome.label)


st.title("Compare")
KEYS = owned("cmp", mode="Configurations", saved=[], endpoint="completions", prompt='def median(values):\n    """',
             system="You are a helpful assistant.", user="Write a docstring for a function that sorts a list.",
             count=2, max_tokens=48)
mode = KEYS.widget(st.segmented_control, "Compare", "mode", options=["Configurations", "Saved runs"], label_visibility="collapsed")

if mode == "Saved runs":
    history = get_history()
    if history is None:
        st.stop()
    recent = history.search(RunFilter(endpoint=None), limit=200).runs
    recent = [r for r in recent if r.endpoint in ("completions", "chat")]
    if not recent:
        st.info("No saved Completions or Chat runs yet.")
        st.stop()
    labels = run_labels(recent, width=50)  # distinct: the multiselect keeps runs apart by their labels
    KEYS.put("saved", [run_id for run_id in KEYS.get("saved") if run_id in labels])  # runs deleted since are let go
    picked = KEYS.widget(st.multiselect, "Runs (up to four)", "saved", options=list(labels), format_func=labels.get,
                         max_selections=compare.MAX_CONFIGS)
    outcomes = []
    for run_id in picked:
        saved = history.get(run_id)
        if saved is None:
            continue
        choices = saved.response.get("choices") or [{}]
        tokens = choice_tokens(saved)
        outcomes.append(compare.Outcome(labels[run_id], choices[0].get("text") or "", tokens[0] if tokens else [],
                                        saved.usage, saved.latency, saved.ttft, saved.model, saved.cost,
                                        stopped=bool(saved.response.get("stopped"))))
    if outcomes:
        _show(outcomes, key="cmp_saved_view")
    st.stop()

COLUMN_TEMPERATURES = [0.2, 1.2, 0.7, 1.0]  # columns start apart, so a first run shows a difference
ROWS = params_for("completions")

endpoint = KEYS.widget(st.segmented_control, "Endpoint", "endpoint", options=["completions", "chat"],
                       format_func=str.capitalize) or "completions"
if endpoint == "completions":
    prompt = KEYS.widget(st.text_area, "Prompt", "prompt", height=120)
    messages = None
else:
    system = KEYS.widget(st.text_input, "System message", "system")
    user = KEYS.widget(st.text_area, "User message", "user", height=100)
    prompt, messages = None, ([{"role": "system", "content": system}] if system.strip() else []) + [{"role": "user", "content": user}]

top = st.columns([1, 1, 4])
with top[0]:
    count = int(KEYS.widget(st.number_input, "Configurations", "count", min_value=1, max_value=compare.MAX_CONFIGS))
with top[1]:
    max_tokens = int(KEYS.widget(st.number_input, "Max tokens", "max_tokens", min_value=1, max_value=4096))

configs: list[compare.CompareConfig] = []
for i, column in enumerate(st.columns(count)):
    with column:
        st.markdown(f"**{i + 1}.**")
        prefix = f"cmp{i}"
        owned(prefix, "cmp", model=None, **{name: ROWS[name].default for name in compare.VARIED})
        st.session_state.setdefault(f"{prefix}_temperature", COLUMN_TEMPERATURES[i])
        picked = connection_and_model(i, endpoint, prefix="cmp", sidebar_model_key=f"{prefix}_model")
        if picked is None:
            st.stop()
        connection, info, is_sidebar = picked
        values = {}
        for name in compare.VARIED[:2]:
            values[name], _ = draw_control(ROWS[name], prefix, info)
        with st.expander("Top P and penalties"):
            for name in compare.VARIED[2:]:
                values[name], _ = draw_control(ROWS[name], prefix, info)
        configs.append(compare.CompareConfig(info, values, None if is_sidebar else connection))

requests, problems = compare.build_requests(endpoint, configs, prompt=prompt, messages=messages, max_tokens=max_tokens)
for i, found in enumerate(problems):
    for problem in found:
        st.warning(f"Configuration {i + 1}: {inert(problem)}", icon=":material/tune:")
clicked = st.button("Run all", type="primary", icon=":material/play_arrow:", key="cmp_run", disabled=any(problems))

batch: compare.Batch | None = st.session_state.get(BATCH_KEY)
streaming = clicked or (batch is not None and not batch.done)
stopped = stop_button("cmp_stop", running=streaming, triggers=RunTriggers(buttons=["cmp_run"]))
if stopped and batch is not None:
    batch.cancel.set()  # keep what arrived in every column
if clicked and not stopped:  # (a Stop that came with Run all starts nothing)
    sidebar_client = get_client()
    batch = compare.start([sidebar_client if c.connection is None else make_client(c.connection) for c in configs],
                          requests, [c.label() for c in configs])
    batch.connections = [c.connection for c in configs]
    st.session_state[BATCH_KEY] = batch
if batch is not None and not batch.done:
    live = st.columns(len(batch.results))
    holders = [column.empty() for column in live]
    while True:
        finished = batch.done
        for holder, label, result in zip(holders, batch.labels, batch.results):
            holder.code(f"{label}\n\n{result.text or '…'}", language=None, wrap_lines=True)
        if finished:
            break
        time.sleep(REDRAW_EVERY_S)
    for holder in holders:
        holder.empty()
if batch is not None and batch.done:
    for result, connection in zip(batch.results, batch.connections or [None] * len(batch.results)):
        record_run(result, tags=["compare"], connection=connection)  # once per result; its key scrubbed, never saved
    _show([compare.outcome_of_result(label, r) for label, r in zip(batch.labels, batch.results)], key="cmp_view")
