"""Completions and Chat in Chromium: run once each and see the tokens; Stop a long stream."""

from __future__ import annotations

import re

from tests.browser.conftest import open_page, screenshot, seeded, set_up_a_long_stream, wait_idle
from tests.conftest import recorded_requests

# Presses Run (a click, or Ctrl+Enter in the prompt) and, in the same task, reads whether
# the run's Stop is on screen: the press itself shows it, before any word from the server.
# With `stopToo`, presses that Stop at once too, before the run can begin.
PRESS_AND_LOOK = """([how, stopToo]) => {
    const stop = () => document.querySelector(".st-key-completions_result_stop button");
    const before = Boolean(stop()?.checkVisibility());
    if (how === "click") document.querySelector(".st-key-completions_run button").click();
    else document.querySelector(".st-key-completions_prompt textarea").dispatchEvent(
        new KeyboardEvent("keydown", {key: "Enter", ctrlKey: true, bubbles: true}));
    const after = Boolean(stop()?.checkVisibility());
    if (stopToo) stop().click();
    return [before, after];
}"""


def test_completions_runs_and_shows_token_probabilities(page, app_url):
    open_page(page, app_url)  # the app's root first: it sets up st.navigation
    open_page(page, app_url, "completions")
    page.get_by_role("heading", name="Completions").wait_for()
    seeded(page)
    page.locator(".st-key-completions_run button").first.click()
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    page.locator(".tv span.t").first.wait_for()  # the shaded tokens
    assert page.locator(".tv span.t").count() >= 1  # the conditioned model may end after a token or two
    assert page.get_by_text("time to first token").count() >= 1
    page.get_by_text("View code").click()
    assert page.get_by_text("client.completions.create(").count() == 1
    screenshot(page, "completions")


# The token that starts furthest right (a short one, on one line), in the window's middle.
RIGHTMOST_UNIT = """() => {
  let best = -1, left = -1;
  document.querySelectorAll(".tv span.t").forEach((unit, i) => {
    const box = unit.getBoundingClientRect();
    if (box.height < 30 && box.width < 80 && box.top > 150 && box.bottom < innerHeight - 300 && box.left > left) [best, left] = [i, box.left];
  });
  return best;
}"""


def test_a_tokens_tooltip_stays_in_the_window_at_a_lines_end(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    set_up_a_long_stream(page, 400)
    page.get_by_role("spinbutton", name="Seed (optional)").fill("7")  # the same text every time
    page.keyboard.press("Tab")
    wait_idle(page)
    page.locator(".st-key-completions_run button").first.click()
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    page.locator(".tv").first.scroll_into_view_if_needed()
    unit = page.locator(".tv span.t").nth(page.evaluate(RIGHTMOST_UNIT))
    unit.hover()
    tip, token = unit.locator(".tip").bounding_box(), unit.bounding_box()
    window = page.viewport_size["width"]
    assert token["x"] + tip["width"] > window  # drawn from the token's left, it would run off the window
    assert tip["x"] >= 0 and tip["x"] + tip["width"] <= window  # it is flipped to end at the token's right instead
    assert abs(tip["y"] - (token["y"] + token["height"])) < 10  # under the token


def test_chat_sends_a_message_and_shows_the_reply_tokens(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "chat")
    page.get_by_role("heading", name="Chat").wait_for()
    seeded(page)
    page.get_by_placeholder("Send a message").fill("What does len() return?")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    assert page.get_by_role("button", name="Regenerate from here").count() == 1
    page.locator(".tv span.t").first.wait_for()
    screenshot(page, "chat")


def test_a_long_runs_tokens_are_shaded_with_their_alternatives_on_hover(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    set_up_a_long_stream(page, 1200)  # past RICH_TOOLTIPS_UP_TO units: drawn in the browser from the units' data
    page.locator(".st-key-completions_run button").first.click()
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    units = page.locator(".tv span.t")
    units.nth(1000).wait_for()
    assert re.fullmatch(r"p\d", units.nth(600).get_attribute("class").split()[1])  # shaded by probability
    assert units.nth(600).get_attribute("data-tip") is None  # written when first hovered, from the unit's data
    units.nth(600).hover()
    tip = units.nth(600).get_attribute("data-tip")
    assert re.match(r"#\d+ .+  \d+\.\d\d%", tip) and "✓" in tip  # its probability and alternatives
    shown = units.nth(600).evaluate("unit => getComputedStyle(unit, '::after').content")
    assert tip.splitlines()[0] in shown  # the tooltip on hover
    assert len(page.locator(".tv").first.inner_text()) > 1000
    # The text's last unit, off screen until scrolled to (drawn only then), is there and hovers too.
    last = units.nth(units.count() - 1)
    last.hover()
    assert last.evaluate("unit => getComputedStyle(unit, '::after').content").startswith(f'"#{last.get_attribute("data-i")} ')
    screenshot(page, "completions-long-run")


def test_stop_keeps_what_arrived(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    set_up_a_long_stream(page, 4000)
    page.locator(".st-key-completions_run button").first.click()
    page.locator(".st-key-completions_result_live [data-testid='stText']").filter(has_text=re.compile(r"\S")).first.wait_for()  # text arrives
    page.locator(".st-key-completions_result_stop button").first.click(timeout=10_000)  # ours, not the toolbar's
    page.get_by_text("Stopped: the text that arrived before Stop is kept below.").wait_for()
    wait_idle(page)
    page.locator(".tv span.t").nth(1).wait_for()
    screenshot(page, "completions-stopped")

def test_a_new_run_takes_the_place_of_the_last_ones_view_at_once(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    set_up_a_long_stream(page, 20)
    page.locator(".st-key-completions_run button").first.click()
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    old_status = page.get_by_text("time to first token").first
    assert old_status.is_visible()

    page.get_by_role("spinbutton", name="Max tokens").fill("1500")
    page.keyboard.press("Tab")
    wait_idle(page)
    page.locator(".st-key-completions_run button").first.click()
    page.locator(".st-key-completions_result_live [data-testid='stText']").filter(has_text=re.compile(r"\S")).first.wait_for()
    # While the new text streams, the last run's view (status, token view) is gone, not faded below it.
    assert not old_status.is_visible()
    assert not page.get_by_role("heading", name="Token probabilities").first.is_visible()
    assert not page.get_by_text("Raw request and response").first.is_visible()  # its expanders too
    assert not page.get_by_text("Plain text (copy)").first.is_visible()
    assert page.get_by_text("View code").first.is_visible()  # the code of the request that runs: not the last run's
    assert page.locator(".st-key-completions_result_stop button").first.is_visible()
    page.get_by_role("heading", name="Token probabilities").wait_for()  # the new run's, when it ends
    wait_idle(page)
    assert page.get_by_text("time to first token").first.is_visible()
    assert page.get_by_text("View code").first.is_visible()



def test_stop_is_on_screen_for_a_run_pressed_while_a_control_change_still_runs(page, app_url, engine_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    set_up_a_long_stream(page, 1400)
    page.locator(".st-key-completions_result_stop .playground-stop").first.wait_for(state="attached")
    # The change's run is under way at the press; the press's own run (Run's part of the page
    # alone) comes after it, and the end of the first must not take the Stop away.
    page.evaluate("""() => {
        const app = document.querySelector("[data-testid='stApp']");
        const watcher = new MutationObserver(() => {
            if (app.dataset.testScriptState !== "running") return;
            watcher.disconnect();
            document.querySelector(".st-key-completions_run button").click();
        });
        watcher.observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
    }""")
    page.get_by_role("spinbutton", name="Max tokens").fill("1500")
    page.keyboard.press("Tab")  # its run starts, and Run is pressed at once
    page.locator(".st-key-completions_result_live [data-testid='stText']").filter(has_text=re.compile(r"\S")).first.wait_for()
    page.wait_for_timeout(500)
    assert page.locator(".st-key-completions_result_stop button").first.is_visible()
    page.locator(".st-key-completions_result_stop button").first.click()
    page.get_by_text("Stopped: the text that arrived before Stop is kept below.").wait_for()
    wait_idle(page)
    assert recorded_requests(engine_url, "/v1/completions")[-1]["body"]["max_tokens"] == 1500


def test_stop_is_on_screen_at_the_press_and_stop_before_the_request_sends_nothing(page, app_url, engine_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    set_up_a_long_stream(page, 1500)
    page.locator(".st-key-completions_result_stop .playground-stop").first.wait_for(state="attached")  # its JS is live
    sent = len(recorded_requests(engine_url, "/completions"))

    # Run: Stop shows at the press, stays while the text streams, and stops it.
    assert page.evaluate(PRESS_AND_LOOK, ["click", False]) == [False, True]
    page.locator(".st-key-completions_result_live [data-testid='stText']").filter(has_text=re.compile(r"\S")).first.wait_for()
    assert page.locator(".st-key-completions_result_stop button").first.is_visible()
    page.locator(".st-key-completions_result_stop button").first.click()
    page.get_by_text("Stopped: the text that arrived before Stop is kept below.").wait_for()
    wait_idle(page)
    assert not page.locator(".st-key-completions_result_stop button").first.is_visible()
    assert len(recorded_requests(engine_url, "/completions")) == sent + 1

    # Ctrl+Enter in the prompt and, at once, Stop: the run is called off before its request is sent.
    assert page.evaluate(PRESS_AND_LOOK, ["keys", True]) == [False, True]
    wait_idle(page)
    assert not page.locator(".st-key-completions_result_stop button").first.is_visible()
    assert len(recorded_requests(engine_url, "/completions")) == sent + 1  # nothing sent
    assert page.locator(".st-key-completions_run button").first.is_enabled()
    assert page.get_by_text("Stopped: the text that arrived before Stop is kept below.").count() == 1  # the first run's, kept

    # A run that ends by itself takes its Stop away, and the next press shows it again.
    page.get_by_role("spinbutton", name="Max tokens").fill("40")
    page.keyboard.press("Tab")
    wait_idle(page)
    assert page.evaluate(PRESS_AND_LOOK, ["click", False]) == [False, True]
    page.get_by_text("finish reason").first.wait_for()
    wait_idle(page)
    assert not page.locator(".st-key-completions_result_stop button").first.is_visible()
    assert len(recorded_requests(engine_url, "/completions")) == sent + 2
    assert page.evaluate(PRESS_AND_LOOK, ["click", True]) == [False, True]  # the Stop is still mounted, ready
    wait_idle(page)
