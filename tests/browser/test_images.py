from pathlib import Path

from PIL import Image, ImageDraw

from tests.browser.conftest import open_page, screenshot, wait_idle


def a_photo_like_jpeg(path: Path) -> Path:
    """A landscape-format JPEG, so the page has something to crop."""
    image = Image.linear_gradient("L").resize((900, 600)).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.ellipse((520, 80, 660, 220), fill=(250, 200, 60))
    draw.polygon([(0, 600), (300, 260), (620, 600)], fill=(40, 110, 60))
    draw.polygon([(380, 600), (700, 300), (900, 520), (900, 600)], fill=(30, 80, 50))
    image.save(path, "JPEG", quality=90)
    return path


def test_upload_a_picture_and_make_variations_in_chromium(page, app_url, tmp_path) -> None:  # noqa: ANN001
    open_page(page, app_url)
    page.locator("[data-testid='stSidebar']").get_by_text("Image variations", exact=True).click()
    page.get_by_role("heading", name="Image variations").wait_for()
    wait_idle(page)
    page.get_by_text("Upload a picture").click()
    wait_idle(page)
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(a_photo_like_jpeg(tmp_path / "hills.jpg")))
    page.get_by_text("After: 600×600 PNG").wait_for()
    assert page.get_by_text("Before: hills.jpg, 900×600 JPEG").count() == 1

    page.get_by_role("button", name="Generate 4 variations").click()
    # Its number follows the runs this workspace's history brings back (other tests' runs, here).
    this_run = page.get_by_test_id("stExpander").filter(has_text="4 × 512x512 of hills.jpg by local-image")
    this_run.first.wait_for(timeout=60_000)
    wait_idle(page)
    # Four results, each loaded in the browser as a 512-pixel picture.
    page.wait_for_function(
        "() => { const run = [...document.querySelectorAll(\"[data-testid='stExpander']\")]"
        ".find(e => e.innerText.includes('of hills.jpg by local-image'));"
        " const imgs = run ? [...run.querySelectorAll(\"[data-testid='stImage'] img\")] : [];"
        " return imgs.length === 4 && imgs.every(img => img.complete && img.naturalWidth === 512); }"
    )
    assert this_run.get_by_role("button", name="Vary").count() == 4
    assert this_run.get_by_text("Download all as ZIP").count() == 1
    page.set_viewport_size({"width": 1400, "height": 1500})  # the app scrolls inside itself: show the grid
    wait_idle(page)
    screenshot(page, "images")
