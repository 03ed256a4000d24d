"""Token counts beside what the API reported, the context-window gauge and the cost."""

from __future__ import annotations

from typing import Any, Sequence

import streamlit as st

from components.plain import inert
from playground.catalog import ModelInfo
from playground.counting import chat_count_method, context_gauge, cost_estimate, count_chat, count_prompt, reported_usage


def render_counts(
    prompt_tokens_local: int,
    completion_tokens_local: int | None,
    usage_reported: Any,
    model_info: ModelInfo,
    max_tokens: int | None,
) -> None:
    """A row of metrics: the local counts, the usage the API reported (marked when it
    differs), the cost estimate; then the context-window gauge."""
    prompt_api, completion_api, total_api = reported_usage(usage_reported)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Prompt tokens", f"{prompt_tokens_local:,}", help="Counted here with the model's encoding.")
    c2.metric("Completion tokens", "—" if completion_tokens_local is None else f"{completion_tokens_local:,}")
    if prompt_api is None:
        c3.metric("Reported usage", "—", help="The provider reported no usage (streaming without include_usage?).")
    else:
        differs = prompt_api != prompt_tokens_local or (
            completion_tokens_local is not None and completion_api is not None and completion_api != completion_tokens_local
        )
        c3.metric(
            "Reported usage",
            f"{prompt_api:,} + {completion_api or 0:,} = {total_api or 0:,}",
            delta="≠ local count" if differs else "= local count",
            delta_color="inverse" if differs else "normal",
            delta_arrow="off",
            help="prompt + completion = total, as the API reported it, compared with the counts made here.",
        )
    billed_prompt = prompt_api if prompt_api is not None else prompt_tokens_local
    billed_completion = completion_api if completion_api is not None else (completion_tokens_local or 0)
    cost = cost_estimate(billed_prompt, billed_completion, model_info)
    c4.metric("Cost estimate", cost.text if cost.dollars is not None else "unknown", help=f"Prices checked {cost.checked}.")
    if cost.text == "Free":
        st.caption(f"{inert(model_info.id)} runs on this machine: no charge.")
    else:
        st.caption(f"{cost.text} at list prices checked {cost.checked}." if cost.dollars is not None else f"{cost.text}.")
    _gauge(prompt_tokens_local, max_tokens, model_info)


def _gauge(prompt_tokens: int, max_tokens: int | None, model_info: ModelInfo) -> None:
    gauge = context_gauge(prompt_tokens, max_tokens, model_info)
    st.progress(gauge.fraction, text=f"Context window: {gauge.text}")
    if not gauge.fits:
        st.warning(f"This request does not fit the context window of {inert(model_info.id)}. {inert(gauge.text)}.")


def live_prompt_count(
    model_info: ModelInfo,
    max_tokens: int | None,
    *,
    prompt: str | None = None,
    messages: Sequence[dict[str, Any]] | None = None,
) -> int:
    """The prompt's token count as the user types (a completions `prompt` or chat
    `messages`), with the gauge; returns the count."""
    if messages is not None:
        count = count_chat(messages, model_info.id)
        st.caption(f"**{count:,}** prompt tokens. {inert(chat_count_method(model_info.id))}")
    else:
        count = count_prompt(prompt or "", model_info.id)
        st.caption(f"**{count:,}** prompt tokens ({inert(model_info.encoding)}).")
    _gauge(count, max_tokens, model_info)
    return count
