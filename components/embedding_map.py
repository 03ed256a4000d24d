"""The 2-D map of a corpus' embeddings: points coloured by a column or a cluster, the text on
hover (escaped: it is user data), queries as stars and their neighbours ringed."""

from __future__ import annotations

import html
from typing import Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st

HOVER_CHARS = 200


def hover_text(text: str, limit: int = HOVER_CHARS) -> str:
    """Escaped, shortened, wrapped every ~60 characters (plotly hover labels take <br>)."""
    short = text if len(text) <= limit else text[: limit - 1] + "…"
    words, lines, line = short.split(), [], ""
    for word in words:
        if line and len(line) + len(word) > 60:
            lines.append(line)
            line = ""
        line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(html.escape(part) for part in lines)


def map_figure(
    points: np.ndarray,
    colours: Sequence[str],
    texts: Sequence[str],
    *,
    colour_title: str,
    queries: Sequence[str] = (),
    query_points: np.ndarray | None = None,
    neighbours: Sequence[Sequence[int]] = (),
    axis_titles: tuple[str, str] = ("", ""),
) -> go.Figure:
    """`neighbours[q]` are positions in `points` of query q's matches."""
    fig = go.Figure()
    colours = np.asarray([str(c) for c in colours])
    hovers = np.asarray([hover_text(t) for t in texts])
    for value in sorted(set(colours.tolist()), key=lambda v: (len(v), v)):
        mask = colours == value
        fig.add_trace(
            go.Scattergl(
                x=points[mask, 0], y=points[mask, 1], mode="markers", name=html.escape(value)[:40],
                marker={"size": 7, "opacity": 0.75}, customdata=hovers[mask],
                hovertemplate="%{customdata}<extra>" + html.escape(value)[:40] + "</extra>",
            )
        )
    if query_points is not None and len(query_points):
        ringed = sorted({p for group in neighbours for p in group})
        if ringed:
            fig.add_trace(
                go.Scatter(
                    x=points[ringed, 0], y=points[ringed, 1], mode="markers", name="neighbours",
                    marker={"size": 15, "symbol": "circle-open", "color": "#d62728", "line": {"width": 2}},
                    hoverinfo="skip",
                )
            )
        for q, (_query, where) in enumerate(zip(queries, query_points)):
            for p in neighbours[q] if q < len(neighbours) else []:
                fig.add_trace(
                    go.Scatter(
                        x=[where[0], points[p, 0]], y=[where[1], points[p, 1]], mode="lines",
                        line={"color": "rgba(214,39,40,0.35)", "width": 1, "dash": "dot"},
                        hoverinfo="skip", showlegend=False,
                    )
                )
        fig.add_trace(
            go.Scatter(
                x=query_points[:, 0], y=query_points[:, 1], mode="markers+text", name="queries",
                text=[html.escape(q[:30]) for q in queries], textposition="top center",
                marker={"size": 16, "symbol": "star", "color": "#d62728", "line": {"width": 1, "color": "white"}},
                customdata=[hover_text(q) for q in queries],
                hovertemplate="query: %{customdata}<extra></extra>",
            )
        )
    fig.update_layout(
        height=560, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend_title_text=html.escape(colour_title),
        xaxis_title=axis_titles[0], yaxis_title=axis_titles[1], hoverlabel={"align": "left"},
    )
    return fig


def show_map(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False})
