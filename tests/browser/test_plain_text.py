"""Text from a server is plain text on every page: a hostile OpenAI-compatible server whose
model ids, texts, logprob tokens and errors carry Markdown and HTML makes Chromium request
nothing from the payload's host."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import open_page, screenshot, serve_app, wait_idle
from tests.stubserver import PAYLOAD_HOST, stub_server

PAGES = ["", "completions", "chat", "tokenizer", "embeddings", "fine_tuning", "images", "history", "compare", "evals"]


@pytest.fixture(scope="module")
def hostile_app(engine_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on the hostile server, configured as the server's own OpenAI endpoint."""
    with stub_server() as (stub_url, _):
        env = {"OPENAI_API_KEY": "sk-" + "hostile" * 5, "OPENAI_BASE_URL": stub_url}
        with serve_app(engine_url, Path(tmp_path_factory.mktemp("hostile-app")), env) as url:
            yield url


def test_no_page_fetches_anything_a_server_wrote(browser, hostile_app: str) -> None:  # noqa: ANN001
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    fetched: list[str] = []
    context.on("request", lambda request: fetched.append(f"{request.url} on {request.frame.url}") if urlsplit(request.url).hostname == PAYLOAD_HOST else None)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        open_page(page, hostile_app)
        page.get_by_role("button", name="Check connection").click()
        page.get_by_text("Connected:", exact=False).wait_for()
        wait_idle(page)
        # The ids arrived and are shown, as text.
        assert page.get_by_text(f"http://{PAYLOAD_HOST}/model.png", exact=False).count() >= 1

        open_page(page, hostile_app, "completions")
        page.locator(".st-key-completions_run button").first.click()
        wait_idle(page)
        page.get_by_text(f"http://{PAYLOAD_HOST}/completion", exact=False).filter(visible=True).first.wait_for()  # (also in hidden tooltips)

        page.get_by_role("textbox", name="Prompt").fill("please FAIL")  # the server answers with a hostile error
        page.keyboard.press("Tab")
        wait_idle(page)
        page.locator(".st-key-completions_run button").first.click()
        wait_idle(page)
        page.get_by_text(f"http://{PAYLOAD_HOST}/error", exact=False).filter(visible=True).first.wait_for()  # (also in hidden tooltips)
        screenshot(page, "hostile-error")  # the red box with the server's words as text

        open_page(page, hostile_app, "chat")
        page.get_by_placeholder("Send a message").fill("hello")
        page.keyboard.press("Enter")
        wait_idle(page)
        page.get_by_text(f"http://{PAYLOAD_HOST}/chat", exact=False).filter(visible=True).first.wait_for()  # (also in hidden tooltips)

        for path in PAGES:
            open_page(page, hostile_app, path)
            if path == "fine_tuning":
                page.get_by_role("tab", name="Jobs").click()
                wait_idle(page)
                page.get_by_role("tab", name="Metrics").click()
                wait_idle(page)
            if path == "compare":
                page.get_by_role("button", name="Run all").click()
                wait_idle(page)
        page.wait_for_timeout(1000)
    finally:
        context.close()
    assert fetched == [], f"{len(fetched)} request(s) to the payload host: {fetched[:5]}"
