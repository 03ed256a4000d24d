"""The Fine-tuning page under AppTest, against the session's real engine."""

from __future__ import annotations

import json
import time
from typing import Any, Callable

import openai
from streamlit.testing.v1 import AppTest

from playground.fine_tuning.validate import auto_epochs
from tests.conftest import recorded_requests
from tests.engine.test_fine_tuning import jsonl, sentiment_examples, upload, wait_for
from tests.pages.conftest import on_compatible_server
from tests.stubserver import stub_server
from tests.unit.test_fine_tune_metrics import LEGACY

PAGE = "app_pages/fine_tuning.py"


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "error", "warning", "info", "success", "caption", "text") for e in at.get(kind)]
    return "\n".join(str(p) for p in parts)


def frames_text(at: AppTest) -> str:
    return "\n".join(d.value.to_string() for d in at.dataframe)


def on_tab(at: AppTest, label: str) -> AppTest:
    """Open one of the page's tabs, as a click does: only the open tab runs."""
    at.session_state["ft_tab"] = label
    return at.run()


def test_check_data_names_the_bad_lines(open_app: Callable[..., AppTest]) -> None:
    at = open_app(PAGE)
    rows = sentiment_examples()[:12]
    content = jsonl(rows[:2]) + b'{"prompt": "broken\n' + jsonl(rows[2:5]) + b'{"messages": [{"role": "user", "content": "hi"}]}\n'
    at.file_uploader(key="ft_check_file").set_value(("data.jsonl", content, "application/jsonl")).run()
    assert not at.exception
    errors = "\n".join(e.value for e in at.error)
    assert "Line 3: not valid JSON" in errors
    assert "Line 7: a chat example in a prompt/completion file" in errors
    assert not any(b.label.startswith("Upload as") for b in at.button)  # nothing uploads until it is fixed


def test_check_upload_start_and_watch_a_job_succeed(open_app: Callable[..., AppTest], engine_url: str) -> None:
    at = open_app(PAGE)
    at.file_uploader(key="ft_check_file").set_value(("reviews.jsonl", jsonl(sentiment_examples()), "application/jsonl")).run()
    shown = texts(at)
    assert "Every prompt ends with" in shown and "\\n\\n###\\n\\n" in shown
    assert '" positive": 30' in shown  # the balance of the classes
    at.button(key="ft_upload_training").click().run()
    uploaded = at.session_state["ft_training_pick"]
    assert uploaded.startswith("file-") and f"as {uploaded}" in texts(at)

    on_tab(at, "Start a job")
    at.text_input(key="ft_suffix").input("pagetest")
    at.checkbox(key="ft_auto_n_epochs").uncheck().run()  # the field is disabled while auto
    at.number_input(key="ft_value_n_epochs").set_value(2)
    next(b for b in at.button if b.label == "Start fine-tuning").click().run()
    assert not at.exception, [e.message for e in at.exception]
    body = recorded_requests(engine_url, "/fine_tuning/jobs")[-1]["body"]
    assert body["training_file"] == uploaded and body["suffix"] == "pagetest"
    assert body["method"]["supervised"]["hyperparameters"] == {
        "n_epochs": 2, "batch_size": "auto", "learning_rate_multiplier": "auto"}
    job_id = at.session_state["ft_job"]
    model = f"ft:local-text:pagetest:{job_id}"
    on_tab(at, "Jobs")
    deadline = time.monotonic() + 60
    while f"Fine-tuned model: {model}" not in texts(at):
        assert time.monotonic() < deadline, "the job view never showed the fine-tuned model"
        time.sleep(0.3)
        at.run()
    assert "The job has successfully completed" in frames_text(at)  # the events timeline
    assert "ckpt-step-120" in frames_text(at)  # checkpoints: 60 examples, batch 1, 2 epochs
    assert len(at.get("plotly_chart")) >= 2  # loss and accuracy of this job

    at.button(key=f"ft_try_completions_{job_id}").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["completions_model"] == model


def test_metrics_tab_overlays_jobs(open_app: Callable[..., AppTest], client: openai.OpenAI) -> None:
    train = upload(client, sentiment_examples())
    ids = [wait_for(client, client.fine_tuning.jobs.create(model="local-text", training_file=train, suffix=f"cmp{i}",
                                                           hyperparameters={"batch_size": b}).id, ("succeeded",)).id
           for i, b in enumerate((2, 6))]
    at = on_tab(open_app(PAGE), "Metrics")
    compare = at.multiselect(key="ft_compare")
    compare.set_value(ids).run()
    assert not at.exception
    charts = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    overlaid = [c for c in charts if c["layout"]["title"]["text"] == "Loss" and len(c["data"]) > 1]
    assert len(overlaid) == 1  # the Jobs tab's chart shows one job; this one both
    loss = overlaid[0]
    names = {t["name"] for t in loss["data"]}
    assert {n.split(" · ")[0] for n in names} == {"cmp0", "cmp1"}  # labels: suffix · id · created
    assert all(any(job_id in n for n in names) for job_id in ids)
    assert len(loss["layout"]["shapes"]) == 4  # 2 epoch boundaries per job (3 epochs)


def test_import_a_legacy_results_file(open_app: Callable[..., AppTest]) -> None:
    at = on_tab(open_app(PAGE), "Metrics")
    at.text_area(key="ft_import_text").input(LEGACY).run()
    assert not at.exception
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in at.get("plotly_chart")]
    assert "Classification metrics (validation)" in titles and "Loss" in titles
    assert "pasted: 3 steps" in texts(at)
    at.text_area(key="ft_import_text").input("not a results file").run()
    assert "neither a results CSV" in "\n".join(e.value for e in at.error)


def test_inputs_survive_a_page_switch(open_app: Callable[..., AppTest], client: openai.OpenAI) -> None:
    upload(client, sentiment_examples())
    at = open_app(PAGE)
    at.file_uploader(key="ft_check_file").set_value(("reviews.jsonl", jsonl(sentiment_examples()), "application/jsonl")).run()
    on_tab(at, "Start a job")
    at.text_input(key="ft_suffix").input("keepme")
    at.checkbox(key="ft_auto_n_epochs").uncheck().run()  # the field is disabled while auto
    at.number_input(key="ft_value_n_epochs").set_value(4)
    on_tab(at, "Metrics")
    at.text_area(key="ft_watch_paths").input("/nowhere/at/all").run()
    at.switch_page("app_pages/tokenizer.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.message for e in at.exception]
    on_tab(at, "Check data")
    shown = texts(at)
    assert "Checked file: reviews.jsonl (kept from before" in shown
    assert '" positive": 30' in shown  # its report is back too
    on_tab(at, "Start a job")
    assert at.text_input(key="ft_suffix").value == "keepme"
    assert at.number_input(key="ft_value_n_epochs").value == 4 and not at.checkbox(key="ft_auto_n_epochs").value
    on_tab(at, "Metrics")
    assert at.text_area(key="ft_watch_paths").value == "/nowhere/at/all"
    assert "/nowhere/at/all: no such file or folder on the server." in texts(at)


def test_files_of_different_formats_are_refused_before_the_job(open_app: Callable[..., AppTest],
                                                                client: openai.OpenAI) -> None:
    chat = [{"messages": [{"role": "user", "content": f"Say {i}"}, {"role": "assistant", "content": str(i)}]}
            for i in range(12)]
    chat_id = upload(client, chat, "chat.jsonl")
    legacy_id = upload(client, sentiment_examples()[:12], "legacy.jsonl")
    at = on_tab(open_app(PAGE), "Start a job")
    at.selectbox(key="ft_training_pick").set_value(chat_id)
    at.selectbox(key="ft_validation_pick").set_value(legacy_id).run()
    assert "in the chat format and the validation file in the prompt/completion format" in texts(at)
    assert at.button(key="ft_start").disabled
    assert "Training tokens" in [m.label for m in at.metric] and "Duration" in [m.label for m in at.metric]
    at.selectbox(key="ft_validation_pick").set_value(None).run()
    assert not at.button(key="ft_start").disabled and "Both must be in the same format" not in texts(at)


def test_files_and_models_are_listed_and_deleted(open_app: Callable[..., AppTest], client: openai.OpenAI) -> None:
    doomed = upload(client, sentiment_examples()[:12], "doomed.jsonl")
    job = wait_for(client, client.fine_tuning.jobs.create(model="local-text", training_file=doomed, suffix="doomed",
                                                          hyperparameters={"n_epochs": 1}).id, ("succeeded",))
    at = on_tab(open_app(PAGE), "Files and models")
    at.multiselect(key="ft_delete_file_pick").set_value([doomed]).run()
    at.button(key="ft_delete_files").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert doomed not in {f.id for f in client.files.list().data}
    at.multiselect(key="ft_delete_model_pick").set_value([job.fine_tuned_model]).run()
    at.button(key="ft_delete_models").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert job.fine_tuned_model not in {m.id for m in client.models.list().data}
    assert job.fine_tuned_model not in at.multiselect(key="ft_delete_model_pick").options


def test_metrics_follow_the_viewed_job_and_the_advisor_tries_the_best_checkpoint(
        open_app: Callable[..., AppTest], client: openai.OpenAI) -> None:
    train = upload(client, sentiment_examples())
    valid = upload(client, sentiment_examples()[::6], "valid.jsonl")
    older, newer = (wait_for(client, client.fine_tuning.jobs.create(
        model="local-text", training_file=train, validation_file=valid, suffix=f"adv{i}",
        hyperparameters={"n_epochs": 3, "batch_size": 6}).id, ("succeeded",)) for i in range(2))
    at = on_tab(open_app(PAGE), "Jobs")
    assert at.session_state["ft_compare"] == [newer.id]
    at.selectbox(key="ft_job").set_value(older.id).run()
    assert at.session_state["ft_compare"] == [older.id]  # Metrics opens on the job looked at
    assert f"adv0 · {older.id} · " in at.selectbox(key="ft_job").format_func(older.id)
    advice = texts(at)
    assert "Lowest validation loss (full_valid_loss)" in advice and "Best saved checkpoint" in advice
    checkpoints = client.fine_tuning.jobs.checkpoints.list(older.id).data
    best = min(checkpoints, key=lambda c: (c.metrics.full_valid_loss, c.step_number))
    at.button(key=f"ft_advice_{older.id}_try_0").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["completions_model"] == best.fine_tuned_model_checkpoint
    assert at.session_state["completions_max_tokens"] == 1  # set up as the classifier was trained
    assert at.session_state["completions_prompt"].endswith("\n\n###\n\n")
    at.number_input(key="completions_max_tokens").set_value(256).run()
    at.switch_page(PAGE).run()
    on_tab(at, "Metrics")
    at.button(key="ft_compare_advice_try_0").click().run()  # the Metrics tab's advisor: the same setup
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["completions_model"] == best.fine_tuned_model_checkpoint
    assert at.session_state["completions_max_tokens"] == 1


def test_evaluate_opens_a_classification_eval_of_the_model_against_its_base(
        open_app: Callable[..., AppTest], client: openai.OpenAI) -> None:
    train = upload(client, sentiment_examples())
    valid = upload(client, sentiment_examples()[::6], "valid.jsonl")
    job = wait_for(client, client.fine_tuning.jobs.create(
        model="local-text", training_file=train, validation_file=valid, suffix="evaluate",
        hyperparameters={"n_epochs": 1}).id, ("succeeded",))
    at = on_tab(open_app(PAGE), "Jobs")
    at.selectbox(key="ft_job").set_value(job.id).run()
    at.button(key=f"ft_evaluate_{job.id}").click().run()
    assert not at.exception, [e.message for e in at.exception]
    shown = "\n".join(str(e.value) for kind in ("markdown", "caption", "text", "info") for e in at.get(kind))
    assert "One prompt template over a dataset" in shown  # now on the Evals page
    ev = at.session_state["evals_current"]  # the eval on screen, ready to run
    assert [c.model for c in ev.configs] == [job.fine_tuned_model, "local-text"]
    assert len(ev.dataset.rows) == len(sentiment_examples()[::6])


def test_a_csv_file_is_named_csv_once(open_app: Callable[..., AppTest]) -> None:
    at = open_app(PAGE)
    content = b"prompt,completion\n" + b"".join(b"Review %d was good,positive\n" % i for i in range(20))
    at.file_uploader(key="ft_check_file").set_value(("data.jsonl", content, "application/jsonl")).run()
    assert not at.exception
    errors = "\n".join(e.value for e in at.error)
    assert "1 problem(s)" in errors and "looks like a CSV file" in errors and "orient='records'" in errors
    assert "not valid JSON" not in errors


def test_try_it_opens_completions_set_up_as_the_classifier_was_trained(
        open_app: Callable[..., AppTest], client: openai.OpenAI) -> None:
    train = upload(client, sentiment_examples())
    job = wait_for(client, client.fine_tuning.jobs.create(model="local-text", training_file=train, suffix="tryit",
                                                          hyperparameters={"n_epochs": 2}).id, ("succeeded",))
    at = on_tab(open_app(PAGE), "Jobs")
    at.selectbox(key="ft_job").set_value(job.id).run()
    newest = max(client.fine_tuning.jobs.checkpoints.list(job.id).data, key=lambda c: c.step_number)
    assert at.selectbox(key=f"ft_ckpt_{job.id}").value == newest.fine_tuned_model_checkpoint  # not the oldest
    at.button(key=f"ft_try_completions_{job.id}").click().run()
    assert not at.exception, [e.message for e in at.exception]
    state = at.session_state
    assert state["completions_model"] == job.fine_tuned_model
    assert state["completions_prompt"] == sentiment_examples()[0]["prompt"]  # ends in the separator
    assert state["completions_max_tokens"] == 1 and state["completions_temperature"] == 0
    assert state["completions_logprobs"] == 5
    # "Try a checkpoint" carries the same setup
    at.switch_page(PAGE).run()
    on_tab(at, "Jobs")
    at.button(key=f"ft_try_ckpt_{job.id}").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["completions_model"] == newest.fine_tuned_model_checkpoint
    assert at.session_state["completions_max_tokens"] == 1


def test_try_it_in_chat_carries_the_training_system_message(open_app: Callable[..., AppTest],
                                                           client: openai.OpenAI) -> None:
    system = "Classify the review as positive or negative."
    rows = [{"messages": [{"role": "system", "content": system}, {"role": "user", "content": r["prompt"].strip()},
                          {"role": "assistant", "content": r["completion"].strip()}]} for r in sentiment_examples()]
    job = wait_for(client, client.fine_tuning.jobs.create(model="local-text", training_file=upload(client, rows),
                                                          suffix="trychat", hyperparameters={"n_epochs": 1}).id,
                   ("succeeded",))
    at = on_tab(open_app(PAGE), "Jobs")
    at.selectbox(key="ft_job").set_value(job.id).run()
    at.button(key=f"ft_try_chat_{job.id}").click().run()
    assert not at.exception, [e.message for e in at.exception]
    state = at.session_state
    assert state["chat_model"] == job.fine_tuned_model
    messages = [(m["role"], m["content"]) for m in state["chat_messages"]]
    assert messages[0] == ("system", system) and messages[1][0] == "user"
    assert state["chat_max_tokens"] == 1 and state["chat_logprobs"] is True and state["chat_top_logprobs"] == 5


def test_hyperparameter_fields_are_disabled_while_auto(open_app: Callable[..., AppTest], client: openai.OpenAI) -> None:
    train = upload(client, sentiment_examples())
    at = on_tab(open_app(PAGE), "Start a job")
    at.selectbox(key="ft_training_pick").set_value(train).run()
    # While auto: a disabled field with what auto picks for this file (its 60 examples: 3 epochs, batch 1),
    # not a number of the user's that would not be sent.
    assert at.checkbox(key="ft_auto_n_epochs").value
    shown = at.number_input(key="_ft_auto_n_epochs")
    assert shown.disabled and shown.value == auto_epochs(len(sentiment_examples()))
    assert at.number_input(key="_ft_auto_batch_size").value == 1
    at.checkbox(key="ft_auto_n_epochs").uncheck().run()
    field = at.number_input(key="ft_value_n_epochs")
    assert not field.disabled
    field.set_value(7).run()
    at.checkbox(key="ft_auto_n_epochs").check().run()
    at.checkbox(key="ft_auto_n_epochs").uncheck().run()
    assert at.number_input(key="ft_value_n_epochs").value == 7  # the user's value outlives a tick of auto


def test_a_cancelled_job_says_it_was_cancelled(open_app: Callable[..., AppTest], client: openai.OpenAI) -> None:
    train = upload(client, sentiment_examples())
    job = client.fine_tuning.jobs.create(model="local-text", training_file=train, suffix="cancelme",
                                         hyperparameters={"n_epochs": 25})
    client.fine_tuning.jobs.cancel(job.id)
    wait_for(client, job.id, ("cancelled",))
    at = on_tab(open_app(PAGE), "Jobs")
    at.selectbox(key="ft_job").set_value(job.id).run()
    shown = texts(at)
    assert "the job was cancelled" in shown and "None yet" not in shown


def test_try_a_checkpoint_opens_on_the_best(open_app: Callable[..., AppTest], client: openai.OpenAI) -> None:
    train = upload(client, sentiment_examples())
    valid = upload(client, sentiment_examples()[::6], "valid.jsonl")
    job = wait_for(client, client.fine_tuning.jobs.create(
        model="local-text", training_file=train, validation_file=valid, suffix="bestckpt",
        hyperparameters={"n_epochs": 3, "batch_size": 6}).id, ("succeeded",))
    checkpoints = client.fine_tuning.jobs.checkpoints.list(job.id).data
    best = min(checkpoints, key=lambda c: (c.metrics.full_valid_loss, c.step_number))
    at = on_tab(open_app(PAGE), "Jobs")
    at.selectbox(key="ft_job").set_value(job.id).run()
    picker = at.selectbox(key=f"ft_ckpt_{job.id}")
    assert picker.value == best.fine_tuned_model_checkpoint
    assert "(lowest validation loss)" in picker.format_func(best.fine_tuned_model_checkpoint)


def test_a_control_on_check_data_sends_the_provider_nothing(open_app: Callable[..., AppTest],
                                                             start_engine: Callable[..., Any]) -> None:
    with start_engine("--rpm", "1000") as url:  # its rate limiter counts every request, GETs too
        at = open_app()
        on_compatible_server(at, url, page=PAGE)
        probe = openai.OpenAI(base_url=url, api_key="unused", max_retries=0)

        def requests_left() -> int:
            return int(probe.models.with_raw_response.list().headers["x-ratelimit-remaining-requests"])

        before = requests_left()
        for auto in (False, True, False):
            at.toggle(key="ft_check_auto_epochs").set_value(auto).run()
            assert not at.exception, [e.message for e in at.exception]
        assert requests_left() == before - 1  # only the probe's own: no files, jobs or models listed
        on_tab(at, "Files and models")  # an open tab does ask
        assert requests_left() < before - 2


def test_try_it_with_its_training_file_gone_says_so_on_the_page_it_opens(
        open_app: Callable[..., AppTest], client: openai.OpenAI) -> None:
    train = upload(client, sentiment_examples())
    job = wait_for(client, client.fine_tuning.jobs.create(model="local-text", training_file=train, suffix="nofile",
                                                          hyperparameters={"n_epochs": 1}).id, ("succeeded",))
    client.files.delete(train)
    at = on_tab(open_app(PAGE), "Jobs")
    at.selectbox(key="ft_job").set_value(job.id).run()
    at.button(key=f"ft_try_completions_{job.id}").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["completions_model"] == job.fine_tuned_model
    shown = texts(at)
    assert "its training file could not be read" in shown and "No such File object" in shown, shown
    at.run()  # said once, where the page opened
    assert "its training file could not be read" not in texts(at)


def test_another_server_is_not_priced_at_openai_training_prices(open_app: Callable[..., AppTest]) -> None:
    rows = [{"messages": [{"role": "user", "content": r["prompt"].strip()},
                          {"role": "assistant", "content": r["completion"].strip()}]} for r in sentiment_examples()]
    with stub_server(models=["gpt-4.1-mini"]) as (url, _):
        at = open_app()
        on_compatible_server(at, url, PAGE)
        at.selectbox(key="ft_check_model").set_value("gpt-4.1-mini").run()
        at.file_uploader(key="ft_check_file").set_value(("data.jsonl", jsonl(rows), "application/jsonl")).run()
        assert not at.exception, [e.message for e in at.exception]
        cost = next(m for m in at.metric if m.label == "Cost")
        assert cost.value == "unknown"  # OpenAI's table says $5.00 per 1M: not what this server bills
