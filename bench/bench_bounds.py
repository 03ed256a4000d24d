"""Benchmark: the engine's peak memory while it refuses three 50 MB JSON bodies at once.

    .venv/bin/python -m bench.bench_bounds [--mb 50]

Starts the engine twice and sends three `/v1/completions` bodies of MB megabytes each (a
valid JSON prompt of varied words) at the same moment, once declared (Content-Length) and
once chunked, then reads the process's peak RSS (VmHWM):
  bounded    the default engine: 413 before parsing (the JSON limit, 8 MB)
  unbounded  the same engine with --max-json-bytes 1 GB: the bodies are read, parsed and
             tokenized before the context-length 400 (how the engine behaved before bounds),
             the baseline
Ends with: BENCH bounds bounded_peak_mb=... unbounded_peak_mb=... ratio=... statuses=...
"""

from __future__ import annotations

import argparse
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.engine.test_bounds import _memory_kb, _post_raw
from tests.enginerunner import engine_pid, running_engine

KEY_ARGS = ("--api-key", "bench-key")


def _run(extra: tuple[str, ...], size: int) -> tuple[int, list[str]]:
    with tempfile.TemporaryDirectory() as tmp, running_engine(*KEY_ARGS, *extra, data_dir=Path(tmp)) as url:
        statuses = []
        for chunked in (False, True):
            with ThreadPoolExecutor(3) as pool:
                answers = pool.map(_post_raw, [url] * 3, [size] * 3, [chunked] * 3, ["bench-key"] * 3)
                statuses += [a.split(b" ")[1].decode() if a else "closed" for a in answers]
        return _memory_kb(engine_pid(url))["VmHWM"] // 1024, statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=50)
    args = parser.parse_args()
    size = args.mb * 1024 * 1024
    bounded, bounded_statuses = _run((), size)
    unbounded, unbounded_statuses = _run(("--max-json-bytes", str(1024**3)), size)
    print(
        f"BENCH bounds body_mb={args.mb} bodies=3x2 bounded_peak_mb={bounded} unbounded_peak_mb={unbounded} "
        f"baseline=unbounded ratio={bounded / unbounded:.2f} bounded_statuses={','.join(sorted(set(bounded_statuses)))} "
        f"unbounded_statuses={','.join(sorted(set(unbounded_statuses)))}"
    )


if __name__ == "__main__":
    main()
