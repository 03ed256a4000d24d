"""The page's forecast against real local jobs: training tokens exact, duration within 25%.

The pace comes, as on the page, from the provider's finished jobs (their events, read through
the SDK); the engine pauses --fine-tune-pace seconds after each step, so a job lasts long
enough for the API's whole-second timestamps to measure it."""

from __future__ import annotations

import time

import openai

from playground.fine_tuning import jobs
from playground.fine_tuning.forecast import forecast, job_pace
from playground.fine_tuning.validate import check_file
from tests.conftest import TEST_KEY
from tests.engine.test_fine_tuning import jsonl, sentiment_examples, upload, wait_for

PACE = "0.1"


def planned(content: bytes, epochs: int, batch_size: int, paces: list) -> object:
    report = check_file(content, "local-text", epochs)
    assert report.ok, report.errors
    return forecast(examples=len(report.tokens), tokens_per_epoch=report.billed_tokens // report.epochs,
                    epochs=report.epochs, batch_size=batch_size, price_per_million=0.0, paces=paces)


def test_the_forecast_of_a_local_job_is_within_25_percent_and_exact_on_tokens(start_engine) -> None:
    content = jsonl(sentiment_examples())
    with start_engine("--api-key", TEST_KEY, "--fine-tune-pace", PACE) as url:
        client = openai.OpenAI(base_url=url, api_key=TEST_KEY, max_retries=0)
        train = upload(client, content)
        first = wait_for(client, client.fine_tuning.jobs.create(
            model="local-text", training_file=train, hyperparameters={"n_epochs": 2, "batch_size": 1}).id,
            ("succeeded", "failed"))
        assert first.status == "succeeded", first.error
        paces = [p for p in (job_pace(j, jobs.events(client, j.id)) for j in jobs.list_jobs(client)) if p]
        assert [p.job_id for p in paces] == [first.id] and paces[0].steps == 120

        plan = planned(content, 3, 2, paces)
        started = time.monotonic()
        job = client.fine_tuning.jobs.create(model="local-text", training_file=train,
                                             hyperparameters={"n_epochs": 3, "batch_size": 2})
        job = wait_for(client, job.id, ("succeeded", "failed"))
        actual = time.monotonic() - started
    assert job.status == "succeeded", job.error
    assert plan.training_tokens == job.trained_tokens
    assert plan.steps == 90
    print(f"forecast {plan.seconds:.1f} s, actual {actual:.1f} s, from {paces[0].seconds_per_step:.3f} s/step")
    assert abs(plan.seconds - actual) <= 0.25 * actual


def test_chat_training_tokens_are_counted_as_the_engine_bills_them(client: openai.OpenAI) -> None:
    rows = [{"messages": [{"role": "system", "content": "Answer with the capital."},
                          {"role": "user", "content": f"Capital of {country}?"},
                          {"role": "assistant", "content": capital}]}
            for country, capital in [("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Peru", "Lima"),
                                     ("Japan", "Tokyo"), ("Egypt", "Cairo"), ("Kenya", "Nairobi"),
                                     ("Chile", "Santiago"), ("Norway", "Oslo"), ("Cuba", "Havana")]]
    content = jsonl(rows)
    job = wait_for(client, client.fine_tuning.jobs.create(
        model="local-text", training_file=upload(client, content, "chat.jsonl"),
        hyperparameters={"n_epochs": 2}).id, ("succeeded", "failed"))
    assert job.status == "succeeded", job.error
    assert planned(content, 2, 1, []).training_tokens == job.trained_tokens
