from tests.browser.conftest import open_page, screenshot


def test_home_page_opens_on_the_local_engine(page, app_url):
    open_page(page, app_url)
    page.get_by_role("heading", name="OpenAI Playground").wait_for()
    page.get_by_text("local engine").first.wait_for()  # the page says which provider it is on (drawn after the heading)
    # The sidebar offers every page and the connection panel.
    sidebar = page.locator("[data-testid='stSidebar']")
    for title in ("Completions", "Chat", "Tokenizer", "Embeddings search", "Fine-tuning", "Image variations"):
        assert sidebar.get_by_text(title, exact=True).count() >= 1, title
    sidebar.get_by_role("button", name="Check connection").click()
    sidebar.get_by_text("Connected:").wait_for()
    assert "local-text" in sidebar.inner_text()
    screenshot(page, "home")


def test_a_page_opened_by_its_own_url_on_a_fresh_server_keeps_the_app_frame(browser, engine_url, tmp_path):
    """A bookmark or a refresh right after the server starts must not run the page alone
    (Streamlit's pages/ folder mode): the navigation and the connection panel are there."""
    from tests.browser.conftest import serve_app

    with serve_app(engine_url, tmp_path) as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        open_page(page, url, "tokenizer")
        page.get_by_role("heading", name="Tokenizer").first.wait_for()
        sidebar = page.locator("[data-testid='stSidebar']")
        sidebar.get_by_text("Connection", exact=True).wait_for()
        screenshot(page, "deep_link_tokenizer")
        assert sidebar.get_by_text("Embeddings search", exact=True).count() == 1
        page.close()
