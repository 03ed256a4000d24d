"""Compare in Chromium: a configuration on its own provider connection, and saved runs told
apart by their labels (issue 15, items 8 and 9)."""

from tests.browser.conftest import open_page, screenshot, wait_idle
from tests.conftest import TEST_KEY


def _choose(page, label: str, option: str) -> None:  # noqa: ANN001
    page.locator("[data-testid='stSelectbox']").filter(has_text=label).first.click()
    page.get_by_role("option", name=option).first.click()
    page.wait_for_timeout(800)
    wait_idle(page)


def test_a_column_on_its_own_connection_and_saved_runs_told_apart(page, app_url, engine_url) -> None:  # noqa: ANN001
    open_page(page, app_url)
    open_page(page, app_url, "compare")
    page.get_by_role("button", name="Run all").wait_for()
    selects = page.locator("[data-testid='stSelectbox']").filter(has_text="Connection")
    selects.nth(1).click()
    page.get_by_role("option", name="OpenAI-compatible server").first.click()
    page.wait_for_timeout(800)
    wait_idle(page)
    page.get_by_label("Base URL").first.fill(engine_url)
    page.get_by_label("Base URL").first.press("Enter")
    page.wait_for_timeout(800)
    wait_idle(page)
    key = page.get_by_label("API key (optional)", exact=True).and_(page.locator("input")).first
    key.fill(TEST_KEY)
    key.press("Enter")
    page.wait_for_timeout(800)
    wait_idle(page)
    page.get_by_role("button", name="Run all").click()
    wait_idle(page, timeout=120)
    page.locator(".diff").first.wait_for(timeout=90_000)
    page.get_by_text("OpenAI-compatible server (http://127.0.0.1").first.wait_for()
    assert page.get_by_text(TEST_KEY, exact=True).count() == 0
    page.set_viewport_size({"width": 1400, "height": 1600})
    wait_idle(page)
    screenshot(page, "compare_own_connection")

    page.set_viewport_size({"width": 1400, "height": 1000})
    page.get_by_text("Saved runs", exact=True).click()
    page.wait_for_timeout(800)
    wait_idle(page)
    page.locator("[data-testid='stMultiSelect']").first.click()
    options = page.get_by_role("option")
    options.first.wait_for()
    labels = [options.nth(i).inner_text() for i in range(options.count())]
    compare_runs = [label for label in labels if "T=" in label]
    assert len(compare_runs) >= 2 and len(set(labels)) == len(labels), labels
    screenshot(page, "compare_saved_run_labels")
