"""Benchmark: local-image variations, in process and over HTTP.

    .venv/bin/python -m bench.bench_image_variations [--seeds 10]

Source: the "Lake at sunset" sample prepared for the API and scaled to 1024x1024.
  var_<size>_ms   one variation (plan + render + PNG), median over the seeds, per output size
  http_1024_ms    POST /v1/images/variations n=10 size=1024x1024 b64_json through the SDK,
                  wall time / 10 (decode of the upload, 10 variations, base64, JSON, transfer)
Baseline, in this process: `resize_and_png`, a plain LANCZOS resize of the source to the output
size and the same PNG encoding: the least any variation can cost. Ratio = variation / baseline.
Ends with one line: BENCH image_variations ...
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import openai
from PIL import Image

from local_engine import imagery
from playground.images import Preparation, load_picture, prepare_for_api, sample_pictures
from tests.enginerunner import running_engine

ROOT = Path(__file__).resolve().parent.parent


def median_ms(run, repeats: int) -> float:  # noqa: ANN001 - a callable of the repeat index
    times = []
    for i in range(repeats):
        started = time.perf_counter()
        run(i)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()

    prepared = prepare_for_api(load_picture(sample_pictures()["Lake at sunset"]), Preparation(max_side=None))
    source = Image.open(io.BytesIO(prepared.png)).convert("RGB").resize((1024, 1024), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    source.save(out, "PNG")
    source_png = out.getvalue()

    figures: dict[str, float] = {}
    for side in (256, 512, 1024):
        def baseline(_: int, side: int = side) -> None:
            buffer = io.BytesIO()
            source.resize((side, side), Image.Resampling.LANCZOS).save(buffer, "PNG", compress_level=2)

        def variation(i: int, side: int = side) -> None:
            imagery.variation_png(source, imagery.plan(imagery.variation_seed(source_png, i)), side)

        figures[f"baseline_{side}_ms"] = median_ms(baseline, args.seeds)
        figures[f"var_{side}_ms"] = median_ms(variation, args.seeds)
        figures[f"ratio_{side}"] = figures[f"var_{side}_ms"] / figures[f"baseline_{side}_ms"]
        print(f"{side}x{side}: variation {figures[f'var_{side}_ms']:.0f} ms, "
              f"resize_and_png {figures[f'baseline_{side}_ms']:.0f} ms, ratio {figures[f'ratio_{side}']:.1f}")

    with tempfile.TemporaryDirectory() as data_dir, running_engine(data_dir=Path(data_dir)) as url:
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0, timeout=300)
        started = time.perf_counter()
        result = client.images.create_variation(image=source_png, n=10, size="1024x1024", response_format="b64_json")
        figures["http_1024_ms"] = (time.perf_counter() - started) * 1000 / len(result.data)
    print(f"over HTTP, n=10 at 1024x1024: {figures['http_1024_ms']:.0f} ms per variation")

    print("BENCH image_variations baseline=resize_and_png " + " ".join(
        f"{key}={value:.2f}" if key.startswith("ratio") else f"{key}={value:.0f}" for key, value in figures.items()
    ))


if __name__ == "__main__":
    main()
