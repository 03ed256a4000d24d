"""The prompt's token count follows the typing, before the text area applies its text."""

from __future__ import annotations

import re

from playground.counting import count_chat, count_prompt
from tests.browser.conftest import open_page, screenshot, set_up_a_long_stream, wait_idle

COUNT = re.compile(r"([\d,]+) prompt tokens")


def shown_count(page) -> int:  # noqa: ANN001
    caption = page.locator("[data-stale='false']").get_by_text(COUNT).first
    return int(COUNT.search(caption.inner_text()).group(1).replace(",", ""))


def wait_for_count(page, expected: int) -> None:  # noqa: ANN001
    page.locator("[data-stale='false']").get_by_text(re.compile(rf"^{expected:,} prompt tokens")).first.wait_for()


def type_at_the_end(page, field, text: str) -> None:  # noqa: ANN001
    """Type into a field key by key, as a user does: no Ctrl+Enter, no leaving it."""
    field.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text, delay=20)


def test_completions_counts_while_typing_and_a_stream_goes_on(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "completions")
    page.get_by_role("heading", name="Completions").wait_for()
    wait_idle(page)
    prompt = page.get_by_role("textbox", name="Prompt")
    before = shown_count(page)
    type_at_the_end(page, prompt, " and then it writes the whole file back to disk")
    text = prompt.input_value()
    # Nothing applied the text (no Ctrl+Enter, the field kept its focus), yet the count is the typed text's.
    expected = count_prompt(text, "local-text")
    assert expected > before
    wait_for_count(page, expected)
    assert prompt.evaluate("field => field === document.activeElement")
    screenshot(page, "completions-count-while-typing")

    # Typing during a long stream updates the count when the stream ends, and does not stop it.
    page.keyboard.press("Tab")
    wait_idle(page)
    set_up_a_long_stream(page, 1500)
    page.locator(".st-key-completions_run button").first.click()
    page.locator(".st-key-completions_result_stop button").first.wait_for()
    type_at_the_end(page, prompt, " twice")
    page.get_by_role("heading", name="Token probabilities").wait_for(timeout=120_000)
    wait_idle(page)
    assert page.get_by_text("Stopped: the text that arrived").count() == 0
    wait_for_count(page, count_prompt(prompt.input_value(), "local-text"))


def test_chat_counts_the_system_message_while_typing(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "chat")
    page.get_by_role("heading", name="Chat").wait_for()
    wait_idle(page)
    system = page.get_by_role("textbox", name="System message")
    system.click()
    page.keyboard.type("You answer in one short sentence about Python files.", delay=10)
    messages = [{"role": "system", "content": system.input_value()}]
    wait_for_count(page, count_chat(messages, "local-text"))
    assert system.evaluate("field => field === document.activeElement")
