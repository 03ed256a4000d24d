"""Benchmark: the local engine's streamed completions with logprobs=5.

    .venv/bin/python -m bench.bench_engine [--repeats 5] [--tokens 256]

Starts the engine as a subprocess (a fresh cache dir, so the first start trains the tables;
a second start loads them), sends a 1,000-token prompt to /v1/completions with
`stream: true, logprobs: 5, max_tokens: 256` (<|endoftext|> banned so every run generates
all 256 tokens) and measures over HTTP:
  tokens_per_s  completion tokens / (last chunk - request sent), median of the repeats
  ttft_ms       request sent -> first chunk with text, median
Baseline, in this process: the bare model loop (`next_dist` + sampling + `top_k(5)`, no HTTP,
no JSON), named `inproc_model_loop`; the ratio engine/baseline is the HTTP + JSON overhead.
Ends with one line: BENCH engine tokens_per_s=... ttft_ms=... ...
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from local_engine import lm
from local_engine.sampling import SamplingParams, choose
from tests.enginerunner import running_engine

ROOT = Path(__file__).resolve().parent.parent


def prompt_tokens(model: lm.TextModel, n: int) -> list[int]:
    tokens, _ = lm.corpus_tokens(model.encoding)
    ids = [int(t) for t in tokens[1 : n + 1]]
    return [t for t in ids if t != model.encoding.eot_token][:n]


def timed_start(data_dir: Path, cache_dir: Path) -> float:
    t0 = time.perf_counter()
    with running_engine(data_dir=data_dir, cache_dir=cache_dir):
        return time.perf_counter() - t0


def stream_once(url: str, prompt: list[int], max_tokens: int, seed: int, eot: int) -> tuple[float, float, int]:
    body = {
        "model": "local-text",
        "prompt": prompt,
        "max_tokens": max_tokens,
        "logprobs": 5,
        "temperature": 1.0,
        "seed": seed,
        "stream": True,
        "stream_options": {"include_usage": True},
        "logit_bias": {str(eot): -100},
    }
    t0 = time.perf_counter()
    ttft = None
    tokens = 0
    with httpx.stream("POST", f"{url}/completions", json=body, timeout=120) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            event = json.loads(line[6:])
            if event["choices"] and event["choices"][0]["text"] and ttft is None:
                ttft = time.perf_counter() - t0
            if not event["choices"]:
                tokens = event["usage"]["completion_tokens"]
    total = time.perf_counter() - t0
    return tokens / total, (ttft or total) * 1000, tokens


def baseline(model: lm.TextModel, prompt: list[int], max_tokens: int) -> float:
    params = SamplingParams(temperature=1.0, logit_bias={model.encoding.eot_token: -100})
    rng = np.random.default_rng(0)
    ctx = [model.encoding.eot_token, *prompt]
    t0 = time.perf_counter()
    for _ in range(max_tokens):
        dist = model.next_dist(ctx)
        tok = choose(dist, params, {}, rng)
        model.top_k(dist, 5)
        ctx.append(tok)
    return max_tokens / (time.perf_counter() - t0)


def ban_step_ms(model: lm.TextModel, prompt: list[int], temperature: float, steps: int = 300) -> float:
    """ms per choose() with <|endoftext|> banned. At temperature 1 the ban scales one id; just
    off 1 it takes the general path (a log and an exp over the vocabulary), the named baseline."""
    params = SamplingParams(temperature=temperature, logit_bias={model.encoding.eot_token: -100})
    rng = np.random.default_rng(0)
    dist = model.next_dist([model.encoding.eot_token, *prompt])
    t0 = time.perf_counter()
    for _ in range(steps):
        choose(dist, params, {}, rng)
    return 1000 * (time.perf_counter() - t0) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--prompt-tokens", type=int, default=1000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        cache = tmp_path / "cache"
        first_start = timed_start(tmp_path, cache)  # trains the tables
        cached_start = timed_start(tmp_path, cache)  # loads them
        model = lm.TextModel.load(cache)
        prompt = prompt_tokens(model, args.prompt_tokens)
        eot = model.encoding.eot_token
        base = statistics.median(baseline(model, prompt, args.tokens) for _ in range(3))
        ban_ms = statistics.median(ban_step_ms(model, prompt, 1.0) for _ in range(3))
        general_ms = statistics.median(ban_step_ms(model, prompt, 0.999) for _ in range(3))
        with running_engine(data_dir=tmp_path, cache_dir=cache) as url:
            stream_once(url, prompt, 8, 0, eot)  # warm-up
            runs = [stream_once(url, prompt, args.tokens, seed, eot) for seed in range(args.repeats)]
    tps = statistics.median(r[0] for r in runs)
    ttft = statistics.median(r[1] for r in runs)
    assert all(r[2] == args.tokens for r in runs), runs
    print(f"prompt {len(prompt)} tokens, {args.tokens} generated, logprobs=5, streamed, {args.repeats} repeats")
    print(f"engine first start (train tables) {first_start:.2f}s, cached start {cached_start:.2f}s (process start to /health)")
    print(f"engine: {tps:.0f} tokens/s, TTFT {ttft:.1f} ms (medians); runs: " + ", ".join(f"{r[0]:.0f}" for r in runs))
    print(f"baseline inproc_model_loop (next_dist + choose + top_k(5), no HTTP): {base:.0f} tokens/s")
    print(f"BENCH sampling_ban choose_ms={ban_ms:.3f} baseline=general_path_t0.999 baseline_ms={general_ms:.3f} "
          f"ratio={ban_ms / general_ms:.2f}")
    print(
        f"BENCH engine tokens_per_s={tps:.1f} ttft_ms={ttft:.1f} baseline=inproc_model_loop "
        f"baseline_tokens_per_s={base:.1f} ratio={tps / base:.2f} first_start_s={first_start:.2f} "
        f"cached_start_s={cached_start:.2f}"
    )


if __name__ == "__main__":
    main()
