"""Plotly charts of fine-tuning metrics: loss and token accuracy against step, several jobs
overlaid, smoothing, log scale, epoch boundaries; the legacy classification metrics.

Big series (a 100,000-step results file) are reduced to MAX_POINTS per line with LTTB
(`playground.fine_tuning.metrics.lttb`, which keeps the shape: peaks and dips survive) and drawn
with WebGL (Scattergl); see bench/bench_fine_tune_chart.py.
"""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from playground.fine_tuning.metrics import CLASSIFICATION, has_classification, lttb, smooth

MAX_POINTS = 2000  # per line
WEBGL_FROM = 1000  # points per line from which WebGL draws
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
SERIES = {
    "loss": (("train_loss", "train", "solid"), ("valid_loss", "valid", "dot"), ("full_valid_loss", "full valid", "dash")),
    "accuracy": (("train_accuracy", "train", "solid"), ("valid_accuracy", "valid", "dot"),
                 ("full_valid_accuracy", "full valid", "dash")),
}


def _line(x: pd.Series, y: pd.Series, name: str, color: str, dash: str, opacity: float = 1.0,
          show_legend: bool = True, max_points: int = MAX_POINTS) -> go.Scatter | go.Scattergl:
    keep = y.notna().to_numpy()
    xs, ys = x.to_numpy()[keep], y.to_numpy()[keep]
    if len(xs) > max_points:
        idx = lttb(xs.astype(float), ys.astype(float), max_points)
        xs, ys = xs[idx], ys[idx]
    trace = go.Scattergl if len(xs) >= WEBGL_FROM else go.Scatter
    mode = "lines" if len(xs) > 1 else "markers"
    return trace(x=xs, y=ys, name=html.escape(name), mode=mode, opacity=opacity, showlegend=show_legend,
                 line={"color": color, "dash": dash, "width": 2 if opacity == 1.0 else 1})


def metrics_figure(
    frames: dict[str, pd.DataFrame],
    metric: str,
    *,
    smoothing: float = 0.0,
    log_y: bool = False,
    boundaries: dict[str, list[int]] | None = None,
    max_points: int = MAX_POINTS,
) -> go.Figure:
    """`metric` ("loss" or "accuracy") of each job in `frames` (label -> frame) against step."""
    fig = go.Figure()
    for i, (label, frame) in enumerate(frames.items()):
        color = PALETTE[i % len(PALETTE)]
        for column, kind, dash in SERIES[metric]:
            values = frame[column]
            if values.notna().sum() == 0:
                continue
            name = f"{label} · {kind}" if len(frames) > 1 else kind
            if smoothing > 0:
                fig.add_trace(_line(frame["step"], values, name, color, dash, 0.25, False, max_points))
                values = smooth(values, smoothing)
            fig.add_trace(_line(frame["step"], values, name, color, dash, max_points=max_points))
    # One layout update (add_vline per line is slow with many epochs).
    fig.update_layout(shapes=[
        {"type": "line", "xref": "x", "yref": "paper", "x0": step, "x1": step, "y0": 0, "y1": 1, "opacity": 0.5,
         "line": {"width": 1, "dash": "dot", "color": PALETTE[i % len(PALETTE)]}}
        for i, steps in enumerate((boundaries or {}).values()) for step in steps
    ])
    title = "Loss" if metric == "loss" else "Token accuracy"
    fig.update_layout(
        title=title, xaxis_title="step", yaxis_title=title.lower(), height=340, margin={"t": 40, "b": 40, "l": 50, "r": 10},
        legend={"orientation": "h", "y": -0.25}, hovermode="x unified",
    )
    if log_y:
        fig.update_yaxes(type="log")
    elif metric == "accuracy":
        fig.update_yaxes(range=[0, 1.02])
    return fig


def classification_figure(frame: pd.DataFrame, smoothing: float = 0.0) -> go.Figure:
    fig = go.Figure()
    for i, name in enumerate(CLASSIFICATION):
        values = frame[f"classification_{name}"]
        if values.notna().any():
            fig.add_trace(_line(frame["step"], smooth(values, smoothing), name, PALETTE[i % len(PALETTE)], "solid"))
    fig.update_layout(title="Classification metrics (validation)", xaxis_title="step", height=320,
                      yaxis={"range": [0, 1.02]}, margin={"t": 40, "b": 40, "l": 50, "r": 10},
                      legend={"orientation": "h", "y": -0.25})
    return fig


def metrics_panel(frames: dict[str, pd.DataFrame], *, key: str, boundaries: dict[str, list[int]] | None = None) -> None:
    """Smoothing and log-scale controls, then the loss and accuracy charts (and classification
    metrics when a frame has them)."""
    frames = {label: f for label, f in frames.items() if not f.empty}
    if not frames:
        st.info("No metrics yet: they appear after the first training step.")
        return
    left, right = st.columns([3, 1])
    smoothing = left.slider("Smoothing", 0.0, 0.99, 0.0, 0.01, key=f"{key}_smoothing",
                            help="Exponential moving average; the raw values stay visible, faint.")
    log_y = right.toggle("Log scale (loss)", key=f"{key}_log")
    loss, accuracy = st.columns(2)
    loss.plotly_chart(metrics_figure(frames, "loss", smoothing=smoothing, log_y=log_y, boundaries=boundaries),
                      key=f"{key}_loss_chart")
    accuracy.plotly_chart(metrics_figure(frames, "accuracy", smoothing=smoothing, boundaries=boundaries),
                          key=f"{key}_accuracy_chart")
    for label, frame in frames.items():
        if has_classification(frame):
            st.plotly_chart(classification_figure(frame, smoothing), key=f"{key}_classification_{label}")
