"""Plotly charts of fine-tuning metrics: loss and token accuracy of any number of runs overlaid,
against step, epoch or tokens seen; TensorBoard's smoothing; exact values on hover; epoch
boundaries; zoom (plotly's own: drag a box, double-click to reset); batch and whole-set
validation told apart; learning rate and grad norm; the legacy classification metrics; the
checkpoint advisor.

Big series (a 100,000-step results file) are reduced to MAX_POINTS per line with LTTB
(`playground.fine_tuning.metrics.lttb`, which keeps the shape: peaks and dips survive) and drawn
with WebGL (Scattergl); see bench/bench_fine_tune_chart.py.
"""

from __future__ import annotations

import html
from typing import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from playground.fine_tuning.advisor import OPENAI_CONVENTIONS, advise
from playground.fine_tuning.logs import Run
from playground.fine_tuning.metrics import CLASSIFICATION, epoch_boundaries, has_classification, lttb, smooth

MAX_POINTS = 2000  # per line
WEBGL_FROM = 1000  # points per line from which WebGL draws
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")
X_AXES = {"step": "step", "epoch": "epoch", "tokens": "tokens seen"}
# column, legend name, dash, markers: the whole-set series are sparse (one per epoch or eval), so dotted markers.
SERIES = {
    "loss": (("train_loss", "train", "solid", False), ("valid_loss", "valid (one batch)", "dot", False),
             ("full_valid_loss", "full valid (whole set)", "dash", True)),
    "accuracy": (("train_accuracy", "train", "solid", False), ("valid_accuracy", "valid (one batch)", "dot", False),
                 ("full_valid_accuracy", "full valid (whole set)", "dash", True)),
    "optimizer": (("learning_rate", "learning rate", "solid", False), ("grad_norm", "grad norm", "dot", False)),
}
_MARKDOWN = set("\\`*_[]<>|~$#")
TITLES = {"loss": "Loss", "accuracy": "Token accuracy", "optimizer": "Learning rate and grad norm"}


def _line(x: pd.Series, y: pd.Series, name: str, color: str, dash: str, *, raw: pd.Series | None = None,
          faint: bool = False, markers: bool = False, max_points: int = MAX_POINTS,
          yaxis: str = "y") -> go.Scatter | go.Scattergl:
    keep = (y.notna() & x.notna()).to_numpy()
    xs, ys = x.to_numpy()[keep], y.to_numpy()[keep]
    extra = raw.to_numpy()[keep] if raw is not None else None
    if len(xs) > max_points:
        idx = lttb(xs.astype(float), ys.astype(float), max_points)
        xs, ys = xs[idx], ys[idx]
        extra = extra[idx] if extra is not None else None
    trace = go.Scattergl if len(xs) >= WEBGL_FROM else go.Scatter
    mode = "lines+markers" if markers and len(xs) > 1 else ("lines" if len(xs) > 1 else "markers")
    name = html.escape(name)
    hover = f"{name}: %{{y:.5g}}" + (" (raw %{customdata:.5g})" if extra is not None else "") + "<extra></extra>"
    return trace(x=xs, y=ys, name=name, mode=mode, opacity=0.25 if faint else 1.0, showlegend=not faint,
                 customdata=extra, hovertemplate=hover, hoverinfo="skip" if faint else None, yaxis=yaxis,
                 line={"color": color, "dash": dash, "width": 1 if faint else 2}, marker={"size": 5})


def metrics_figure(
    frames: dict[str, pd.DataFrame],
    metric: str,
    *,
    x: str = "step",
    smoothing: float = 0.0,
    log_y: bool = False,
    boundaries: bool = True,
    max_points: int = MAX_POINTS,
) -> go.Figure:
    """`metric` ("loss", "accuracy" or "optimizer") of each run in `frames` (label -> frame)
    against column `x`; runs without that column are left out (see `missing_x`)."""
    fig = go.Figure()
    shapes = []
    for i, (label, frame) in enumerate(frames.items()):
        if frame[x].notna().sum() == 0:
            continue
        color = PALETTE[i % len(PALETTE)]
        for column, kind, dash, markers in SERIES[metric]:
            values = frame[column]
            if values.notna().sum() == 0:
                continue
            name = f"{label} · {kind}" if len(frames) > 1 else kind
            axis = "y2" if column == "grad_norm" else "y"
            if smoothing > 0 and not markers:  # whole-set points are few and exact: not smoothed
                fig.add_trace(_line(frame[x], values, name, color, dash, faint=True, max_points=max_points, yaxis=axis))
                fig.add_trace(_line(frame[x], smooth(values, smoothing), name, color, dash, raw=values,
                                    max_points=max_points, yaxis=axis))
            else:
                fig.add_trace(_line(frame[x], values, name, color, dash, markers=markers, max_points=max_points,
                                    yaxis=axis))
        if boundaries:
            shapes += [{"type": "line", "xref": "x", "yref": "paper", "x0": at, "x1": at, "y0": 0, "y1": 1,
                        "opacity": 0.5, "line": {"width": 1, "dash": "dot", "color": color}}
                       for at in epoch_boundaries(frame, x)]
    title = TITLES[metric]
    fig.update_layout(  # one layout update: add_vline per line is slow with many epochs
        shapes=shapes, title=title, xaxis_title=X_AXES[x], yaxis_title=title.lower(), height=340,
        margin={"t": 40, "b": 40, "l": 50, "r": 10}, legend={"orientation": "h", "y": -0.25},
        hovermode="x unified", dragmode="zoom",
    )
    if metric == "optimizer":
        fig.update_layout(yaxis_title="learning rate", yaxis_exponentformat="e",
                          yaxis2={"title": "grad norm", "overlaying": "y", "side": "right"})
    if log_y:
        fig.update_yaxes(type="log")
    elif metric == "accuracy":
        fig.update_yaxes(range=[0, 1.02])
    return fig


def missing_x(frames: dict[str, pd.DataFrame], x: str) -> list[str]:
    """The runs that cannot be drawn against `x` (their log does not have it)."""
    return [label for label, frame in frames.items() if frame[x].notna().sum() == 0]


def classification_figure(frame: pd.DataFrame, smoothing: float = 0.0, x: str = "step") -> go.Figure:
    fig = go.Figure()
    for i, name in enumerate(CLASSIFICATION):
        values = frame[f"classification_{name}"]
        if values.notna().any():
            fig.add_trace(_line(frame[x], smooth(values, smoothing), name, PALETTE[i % len(PALETTE)], "solid"))
    fig.update_layout(title="Classification metrics (validation)", xaxis_title=X_AXES[x], height=320,
                      yaxis={"range": [0, 1.02]}, margin={"t": 40, "b": 40, "l": 50, "r": 10},
                      legend={"orientation": "h", "y": -0.25}, hovermode="x unified")
    return fig


def metrics_panel(runs: list[Run], *, key: str) -> None:
    """Axis, smoothing and log-scale controls, then the loss and accuracy charts (learning rate,
    grad norm and classification metrics when a run has them)."""
    frames = {}
    for run in runs:
        if not run.frame.empty:
            label = run.label if run.label not in frames else f"{run.label} ({len(frames) + 1})"
            frames[label] = run.frame
    if not frames:
        st.info("No metrics yet: they appear after the first logged step.")
        return
    left, middle, right = st.columns([2, 3, 1])
    x = left.segmented_control("X axis", list(X_AXES), default="step", key=f"{key}_x",
                               format_func=lambda k: X_AXES[k]) or "step"
    smoothing = middle.slider("Smoothing", 0.0, 0.99, 0.0, 0.01, key=f"{key}_smoothing",
                              help="TensorBoard's: a debiased exponential moving average. The raw values stay "
                                   "visible, faint; hover shows both.")
    log_y = right.toggle("Log scale (loss)", key=f"{key}_log")
    if missing := missing_x(frames, x):
        st.caption(f"Not drawn against {X_AXES[x]} (their logs do not record it): " + ", ".join(missing))
    loss, accuracy = st.columns(2)
    loss.plotly_chart(metrics_figure(frames, "loss", x=x, smoothing=smoothing, log_y=log_y), key=f"{key}_loss_chart")
    if any(f[c].notna().any() for f in frames.values() for c, *_ in SERIES["accuracy"]):
        accuracy.plotly_chart(metrics_figure(frames, "accuracy", x=x, smoothing=smoothing),
                              key=f"{key}_accuracy_chart")
    if any(f[c].notna().any() for f in frames.values() for c, *_ in SERIES["optimizer"]):
        accuracy.plotly_chart(metrics_figure(frames, "optimizer", x=x, smoothing=smoothing),
                              key=f"{key}_optimizer_chart")
    for label, frame in frames.items():
        if has_classification(frame):
            st.plotly_chart(classification_figure(frame, smoothing, x), key=f"{key}_classification_{label}")
    st.caption(OPENAI_CONVENTIONS)


def plain(text: object) -> str:
    """Text from a log, a file or a server, shown as itself inside a Markdown message: the
    characters Markdown (and HTML) act on are escaped, the rest left readable."""
    return "".join(f"\\{c}" if c in _MARKDOWN else c for c in str(text))


def advisor_panel(runs: list[Run], *, key: str, try_checkpoint: Callable[[str], None] | None = None) -> None:
    """Per run: the best checkpoint by validation loss, the overfitting flag, and a button that
    tries the checkpoint when the provider serves it."""
    for i, run in enumerate(runs):
        advice = advise(run.frame, run.checkpoints)
        head = f"**{plain(run.label)}** · "
        if advice.series is None:
            st.caption(f"{plain(run.label)}: no validation loss in this log, so no checkpoint advice.")
            continue
        lines = [f"Lowest validation loss ({advice.series}): {advice.best_loss:.4f} at step {advice.best_step}."]
        if advice.best_checkpoint is not None:
            lines.append(f"Best saved checkpoint: {plain(advice.best_checkpoint.name)} (step "
                         f"{advice.best_checkpoint.step}, validation loss {advice.best_checkpoint_loss:.4f}).")
        elif run.checkpoints == [] and run.source != "job":
            lines.append("No checkpoints found beside this log.")
        lines.extend(plain(note) for note in run.notes)
        (st.warning if advice.overfitting else st.success)(
            head + "  \n".join(lines) + (f"  \n{advice.overfitting}" if advice.overfitting else ""),
            icon=":material/trending_up:" if advice.overfitting else ":material/check:")
        checkpoint = advice.best_checkpoint
        if checkpoint is not None and checkpoint.model and try_checkpoint is not None:
            if st.button(f"Try checkpoint step {checkpoint.step}", key=f"{key}_try_{i}", icon=":material/play_arrow:"):
                try_checkpoint(checkpoint.model)

