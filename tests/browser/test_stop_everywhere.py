"""The Stop on Chat and Compare (Completions: test_text_pages.py): on screen at the press
that starts a run, gone when the run ends; Compare's Stop pressed with Run all starts nothing."""

from __future__ import annotations

from tests.browser.conftest import open_page, seeded, wait_idle
from tests.conftest import recorded_requests

# Presses (a click on `selector`, or Enter in it) and, in the same task, reads whether the
# Stop of `stop` is on screen; with `stopToo`, presses that Stop at once too.
PRESS = """([selector, how, stop, stopToo]) => {
    const target = document.querySelector(selector);
    if (how === "click") target.click();
    else target.dispatchEvent(new KeyboardEvent("keydown", {key: "Enter", bubbles: true}));
    const button = document.querySelector(stop + " button");
    const shown = Boolean(button?.checkVisibility());
    if (stopToo) button.click();
    return shown;
}"""


def test_chat_shows_stop_when_a_message_is_sent_with_enter(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "chat")
    seeded(page)  # an empty reply has no token view to wait for
    page.locator(".st-key-chat_result_stop .playground-stop").first.wait_for(state="attached")  # its JS is live
    page.get_by_placeholder("Send a message").fill("What does len() return?")
    assert page.evaluate(PRESS, [".st-key-chat_input textarea", "enter", ".st-key-chat_result_stop", False])
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    assert not page.locator(".st-key-chat_result_stop button").first.is_visible()


def test_compare_shows_stop_at_run_all_and_stop_with_it_starts_nothing(page, app_url, engine_url):
    open_page(page, app_url)
    open_page(page, app_url, "compare")
    page.locator(".st-key-cmp_stop .playground-stop").first.wait_for(state="attached")
    sent = len(recorded_requests(engine_url))
    assert page.evaluate(PRESS, [".st-key-cmp_run button", "click", ".st-key-cmp_stop", True])
    wait_idle(page)
    assert len(recorded_requests(engine_url)) == sent  # called off before any request went out
    assert not page.locator(".st-key-cmp_stop button").first.is_visible()

    assert page.evaluate(PRESS, [".st-key-cmp_run button", "click", ".st-key-cmp_stop", False])
    page.locator(".diff").first.wait_for(timeout=90_000)
    wait_idle(page, timeout=120)
    assert len(recorded_requests(engine_url)) > sent
    assert not page.locator(".st-key-cmp_stop button").first.is_visible()
