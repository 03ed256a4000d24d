"""Compare: one prompt with up to four configurations side by side, streamed together; or
saved runs from the history. What differs from the first column is highlighted."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

import streamlit as st

from components.connection import get_client
from components.errors import show_problem
from components.history import get_history, record_run
from components.models import capabilities_of, model_picker
from components.plain import inert
from components.token_view import render_token_view
from playground import compare
from playground.counting import cost_estimate
from playground.errors import Problem
from playground.history import RunFilter, choice_tokens
from playground.logprobs import TokenInfo
from playground.runner import RunResult

BATCH_KEY = "compare_batch"
REDRAW_EVERY_S = 0.1


@dataclass
class Outcome:
    """One column: what a configuration (or a saved run) produced."""

    label: str
    text: str
    tokens: list[TokenInfo]
    usage: dict | None
    latency: float | None
    ttft: float | None
    model: str
    error: Problem | None = None
    stopped: bool = False


def _outcome_of_result(label: str, result: RunResult) -> Outcome:
    choice = result.choices[0] if result.choices else None
    return Outcome(label, choice.text if choice else "", choice.tokens if choice else [], result.usage,
                   result.latency_s, result.ttft_s, result.request.model, result.error, result.stopped)


def _show(outcomes: list[Outcome], key: str) -> None:
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
            cost = cost_estimate(prompt_tokens or 0, completion_tokens or 0, capabilities_of(outcome.model)).text
            facts = [
                f"latency {outcome.latency:.2f} s" if outcome.latency is not None else "latency —",
                f"first token {outcome.ttft:.2f} s" if outcome.ttft is not None else "first token —",
                f"{prompt_tokens if prompt_tokens is not None else '?'} + {completion_tokens} tokens",
                cost,
            ]
            st.caption(inert(" · ".join(facts)) + (" · **stopped**" if outcome.stopped else ""))
            if i == 0:
                st.code(outcome.text or " ", language=None, wrap_lines=True)
            else:
                st.html(compare.diff_block(base, outcome.text))
                st.caption(f"{100 * compare.similarity(base, outcome.text):.0f}% the same words as column 1")
    st.caption("Columns 2–4: green words are not in column 1, struck red ones are column 1's words they lack.")
    tabs = st.tabs([f"{i + 1}. tokens" for i in range(len(outcomes))])
    for i, (tab, outcome) in enumerate(zip(tabs, outcomes)):
        with tab:
            render_token_view(outcome.tokens, key=f"{key}:{i}", title=outcome.label)


st.title("Compare")
mode = st.segmented_control("Compare", ["Configurations", "Saved runs"], default="Configurations", key="cmp_mode",
                            label_visibility="collapsed")

if mode == "Saved runs":
    history = get_history()
    if history is None:
        st.stop()
    recent = history.search(RunFilter(endpoint=None), limit=200).runs
    recent = [r for r in recent if r.endpoint in ("completions", "chat")]
    if not recent:
        st.info("No saved Completions or Chat runs yet.")
        st.stop()
    labels = {r.id: f"{dt.datetime.fromtimestamp(r.created):%m-%d %H:%M:%S} · {r.model} · {(r.title or r.prompt)[:50]}" for r in recent}
    picked = st.multiselect("Runs (up to four)", list(labels), format_func=labels.get, max_selections=compare.MAX_CONFIGS, key="cmp_saved")
    outcomes = []
    for run_id in picked:
        saved = history.get(run_id)
        if saved is None:
            continue
        choices = saved.response.get("choices") or [{}]
        tokens = choice_tokens(saved)
        outcomes.append(Outcome(labels[run_id].split(" · ", 1)[1], choices[0].get("text") or "", tokens[0] if tokens else [],
                                saved.usage, saved.latency, saved.ttft, saved.model, stopped=bool(saved.response.get("stopped"))))
    if outcomes:
        _show(outcomes, key="cmp_saved_view")
    st.stop()

endpoint = st.segmented_control("Endpoint", ["completions", "chat"], default="completions", key="cmp_endpoint",
                                format_func=str.capitalize) or "completions"
if endpoint == "completions":
    prompt = st.text_area("Prompt", key="cmp_prompt", height=120, value="def median(values):\n    \"\"\"")
    messages = None
else:
    system = st.text_input("System message", key="cmp_system", value="You are a helpful assistant.")
    user = st.text_area("User message", key="cmp_user", height=100, value="Write a docstring for a function that sorts a list.")
    prompt, messages = None, ([{"role": "system", "content": system}] if system.strip() else []) + [{"role": "user", "content": user}]

top = st.columns([1, 1, 4])
count = int(top[0].number_input("Configurations", min_value=1, max_value=compare.MAX_CONFIGS, value=2, key="cmp_count"))
max_tokens = int(top[1].number_input("Max tokens", min_value=1, max_value=4096, value=48, key="cmp_max_tokens"))

configs: list[compare.CompareConfig] = []
for i, column in enumerate(st.columns(count)):
    with column:
        st.markdown(f"**{i + 1}.**")
        info = model_picker(endpoint, key=f"cmp_model_{i}")
        if info is None:
            st.stop()
        temperature = st.slider("Temperature", 0.0, 2.0, [0.2, 1.2, 0.7, 1.0][i], 0.05, key=f"cmp_temperature_{i}")
        seed = st.number_input("Seed (optional)", min_value=0, value=None, step=1, key=f"cmp_seed_{i}", placeholder="none")
        with st.expander("Top P and penalties"):
            top_p = st.slider("Top P", 0.0, 1.0, 1.0, 0.05, key=f"cmp_top_p_{i}")
            frequency = st.slider("Frequency penalty", -2.0, 2.0, 0.0, 0.1, key=f"cmp_frequency_{i}")
            presence = st.slider("Presence penalty", -2.0, 2.0, 0.0, 0.1, key=f"cmp_presence_{i}")
        configs.append(compare.CompareConfig(
            info.id, temperature, top_p, frequency, presence, None if seed is None else int(seed), max_tokens, info=info))

requests, problems = compare.build_requests(endpoint, configs, prompt=prompt, messages=messages)
for i, found in enumerate(problems):
    for problem in found:
        st.warning(f"Configuration {i + 1}: {inert(problem)}", icon=":material/tune:")
clicked = st.button("Run all", type="primary", icon=":material/play_arrow:", key="cmp_run", disabled=any(problems))

batch: compare.Batch | None = st.session_state.get(BATCH_KEY)
if clicked:
    batch = compare.start(get_client(), requests, [c.label() for c in configs])
    st.session_state[BATCH_KEY] = batch
if batch is not None and not batch.done:
    stop_holder = st.empty()
    if stop_holder.button("Stop", key="cmp_stop", icon=":material/stop_circle:", help="Keep what arrived in every column."):
        batch.cancel.set()
    live = st.columns(len(batch.results))
    holders = [column.empty() for column in live]
    while True:
        finished = batch.done
        for holder, label, result in zip(holders, batch.labels, batch.results):
            holder.code(f"{label}\n\n{result.text or '…'}", language=None, wrap_lines=True)
        if finished:
            break
        time.sleep(REDRAW_EVERY_S)
    for holder in [stop_holder, *holders]:
        holder.empty()
if batch is not None and batch.done:
    for result in batch.results:
        record_run(result, tags=["compare"])  # once per result
    _show([_outcome_of_result(label, r) for label, r in zip(batch.labels, batch.results)], key="cmp_view")
