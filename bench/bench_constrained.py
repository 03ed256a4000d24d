"""Benchmark: generation speed of local-text with and without a grammar's token mask.

    .venv/bin/python -m bench.bench_constrained [--repeats 3] [--tokens 200]

In this process, the same prompt and seeds: `Generation` free (baseline, named
`unconstrained`) and under a JSON-schema mask (`local_engine.constrained`): an object with
one free string property, "text", so the mask is computed and applied at every one of the
--tokens steps (the string never closes: `<|endoftext|>` and the quote are banned by
logit_bias). Reports tokens/s of each (median of the repeats), the mask's cost per step and
the ratio constrained/unconstrained.
Ends with one line: BENCH constrained tokens_per_s=... baseline_tokens_per_s=... ratio=... mask_ms_per_step=...
"""

from __future__ import annotations

import argparse
import statistics
import time

from local_engine import chat_template, constrained, lm
from local_engine.config import default_cache_dir
from local_engine.sampling import Generation, SamplingParams, rng_for

SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"], "additionalProperties": False}


def timed(model: lm.TextModel, ctx: list[int], params: SamplingParams, seed: int, grammar: str | None) -> tuple[float, int]:
    constraint = constrained.Constraint(model, grammar, params.max_tokens) if grammar else None
    gen = Generation(model, ctx, params, rng_for(seed, 0, 0), constraint)
    start = time.perf_counter()
    for _ in gen:
        pass
    return time.perf_counter() - start, gen.n_tokens


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=200)
    args = parser.parse_args()
    model = lm.base_model(default_cache_dir())  # the engine's own cache: trained once
    constrained.vocab(model)  # the tokenizer is built once per process: not part of a run
    prompt = model.encoding.encode(chat_template.render([{"role": "user", "content": "Describe a socket."}]), disallowed_special=())
    ctx = [model.encoding.eot_token, *prompt]
    quote_ids = [int(i) for i in constrained.vocab(model).quote_ids]
    bias = {model.encoding.eot_token: -100.0, **{i: -100.0 for i in quote_ids}}
    params = SamplingParams(max_tokens=args.tokens, logit_bias=bias)
    grammar = constrained.json_schema_grammar(SCHEMA)
    free, masked = [], []
    for seed in range(args.repeats):
        seconds, n = timed(model, ctx, params, seed, None)
        free.append(n / seconds)
        seconds, n = timed(model, ctx, params, seed, grammar)
        masked.append(n / seconds)
    base, rate = statistics.median(free), statistics.median(masked)
    mask_ms = (1 / rate - 1 / base) * 1000
    print(f"unconstrained {base:.1f} tokens/s, constrained {rate:.1f} tokens/s ({args.tokens} tokens, {args.repeats} repeats)")
    print(f"BENCH constrained tokens_per_s={rate:.1f} baseline_tokens_per_s={base:.1f} ratio={rate / base:.3f} "
          f"mask_ms_per_step={mask_ms:.2f} baseline=unconstrained")


if __name__ == "__main__":
    main()
