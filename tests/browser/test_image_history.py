"""Image runs in the history, in Chromium: the gallery comes back after a reload, and History
shows the run's source and thumbnails with Re-run and Open in Image variations enabled."""

from tests.browser.conftest import open_page, screenshot, wait_idle


def test_the_gallery_survives_a_reload_and_history_shows_the_pictures(page, app_url) -> None:  # noqa: ANN001
    open_page(page, app_url)
    open_page(page, app_url, "images")
    page.get_by_role("heading", name="Image variations").wait_for()
    page.get_by_role("button", name="Generate 4 variations").click()
    wait_idle(page, timeout=120)
    page.get_by_text("of Lake at sunset by local-image").first.wait_for(timeout=60_000)

    open_page(page, app_url, "images")  # a reload: a new session
    page.get_by_text("from the history, thumbnails").first.wait_for(timeout=60_000)
    thumbs = "[data-testid='stExpander'] [data-testid='stImage'] img"
    page.wait_for_function(
        f"() => {{ const imgs = [...document.querySelectorAll(\"{thumbs}\")];"
        " return imgs.length >= 4 && imgs.every(img => img.complete && img.naturalWidth === 256); }"
    )
    page.set_viewport_size({"width": 1400, "height": 1500})
    wait_idle(page)
    screenshot(page, "images_gallery_after_reload")

    page.set_viewport_size({"width": 1400, "height": 1000})
    open_page(page, app_url, "history")
    page.get_by_text("Source: Lake at sunset").first.wait_for(timeout=60_000)  # the newest run is opened: this image run
    page.get_by_text("4 (thumbnail)").first.wait_for()
    assert page.get_by_role("button", name="Re-run").first.is_enabled()
    assert page.get_by_role("button", name="Open in Image variations").first.is_enabled()
    page.wait_for_function(  # the run's label in "Open a run" (a selectbox: its text or its input's value)
        "() => [...document.querySelectorAll(\"[data-testid='stSelectbox']\")].some(box =>"
        " (box.innerText + ' ' + [...box.querySelectorAll('input')].map(i => i.value).join(' '))"
        ".includes('4 × 512x512 of Lake at sunset'))"
    )
    page.set_viewport_size({"width": 1400, "height": 1600})
    wait_idle(page)
    page.wait_for_function(  # the source and the four thumbnails, loaded
        "() => [...document.querySelectorAll(\"[data-testid='stImage'] img\")]"
        ".filter(img => img.complete && img.naturalWidth > 0).length >= 5"
    )
    page.get_by_test_id("stMetric").filter(has_text="Latency").first.wait_for()  # (a list cell may hold the word too)
    screenshot(page, "history_image_run")
