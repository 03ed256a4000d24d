"""The Image variations page under AppTest, on the session's engine."""

from __future__ import annotations

import base64
import io

import numpy as np
import openai
import pytest
from PIL import Image

from playground.images import Preparation, load_picture, prepare_for_api, sample_pictures
from tests.conftest import recorded_requests

PAGE = "app_pages/images.py"


def encoded(image: Image.Image, fmt: str, **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def generate(at, n: int, size: str):  # noqa: ANN001, ANN201 - AppTest
    at.slider(key="images_n").set_value(n)
    at.selectbox(key="images_size").set_value(size)
    at.run()
    at.button(key="images_generate").click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_sample_makes_the_variations_the_engine_returns(open_app, engine_url: str, client: openai.OpenAI) -> None:
    at = open_app(PAGE)
    at.selectbox(key="images_sample").set_value("Still life").run()
    captions = [caption for image in at.image for caption in image.captions]
    assert any(c.startswith("Before: Still life, 640×800 PNG") for c in captions)
    assert any(c.startswith("After: 640×640 PNG") for c in captions)
    assert any("Free" in caption.value for caption in at.caption)

    generate(at, 3, "256x256")
    sent = recorded_requests(engine_url, "/images/variations")[-1]["body"]
    expected_png = prepare_for_api(load_picture(sample_pictures()["Still life"]), Preparation()).png
    assert sent == {
        "image": {"filename": "picture.png", "bytes": len(expected_png)},
        "model": "local-image", "n": "3", "size": "256x256", "response_format": "b64_json",
    }
    # The engine is deterministic: the same request from the SDK gives the images the page keeps.
    direct = client.images.create_variation(
        image=("picture.png", expected_png, "image/png"), model="local-image", n=3, size="256x256", response_format="b64_json"
    )
    run = at.session_state["images_runs"][-1]
    assert run["pngs"] == [base64.b64decode(item.b64_json) for item in direct.data]
    assert at.expander[0].label.startswith("Run 1: 3 × 256x256 of Still life by local-image")
    shown = [caption for image in at.expander[0].image for caption in image.captions]
    assert shown == ["run1-1.png", "run1-2.png", "run1-3.png"]
    assert [button.label for button in at.expander[0].get("download_button")] == ["Download all as ZIP"] + ["PNG"] * 3


def test_a_result_can_be_varied_again_and_the_gallery_shows_newest_first(open_app, engine_url: str) -> None:
    at = generate(open_app(PAGE), 2, "256x256")
    second = at.session_state["images_runs"][0]["pngs"][1]
    at.button(key="images_vary_1_1").click().run()
    assert at.radio(key="images_source").value == "A result"
    assert any(c.startswith("Before: run1-2.png (run 1), 256×256 PNG") for image in at.image for c in image.captions)

    generate(at, 2, "256x256")
    sent = recorded_requests(engine_url, "/images/variations")[-1]["body"]
    assert sent["image"]["bytes"] == len(prepare_for_api(load_picture(second)).png)
    labels = [expander.label for expander in at.expander]
    assert labels[0].startswith("Run 2: 2 × 256x256 of run1-2.png (run 1)") and labels[1].startswith("Run 1:")


def test_padding_with_transparency_sends_a_padded_square(open_app, engine_url: str) -> None:
    at = open_app(PAGE)
    at.radio(key="images_fit").set_value("pad").run()
    at.checkbox(key="images_pad_clear").check().run()
    assert any(c.startswith("After: 960×960 PNG") for image in at.image for c in image.captions)
    generate(at, 1, "256x256")
    picture = load_picture(sample_pictures()["Lake at sunset"])
    padded = prepare_for_api(picture, Preparation(fit="pad", pad_color=(255, 255, 255, 0))).png
    assert recorded_requests(engine_url, "/images/variations")[-1]["body"]["image"]["bytes"] == len(padded)


def _16_bit() -> bytes:
    ramp = Image.fromarray((np.arange(64 * 64).reshape(64, 64) * 16).astype(np.uint16))
    return encoded(ramp, "PNG")


def _gif() -> bytes:
    frames = [Image.new("RGB", (60, 40), colour) for colour in ((200, 30, 30), (30, 200, 30))]
    return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)


BAD_INPUTS = {
    "not an image": ("notes.png", b"shopping list: eggs, milk", "image/png", "error", "not a picture this page can read"),
    "corrupt": ("broken.jpg", encoded(Image.new("RGB", (200, 200), "red"), "JPEG")[:500], "image/jpeg", "error", "damaged or truncated"),
    "bomb": ("huge.png", encoded(Image.new("1", (10_000, 10_000)), "PNG"), "image/png", "error", "too large to open safely (100 megapixels)"),
    "50 megapixels": ("big.jpg", encoded(Image.linear_gradient("L").resize((8200, 6100)), "JPEG", quality=60), "image/jpeg", "info", "50 megapixels): downscaled to 4096×3047"),
    "animated gif": ("moving.gif", _gif(), "image/gif", "info", "Animated GIF with 2 frames: the first frame is used."),
    "cmyk": ("print.jpg", encoded(Image.new("CMYK", (80, 60), (0, 200, 200, 0)), "JPEG"), "image/jpeg", "info", "CMYK converted to RGB"),
    "16-bit": ("scan.png", _16_bit(), "image/png", "info", "16-bit greyscale scaled to 8 bits."),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_each_awkward_upload_gets_a_message_or_a_correct_conversion(open_app, case: str) -> None:
    name, data, mime, kind, words = BAD_INPUTS[case]
    at = open_app(PAGE)
    at.radio(key="images_source").set_value("Upload a picture").run()
    at.file_uploader(key="images_upload").set_value((name, data, mime)).run()
    assert not at.exception, [e.message for e in at.exception]
    generate_button = at.button(key="images_generate")
    if kind == "error":
        assert any(words in error.value and name in error.value for error in at.error), [e.value for e in at.error]
        assert generate_button.disabled
    else:
        assert any(words in info.value for info in at.info), [i.value for i in at.info]
        assert any(c.startswith("After:") for image in at.image for c in image.captions)
        assert not generate_button.disabled
