from tests.browser.conftest import open_page, screenshot


def test_home_page_opens_on_the_local_engine(page, app_url):
    open_page(page, app_url)
    page.get_by_role("heading", name="OpenAI Playground").wait_for()
    assert page.get_by_text("You are on the local engine").count() == 1 or page.get_by_text("local engine").count() >= 1
    # The sidebar offers every page and the connection panel.
    sidebar = page.locator("[data-testid='stSidebar']")
    for title in ("Completions", "Chat", "Tokenizer", "Embeddings search", "Fine-tuning", "Image variations"):
        assert sidebar.get_by_text(title, exact=True).count() >= 1, title
    sidebar.get_by_role("button", name="Check connection").click()
    sidebar.get_by_text("Connected:").wait_for()
    assert "local-text" in sidebar.inner_text()
    screenshot(page, "home")
