"""Tools and structured output in Chromium on the local engine: a tool-calling conversation
answered with a mock result, and a structured-output run with its verdict."""

from __future__ import annotations

from tests.browser.conftest import open_page, screenshot, wait_idle


def test_tool_call_answered_with_a_mock_result(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "chat")
    page.get_by_role("heading", name="Chat").wait_for()
    page.get_by_text("Tools", exact=True).click()
    tools = page.get_by_test_id("stExpander").filter(has_text="Ready tools")
    tools.get_by_role("button", name="Load").click()  # the ready "weather" function
    wait_idle(page)
    # In the editor before the message goes: a click still on its way would leave the request without tools.
    page.wait_for_function(
        "() => [...document.querySelectorAll('textarea')].some(t => t.value.includes('get_weather'))", timeout=30_000)
    wait_idle(page)
    page.get_by_placeholder("Send a message").fill("What is the weather in Paris?")
    page.keyboard.press("Enter")
    page.get_by_text("Tool call").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_role("button", name="Use a mock result").first.click()
    wait_idle(page)
    page.get_by_role("button", name="Send the results and continue").click()
    page.get_by_text("Result of call").first.wait_for(timeout=60_000)
    wait_idle(page)
    assert page.get_by_text('"conditions": "sunny"').count() >= 1
    page.get_by_role("button", name="Regenerate from here").first.wait_for(timeout=60_000)  # the model answered after the result
    screenshot(page, "chat-tools")


def test_structured_output_shows_its_verdict(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "chat")
    page.get_by_role("heading", name="Chat").wait_for()
    page.get_by_text("Response format", exact=True).first.click()
    page.get_by_text("json_schema", exact=True).click()
    wait_idle(page)
    formats = page.get_by_test_id("stExpander").filter(has_text="Ready schemas")
    formats.get_by_role("button", name="Load").first.click()  # the ready "person" schema
    wait_idle(page)
    page.get_by_placeholder("Send a message").fill("Describe a user.")
    page.keyboard.press("Enter")
    page.get_by_text("Valid: matches the schema.").wait_for(timeout=60_000)
    screenshot(page, "chat-structured-output")


def test_responses_thread_with_raw_events(page, app_url):
    open_page(page, app_url)
    open_page(page, app_url, "responses")
    page.get_by_role("heading", name="Responses").wait_for()
    page.get_by_placeholder("Send a message").fill("What is a socket?")
    page.keyboard.press("Enter")
    page.get_by_text("Raw events").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_placeholder("Send a message").fill("And a pipe?")
    page.keyboard.press("Enter")
    page.get_by_text("after resp_").first.wait_for(timeout=60_000)  # the second turn names the first
    wait_idle(page)
    page.get_by_text("Raw events").last.click()
    page.get_by_text("response.output_text.delta").last.wait_for()  # in the opened, last turn's view
    screenshot(page, "responses")
