"""The "Raw" view of a run: the request body, the response or every streamed chunk with its
arrival time, and a chart of time to first chunk and the gaps between chunks."""

from __future__ import annotations

import json

import plotly.graph_objects as go
import streamlit as st

from components.lazy import lazy_expander
from playground.wire import MAX_CHARS, Wire


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def arrival_figure(wire: Wire) -> go.Figure:
    """Each chunk as a bar: its gap since the previous one (the first: time to first chunk)."""
    times = wire.times
    gaps = [times[0], *wire.gaps] if times else []
    figure = go.Figure(go.Bar(
        x=list(range(len(gaps))), y=[1000 * g for g in gaps],
        customdata=[1000 * t for t in times],
        hovertemplate="chunk %{x}<br>gap %{y:.1f} ms<br>at %{customdata:.1f} ms<extra></extra>",
    ))
    figure.update_layout(height=220, margin=dict(l=0, r=0, t=24, b=0), xaxis_title="chunk",
                         yaxis_title="ms since the previous chunk", title=dict(text="Arrival", font_size=13))
    return figure


def render_wire(wire: Wire | None, *, key: str) -> None:
    """An expander with the run as it crossed the wire; copy buttons come with each code block."""
    if wire is None:
        return
    box, is_open = lazy_expander("Raw request and response", key=f"{key}:open", icon=":material/data_object:")
    with box:
        if not is_open:
            return
        st.caption("The key is never shown or kept: it travels in a header, and headers are not recorded.")
        st.markdown("**Request body**")
        st.code(_json(wire.request), language="json")
        if wire.capped:
            st.warning(f"Kept the first {MAX_CHARS:,} characters of JSON: {wire.dropped:,} later "
                       f"{'chunks were' if wire.dropped != 1 else 'part was'} timed but not kept.")
        if wire.times:
            gaps = wire.gaps
            summary = f"{len(wire.times):,} chunks · first after {1000 * wire.times[0]:,.0f} ms"
            if gaps:
                ordered = sorted(gaps)
                summary += (f" · gaps median {1000 * ordered[len(ordered) // 2]:,.1f} ms, "
                            f"max {1000 * ordered[-1]:,.1f} ms")
            st.caption(summary)
            st.plotly_chart(arrival_figure(wire), key=f"{key}:arrival", config={"displayModeBar": False})
            st.markdown("**Chunks** (time after the request was sent)")
            st.code("\n".join(f"{1000 * c['t']:9.1f} ms  {json.dumps(c['data'], ensure_ascii=False, default=str)}"
                              for c in wire.chunks), language=None)
        elif wire.response is not None:
            st.markdown("**Response**")
            st.code(_json(wire.response), language="json")
