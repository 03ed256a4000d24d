"""A 100,000-row fine-tuning results CSV to a ready plotly figure: parse + build + serialize.

Baseline ("naive"): every point drawn with SVG go.Scatter. Ours: components.fine_tune_charts
(LTTB to at most MAX_POINTS per line, WebGL). Both in this process, same data; the time includes
the JSON the browser would receive (fig.to_json), whose size is reported too.

Run: .venv/bin/python -m bench.bench_fine_tune_chart
"""

from __future__ import annotations

import time

import numpy as np
import plotly.graph_objects as go

from components.fine_tune_charts import metrics_figure
from playground.fine_tuning.metrics import parse_results, with_epochs

ROWS = 100_000
REPEATS = 5


def results_csv(rows: int = ROWS) -> str:
    rng = np.random.default_rng(0)
    step = np.arange(1, rows + 1)
    loss = 2.5 * np.exp(-step / 15000) + 0.2 + rng.normal(0, 0.15, rows).clip(-0.19)
    acc = 1 - loss / 3
    lines = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
    for s, lo, a in zip(step, loss, acc):
        valid = f"{lo + 0.05:.5f},{a - 0.02:.5f}" if s % 10 == 0 else ","
        lines.append(f"{s},{lo:.5f},{a:.5f},{valid}")
    return "\n".join(lines) + "\n"


def naive(text: str) -> tuple[go.Figure, int]:
    frame = parse_results(text)
    fig = go.Figure()
    for column in ("train_loss", "valid_loss"):
        keep = frame[column].notna()
        fig.add_trace(go.Scatter(x=frame["step"][keep], y=frame[column][keep], mode="lines", name=column))
    return fig, sum(len(t.x) for t in fig.data)


def ours(text: str) -> tuple[go.Figure, int]:
    frame = parse_results(text)
    fig = metrics_figure({"job": with_epochs(frame, ROWS / 3)}, "loss")  # 3 epochs: 2 boundaries
    return fig, sum(len(t.x) for t in fig.data)


def timed(build, text: str) -> tuple[float, int, int]:
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fig, points = build(text)
        payload = fig.to_json()
        best = min(best, time.perf_counter() - t0)
    return best, points, len(payload)


def main() -> None:
    text = results_csv()
    t0 = time.perf_counter()
    parse_results(text)
    parse_s = time.perf_counter() - t0
    naive_s, naive_points, naive_bytes = timed(naive, text)
    ours_s, our_points, our_bytes = timed(ours, text)
    print(f"rows: {ROWS:,}; parse alone: {parse_s * 1000:.0f} ms")
    print(f"naive SVG, every point : {naive_s * 1000:7.0f} ms, {naive_points:7,} points, {naive_bytes / 1e6:5.2f} MB JSON")
    print(f"LTTB + WebGL           : {ours_s * 1000:7.0f} ms, {our_points:7,} points, {our_bytes / 1e6:5.2f} MB JSON")
    print(f"BENCH fine_tune_chart rows={ROWS} naive_ms={naive_s * 1000:.0f} naive_points={naive_points} "
          f"ours_ms={ours_s * 1000:.0f} ours_points={our_points} speedup={naive_s / ours_s:.2f} "
          f"points_ratio={naive_points / our_points:.1f} json_ratio={naive_bytes / our_bytes:.1f}")


if __name__ == "__main__":
    main()
