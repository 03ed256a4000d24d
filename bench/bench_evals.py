"""Benchmark: an eval's throughput against the local engine, by concurrency.

    .venv/bin/python -m bench.bench_evals [--rows 60] [--max-tokens 8]

Starts one engine, then runs the same eval (ROWS rows x 1 configuration, local-text, streamed
with logprobs, the label grader) with 1 worker thread (the baseline, named `serial`) and with
4, in this process:
  cells_per_s_serial / cells_per_s_c4  finished cells per second of wall time
  ratio                                c4 / serial (the engine's own concurrency on 2 cores
                                       bounds it; the runner adds threads, not work)
  overhead_ms                          per cell: serial wall time minus the sum of the cells'
                                       own latencies (grading, bookkeeping, client set-up)
Ends with one line: BENCH evals cells_per_s_serial=... cells_per_s_c4=... ratio=... overhead_ms=...
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from playground.evals.config import EvalConfig
from playground.evals.dataset import Dataset, Template
from playground.evals.graders import Grader
from playground.evals.runner import Eval, run_cells
from playground.providers import Connection
from tests.enginerunner import running_engine


def make_eval(url: str, rows: int, max_tokens: int) -> Eval:
    dataset = Dataset(["text", "label"], [{"text": f"Review {i}: the meal was {'great' if i % 2 else 'awful'}.",
                                           "label": "positive" if i % 2 else "negative"} for i in range(rows)], "bench")
    config = EvalConfig("local-text", Connection("compatible", base_url=url), {"temperature": 0.0, "max_tokens": max_tokens})
    return Eval(dataset, Template(prompt="{{text}}\nSentiment:", expected="label"), [config], [Grader("label")])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=60)
    parser.add_argument("--max-tokens", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, running_engine(data_dir=Path(tmp)) as url:
        run_cells(make_eval(url, 4, args.max_tokens))  # warm up the engine's tables
        results = {}
        for workers in (1, 4):
            ev = make_eval(url, args.rows, args.max_tokens)
            t0 = time.perf_counter()
            progress = run_cells(ev, concurrency=workers)
            wall = time.perf_counter() - t0
            assert progress.done == args.rows and progress.failed == 0
            latencies = sum(c.latency or 0 for c in ev.cells.values())
            results[workers] = (args.rows / wall, (wall - latencies) / args.rows * 1000)
            print(f"concurrency {workers}: {wall:.2f} s for {args.rows} cells")
    serial, c4 = results[1][0], results[4][0]
    print(f"BENCH evals cells_per_s_serial={serial:.1f} cells_per_s_c4={c4:.1f} ratio={c4 / serial:.2f} "
          f"overhead_ms={results[1][1]:.1f} rows={args.rows} max_tokens={args.max_tokens}")


if __name__ == "__main__":
    main()
