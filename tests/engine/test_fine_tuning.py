"""Files and fine-tuning on the local engine, through the real openai SDK over HTTP.

The end-to-end test trains local-text on a labelled data set in the shape of OpenAI's
classification guide and checks that the fine-tuned model labels the training prompts far
better than the base model."""

from __future__ import annotations

import io
import json
import time

import httpx
import openai
import pytest

from playground.fine_tuning.metrics import parse_results
from tests.conftest import TEST_KEY

SEPARATOR = "\n\n###\n\n"
ITEMS = ("soup", "service", "room", "movie", "concert", "hotel", "coffee", "book", "flight", "pizza")
POSITIVE = ("wonderful", "delightful", "superb")
NEGATIVE = ("awful", "disappointing", "terrible")


def sentiment_examples() -> list[dict[str, str]]:
    """60 reviews: a prompt ending in the fixed separator, a one-token label with a leading space."""
    rows = []
    for _i, item in enumerate(ITEMS):
        for _j, (good, bad) in enumerate(zip(POSITIVE, NEGATIVE)):
            rows.append({"prompt": f"The {item} was {good}.{SEPARATOR}", "completion": " positive"})
            rows.append({"prompt": f"Honestly the {item} was {bad}.{SEPARATOR}", "completion": " negative"})
    return rows


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


def upload(client: openai.OpenAI, rows: list[dict] | bytes, name: str = "train.jsonl") -> str:
    content = rows if isinstance(rows, bytes) else jsonl(rows)
    return client.files.create(file=(name, io.BytesIO(content)), purpose="fine-tune").id


def wait_for(client: openai.OpenAI, job_id: str, statuses: tuple[str, ...], timeout: float = 120) -> object:
    deadline = time.monotonic() + timeout
    while True:
        job = client.fine_tuning.jobs.retrieve(job_id)
        if job.status in statuses:
            return job
        assert time.monotonic() < deadline, f"job stuck in {job.status}"
        time.sleep(0.1)


def label_accuracy(client: openai.OpenAI, model: str, rows: list[dict]) -> float:
    right = 0
    for row in rows:
        r = client.completions.create(model=model, prompt=row["prompt"], temperature=0, max_tokens=1)
        right += r.choices[0].text == row["completion"]
    return right / len(rows)


def test_classification_fine_tune_end_to_end(client: openai.OpenAI) -> None:
    rows = sentiment_examples()
    validation = [{"prompt": f"The {item} was {adj}.{SEPARATOR}", "completion": label}
                  for item in ("salad", "train") for adj, label in (("superb", " positive"), ("awful", " negative"))]
    train_id = upload(client, rows)
    valid_id = upload(client, validation * 3, "valid.jsonl")
    job = client.fine_tuning.jobs.create(
        model="local-text", training_file=train_id, validation_file=valid_id, suffix="sentiment", seed=7,
        hyperparameters={"n_epochs": 3, "batch_size": 4},
    )
    assert job.status == "validating_files" and job.id.startswith("ftjob-")
    job = wait_for(client, job.id, ("succeeded", "failed", "cancelled"))
    assert job.status == "succeeded", job.error
    assert job.fine_tuned_model == f"ft:local-text:sentiment:{job.id}"
    assert job.hyperparameters.n_epochs == 3 and job.hyperparameters.batch_size == 4
    assert job.trained_tokens and job.trained_tokens > 0 and job.finished_at

    # The results file parses through the app's parser; train loss falls; validation is there.
    (result_id,) = job.result_files
    assert client.files.retrieve(result_id).purpose == "fine-tune-results"
    frame = parse_results(client.files.content(result_id).read())
    assert list(frame["step"]) == list(range(1, 46))  # 60 examples / 4 per step * 3 epochs
    first, last = frame["train_loss"].head(5).mean(), frame["train_loss"].tail(5).mean()
    print(f"train loss: first 5 steps {first:.3f}, last 5 steps {last:.3f}")
    # The Witten-Bell memory of the other examples is counted before step 1, so on this set
    # (the same adjectives in every item) the loss starts low; it must end lower still.
    assert last < 0.05 and last <= first
    assert frame["valid_loss"].notna().all() and frame["train_accuracy"].tail(5).mean() > 0.9

    base_acc = label_accuracy(client, "local-text", rows)
    ft_acc = label_accuracy(client, job.fine_tuned_model, rows)
    print(f"label accuracy on the 60 training prompts: base {base_acc:.0%}, fine-tuned {ft_acc:.0%}")
    assert ft_acc >= 0.9 and base_acc <= 0.6

    # Metrics events as the API gives them, newest first; checkpoints at the 3 epoch ends.
    events = client.fine_tuning.jobs.list_events(job.id, limit=1000).data
    assert events[0].message == "The job has successfully completed"
    metrics = [e for e in events if e.type == "metrics"]
    assert len(metrics) == 45 and metrics[0].data["step"] == 45 and metrics[0].data["total_steps"] == 45
    assert {"train_loss", "train_mean_token_accuracy", "valid_loss", "valid_mean_token_accuracy"} <= set(metrics[-1].data)
    page = client.fine_tuning.jobs.list_events(job.id, limit=2)
    assert len(page.data) == 2 and page.has_more
    older = client.fine_tuning.jobs.list_events(job.id, limit=2, after=page.data[-1].id).data
    assert older[0].id == events[2].id
    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
    assert [c.step_number for c in checkpoints] == [45, 30, 15]
    assert checkpoints[0].fine_tuned_model_checkpoint == f"{job.fine_tuned_model}:ckpt-step-45"
    assert "full_valid_loss" in checkpoints[0].metrics.model_dump(exclude_none=True)

    listed = {m.id for m in client.models.list().data}
    assert job.fine_tuned_model in listed and f"{job.fine_tuned_model}:ckpt-step-15" in listed
    chat = client.chat.completions.create(model=job.fine_tuned_model, messages=[{"role": "user", "content": "Hi"}],
                                          max_tokens=5)
    assert chat.model == job.fine_tuned_model
    assert job.id in [j.id for j in client.fine_tuning.jobs.list(limit=100).data]

    deleted = client.models.delete(f"{job.fine_tuned_model}:ckpt-step-15")
    assert deleted.deleted
    assert f"{job.fine_tuned_model}:ckpt-step-15" not in {m.id for m in client.models.list().data}
    with pytest.raises(openai.PermissionDeniedError):
        client.models.delete("local-text")


def test_chat_format_trains_the_assistant_reply(client: openai.OpenAI) -> None:
    rows = [
        {"messages": [
            {"role": "system", "content": "You name the capital."},
            {"role": "user", "content": f"Capital of {country}?"},
            {"role": "assistant", "content": capital},
        ]}
        for country, capital in [("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Peru", "Lima"),
                                 ("Japan", "Tokyo"), ("Egypt", "Cairo"), ("Kenya", "Nairobi"), ("Chile", "Santiago"),
                                 ("Norway", "Oslo"), ("Cuba", "Havana"), ("Greece", "Athens"), ("Poland", "Warsaw")]
    ]
    job = client.fine_tuning.jobs.create(
        model="local-text", training_file=upload(client, rows, "chat.jsonl"), suffix="capitals",
        method={"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
    )
    job = wait_for(client, job.id, ("succeeded", "failed"))
    assert job.status == "succeeded", job.error
    assert job.hyperparameters.n_epochs == 2 and job.hyperparameters.batch_size == 1  # auto: 0.2% of 12, at least 1
    assert job.hyperparameters.learning_rate_multiplier == 1.0
    assert job.method.supervised.hyperparameters.n_epochs == 2
    for row in rows[:4]:
        reply = client.chat.completions.create(model=job.fine_tuned_model, messages=row["messages"][:2],
                                               temperature=0, max_tokens=10)
        assert reply.choices[0].message.content == row["messages"][2]["content"]
        assert reply.choices[0].finish_reason == "stop"


def test_a_bad_line_fails_the_job_with_the_reason(client: openai.OpenAI) -> None:
    rows = sentiment_examples()[:12]
    rows[4] = {"messages": [{"role": "user", "content": "no reply here"}]}
    job = client.fine_tuning.jobs.create(model="local-text", training_file=upload(client, rows))
    job = wait_for(client, job.id, ("failed", "succeeded"))
    assert job.status == "failed"
    assert job.error.param == "training_file" and job.error.code == "invalid_training_file"
    assert "line 5" in job.error.message
    assert job.fine_tuned_model is None
    assert client.fine_tuning.jobs.list_events(job.id).data[0].level == "error"

    few = client.fine_tuning.jobs.create(model="local-text", training_file=upload(client, sentiment_examples()[:3]))
    few = wait_for(client, few.id, ("failed", "succeeded"))
    assert few.error.code == "invalid_n_examples" and "at least 10" in few.error.message


def test_create_checks_its_arguments_as_the_api(client: openai.OpenAI) -> None:
    train = upload(client, sentiment_examples()[:12])
    with pytest.raises(openai.BadRequestError) as err:
        client.fine_tuning.jobs.create(model="gpt-9", training_file=train)
    assert err.value.body["param"] == "model" and "not available for fine-tuning" in err.value.body["message"]
    with pytest.raises(openai.BadRequestError) as err:
        client.fine_tuning.jobs.create(model="local-text", training_file="file-nope")
    assert err.value.body["param"] == "training_file"
    with pytest.raises(openai.BadRequestError) as err:
        client.fine_tuning.jobs.create(model="local-text", training_file=train, hyperparameters={"n_epochs": 51})
    assert err.value.body["param"] == "hyperparameters.n_epochs"
    with pytest.raises(openai.BadRequestError) as err:
        client.fine_tuning.jobs.create(model="local-text", training_file=train, suffix="x" * 65)
    assert err.value.body["param"] == "suffix"
    with pytest.raises(openai.BadRequestError) as err:
        client.fine_tuning.jobs.create(model="local-text", training_file=train, method={"type": "dpo"})
    assert err.value.body["param"] == "method.type"
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.retrieve("ftjob-missing")


def test_files_upload_list_content_delete(client: openai.OpenAI) -> None:
    content = jsonl(sentiment_examples()[:10])
    first = client.files.create(file=("a.jsonl", io.BytesIO(content)), purpose="fine-tune")
    second = client.files.create(file=("b.jsonl", io.BytesIO(content)), purpose="fine-tune")
    assert first.object == "file" and first.id.startswith("file-") and first.bytes == len(content)
    assert first.filename == "a.jsonl" and first.status == "processed" and first.purpose == "fine-tune"
    listed = client.files.list(purpose="fine-tune").data
    ids = [f.id for f in listed]
    assert ids.index(second.id) < ids.index(first.id)  # newest first by default
    assert [f.id for f in client.files.list(purpose="fine-tune", order="asc").data][-1] == second.id
    assert client.files.content(first.id).read() == content
    assert client.files.retrieve(first.id).filename == "a.jsonl"
    assert client.files.delete(first.id).deleted
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(first.id)

    with pytest.raises(openai.BadRequestError) as err:
        client.files.create(file=("bad.jsonl", io.BytesIO(b'{"prompt": "a", "completion": "b"}\n{oops\n')),
                            purpose="fine-tune")
    assert "line 2" in err.value.body["message"] and err.value.body["param"] == "file"
    with pytest.raises(openai.BadRequestError) as err:
        client.files.create(file=("data.csv", io.BytesIO(b"a,b\n")), purpose="fine-tune")
    assert ".jsonl" in err.value.body["message"]
    with pytest.raises(openai.BadRequestError) as err:
        client.files.create(file=("a.jsonl", io.BytesIO(content)), purpose="fine-tune-results")  # type: ignore[arg-type]
    assert err.value.body["param"] == "purpose"


def test_files_jobs_and_models_survive_a_restart_and_a_cut_job_fails(start_engine) -> None:
    rows = sentiment_examples()
    with start_engine("--api-key", TEST_KEY, "--fine-tune-pace", "0") as url:
        client = openai.OpenAI(base_url=url, api_key=TEST_KEY, max_retries=0)
        kept = upload(client, rows)
        done = wait_for(client, client.fine_tuning.jobs.create(model="local-text", training_file=kept,
                                                               hyperparameters={"n_epochs": 1}).id, ("succeeded",))
    with start_engine("--api-key", TEST_KEY, "--fine-tune-pace", "5") as url:
        client = openai.OpenAI(base_url=url, api_key=TEST_KEY, max_retries=0)
        assert client.files.content(kept).read() == jsonl(rows)
        assert client.fine_tuning.jobs.retrieve(done.id).status == "succeeded"
        r = client.completions.create(model=done.fine_tuned_model, prompt=rows[0]["prompt"], temperature=0, max_tokens=1)
        assert r.choices[0].text == " positive"
        cut = client.fine_tuning.jobs.create(model="local-text", training_file=kept)
        wait_for(client, cut.id, ("running",))
    with start_engine("--api-key", TEST_KEY, "--fine-tune-pace", "0") as url:
        client = openai.OpenAI(base_url=url, api_key=TEST_KEY, max_retries=0)
        cut = client.fine_tuning.jobs.retrieve(cut.id)
        assert cut.status == "failed" and "restarted during training" in cut.error.message
        assert done.fine_tuned_model in {m.id for m in client.models.list().data}


def test_cancel_stops_a_running_job(start_engine) -> None:
    with start_engine("--api-key", TEST_KEY, "--fine-tune-pace", "5") as url:
        client = openai.OpenAI(base_url=url, api_key=TEST_KEY, max_retries=0)
        job = client.fine_tuning.jobs.create(model="local-text", training_file=upload(client, sentiment_examples()))
        wait_for(client, job.id, ("running",))
        cancelled = client.fine_tuning.jobs.cancel(job.id)
        assert cancelled.status == "cancelled" and cancelled.fine_tuned_model is None
        time.sleep(0.3)
        assert client.fine_tuning.jobs.retrieve(job.id).status == "cancelled"
        assert client.fine_tuning.jobs.list_events(job.id).data[0].message == "Fine-tuning job cancelled"
        with pytest.raises(openai.BadRequestError):
            client.fine_tuning.jobs.cancel(job.id)
        root = url.removesuffix("/v1")
        jobs = httpx.get(f"{root}/v1/fine_tuning/jobs", headers={"Authorization": f"Bearer {TEST_KEY}"}).json()
        assert jobs["object"] == "list" and jobs["data"][0]["id"] == job.id


def test_a_fine_tune_labels_posts_worded_unlike_its_training_posts(client: openai.OpenAI) -> None:
    """OpenAI's Cookbook set-up (baseball or hockey, 100 posts, default hyperparameters), judged on
    100 posts whose sentence patterns and sport words never occur in training."""
    from bench.bench_fine_tune import label_scores
    from bench.data.baseball_hockey import held_out_posts, training_posts

    job = client.fine_tuning.jobs.create(model="local-text", training_file=upload(client, training_posts()),
                                         suffix="sport", seed=1)
    job = wait_for(client, job.id, ("succeeded", "failed"))
    assert job.status == "succeeded", job.error
    held_out = held_out_posts(100, seed=3)
    accuracy, p_right = label_scores(client, job.fine_tuned_model, held_out)
    base_accuracy, base_p = label_scores(client, "local-text", held_out)
    print(f"new wording: fine-tuned {accuracy:.0%} (mean p of the right label {p_right:.2f}); "
          f"base {base_accuracy:.0%} (p {base_p:.3f})")
    assert accuracy >= 0.9 and p_right >= 0.8
    assert base_accuracy <= 0.6
