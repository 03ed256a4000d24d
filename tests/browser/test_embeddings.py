from tests.browser.conftest import open_page, screenshot, wait_idle


def test_embed_the_sample_corpus_search_and_see_the_map(page, app_url):  # noqa: ANN001
    open_page(page, app_url, "embeddings")
    page.get_by_role("heading", name="Embeddings").first.wait_for()
    page.get_by_role("button", name="Embed", exact=True).click()
    wait_idle(page)
    page.get_by_text("came from the cache").wait_for()

    box = page.get_by_label("Queries, one per line")
    box.fill("decode a JSON document\nconnect a socket")
    box.press("Control+Enter")
    wait_idle(page)
    page.get_by_test_id("stBaseButton-primary").filter(has_text="Search").click()
    wait_idle(page)
    page.get_by_text("decode a JSON document — 5 matches").first.wait_for()  # a rerun may show a stale copy too
    assert page.locator("[data-testid='stDataFrame']").count() >= 3  # the corpus preview and one table a query

    # The map: the chart whose legend marks the queries (a rerun may briefly show a stale one too).
    chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text="queries").last
    chart.scroll_into_view_if_needed()
    chart.locator(".scatterlayer .point").first.wait_for()
    assert chart.locator(".scatterlayer .point, .gl-container canvas").count() > 0
    assert chart.get_by_text("queries").count() >= 1  # the legend marks the queries
    screenshot(page, "embeddings")


def test_an_embed_goes_on_while_the_user_is_on_another_page(page, app_url):  # noqa: ANN001
    open_page(page, app_url, "embeddings")
    page.get_by_test_id("stButtonGroup").get_by_text("Upload", exact=True).click()
    wait_idle(page)
    rows = "\n".join(f"{i},note {i}: the file number {i} was closed by worker {i % 97}" for i in range(12_000))
    page.locator("input[type='file']").first.set_input_files(
        {"name": "notes.csv", "mimeType": "text/csv", "buffer": f"id,text\n{rows}\n".encode()}
    )
    page.get_by_test_id("stMetric").filter(has_text="12,000").first.wait_for(timeout=120_000)
    wait_idle(page)
    page.get_by_role("button", name="Embed", exact=True).click()
    page.get_by_text("/ 12,000 texts").wait_for()  # the progress bar: the embed has started

    page.locator("[data-testid='stSidebarNav'] a", has_text="Tokenizer").click()
    page.get_by_role("heading", name="Tokenizer").first.wait_for()
    wait_idle(page)
    page.locator("[data-testid='stSidebarNav'] a", has_text="Embeddings search").click()
    page.get_by_role("heading", name="Embeddings").first.wait_for()

    # Back on the page: the upload is still the corpus, and the embed went on (still
    # running, or finished while away) to the end.
    page.get_by_text("“notes.csv”, uploaded earlier").wait_for()
    page.get_by_text("Embedded 12,000 new text(s)").wait_for(timeout=180_000)
    wait_idle(page)
    assert page.get_by_text("Still embedding: it goes on").count() + page.get_by_text("while this page was not showing it").count() == 1
    page.get_by_text("12,000 texts embedded with").wait_for()
    screenshot(page, "embeddings-after-page-switch")
