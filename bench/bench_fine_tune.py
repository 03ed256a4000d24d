"""Benchmark: the Cookbook's baseball/hockey fine-tune on the local engine, judged on new wording.

    .venv/bin/python -m bench.bench_fine_tune [--held-out 100]

Starts the engine (no pauses between steps), uploads the 100 training posts of
`bench/data/baseball_hockey.py` (prompt = post + "\\n\\n###\\n\\n", completion = " baseball" or
" hockey"), runs a job with the default ("auto") hyperparameters through the openai SDK, then
asks base and fine-tuned models for one token at temperature 0 with logprobs=2 on held-out
posts whose sentence patterns and sport words do not occur in training (generated with seed 3;
the head's settings were chosen on the seed-2 draw).
  heldout_acc      share of held-out posts the fine-tuned model labels right
  heldout_p        mean probability it gives the right label
  base_acc         the same share for the base model, named baseline `local-text`
  train_acc        share of the training prompts labelled right
  job_s            seconds from job creation to success
Ends with: BENCH fine_tune heldout_acc=... heldout_p=... base_acc=... base_p=... train_acc=... job_s=...
"""

from __future__ import annotations

import argparse
import io
import json
import math
import tempfile
import time
from pathlib import Path

import openai

from bench.data.baseball_hockey import held_out_posts, training_posts
from tests.enginerunner import running_engine


def label_scores(client: openai.OpenAI, model: str, rows: list[dict]) -> tuple[float, float]:
    """(accuracy, mean probability of the right label) at temperature 0."""
    right, probs = 0, []
    for row in rows:
        r = client.completions.create(model=model, prompt=row["prompt"], max_tokens=1, temperature=0, logprobs=2)
        choice = r.choices[0]
        right += choice.text == row["completion"]
        top = choice.logprobs.top_logprobs[0]
        probs.append(math.exp(top[row["completion"]]) if row["completion"] in top else 0.0)
    return right / len(rows), sum(probs) / len(probs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--held-out", type=int, default=100)
    args = parser.parse_args()
    train, held_out = training_posts(), held_out_posts(args.held_out, seed=3)  # seed 2 was used to tune the head
    with tempfile.TemporaryDirectory() as tmp, running_engine("--fine-tune-pace", "0", data_dir=Path(tmp)) as url:
        client = openai.OpenAI(base_url=url, api_key="unused", max_retries=0)
        content = "".join(json.dumps(r) + "\n" for r in train).encode()
        file_id = client.files.create(file=("baseball_hockey.jsonl", io.BytesIO(content)), purpose="fine-tune").id
        t0 = time.perf_counter()
        job = client.fine_tuning.jobs.create(model="local-text", training_file=file_id, suffix="sport", seed=1)
        while job.status not in ("succeeded", "failed", "cancelled"):
            time.sleep(0.2)
            job = client.fine_tuning.jobs.retrieve(job.id)
        job_s = time.perf_counter() - t0
        if job.status != "succeeded":
            raise SystemExit(f"job {job.status}: {job.error}")
        fields = {}
        fields["heldout_acc"], fields["heldout_p"] = label_scores(client, job.fine_tuned_model, held_out)
        fields["base_acc"], fields["base_p"] = label_scores(client, "local-text", held_out)
        fields["train_acc"], _ = label_scores(client, job.fine_tuned_model, train)
        fields["job_s"] = job_s
    print("BENCH fine_tune " + " ".join(f"{k}={v:.3f}" for k, v in fields.items()))


if __name__ == "__main__":
    main()
