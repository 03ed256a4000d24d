import json
import re
from pathlib import Path

from tests.browser.conftest import open_page, screenshot, wait_idle


def test_a_run_shows_up_in_history_in_a_new_session(page, app_url):
    open_page(page, app_url)  # the app first: st.navigation then owns the page URLs
    open_page(page, app_url, "completions")
    page.get_by_role("button", name="Run", exact=True).click()
    wait_idle(page, timeout=120)
    page.get_by_text("Token probabilities").first.wait_for()

    # a new browser session (a fresh page load) reads the run back from the database
    open_page(page, app_url, "history")
    page.get_by_role("heading", name="History").wait_for()
    assert page.locator("[data-testid='stSidebar']").get_by_text("Check connection").count() == 1  # the whole app, not the page alone
    # The list's caption (the first dataframe on the page may sit in a collapsed section once
    # earlier tests saved evals and other runs); 2 shared cores: be patient.
    page.get_by_text("match · newest first").wait_for(timeout=90_000)
    page.locator("[data-testid='stDataFrame']:visible").first.wait_for()
    assert page.get_by_role("button", name="Re-run").count() == 1
    screenshot(page, "history")

    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("^Export")).click()
    runs = [json.loads(line) for line in Path(download.value.path()).read_text().splitlines()]
    # every text run of the session (other tests saved evals, which name no single model)
    texts = [run for run in runs if run["endpoint"] in ("completions", "chat")]
    assert texts and all(run["request"]["model"] for run in texts)


def test_compare_page_runs_two_configurations(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "compare")
    page.get_by_role("button", name="Run all").click()
    wait_idle(page, timeout=120)
    page.locator(".diff").first.wait_for(timeout=90_000)
    screenshot(page, "compare")
