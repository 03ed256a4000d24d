"""The 2-D map of a corpus' embeddings: points coloured by a column or a cluster, the text on
hover (escaped: it is user data), queries as stars and their neighbours ringed.

What does not change between runs is kept per session (the sample, the PCA axes, the
clusters, the hover texts, the figure itself): a search moves only the queries and their
neighbours, placed with the axes already fitted."""

from __future__ import annotations

import html
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.colors import qualitative

from components.state import kept_until
from playground.embeddings import projection
from playground.embeddings.corpus import CHUNK, SOURCE_ROW, TEXT

HOVER_CHARS = 200
# 50 distinct colours (plotly's default cycle has 10: an eleventh category repeated the first's blue)
PALETTE = list(dict.fromkeys(qualitative.Dark24 + qualitative.Alphabet))
HEADING_COLUMNS = 2  # hover names a point by the corpus' first columns (its title...)


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
    hovers: Sequence[str],
    *,
    colour_title: str,
    queries: Sequence[str] = (),
    query_points: np.ndarray | None = None,
    neighbours: Sequence[Sequence[int]] = (),
    axis_titles: tuple[str, str] = ("", ""),
) -> go.Figure:
    """`hovers` are hover_text() of each point's text; `neighbours[q]` are positions in
    `points` of query q's matches. Traces are plain dicts in one Figure built without
    plotly's per-property validation: for 5,000 points that took most of a search's map."""
    traces: list[dict] = []
    colours = np.asarray([str(c) for c in colours])
    hovers = np.asarray(hovers)
    for n, value in enumerate(sorted(set(colours.tolist()), key=lambda v: (len(v), v))):
        mask = colours == value
        traces.append({
            "type": "scattergl", "x": points[mask, 0], "y": points[mask, 1], "mode": "markers", "name": html.escape(value)[:40],
            "marker": {"size": 7, "opacity": 0.75, "color": PALETTE[n % len(PALETTE)]}, "customdata": hovers[mask],
            "hovertemplate": "%{customdata}<extra>" + html.escape(value)[:40] + "</extra>",
        })
    if query_points is not None and len(query_points):
        ringed = sorted({p for group in neighbours for p in group})
        if ringed:
            traces.append({
                "type": "scatter", "x": points[ringed, 0], "y": points[ringed, 1], "mode": "markers", "name": "neighbours",
                "marker": {"size": 15, "symbol": "circle-open", "color": "#d62728", "line": {"width": 2}},
                "hoverinfo": "skip",
            })
        for q, (_query, where) in enumerate(zip(queries, query_points)):
            for p in neighbours[q] if q < len(neighbours) else []:
                traces.append({
                    "type": "scatter", "x": [where[0], points[p, 0]], "y": [where[1], points[p, 1]], "mode": "lines",
                    "line": {"color": "rgba(214,39,40,0.35)", "width": 1, "dash": "dot"},
                    "hoverinfo": "skip", "showlegend": False,
                })
        for q, (query, where) in enumerate(zip(queries, query_points)):  # one legend entry each: labels on the map piled up
            traces.append({
                "type": "scatter", "x": [where[0]], "y": [where[1]], "mode": "markers", "name": f"query {q + 1}: {html.escape(query[:30])}",
                "marker": {"size": 16, "symbol": "star", "color": "#d62728", "line": {"width": 1, "color": "white"}},
                "customdata": [hover_text(query)], "hovertemplate": f"query {q + 1}: %{{customdata}}<extra></extra>",
            })
    layout = {
        "height": 560, "margin": {"l": 10, "r": 10, "t": 30, "b": 10}, "legend": {"title": {"text": html.escape(colour_title)}},
        "xaxis": {"title": {"text": axis_titles[0]}}, "yaxis": {"title": {"text": axis_titles[1]}}, "hoverlabel": {"align": "left"},
    }
    return go.Figure(data=traces, layout=layout, _validate=False)


def heading_columns(documents: pd.DataFrame) -> list[str]:
    """The corpus' first columns that are not bookkeeping nor a copy of the embedded text."""
    head = documents.head(50)
    return [
        c for c in documents.columns
        if c not in (TEXT, SOURCE_ROW, CHUNK) and not (head[c].astype(str) == head[TEXT]).all()
    ][:HEADING_COLUMNS]


def hovers_of(documents: pd.DataFrame, positions: np.ndarray, columns: Sequence[str]) -> list[str]:
    """Each row's hover: its heading columns (bold, escaped), then its text."""
    rows = documents.iloc[positions]
    values = zip(*(rows[c].astype(str) for c in columns)) if columns else ((),) * len(rows)
    out = []
    for heading, text in zip(values, rows[TEXT]):
        named = " · ".join(f"{c}: {v}" for c, v in zip(columns, heading))[:120]
        out.append((f"<b>{html.escape(named)}</b><br>" if named else "") + hover_text(text))
    return out


def show_map(fig: go.Figure, key: str) -> None:
    st.plotly_chart(fig, key=key, config={"displaylogo": False})


def _kept(name: str, key: Any, compute: Callable[[], Any]) -> Any:
    return kept_until(f"_emb_map:{name}", key, compute)


def corpus_map(index: dict, results: dict | None, *, method: str, colour_by: str, clusters: int, key: str) -> int:
    """Draw the map of `index` (the page's searchable corpus) with the last search's queries
    and matches; returns how many points it shows."""
    matrix, documents, signature = index["matrix"], index["documents"], index["signature"]
    base = _kept("base", signature, lambda: projection.sample_positions(len(matrix)))
    matched = np.unique([h.position for hits in results["hits"] for h in hits]) if results else np.zeros(0, np.int64)
    extra = np.setdiff1d(matched, base).astype(np.int64)  # matches outside the sample join it
    shown = np.concatenate([base, extra])
    queries = results["vectors"] if results else None
    search_key = results["serial"] if results else None
    if method == projection.PCA:
        pca = _kept("pca", signature, lambda: projection.fit_pca(matrix[base]))
        base_points = _kept("pca_points", signature, lambda: pca.apply(matrix[base]))
        points = np.vstack([base_points, pca.apply(matrix[extra])])
        query_points = pca.apply(queries) if queries is not None else None
        explained = pca.explained
    else:
        mapped = _kept("other", (signature, method, search_key), lambda: projection.project(matrix[shown], method, queries))
        points, query_points, explained = mapped.points, mapped.extra, None
    if colour_by == "k-means cluster":
        labels, centres = _kept("kmeans", (signature, clusters), lambda: projection.fit_kmeans(matrix[base], clusters))
        numbers = np.concatenate([labels, projection.nearest_centre(centres, matrix[extra])])
        colours = [f"cluster {c + 1}" for c in numbers]
    else:
        colours = documents[colour_by].iloc[shown].astype(str).tolist()
    columns = _kept("heading", signature, lambda: heading_columns(documents))
    base_hovers = _kept("hovers", signature, lambda: hovers_of(documents, base, columns))
    hovers = base_hovers + hovers_of(documents, extra, columns)
    where = {int(p): i for i, p in enumerate(shown)}

    def figure() -> go.Figure:
        return map_figure(
            points, colours, hovers, colour_title=colour_by,
            queries=results["queries"] if results else (), query_points=query_points,
            neighbours=[[where[h.position] for h in hits] for hits in results["hits"]] if results else (),
            axis_titles=(f"PC1 ({explained[0]:.0%})", f"PC2 ({explained[1]:.0%})") if explained else ("", ""),
        )

    show_map(_kept("figure", (signature, method, colour_by, clusters, search_key), figure), key=key)
    return len(shown)
