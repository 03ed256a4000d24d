"""Completions and Chat in Chromium: run once each and see the tokens; Stop a long stream."""

from __future__ import annotations

from tests.browser.conftest import open_page, screenshot, set_up_a_long_stream, wait_idle


def test_completions_runs_and_shows_token_probabilities(page, app_url):
    open_page(page, app_url)  # the app's root first: it sets up st.navigation
    open_page(page, app_url, "completions")
    page.get_by_role("heading", name="Completions").wait_for()
    page.locator(".st-key-completions_run button").first.click()
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    page.locator(".tv span.t").first.wait_for()  # the shaded tokens
    assert page.locator(".tv span.t").count() >= 1  # the conditioned model may end after a token or two
    assert page.get_by_text("time to first token").count() >= 1
    page.get_by_text("View code").click()
    assert page.get_by_text("client.completions.create(").count() == 1
    screenshot(page, "completions")


def test_chat_sends_a_message_and_shows_the_reply_tokens(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "chat")
    page.get_by_role("heading", name="Chat").wait_for()
    page.get_by_placeholder("Send a message").fill("What does len() return?")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    assert page.get_by_role("button", name="Regenerate from here").count() == 1
    page.locator(".tv span.t").first.wait_for()
    screenshot(page, "chat")


def test_stop_keeps_what_arrived(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    set_up_a_long_stream(page, 4000)
    page.locator(".st-key-completions_run button").first.click()
    page.locator(".st-key-completions_result_stop button").first.click(timeout=10_000)  # ours, not the toolbar's
    page.get_by_text("Stopped: the text that arrived before Stop is kept below.").wait_for()
    wait_idle(page)
    page.locator(".tv span.t").nth(1).wait_for()
    screenshot(page, "completions-stopped")
