"""Two runs' outputs side by side, aligned token by token: where they part, and where they
agree on the text but rated it differently (the logprob gap, shaded)."""

from __future__ import annotations

import html
from typing import Sequence

import streamlit as st

from components.plain import inert
from components.token_view import visible
from playground.logprobs import TokenInfo
from playground.token_diff import DiffSegment, first_divergence, token_diff

_CSS = (
    "<style>.td{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:0.88rem;line-height:2;"
    "white-space:pre-wrap;word-break:break-word}.td span{border-radius:3px;padding:1px 0}"
    ".td .chg{background:rgba(239,65,70,.30)}.td .add{background:rgba(104,222,122,.38)}"
    ".td .del{background:rgba(239,65,70,.30);text-decoration:line-through}"
    ".td .row{display:grid;grid-template-columns:7em 1fr;gap:6px}.td .lbl{opacity:.7}</style>"
)


def _same_span(segment: DiffSegment, side: str) -> str:
    token = (segment.a if side == "a" else segment.b)[0]
    gap = segment.logprob_gap
    text = html.escape(token.token, quote=False)
    if gap is None or gap < 0.05:
        return text
    # Blue, stronger as the two runs' logprobs for this same token differ more (capped at 3 nats).
    alpha = min(gap / 3, 1) * 0.5 + 0.08
    return f'<span style="background:rgba(28,131,225,{alpha:.2f})" title="logprob gap {gap:.2f}">{text}</span>'


def diff_html(segments: Sequence[DiffSegment], labels: tuple[str, str]) -> str:
    rows = []
    for side, label in zip(("a", "b"), labels):
        parts = []
        for segment in segments:
            mine = segment.a if side == "a" else segment.b
            if segment.kind == "same":
                parts.append(_same_span(segment, side))
            elif mine:
                cls = "chg" if segment.kind == "changed" else ("del" if side == "a" else "add")
                parts.append(f'<span class="{cls}">{html.escape("".join(t.token for t in mine), quote=False)}</span>')
        rows.append(f'<div class="row"><span class="lbl">{html.escape(label)}</span><span>{"".join(parts)}</span></div>')
    return _CSS + '<div class="td">' + "".join(rows) + "</div>"


def render_token_diff(a: Sequence[TokenInfo], b: Sequence[TokenInfo], labels: tuple[str, str]) -> None:
    """The aligned pair, with where they first part and how much of the text they share."""
    segments = token_diff(a, b)
    split = first_divergence(segments)
    same = sum(len(s.a) for s in segments if s.kind == "same")
    total = max(sum(1 for t in a if not t.is_prompt), sum(1 for t in b if not t.is_prompt), 1)
    where = "identical" if split is None else f"they part at token #{split}"
    if split is not None:
        first = next(s for s in segments if s.kind != "same")
        where += f" ({visible(''.join(t.token for t in first.a)) or '—'!r} vs {visible(''.join(t.token for t in first.b)) or '—'!r})"
    st.caption(f"{inert(where)} · {same} of {total} tokens shared · red: different text, blue: same token, "
               "different logprob (hover for the gap)")
    st.html(diff_html(segments, labels))
