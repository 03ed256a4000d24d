"""A text run on a page: the text as it streams in (with Stop), then the whole result:
token view per choice, counts and cost, timings, "View code", or the error in plain words.

The run's RunResult lives in st.session_state while it fills. A Stop click (or any
widget change) reruns the script, which interrupts the stream where it was; the next
run finds the result unfinished and keeps it, marked stopped.
"""

from __future__ import annotations

import time
from functools import partial
from typing import Any

import streamlit as st

from components.connection import current_connection, get_client
from components.counts import render_counts
from components.errors import show_problem
from components.history import record_run, stopped_run_saver
from components.lazy import lazy_expander
from components.plain import inert
from components.presets import presets_bar
from components.sampling_controls import Controls, sampling_controls
from components.stop_button import RunTriggers, stop_button, stream_started
from components.token_view import choice_key, grow_view, render_choices
from components.whatif import render_whatif
from components.wire_view import render_wire
from playground.catalog import ModelInfo
from playground.code_export import curl_command, json_body, python_code
from playground.requests import Endpoint, TextRequest
from playground.runner import RunResult, completion_tokens, finish, prebuild_tokens, run

# The live text's redraw interval. Each redraw costs the browser 20-40 ms (React redraws the
# page's tree), taken from the engine and the app on a small machine: 5 a second at first,
# then fewer as the text grows past a screenful (each sends it whole, and what it adds is
# below the fold), down to 2.
REDRAW_EVERY_S = 0.2
REDRAW_CHARS_PER_S = 25_000
REDRAW_AT_MOST_EVERY_S = 0.5
# Between redraws, the tokens arrived and their view are built this often (the run's end builds
# what came since: 0.1 ms a token, with the page waiting), whatever the redraw interval.
BUILD_EVERY_S = 0.1
PER_ROW = 4
# The live text is st.text made to look like st.code: the code block's highlighter cost the
# browser 15-20 ms more per redraw of a long text (a quarter second per 4,000 tokens).
_LIVE_CSS = ("<style>.st-key-{key} [data-testid='stText']{{padding:1rem;border-radius:0.5rem;background:rgba(128,128,128,.08)}}"
             ".st-key-{key} [data-testid='stText'] *{{font-family:'Source Code Pro',ui-monospace,monospace;font-size:0.875rem;"
             "line-height:1.6;white-space:pre-wrap;word-break:break-word}}</style>")


def text_page(endpoint: Endpoint, title: str, caption: str) -> tuple[Controls, Any, Any]:
    """A text page's frame: title, presets bar, the sampling controls in the left column.
    (controls, the main column, the share-link slot); stops the page when no model is usable."""
    st.title(title)
    st.caption(caption)
    link_slot = presets_bar(endpoint)
    controls_column, main = st.columns([1, 2.8], gap="large")
    with controls_column:
        controls = sampling_controls(endpoint, prefix=endpoint)
    if controls is None:
        st.stop()
    return controls, main, link_slot


def settle(result_key: str) -> RunResult | None:
    """The page's last run; one interrupted mid-stream becomes a stopped result."""
    result: RunResult | None = st.session_state.get(result_key)
    if result is not None and not result.done:
        finish(result, stopped=True)
    return result


def stop_control(result_key: str, request: TextRequest, *, running: bool, triggers: RunTriggers) -> None:
    """The page's Stop, mounted just below its Run in every run: on screen from the press of
    a trigger when the request streams, until the run ends."""
    pressed = stop_button(f"{result_key}_stop", running=running and request.streamed,
                          triggers=triggers if request.streamed else RunTriggers())
    if pressed and running:  # Stop came with Run, before this run began: start nothing
        st.rerun()


def run_section(result_key: str, request: TextRequest, *, info: ModelInfo, prompt_tokens: int, disabled: bool,
                key: str, triggers: RunTriggers) -> None:
    """Run with its Stop beside it, then the run: its text as it streams, then the result.

    Run and the result are a fragment: a press on Run (or on anything in the result) reruns
    them alone, so the browser does not redraw the page's controls while the engine starts.
    A fragment's own rerun takes the arguments of the page's last full run; that is safe, as
    a change above (the prompt, a control) makes a full run first, or one with the press when
    both come together (Streamlit merges them). The Stop is outside the fragment: a
    fragment's rerun waits for the run in progress, and Stop must interrupt it."""
    pressed_key, stopped_key = f"{result_key}_run_pressed", f"{result_key}_stop_pressed"
    buttons = st.container(horizontal=True, gap="small", key=f"{result_key}_buttons")
    run_slot = buttons.container(width="content")
    with buttons:
        stop_button(f"{result_key}_stop", running=request.streamed and st.session_state.get(pressed_key, False),
                    triggers=triggers if request.streamed else RunTriggers(), on_press=partial(_flag, stopped_key))
    _run_part(result_key, request, info, prompt_tokens, disabled, key, run_slot)


def _flag(flag_key: str) -> None:
    st.session_state[flag_key] = True


@st.fragment
def _run_part(result_key: str, request: TextRequest, info: ModelInfo, prompt_tokens: int, disabled: bool, key: str,
              run_slot: Any) -> None:
    """run_section's fragment: Run (into `run_slot`, beside the Stop), the run, its result."""
    pressed_key, stopped_key = f"{result_key}_run_pressed", f"{result_key}_stop_pressed"
    clicked = run_slot.button("Run", type="primary", icon=":material/play_arrow:", key=f"{key}_run", disabled=disabled,
                              shortcut="Mod+Enter", help="Ctrl+Enter (⌘+Enter on a Mac), also while typing the prompt.",
                              on_click=partial(_flag, pressed_key))
    st.session_state.pop(pressed_key, None)
    stopped_with_run = st.session_state.pop(stopped_key, False)  # Stop came with Run, before this run began: start nothing
    result = settle(result_key)
    if clicked and not stopped_with_run:
        result = run_live(result_key, request, prompt_tokens=prompt_tokens, key=key)
    if result is not None:
        render_result(result, info, key=key)
        record_run(result)  # after: the browser draws the result while the run's row is made


def run_live(result_key: str, request: TextRequest, *, prompt_tokens: int, key: str) -> RunResult:
    """Send the request, showing each choice's text as it arrives, with the page's Stop on screen.

    The text goes into one placeholder per choice, redrawn at most every REDRAW_EVERY_S (more
    rarely as it grows), never the page; the token view is drawn once, by render_result(...,
    key=key), when the run has ended, from what was made between redraws."""
    result = RunResult(request, prompt_tokens_local=prompt_tokens)
    st.session_state[result_key] = result
    n = int(request.params.get("n", 1))
    live_slot = st.empty()  # the text as it streams (its key: for tests and the bench)
    placeholders = []
    with live_slot.container(key=f"{result_key}_live"):
        st.html(_LIVE_CSS.format(key=f"{result_key}_live"))
        if request.streamed:
            stream_started(f"{result_key}_stop")
        for row in range(0, n, PER_ROW):
            columns = st.columns(min(PER_ROW, n - row)) if n > 1 else [st.container()]
            placeholders += [column.empty() for column in columns]
    placeholders[0].caption("Waiting for the first token…")
    last_draw = last_build = 0.0

    def draw(current: RunResult) -> None:
        nonlocal last_draw, last_build
        now = time.perf_counter()
        longest = max((len(c.text) for c in current.choices), default=0)
        if now - last_draw >= min(max(REDRAW_EVERY_S, longest / REDRAW_CHARS_PER_S), REDRAW_AT_MOST_EVERY_S):
            last_draw = now
            for choice in current.choices:
                if choice.index < len(placeholders):
                    placeholders[choice.index].text(choice.text or " ")  # plain text: model text is never markup
        if now - last_build >= BUILD_EVERY_S:  # what the run's end would do: the tokens, and a long run's view of them
            last_build = now
            prebuild_tokens(current)
            for choice in current.choices:
                grow_view(choice.prebuilt, key=choice_key(_tokens_key(key), choice.index))

    save_stopped = stopped_run_saver()
    try:
        # (No spinner: the growing text and the Stop say it runs, and its animation cost the
        # browser CPU that the engine's stream needs on a small machine.)
        run(get_client(), request, result=result, on_update=draw, prompt_tokens=prompt_tokens)
    finally:
        if not result.done:  # Stop, another page or a reload stopped this script mid-stream: keep what came
            save_stopped(result)
    live_slot.empty()
    return result


def _status(result: RunResult) -> None:
    reasons = sorted({c.finish_reason for c in result.choices if c.finish_reason})
    parts = []
    if result.latency_s is not None:
        parts.append(f"latency **{result.latency_s * 1000:,.0f} ms**")
    if result.ttft_s is not None:
        parts.append(f"time to first token **{result.ttft_s * 1000:,.0f} ms**")
    elif not result.request.streamed:
        parts.append("time to first token: not streamed")
    if reasons:
        parts.append("finish reason " + ", ".join(f"`{r}`" for r in reasons))
    headers = result.rate_limit_headers
    if "x-ratelimit-remaining-requests" in headers:
        parts.append(
            f"rate limit: {headers['x-ratelimit-remaining-requests']} of "
            f"{headers.get('x-ratelimit-limit-requests', '?')} requests left"
            + (f", resets in {headers['x-ratelimit-reset-requests']}" if "x-ratelimit-reset-requests" in headers else "")
        )
    if result.stopped:
        st.warning("Stopped: the text that arrived before Stop is kept below.", icon=":material/stop_circle:")
    for note in result.dropped:  # what the provider silently left out
        st.warning(inert(note), icon=":material/report:")
    if parts:
        st.caption(inert(" · ".join(parts)))


def render_result(result: RunResult, info: ModelInfo, *, key: str, show_text: bool = True) -> None:
    """Everything a finished (or stopped) run returned."""
    if result.error is not None:
        show_problem(result.error)
    _status(result)
    if result.choices:
        with_tokens = any(c.tokens for c in result.choices)
        if show_text and not with_tokens:
            columns = st.columns(len(result.choices)) if 1 < len(result.choices) <= PER_ROW else None
            for i, choice in enumerate(result.choices):
                with columns[i] if columns else st.container():
                    if len(result.choices) > 1:
                        st.markdown(f"**Choice {i}**")
                    st.code(choice.text or " ", language=None, wrap_lines=True)
        if with_tokens:
            st.subheader("Token probabilities", divider="gray")
            render_choices([c.tokens for c in result.choices], key=_tokens_key(key), texts=[c.text for c in result.choices])
            if show_text:  # drawn when opened: a long run's text went to the browser twice, hidden
                box, is_open = lazy_expander("Plain text (copy)", key=f"{key}:plain_open")
                if is_open:
                    with box:
                        for choice in result.choices:
                            st.code(choice.text or " ", language=None, wrap_lines=True)
            if result.done and result.error is None:
                render_whatif(result, info, key=f"{key}:whatif")
        st.subheader("Counts", divider="gray")
        max_tokens = result.request.params.get(info.max_tokens_param)
        render_counts(result.prompt_tokens_local or 0, completion_tokens(result), result.usage, info, max_tokens, result.cost,
                      best_of=result.request.params.get("best_of"))
    render_content_filters(result)
    render_wire(result.wire, key=f"{key}:wire")


def _tokens_key(key: str) -> str:
    """The key of a page's token view (render_choices), from the page's key."""
    return f"{key}:tokens"


def render_content_filters(result: RunResult) -> None:
    """Azure's content-filter verdicts on the prompt and on each choice, when it sent them."""
    rows = [
        {"for": f"prompt {entry.get('prompt_index', 0)}", **_verdicts(entry.get("content_filter_results"))}
        for entry in result.prompt_filter_results or []
    ]
    rows += [
        {"for": f"choice {choice.index}", **_verdicts(choice.content_filter_results)}
        for choice in result.choices
        if choice.content_filter_results
    ]
    if not rows:
        return
    filtered = any("filtered" in str(v) and "not" not in str(v) for row in rows for v in row.values())
    with st.expander("Azure content filter" + (": something was filtered" if filtered else ": nothing filtered")):
        st.dataframe(rows, hide_index=True, use_container_width=True)


def _verdicts(results: dict | None) -> dict[str, str]:
    """category -> 'safe, not filtered' (or 'detected'), for one filter result."""
    out = {}
    for category, verdict in (results or {}).items():
        if not isinstance(verdict, dict):
            continue
        words = [verdict["severity"]] if "severity" in verdict else []
        if "detected" in verdict:
            words.append("detected" if verdict["detected"] else "not detected")
        words.append("filtered" if verdict.get("filtered") else "not filtered")
        out[category] = ", ".join(words)
    return out


def render_code(request: TextRequest, *, key: str) -> None:
    """The request as Python, curl and JSON; the key stays in the environment."""
    connection = current_connection()
    with st.expander("View code", icon=":material/code:"):
        python_tab, curl_tab, json_tab = st.tabs(["Python", "curl", "JSON"])
        python_tab.code(python_code(request, connection), language="python")
        curl_tab.code(curl_command(request, connection), language="bash")
        json_tab.code(json_body(request), language="json")
        st.caption("The API key is read from the environment; it is never written into the code.")
