"""Tokenizer: text -> tokens and ids in any encoding tiktoken has; ids -> text."""

import pandas as pd
import streamlit as st

from components.plain import inert
from components.state import owned
from components.token_view import plain_tokens_html
from playground.catalog import load_catalog
from playground.tokenizer import (
    counts_per_encoding,
    decode_ids,
    encoding_names,
    load_encoding,
    parse_ids,
    tokenize,
    tokens_of_ids,
)
from playground.tokens import encoding_name_for_model

st.title("Tokenizer")
st.caption("How a model splits text into tokens, and what token ids stand for. Runs on this machine.")


@st.cache_data(show_spinner=False)
def _available(name: str) -> bool:
    return load_encoding(name) is not None


KEYS = owned("tok", by="Encoding", model="local-text", encoding="o200k_base", text="", show_ids=False, ids="")

by = KEYS.widget(st.segmented_control, "Choose", "by", options=["Encoding", "Model"])
if by == "Model":
    models = [m for m, info in load_catalog().models.items() if info.known and info.endpoints != ("image_variations",)]
    model = KEYS.widget(st.selectbox, "Model", "model", options=models)
    encoding_name = encoding_name_for_model(model)
    st.caption(f"{inert(model)} uses **{inert(encoding_name)}**.")
else:
    encoding_name = KEYS.widget(
        st.selectbox, "Encoding", "encoding", options=encoding_names(),
        format_func=lambda n: n if _available(n) else f"{n} (not available offline)",
    )
encoding = load_encoding(encoding_name)
if encoding is None:
    st.warning(
        f"**{encoding_name}** is not available offline: tiktoken downloads its file on first use, and this "
        "machine does not. o200k_base, cl100k_base and o200k_harmony ship with the app; run tiktoken once "
        f"with internet access (`tiktoken.get_encoding('{encoding_name}')`) to cache this one."
    )
    st.stop()

text_tab, ids_tab = st.tabs(["Text → tokens", "Token ids → text"])

with text_tab:
    text = KEYS.widget(st.text_area, "Text", "text", height=150, placeholder="Type or paste text…")
    show_ids = KEYS.widget(st.toggle, "Show ids under the tokens", "show_ids")
    tokens = tokenize(encoding, text)
    c1, c2, c3 = st.columns(3)
    c1.metric("Tokens", f"{len(tokens):,}")
    c2.metric("Characters", f"{len(text):,}")
    c3.metric("Characters per token", f"{len(text) / len(tokens):.2f}" if tokens else "—")
    if tokens:
        st.html(plain_tokens_html(tokens, show_ids=show_ids))
        st.code(str([t.token_id for t in tokens]), language=None, wrap_lines=True)
        st.caption("Token ids: copy them with the button on the right. Hover a token for its id.")

        st.subheader("Counts per encoding")
        rows = counts_per_encoding(text)
        st.dataframe(
            pd.DataFrame(
                {
                    "encoding": [r.encoding for r in rows],
                    "tokens": [r.tokens for r in rows],
                    "characters per token": [r.chars_per_token for r in rows],
                    "note": ["" if r.tokens is not None else "not available offline" for r in rows],
                }
            ).astype({"tokens": "Int64"}),
            hide_index=True,
            column_config={"characters per token": st.column_config.NumberColumn(format="%.2f")},
        )

with ids_tab:
    raw_ids = KEYS.widget(
        st.text_area, "Token ids", "ids", height=100, placeholder="9906, 1917  or  [9906, 1917]",
        help="Separated by commas, spaces or new lines, or a JSON list.",
    )
    ids, errors = parse_ids(raw_ids, encoding)
    if errors:
        st.error(f"Not decoded: fix these ids for {encoding.name}.\n\n" + "\n".join(f"- {e}" for e in errors))
    elif ids:
        st.html(plain_tokens_html(tokens_of_ids(encoding, ids), show_ids=True))
        st.markdown("**Decoded text**")
        st.code(decode_ids(encoding, ids), language=None, wrap_lines=True)
        st.caption(f"{len(ids):,} tokens of {encoding.name}.")
