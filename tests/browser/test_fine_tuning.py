"""The Fine-tuning page in Chromium: a finished job's view and its metrics chart; a trainer's
folder followed live."""

from __future__ import annotations

import json
from pathlib import Path

import openai

from tests.browser.conftest import open_page, screenshot, wait_idle
from tests.engine.test_fine_tuning import sentiment_examples, upload, wait_for
from tests.unit.test_fine_tune_logs import trainer_state

SLOW = 120_000  # ms: plotly's script is large, and Chromium parses it slowly on a loaded machine


def test_a_jobs_metrics_chart_draws_in_the_browser(page, app_url: str, client: openai.OpenAI) -> None:  # noqa: ANN001
    train = upload(client, sentiment_examples())
    valid = upload(client, sentiment_examples()[::5], "valid.jsonl")
    job = client.fine_tuning.jobs.create(model="local-text", training_file=train, validation_file=valid,
                                         suffix="browser", hyperparameters={"batch_size": 3})
    job = wait_for(client, job.id, ("succeeded",))

    open_page(page, app_url, "fine_tuning")
    page.get_by_role("heading", name="Fine-tuning").wait_for()
    page.get_by_role("tab", name="Jobs").click()
    wait_idle(page)
    panel = page.get_by_role("tabpanel", name="Jobs")
    panel.get_by_text(job.id).first.wait_for()
    chart = panel.locator("[data-testid='stPlotlyChart']").first
    chart.wait_for(timeout=SLOW)
    chart.locator(".main-svg").first.wait_for(timeout=SLOW)  # plotly has drawn
    assert panel.locator("[data-testid='stPlotlyChart']").count() >= 2  # loss and accuracy
    assert panel.get_by_role("button", name="Try it in Chat").count() == 1
    screenshot(page, "fine_tuning_job")

    page.get_by_role("tab", name="Metrics").click()
    wait_idle(page)
    metrics = page.get_by_role("tabpanel", name="Metrics")
    metrics.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for(timeout=SLOW)
    screenshot(page, "fine_tuning_metrics")


def test_a_folder_being_written_to_updates_the_chart_by_itself(page, app_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    """A trainer's output folder given by path: each checkpoint-N/trainer_state.json the
    "trainer" writes shows up in the chart within seconds, with no click."""
    out = tmp_path / "out"

    def save_checkpoint(step: int) -> None:
        (out / f"checkpoint-{step}").mkdir(parents=True)
        (out / f"checkpoint-{step}" / "trainer_state.json").write_text(json.dumps(trainer_state(step)))

    save_checkpoint(50)
    open_page(page, app_url, "fine_tuning")
    page.get_by_role("tab", name="Metrics").click(timeout=SLOW)
    wait_idle(page)
    panel = page.get_by_role("tabpanel", name="Metrics")
    paths = panel.get_by_role("textbox", name="Follow files or folders on this server (one per line)")
    paths.fill(str(tmp_path), timeout=SLOW)
    paths.press("Control+Enter")
    panel.get_by_text("out · trainer_state: 5 steps").wait_for(timeout=SLOW)
    assert train_points(panel) == 5
    screenshot(page, "fine_tuning_follow_before")

    for step in (100, 150):  # the trainer goes on; nobody touches the page
        save_checkpoint(step)
        panel.get_by_text(f"out · trainer_state: {step // 10} steps").wait_for(timeout=SLOW)
    assert train_points(panel) == 15
    assert panel.get_by_text("Lowest validation loss (full_valid_loss): 1.3500 at step 150").count() == 1
    screenshot(page, "fine_tuning_follow_after")


def train_points(panel) -> int:  # noqa: ANN001
    """Points of the folder's train loss line in the loss chart (other runs may be overlaid), as
    plotly holds them (calcdata: x arrives base64-packed)."""
    chart = panel.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").first
    chart.wait_for(timeout=SLOW)
    return chart.evaluate("node => node.calcdata[node.data.findIndex("
                          "t => t.name.endsWith('trainer_state · train') || t.name === 'train')].length")


def test_check_data_auto_fields_and_try_it_set_up_as_trained(page, app_url: str, client: openai.OpenAI) -> None:  # noqa: ANN001
    job = wait_for(client, client.fine_tuning.jobs.create(
        model="local-text", training_file=upload(client, sentiment_examples()), suffix="browsertry",
        hyperparameters={"n_epochs": 1}).id, ("succeeded",))
    open_page(page, app_url, "fine_tuning")
    check = page.get_by_role("tabpanel", name="Check data")
    csv = b"prompt,completion\n" + b"".join(b"Review %d was good,positive\n" % i for i in range(20))
    check.locator("input[type=file]").first.set_input_files(
        files=[{"name": "data.jsonl", "mimeType": "application/jsonl", "buffer": csv}])
    check.get_by_text("looks like a CSV file").first.wait_for()
    wait_idle(page)
    assert check.get_by_text("not valid JSON").count() == 0
    screenshot(page, "fine_tuning_csv_check")

    page.get_by_role("tab", name="Start a job").click()
    start = page.get_by_role("tabpanel", name="Start a job")
    start.get_by_text("n_epochs: auto").first.wait_for()
    wait_idle(page)
    start.locator("input[type=number][disabled]").nth(2).wait_for()  # drawn once the file says what auto picks
    assert start.locator("input[type=number][disabled]").count() == 3  # all three on auto
    assert start.locator("input[type=number][disabled]").first.input_value() == "3"  # 60 examples: 3 epochs
    screenshot(page, "fine_tuning_auto_disabled")

    page.get_by_role("tab", name="Jobs").click()
    jobs_panel = page.get_by_role("tabpanel", name="Jobs")
    jobs_panel.get_by_text(f"Fine-tuned model: {job.fine_tuned_model}").first.wait_for()
    jobs_panel.get_by_role("button", name="Try it in Completions").first.click()
    page.get_by_text("Set up as the model was trained").first.wait_for()
    wait_idle(page)
    assert page.get_by_role("spinbutton", name="Max tokens").first.input_value() == "1"
    assert page.get_by_role("textbox", name="Prompt").first.input_value().endswith("###\n\n")
    screenshot(page, "fine_tuning_try_it_completions")
