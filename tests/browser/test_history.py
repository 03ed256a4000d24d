import json
import re
from pathlib import Path

from tests.browser.conftest import open_page, screenshot, seeded, set_up_a_long_stream, wait_idle


def test_a_run_shows_up_in_history_in_a_new_session(page, app_url):
    prompt = "A history check, marker qz7: def add(a, b):"  # other tests save runs too: find this one by its words
    open_page(page, app_url)  # the app first: st.navigation then owns the page URLs
    open_page(page, app_url, "completions")
    box = page.get_by_label("Prompt", exact=True).first
    box.fill(prompt)
    box.press("Tab")  # applies the prompt; Ctrl+Enter would also run
    page.wait_for_timeout(1500)  # the rerun that takes the prompt starts; wait_idle then waits for its end
    wait_idle(page)
    seeded(page)  # unseeded, the model may end at once (an empty text has no token view); it did in CI
    page.locator(".st-key-completions_run button").first.click()  # "Run" and its shortcut hint
    page.get_by_role("heading", name="Token probabilities").wait_for(timeout=120_000)  # the run has ended
    wait_idle(page)

    # a new browser session (a fresh page load) reads the run back from the database
    open_page(page, app_url, "history")
    page.get_by_role("heading", name="History").wait_for()
    page.locator("[data-testid='stSidebar']").get_by_text("Check connection").wait_for()  # the whole app, not the page alone
    search = page.get_by_role("textbox", name="Search", exact=True)  # (tables have "Search" buttons too)
    search.fill("qz7")
    search.press("Enter")
    page.wait_for_timeout(1500)
    wait_idle(page)
    page.get_by_text("1 run match · newest first").wait_for(timeout=90_000)
    page.locator(".tv:visible").first.wait_for(timeout=90_000)  # the saved run's token view, drawn with no new request
    assert page.get_by_role("button", name="Re-run").count() == 1
    screenshot(page, "history")
    wait_idle(page)

    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("^Export")).click()
    runs = [json.loads(line) for line in Path(download.value.path()).read_text().splitlines()]
    assert [run["endpoint"] for run in runs] == ["completions"]
    assert runs[0]["request"]["model"] and runs[0]["request"]["prompt"] == prompt


def test_a_stream_left_for_another_page_is_saved_as_stopped(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    box = page.get_by_label("Prompt", exact=True).first
    box.fill("A left stream, marker qz8: def long_story():")
    box.press("Tab")
    page.wait_for_timeout(1500)
    wait_idle(page)
    set_up_a_long_stream(page, 4000)
    page.locator(".st-key-completions_run button").first.click()  # "Run" and its shortcut hint
    page.locator(".st-key-completions_result_stop button").first.wait_for(timeout=10_000)  # streaming
    page.wait_for_timeout(1000)

    page.locator("[data-testid='stSidebarNav'] a", has_text="History").click()  # mid-stream
    page.get_by_role("heading", name="History").wait_for()
    search = page.get_by_role("textbox", name="Search", exact=True)
    search.fill("qz8")
    search.press("Enter")
    page.wait_for_timeout(1500)
    wait_idle(page)
    page.get_by_text("1 run match · newest first").wait_for(timeout=60_000)
    page.get_by_text("This run was stopped before the end: what arrived is shown.").wait_for()
    screenshot(page, "history-stream-left")


def test_compare_page_runs_two_configurations(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "compare")
    page.get_by_role("button", name="Run all").click()
    wait_idle(page, timeout=120)
    page.locator(".diff").first.wait_for(timeout=90_000)
    screenshot(page, "compare")
