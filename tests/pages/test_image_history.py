"""Image runs keep their pictures in the history (issue 15, item 14): the gallery comes back
after a reload, History shows the source and thumbnails, re-runs the run and opens it on the
Image variations page; a large source is kept scaled down, and the page says so."""

from __future__ import annotations

import io
from typing import Callable

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from playground.history import History, Run, default_path
from playground.images import Preparation, image_run_record, load_picture, prepare_for_api, sample_pictures
from tests.conftest import recorded_requests
from tests.pages.test_images import generate

PAGE = "app_pages/images.py"


def test_the_gallery_survives_a_reload_and_history_reruns_and_reopens_an_image_run(
        open_app: Callable[..., AppTest], engine_url: str) -> None:
    at = open_app(PAGE)
    at.selectbox(key="images_sample").set_value("Still life").run()
    generate(at, 2, "256x256")
    sent = recorded_requests(engine_url, "/images/variations")[-1]["body"]
    source_png = prepare_for_api(load_picture(sample_pictures()["Still life"]), Preparation()).png

    # a reload is a new session: the gallery comes back from the history, as thumbnails
    again = open_app(PAGE)
    labels = [e.label for e in again.expander]
    assert labels and labels[0].startswith("Run 1: 2 × 256x256 of Still life by local-image"), labels
    assert "from the history" in labels[0]
    assert [c for image in again.expander[0].image for c in image.captions] == ["run1-1.webp", "run1-2.webp"]

    # History: the source and thumbnails are shown; Re-run sends the same picture again
    again.switch_page("app_pages/history.py")
    again.run()
    assert not again.exception, [e.message for e in again.exception]
    captions = [c for image in again.image for c in image.captions]
    assert "Source: Still life" in captions and "2 (thumbnail)" in captions
    assert not again.button(key="hist_rerun").disabled and not again.button(key="hist_open_page").disabled
    again.button(key="hist_rerun").click().run(timeout=120)
    assert not again.exception, [e.message for e in again.exception]
    rerun_sent = recorded_requests(engine_url, "/images/variations")[-1]["body"]
    assert rerun_sent == sent and rerun_sent["image"]["bytes"] == len(source_png)
    newest = History(default_path()).search().runs[0]
    assert newest.tags == ("re-run",) and again.selectbox(key="hist_open").value == newest.id

    # Open in Image variations: the source, n and size are back on the page, ready to run
    again.button(key="hist_open_page").click().run()
    assert not again.exception, [e.message for e in again.exception]
    assert again.radio(key="images_source").value == "A result"
    assert any(c.startswith("Before: Still life, 640×640 PNG") for image in again.image for c in image.captions)
    assert again.slider(key="images_n").value == 2 and again.selectbox(key="images_size").value == "256x256"
    again.button(key="images_generate").click().run()
    assert recorded_requests(engine_url, "/images/variations")[-1]["body"] == sent


def test_a_large_source_is_kept_scaled_down_and_history_says_so(open_app: Callable[..., AppTest]) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (1024, 1024, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(noise).save(out, "PNG")
    big = out.getvalue()
    assert len(big) > 3_000_000
    request, response = image_run_record("noise.png", big, model="local-image", n=1, size="256x256", pngs=[big])
    History(default_path()).add(Run(endpoint="image_variations", model="local-image", request=request, response=response))

    at = open_app("app_pages/history.py")
    assert not at.exception, [e.message for e in at.exception]
    note = " ".join(c.value for c in at.caption)
    assert "The history keeps the source at" in note and "over the history's" in note
    assert not at.button(key="hist_rerun").disabled
