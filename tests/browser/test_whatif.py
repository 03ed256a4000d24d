"""What-ifs in Chromium: branch points at a colder temperature, a branch continued from an
alternative (its first token the chosen alternative), and the raw chunks of a streamed run."""

from __future__ import annotations

from tests.browser.conftest import open_page, screenshot, seeded, wait_idle


def run_completions(page, app_url):  # noqa: ANN001
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    page.get_by_role("heading", name="Completions").wait_for()
    wait_idle(page)
    seeded(page)
    try:
        page.locator(".st-key-completions_run button").first.click()
    except Exception:
        screenshot(page, "whatif-run-not-clickable")
        raise
    page.get_by_role("heading", name="What if").wait_for()
    wait_idle(page)


def test_a_colder_temperature_marks_branch_points(page, app_url):
    run_completions(page, app_url)
    page.get_by_role("heading", name="What if").scroll_into_view_if_needed()
    slider = page.get_by_role("slider", name="Temperature").last
    slider.focus()
    for _ in range(4):  # 0.2 -> 0.0 in steps of 0.05
        page.keyboard.press("ArrowLeft")
    wait_idle(page)
    screenshot(page, "whatif-branch-points")
    page.locator(".tv .mk").first.wait_for(state="attached")  # marked positions in the what-if token view
    assert page.get_by_text("Only the returned alternatives are known").count() == 1
    screenshot(page, "whatif-branch-points")


def test_continue_from_an_alternative_shows_the_branch_with_that_token_first(page, app_url):
    run_completions(page, app_url)
    page.get_by_role("button", name="Continue").click()
    label = page.get_by_text("└ at #0 of 0")
    label.wait_for()
    wait_idle(page)
    chosen = label.inner_text().split("«", 1)[1].split("»", 1)[0]
    branch_view = page.locator(".tv").last
    first = branch_view.locator("span.t").first.inner_text().split("\n")[0]
    assert first.replace(" ", "␣").replace("\n", "↵") == chosen
    screenshot(page, "whatif-branch")


def test_the_raw_view_of_a_streamed_run_lists_its_chunks_with_times(page, app_url):
    run_completions(page, app_url)
    wait_idle(page)
    raw = page.locator("[data-testid='stExpander'] summary", has_text="Raw request and response")
    raw.scroll_into_view_if_needed()
    raw.click()
    page.get_by_text("chunks · first after").wait_for()
    page.locator("code", has_text=" ms  {").first.wait_for()  # drawn after the caption and the arrival chart
    screenshot(page, "raw-wire")
