import csv
import io
import re
import time
from pathlib import Path

from tests.browser.conftest import open_page, screenshot, wait_idle


def test_a_small_eval_end_to_end(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "evals")
    page.get_by_role("heading", name="1. Dataset").wait_for()
    page.get_by_text("24 rows · columns: review, label").wait_for()
    page.get_by_text("Variables: {{review}}").wait_for()
    page.get_by_role("button", name="Run eval").click()
    wait_idle(page, timeout=180)
    page.get_by_role("heading", name="Results: sentiment").wait_for(timeout=90_000)
    page.get_by_text("Mean score per configuration").wait_for(timeout=90_000)
    page.get_by_role("heading", name="Rows").wait_for()
    page.locator(".tv").first.wait_for(timeout=60_000)  # the first cell's token view
    assert page.get_by_role("button", name="Re-run this cell").count() == 1
    assert page.get_by_text("Traceback").count() == 0
    screenshot(page, "evals")

    with page.expect_download() as download:
        page.get_by_role("button", name="CSV", exact=True).click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == 48 and {r["configuration"] for r in rows} == {"1. local-text", "2. local-text"}
    assert all(r["exact.score"] in ("0.0", "1.0") for r in rows) and rows[0]["input.review"] == "The soup was wonderful."

    # a fresh session finds it in the saved evals
    open_page(page, app_url, "evals")
    page.get_by_text("Open a saved eval").click()
    page.get_by_role("button", name="Open this eval").click()
    wait_idle(page)
    page.get_by_text("Mean score per configuration").wait_for(timeout=60_000)


def test_cancel_keeps_finished_cells_and_resume_completes(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "evals")
    page.get_by_role("heading", name="3. Configurations").wait_for(timeout=90_000)
    repeats = page.get_by_role("spinbutton", name="Repeats per row")
    repeats.fill("5")
    repeats.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Run eval").click()
    page.get_by_role("button", name="Cancel").click(timeout=60_000)
    wait_idle(page, timeout=120)
    kept = page.get_by_text(re.compile(r"Cancelled: \d+ of 240 cells finished and kept"))
    kept.wait_for(timeout=60_000)
    done = int(re.search(r"Cancelled: (\d+)", kept.inner_text()).group(1))
    assert 0 < done < 240
    resume = page.get_by_role("button", name=re.compile(rf"^Resume: {240 - done} cells"))
    resume.click()
    resume_buttons = page.get_by_role("button", name=re.compile("^Resume"))
    deadline = time.monotonic() + 180
    while (resume_buttons.count() or page.get_by_text(re.compile(r"of \d+ cells")).count()) and time.monotonic() < deadline:
        time.sleep(0.5)  # the resumed run's progress bar, then the results without a Resume button
    wait_idle(page, timeout=60)
    assert resume_buttons.count() == 0  # nothing left to run
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV", exact=True).click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert len(rows) == 240 and not any(r["error"] for r in rows)
    screenshot(page, "evals-resumed")
