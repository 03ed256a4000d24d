"""The logit bias editor: words or ids in, the exact tokens out, a bias for each."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from components.connection import logit_bias_tokenizer
from components.plain import inert
from playground.catalog import ModelInfo
from playground.logit_bias import BAN, FORCE, MAX_BIAS, MAX_ENTRIES, MIN_BIAS, resolve

_HELP = (
    "One per line or comma-separated. A number is a token id; a word is that text and, with the "
    'option below, the same with a leading space; "quoted text" is exactly that text (" hello" keeps '
    'its space, "\\n" is a newline). Or paste a JSON object such as {"1234": -100}.'
)


def _visible(text: str) -> str:
    return text.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")


def logit_bias_editor(model_info: ModelInfo, *, key: str) -> dict[str, int] | None:
    """Render the editor; returns the logit_bias to send ({} when empty: send nothing),
    or None when the input is refused (the reason is shown)."""
    biases_key, version_key = f"{key}:biases", f"{key}:version"
    biases: dict[int, int] = st.session_state.setdefault(biases_key, {})
    st.session_state.setdefault(version_key, 0)

    raw = st.text_area("Words or token ids", key=f"{key}:input", height=90, help=_HELP, placeholder='hello\n" world", 1234',
                       persist_state="session")
    with_space = st.checkbox(
        "Also the same word with a leading space", value=True, key=f"{key}:space",
        help='"hello" and " hello" are different tokens; mid-sentence words usually carry the space.',
        persist_state="session",
    )
    default = st.number_input(
        "Bias for new tokens", min_value=MIN_BIAS, max_value=MAX_BIAS, value=BAN, step=1, key=f"{key}:default",
        help=f"{BAN} bans a token, {FORCE} forces it; values between -1 and 1 nudge it.", persist_state="session",
    )
    try:
        encoding, mismatch = logit_bias_tokenizer(model_info, in_use=bool(raw.strip()))  # the server's own tokenizer where it has one
        parsed = resolve(raw, encoding, default_bias=int(default), biases=biases, with_space_variant=with_space)
    except Exception as exc:  # a missing BPE file or a failing server tokenizer must not break the page
        st.error(f"The tokenizer for {inert(model_info.id)} is not available ({inert(exc)}); logit bias cannot be edited.")
        return None
    if mismatch:
        st.warning(inert(mismatch), icon=":material/translate:")
    if not parsed.rows and not parsed.errors:
        st.caption(f"No tokens biased. Token ids are those of {inert(encoding.name)}, the encoding of {inert(model_info.id)}.")
        return {}

    # As wide as their labels, wrapping in a narrow controls column rather than cutting them.
    buttons = st.container(horizontal=True, wrap=True, gap="small")
    if buttons.button("Ban", key=f"{key}:ban", help=f"Set every bias below to {BAN}: never generate these tokens."):
        _set_all(biases_key, version_key, parsed.rows, BAN)
    if buttons.button("Force", key=f"{key}:force", help=f"Set every bias below to +{FORCE}: generate only these tokens."):
        _set_all(biases_key, version_key, parsed.rows, FORCE)
    if buttons.button("Zero", key=f"{key}:zero", help="Set every bias below to 0 (no effect)."):
        _set_all(biases_key, version_key, parsed.rows, 0)
    if parsed.rows:
        st.caption(
            f"{len(parsed.rows)} token(s) of {encoding.name} ({model_info.id}), at most {MAX_ENTRIES}. "
            "Edit a bias in the table."
            + ("" if model_info.known or mismatch or encoding.name != model_info.encoding
               else " This model is not in the catalog: its tokenizer may differ.")
        )
        frame = pd.DataFrame(
            {
                "id": [r.token_id for r in parsed.rows],
                "token": [_visible(r.text) for r in parsed.rows],
                "from": [r.source for r in parsed.rows],
                "bias": [r.bias for r in parsed.rows],
            }
        )
        edited = st.data_editor(
            frame,
            # A new table when the tokens change or all biases were reset: edits are kept by row.
            key=f"{key}:table:{st.session_state[version_key]}:{hash(tuple(frame['id']))}",
            hide_index=True,
            width="stretch",
            disabled=["id", "token", "from"],
            column_order=["token", "bias", "id", "from"],  # the editable bias visible in a narrow column
            column_config={
                "bias": st.column_config.NumberColumn("bias", min_value=MIN_BIAS, max_value=MAX_BIAS, step=1, required=True),
            },
        )
        edited_biases = {int(i): float(b) for i, b in zip(edited["id"], edited["bias"]) if not pd.isna(b)}
        biases.update({i: int(b) if b.is_integer() else b for i, b in edited_biases.items()})
        if any(edited_biases.get(r.token_id) != r.bias for r in parsed.rows):
            parsed = resolve(raw, encoding, default_bias=int(default), biases=biases, with_space_variant=with_space)
    for note in parsed.notes:
        st.info(note, icon=":material/info:")
    if parsed.errors:
        st.error("Not sent until fixed:\n\n" + "\n".join(f"- {e}" for e in parsed.errors), icon=":material/block:")
        return None
    result = parsed.to_request()
    st.code(json.dumps({"logit_bias": result}, indent=2), language="json")
    return result


def _set_all(biases_key: str, version_key: str, rows: list, value: int) -> None:
    st.session_state[biases_key].update({r.token_id: value for r in rows})
    st.session_state[version_key] += 1
    st.rerun()
