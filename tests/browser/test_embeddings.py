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
    page.get_by_text("decode a JSON document — 5 matches").wait_for()
    assert page.locator("[data-testid='stDataFrame']").count() >= 3  # the corpus preview and one table a query

    # The map: the chart whose legend marks the queries (a rerun may briefly show a stale one too).
    chart = page.locator("[data-testid='stPlotlyChart']").filter(has_text="queries").last
    chart.scroll_into_view_if_needed()
    chart.locator(".scatterlayer .point").first.wait_for()
    assert chart.locator(".scatterlayer .point, .gl-container canvas").count() > 0
    assert chart.get_by_text("queries").count() >= 1  # the legend marks the queries
    screenshot(page, "embeddings")
