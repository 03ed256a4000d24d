"""Nothing a user entered is lost: inputs survive provider and page switches, the address
bar holds the controls from the first render, and "Open in Completions" sends exactly the
saved request again. Chromium against `streamlit run app.py`."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import open_page, screenshot, seeded, wait_idle
from tests.conftest import recorded_requests

SYSTEM = "Answer in one short sentence."
QUESTION = "What does len() return?"


def nav(page, name: str, heading: str | None = None) -> None:  # noqa: ANN001
    """Go to another page through the sidebar (the same session)."""
    page.locator("[data-testid='stSidebarNav']").get_by_role("link", name=name, exact=True).click()
    page.get_by_role("heading", name=heading or name).first.wait_for()
    wait_idle(page)


def choose(page, label: str, option: str) -> None:  # noqa: ANN001
    """Pick `option` in the selectbox labelled `label`."""
    page.get_by_label(label, exact=True).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def type_into(page, label: str, text: str, *, commit: str = "Tab") -> None:  # noqa: ANN001
    page.get_by_label(label, exact=True).first.fill(text)
    page.keyboard.press(commit)  # to the focused input (Tab: leaving it applies it; Ctrl+Enter would also run Completions)
    page.wait_for_timeout(1500)  # the rerun that takes the value starts; wait_idle then waits for its end
    wait_idle(page)


def shows(page, label: str, value: str) -> None:  # noqa: ANN001
    """The input labelled `label` shows `value` (waiting for the page to finish drawing)."""
    expect(page.get_by_label(label, exact=True).first).to_have_value(value, timeout=60_000)


def conversation(page) -> list[str]:  # noqa: ANN001
    boxes = page.locator("[data-testid='stChatMessage'] textarea")
    return [boxes.nth(i).input_value() for i in range(boxes.count())]


def shows_conversation(page, messages: list[str]) -> None:  # noqa: ANN001
    boxes = page.locator("[data-testid='stChatMessage'] textarea")
    expect(boxes).to_have_count(len(messages), timeout=60_000)
    for i, text in enumerate(messages):
        expect(boxes.nth(i)).to_have_value(text, timeout=60_000)


def test_a_chat_survives_a_provider_round_trip_and_a_page_round_trip(page, app_url):  # noqa: ANN001
    open_page(page, app_url)
    nav(page, "Chat")
    type_into(page, "System message", SYSTEM)
    type_into(page, "Max tokens", "12", commit="Enter")
    seeded(page)
    page.get_by_placeholder("Send a message").fill(QUESTION)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    before = conversation(page)
    assert before[0] == QUESTION and len(before) == 2 and before[1]  # the question and the reply

    choose(page, "Provider", "OpenAI")
    page.get_by_text("Enter an API key, or set OPENAI_API_KEY.").wait_for()
    choose(page, "Provider", "Local engine (offline)")
    page.get_by_role("heading", name="Chat").wait_for()
    shows(page, "System message", SYSTEM)
    shows_conversation(page, before)
    shows(page, "Max tokens", "12")

    nav(page, "Completions")
    nav(page, "Chat")
    shows(page, "System message", SYSTEM)
    shows_conversation(page, before)
    shows(page, "Max tokens", "12")
    screenshot(page, "chat-after-round-trips")


def test_the_address_holds_the_controls_from_the_first_render_and_a_reload_restores_them(page, app_url):  # noqa: ANN001
    open_page(page, app_url)
    nav(page, "Completions")
    page.wait_for_function("() => location.search.includes('model=')")
    query = parse_qs(urlsplit(page.url).query)
    assert query["page"] == ["completions"] and query["model"] == ["local-text"]
    assert query["max_tokens"] == ["256"] and query["prompt"][0].startswith("def median")

    type_into(page, "Prompt", "def reloaded():")
    type_into(page, "Max tokens", "77", commit="Enter")
    type_into(page, "Stop sequences", "END")
    page.wait_for_function("() => location.search.includes('max_tokens=77')")
    link = page.url
    page.goto(link)  # a reload, or the link pasted into a new tab: a new session
    page.get_by_role("heading", name="Completions").wait_for()
    wait_idle(page)
    shows(page, "Prompt", "def reloaded():")
    shows(page, "Max tokens", "77")
    shows(page, "Stop sequences", "END")


def test_open_in_completions_sends_exactly_the_saved_request(page, app_url, engine_url):  # noqa: ANN001
    open_page(page, app_url)
    nav(page, "Completions")
    type_into(page, "Prompt", "def saved(request):")
    type_into(page, "Max tokens", "9", commit="Enter")
    type_into(page, "Seed (optional)", "5", commit="Enter")
    page.get_by_text("Logit bias", exact=True).click()
    type_into(page, "Words or token ids", "1234")
    page.locator(".st-key-completions_run button").first.click()
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    saved = recorded_requests(engine_url, "/v1/completions")[-1]["body"]
    assert saved["seed"] == 5 and saved["logit_bias"] == {"1234": -100} and "stop" not in saved

    # later work moves the controls, and sets one the saved run did not
    type_into(page, "Seed (optional)", "6", commit="Enter")
    type_into(page, "Stop sequences", "XYZ")
    type_into(page, "Words or token ids", "")
    type_into(page, "Prompt", "something else")

    nav(page, "History")
    page.get_by_role("button", name="Open in Completions").click()
    page.get_by_role("heading", name="Completions").wait_for()
    wait_idle(page)
    shows(page, "Stop sequences", "")
    shows(page, "Prompt", "def saved(request):")
    page.locator(".st-key-completions_run button").first.click()
    page.get_by_role("heading", name="Token probabilities").wait_for()
    wait_idle(page)
    assert recorded_requests(engine_url, "/v1/completions")[-1]["body"] == saved
    screenshot(page, "open-in-completions")


# (page link, page heading, [(input label, text typed, how it is committed)])
INPUTS = [
    ("Completions", "Completions", [("Prompt", "def kept_on_completions():", "Tab"),
                                    ("Max tokens", "33", "Enter")]),
    ("Responses", "Responses", [("Instructions", "Kept on Responses.", "Control+Enter")]),
    ("Tokenizer", "Tokenizer", [("Text", "kept on the tokenizer", "Control+Enter")]),
    ("Embeddings search", "Embeddings", [("One document per line, or per paragraph", "kept doc one\nkept doc two", "Control+Enter")]),
    ("Compare", "Compare", [("Prompt", "def kept_on_compare():", "Control+Enter")]),
    ("Evals", "Evals", [("Eval name", "kept eval name", "Enter")]),
    ("History", "History", [("Search", "kept search words", "Enter")]),
]
CHECKED_FILE = "\n".join(
    json.dumps({"prompt": f"Post {i} about the game\n\n###\n\n", "completion": f" {'baseball' if i % 2 else 'hockey'}"})
    for i in range(12)
) + "\n"


def examples_metric(page):  # noqa: ANN001
    return page.get_by_test_id("stMetric").filter(has_text="Examples").filter(has_text="12").first


def test_every_page_keeps_its_inputs_across_page_switches(page, app_url):  # noqa: ANN001
    open_page(page, app_url)
    for link, heading, fields in INPUTS:
        nav(page, link, heading)
        if link == "Embeddings search":  # the pasted corpus
            page.get_by_test_id("stButtonGroup").get_by_text("Paste", exact=True).click()
            wait_idle(page)
        for label, text, commit in fields:
            type_into(page, label, text, commit=commit)
    nav(page, "Fine-tuning")
    page.locator("input[type='file']").first.set_input_files(
        {"name": "kept.jsonl", "mimeType": "application/jsonl", "buffer": CHECKED_FILE.encode()})
    examples_metric(page).wait_for(timeout=60_000)  # the data check's report
    wait_idle(page)

    # A long route through every page, then back to each: every input is as the user left it.
    for link, heading in [("Home", "OpenAI Playground"), ("Chat", "Chat"), ("Image variations", "Image variations"),
                          *[(link, heading) for link, heading, _ in INPUTS]]:
        nav(page, link, heading)
    for link, heading, fields in reversed(INPUTS):
        nav(page, link, heading)
        for label, text, _ in fields:
            shows(page, label, text)
    nav(page, "Fine-tuning")
    page.get_by_text("Checked file: kept.jsonl").wait_for(timeout=60_000)
    examples_metric(page).wait_for(timeout=60_000)
    screenshot(page, "fine-tuning-check-kept")
