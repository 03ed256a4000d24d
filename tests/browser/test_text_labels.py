"""Issue 15 in Chromium: labels are whole (n=3 metrics, reported usage, logit-bias buttons),
max tokens 0 is said once and sent as shown, and Ctrl+Enter in the prompt runs what was typed."""

from __future__ import annotations

import re

from tests.browser.conftest import open_page, screenshot, seeded, wait_idle
from tests.conftest import recorded_requests


def cut_off(locator) -> list[str]:  # noqa: ANN001 - playwright types
    """The texts among these elements that their box cuts off (wider than shown)."""
    return locator.evaluate_all(
        "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"
    )


def run_button(page):  # noqa: ANN001
    return page.locator(".st-key-completions_run button").first


def set_number(page, label: str, value: str) -> None:  # noqa: ANN001
    field = page.get_by_role("spinbutton", name=label)
    field.fill(value)
    field.press("Enter")
    wait_idle(page)


def test_labels_and_numbers_are_not_cut_off(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    page.get_by_role("heading", name="Completions").wait_for()
    set_number(page, "Max tokens", "12")
    set_number(page, "Choices (n)", "3")
    set_number(page, "Best of", "4")
    page.locator(".st-key-completions_stream label").first.click()  # streaming off: best_of > n needs it
    wait_idle(page)
    page.get_by_text("Logit bias").click()
    page.get_by_role("textbox", name="Words or token ids").fill("hello")
    page.keyboard.press("Tab")  # applies it (Ctrl+Enter would also run)
    wait_idle(page)
    page.get_by_role("button", name="Zero", exact=True).wait_for()
    set_number(page, "Seed (optional)", "7")  # unseeded, a choice may end at once (it did in CI): it has no metrics
    run_button(page).click()
    page.get_by_role("heading", name="Counts").wait_for()
    wait_idle(page)

    page.mouse.move(0, 0)
    page.get_by_text("Generated tokens").nth(2).wait_for()  # one per choice
    labels = page.locator("[data-testid='stMetricLabel'] p, [data-testid='stMetricValue'] div")
    assert cut_off(labels) == []
    assert cut_off(page.locator("[data-testid='stBaseButton-secondary'] p")) == []
    usage = page.locator("[data-testid='stMetric']").filter(has_text="Reported usage").first
    assert re.search(r"\d+ \+ \d+ = \d+", usage.inner_text())  # the total shows
    page.get_by_text("bills) every candidate").first.wait_for()
    page.get_by_text("Generated tokens").first.scroll_into_view_if_needed()
    screenshot(page, "text-labels-n3-metrics")
    usage.scroll_into_view_if_needed()
    screenshot(page, "text-labels-reported-usage-best-of")
    page.get_by_role("button", name="Zero", exact=True).scroll_into_view_if_needed()
    screenshot(page, "text-labels-logit-bias")


def test_max_tokens_zero_is_said_once_and_not_clamped(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    set_number(page, "Max tokens", "0")
    warning = page.locator("[data-testid='stAlertContentWarning']")
    warning.first.wait_for()
    texts = [t for t in warning.all_inner_texts() if "max_tokens" in t]
    assert len(texts) == 1 and "got 0" in texts[0], texts
    assert page.get_by_role("spinbutton", name="Max tokens").input_value() == "0"
    page.locator(".st-key-completions_run button:disabled").first.wait_for()  # Run refuses it (a stale copy may linger)
    screenshot(page, "text-max-tokens-zero")


def test_ctrl_enter_in_the_prompt_runs_what_was_typed(page, app_url, engine_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    seeded(page)
    prompt = page.get_by_role("textbox", name="Prompt")
    prompt.fill("The csv module reads")  # typed, not yet applied: Ctrl+Enter both applies and runs
    prompt.press("Control+Enter")
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    assert recorded_requests(engine_url, "/v1/completions")[-1]["body"]["prompt"] == "The csv module reads"
    screenshot(page, "text-ctrl-enter-runs")


def test_a_control_changed_just_before_run_is_in_the_request(page, app_url, engine_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    seeded(page)
    page.locator(".st-key-completions_run button").first.click()
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    # Typed into Max tokens and, without leaving the box, Run: the box's change and the press
    # reach the app together, and the run (Run and its result rerun alone) must take the new value.
    box = page.get_by_role("spinbutton", name="Max tokens")
    box.fill("17")
    page.locator(".st-key-completions_run button").first.click()
    page.get_by_text("finish reason").first.wait_for()
    wait_idle(page)
    assert recorded_requests(engine_url, "/v1/completions")[-1]["body"]["max_tokens"] == 17
    assert page.get_by_role("spinbutton", name="Max tokens").input_value() == "17"
