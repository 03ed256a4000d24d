import csv
import io
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
