"""The Fine-tuning page in Chromium: a finished job's view and its metrics chart."""

from __future__ import annotations

import openai

from tests.browser.conftest import open_page, screenshot, wait_idle
from tests.engine.test_fine_tuning import sentiment_examples, upload, wait_for


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
    chart.wait_for()
    chart.locator(".main-svg").first.wait_for()  # plotly has drawn
    assert panel.locator("[data-testid='stPlotlyChart']").count() >= 2  # loss and accuracy
    assert panel.get_by_role("button", name="Try it in Chat").count() == 1
    screenshot(page, "fine_tuning_job")

    page.get_by_role("tab", name="Metrics").click()
    wait_idle(page)
    metrics = page.get_by_role("tabpanel", name="Metrics")
    metrics.locator("[data-testid='stPlotlyChart'] .main-svg").first.wait_for()
    screenshot(page, "fine_tuning_metrics")
