from tests.browser.conftest import open_page, screenshot, wait_idle

TEXT = "Hello <b>world</b> 🎉 서울"


def test_tokenizer_page_shows_coloured_tokens_and_decodes_ids(page, app_url):  # noqa: ANN001
    open_page(page, app_url, "tokenizer")
    page.get_by_role("heading", name="Tokenizer").wait_for()
    box = page.get_by_label("Text", exact=True)
    box.fill(TEXT)
    box.press("Control+Enter")
    wait_idle(page)
    tokens = page.locator(".tk span[title]")
    tokens.first.wait_for()
    # the tags are shown as text, never rendered (no <b> element inside the token view)
    assert page.locator(".tk b").count() == 0
    assert tokens.count() >= 8
    assert "".join(tokens.all_inner_texts()) == TEXT
    assert page.locator(".tk span[title]", has_text="🎉").count() == 1  # the emoji's tokens as one unit
    screenshot(page, "tokenizer")

    page.get_by_role("tab", name="Token ids → text").click()
    ids_box = page.get_by_label("Token ids", exact=True)
    ids_box.fill("13225, 2375")
    ids_box.press("Control+Enter")
    wait_idle(page)
    page.get_by_text("Hello world", exact=True).first.wait_for()
    screenshot(page, "tokenizer-ids")
