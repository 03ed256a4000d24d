"""The sampling controls of the text pages (Completions and Chat).

A control the selected model does not take is disabled, with the reason beside it.
Values survive reruns and page switches: Streamlit forgets the state of a widget that a
run does not draw (another page is open), so each value is also kept under a plain
session-state key and put back when the widget is drawn again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import streamlit as st

from components.logit_bias import logit_bias_editor
from components.models import model_picker
from components.state import keep, remember
from playground.catalog import ModelInfo
from playground.requests import (
    MAX_BEST_OF,
    MAX_COMPLETION_LOGPROBS,
    MAX_TOP_LOGPROBS,
    Endpoint,
    ParamProblem,
    Settings,
    parse_stop_lines,
)

MAX_N_SHOWN = 8  # choices the page lays out side by side / in tabs
DEFAULTS = Settings()


@dataclass
class Controls:
    info: ModelInfo
    settings: Settings
    problems: list[ParamProblem] = field(default_factory=list)  # inputs the controls refuse


def kept_widget(widget: Callable[..., Any], label: str, *, key: str, default: Any, **kwargs: Any) -> Any:
    keep(key)
    widget(label, key=key, value=default, **kwargs)
    return remember(key)


def _unsupported(info: ModelInfo, param: str) -> str | None:
    reason = info.why_unsupported(param)
    if reason:
        st.caption(f":material/block: {reason}")
    return reason


def sampling_controls(endpoint: Endpoint, *, prefix: str) -> Controls | None:
    """Draw the controls for `endpoint`; None when the provider lists no model for it.

    Widget keys are `{prefix}_<name>`; the model's key is `{prefix}_model`.
    """
    info = model_picker(endpoint, key=f"{prefix}_model")
    if info is None:
        return None
    if info.note:
        st.caption(info.note)
    problems: list[ParamProblem] = []
    k = lambda name: f"{prefix}_{name}"  # noqa: E731

    max_label = "Max completion tokens" if info.reasoning else "Max tokens"
    max_tokens = kept_widget(
        st.number_input, max_label, key=k("max_tokens"), default=DEFAULTS.max_tokens,
        min_value=1, max_value=info.max_output or None, step=16,
        help=f"Sent as `{info.max_tokens_param}`"
        + (": a reasoning model counts its hidden reasoning tokens in it." if info.reasoning else ".")
        + (f" {info.id} writes at most {info.max_output:,}." if info.max_output else ""),
    )

    def slider(name: str, label: str, low: float, high: float, default: float, help: str) -> float:
        reason = info.why_unsupported(name)
        value = kept_widget(
            st.slider, label, key=k(name), default=default, min_value=low, max_value=high, step=0.01,
            disabled=reason is not None, help=help,
        )
        _unsupported(info, name)
        return value

    temperature = slider("temperature", "Temperature", 0.0, 2.0, DEFAULTS.temperature,
                         "Higher: more varied text. 0: always the most likely token.")
    top_p = slider("top_p", "Top P", 0.0, 1.0, DEFAULTS.top_p,
                   "Sample only from the most likely tokens whose probabilities add up to this.")
    frequency_penalty = slider("frequency_penalty", "Frequency penalty", -2.0, 2.0, DEFAULTS.frequency_penalty,
                               "Lowers a token's chance by how often it already appeared.")
    presence_penalty = slider("presence_penalty", "Presence penalty", -2.0, 2.0, DEFAULTS.presence_penalty,
                              "Lowers a token's chance once it has appeared at all.")

    n = kept_widget(
        st.number_input, "Choices (n)", key=k("n"), default=DEFAULTS.n, min_value=1, max_value=MAX_N_SHOWN, step=1,
        disabled=info.why_unsupported("n") is not None, help="How many completions to generate for the prompt.",
    )
    _unsupported(info, "n")

    stop_text = kept_widget(
        st.text_area, "Stop sequences", key=k("stop"), default="", height=80,
        placeholder="one per line, e.g. \\n\\n", help="Up to 4, one per line. Type \\n for a newline, \\t for a tab.",
    )
    stop = parse_stop_lines(stop_text or "")
    if len(stop) > 4:
        problems.append(ParamProblem("stop", f"at most 4 stop sequences; remove {len(stop) - 4}."))

    seed = kept_widget(
        st.number_input, "Seed (optional)", key=k("seed"), default=None, step=1, min_value=0,
        placeholder="none: different text each run",
        help="The same seed and parameters give the same text (best effort on OpenAI).",
    )
    stream = kept_widget(st.toggle, "Stream", key=k("stream"), default=DEFAULTS.stream,
                         help="Show tokens as they arrive; Stop keeps what came.")

    settings = Settings(
        max_tokens=int(max_tokens), temperature=float(temperature), top_p=float(top_p),
        frequency_penalty=float(frequency_penalty), presence_penalty=float(presence_penalty), n=int(n),
        stop=stop, seed=None if seed is None else int(seed), stream=bool(stream),
    )

    if endpoint == "completions":
        settings.suffix = kept_widget(
            st.text_input, "Suffix", key=k("suffix"), default="", disabled=info.why_unsupported("suffix") is not None,
            help="Text that comes after the completion (insert mode).",
        )
        _unsupported(info, "suffix")
        settings.echo = kept_widget(
            st.checkbox, "Echo the prompt", key=k("echo"), default=False, disabled=info.why_unsupported("echo") is not None,
            help="Return the prompt too, with its own tokens' probabilities.",
        )
        settings.best_of = int(kept_widget(
            st.number_input, "Best of", key=k("best_of"), default=1, min_value=1, max_value=MAX_BEST_OF, step=1,
            disabled=info.why_unsupported("best_of") is not None,
            help="Generate this many and return the n with the highest mean logprob. Not with streaming.",
        ))
        _unsupported(info, "best_of")
        on = kept_widget(st.toggle, "Token probabilities (logprobs)", key=k("logprobs_on"), default=True,
                         disabled=info.why_unsupported("logprobs") is not None)
        alternatives = kept_widget(
            st.slider, "Alternatives per token", key=k("logprobs"), default=DEFAULTS.logprobs, min_value=0,
            max_value=MAX_COMPLETION_LOGPROBS, disabled=not on or info.why_unsupported("logprobs") is not None,
            help="`logprobs`: the most likely tokens returned at each position (0: only the chosen one).",
        )
        _unsupported(info, "logprobs")
        settings.logprobs = int(alternatives) if on else None
    else:
        settings.chat_logprobs = bool(kept_widget(
            st.toggle, "Token probabilities (logprobs)", key=k("logprobs"), default=True,
            disabled=info.why_unsupported("logprobs") is not None,
        ))
        settings.top_logprobs = int(kept_widget(
            st.slider, "Alternatives per token (top_logprobs)", key=k("top_logprobs"), default=DEFAULTS.top_logprobs,
            min_value=0, max_value=MAX_TOP_LOGPROBS,
            disabled=not settings.chat_logprobs or info.why_unsupported("top_logprobs") is not None,
        ))
        _unsupported(info, "logprobs")

    with st.expander("Logit bias"):
        if not _unsupported(info, "logit_bias"):
            editor_key = k("logit_bias")
            for part in ("input", "space", "default"):
                keep(f"{editor_key}:{part}")
            bias = logit_bias_editor(info, key=editor_key)
            for part in ("input", "space", "default"):
                remember(f"{editor_key}:{part}")
            if bias is None:
                problems.append(ParamProblem("logit_bias", "fix the logit bias entries (see the editor)."))
            settings.logit_bias = bias or None
    return Controls(info, settings, problems)
