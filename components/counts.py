"""Token counts beside what the API reported, the context-window gauge and the cost."""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import streamlit as st

from components.connection import current_connection
from components.live_count import typing_listener
from components.plain import inert
from playground.catalog import ModelInfo, load_catalog
from playground.counting import chat_count_method, context_gauge, count_chat, count_prompt, format_cost, reported_usage


def render_counts(
    prompt_tokens_local: int,
    completion_tokens_local: int | None,
    usage_reported: Any,
    model_info: ModelInfo,
    max_tokens: int | None,
    cost: float | None,
    *,
    best_of: int | None = None,
) -> None:
    """A row of metrics: the local counts, the usage the API reported (marked when it
    differs), the run's cost (priced when it finished); then the context-window gauge.
    The metrics are as wide as their text and wrap to a new line rather than cut it off."""
    prompt_api, completion_api, total_api = reported_usage(usage_reported)
    row = st.container(horizontal=True, wrap=True, gap="medium")
    row.metric("Prompt tokens", f"{prompt_tokens_local:,}", help="Counted here with the model's encoding.", width="content")
    row.metric("Completion tokens", "—" if completion_tokens_local is None else f"{completion_tokens_local:,}", width="content")
    differs = False
    if prompt_api is None:
        row.metric("Reported usage", "—", help="The provider reported no usage (streaming without include_usage?).",
                   width="content")
    else:
        differs = prompt_api != prompt_tokens_local or (
            completion_tokens_local is not None and completion_api is not None and completion_api != completion_tokens_local
        )
        row.metric(
            "Reported usage",
            f"{prompt_api:,} + {completion_api or 0:,} = {total_api or 0:,}",
            delta="≠ local count" if differs else "= local count",
            delta_color="inverse" if differs else "normal",
            delta_arrow="off",
            help="prompt + completion = total, as the API reported it, compared with the counts made here.",
            width="content",
        )
    text, checked = format_cost(cost), load_catalog().checked
    row.metric("Cost estimate", "unknown" if cost is None else text, help=f"Prices checked {checked}.", width="content")
    if differs and best_of and best_of > 1:
        st.caption(f"best_of={best_of}: the usage counts (and the provider bills) every candidate generated, "
                   "not only the choices returned, so it is more than the tokens counted here.")
    if current_connection().provider == "compatible":  # never OpenAI's list prices for another server
        st.caption(f"{text} at the price set for this server in the sidebar." if cost is not None
                   else "This server's price is not known: set one under Price in the sidebar.")
    elif cost == 0:
        st.caption(f"{inert(model_info.id)} runs on this machine: no charge.")
    else:
        st.caption(f"{text} at list prices checked {checked}." if cost is not None else f"No price known for {inert(model_info.id)}.")
    _gauge(prompt_tokens_local, max_tokens, model_info)


def _gauge(prompt_tokens: int, max_tokens: int | None, model_info: ModelInfo, *, warn: bool = True) -> None:
    gauge = context_gauge(prompt_tokens, max_tokens, model_info)
    st.progress(gauge.fraction, text=f"Context window: {inert(gauge.text)}")  # the text names the model
    if warn and not gauge.fits:
        st.warning(f"This request does not fit the context window of {inert(model_info.id)}. {inert(gauge.text)}.")


Prompt = str | list[dict[str, Any]]  # a completions prompt or chat messages


def live_prompt_count(
    model_info: ModelInfo,
    max_tokens: int | None,
    *,
    prompt: str | None = None,
    messages: Sequence[dict[str, Any]] | None = None,
    typed_into: Mapping[str, Callable[[str], Prompt]] | None = None,
    key: str,
) -> int:
    """The prompt's token count (a completions `prompt` or chat `messages`), with the
    gauge; returns the count. `typed_into` maps the widget key of each field that makes the
    prompt to the prompt as it would be with a given text in that field: the count then
    follows the user's typing before the field applies it (see components/live_count.py)."""
    now: Prompt = list(messages) if messages is not None else prompt or ""
    count = _count(now, model_info)
    _count_as_typed(model_info, max_tokens, count, now, dict(typed_into or {}), key)
    return count


def _count(prompt: Prompt, model_info: ModelInfo) -> int:
    return count_prompt(prompt, model_info.id) if isinstance(prompt, str) else count_chat(prompt, model_info.id)


@st.fragment
def _count_as_typed(model_info: ModelInfo, max_tokens: int | None, count: int, prompt: Prompt,
                    typed_into: dict[str, Callable[[str], Prompt]], key: str) -> None:
    typed = typing_listener(list(typed_into), key=f"{key}_typing") if typed_into else None
    if typed is not None:  # a run of this fragment alone, made by typing
        prompt = typed_into[typed.key](typed.text)
        count = _count(prompt, model_info)
    if isinstance(prompt, str):
        st.caption(f"**{count:,}** prompt tokens ({inert(model_info.encoding)}).")
    else:
        st.caption(f"**{count:,}** prompt tokens. {inert(chat_count_method(model_info.id))}")
    _gauge(count, max_tokens, model_info, warn=False)  # the page's request check says what to change
