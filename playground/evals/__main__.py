"""python -m playground.evals run SPEC.toml [--output report.jsonl] [--csv report.csv]

Runs the eval a TOML spec describes (see playground/evals/spec.py), prints the summary, and
exits 0 when every configuration reaches the threshold, 1 when one does not (or cells
failed), 2 when the spec cannot be run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playground.engine_process import EngineStartError, local_engine
from playground.evals.report import summary_text, to_csv, to_jsonl
from playground.evals.runner import run_cells
from playground.evals.spec import SpecError, below_threshold, load_spec
from playground.providers import Connection


def _local() -> Connection:
    engine = local_engine()
    return Connection("local", api_key=engine.api_key, base_url=engine.base_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m playground.evals", description="Run an eval described in a TOML file.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run SPEC and print the summary")
    run.add_argument("spec", type=Path)
    run.add_argument("--output", type=Path, help="write every cell as JSONL here")
    run.add_argument("--csv", type=Path, help="write every cell as CSV here")
    run.add_argument("--threshold", type=float, help="override the spec's threshold")
    args = parser.parse_args(argv)
    try:
        spec = load_spec(args.spec, local=_local)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except EngineStartError as exc:
        print(f"error: the local engine could not start: {exc}", file=sys.stderr)
        return 2
    ev = spec.eval
    progress = run_cells(ev, concurrency=spec.concurrency)
    print(summary_text(ev))
    print(f"{progress.done} cells in {progress.elapsed:.1f} s, {progress.waits} rate-limit waits")
    if args.output:
        args.output.write_text(to_jsonl(ev), encoding="utf-8")
    if args.csv:
        args.csv.write_text(to_csv(ev), encoding="utf-8")
    threshold = args.threshold if args.threshold is not None else spec.threshold
    failing = below_threshold(ev, threshold)
    for line in failing:
        print(f"FAIL {line}")
    if not failing:
        print("PASS" + (f" (threshold {threshold:g})" if threshold is not None else ""))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
