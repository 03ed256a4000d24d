"""POST /v1/images/variations on local-image, driven by the openai SDK over HTTP."""

from __future__ import annotations

import base64
import io
import os
import time
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest
from PIL import Image, ImageDraw

from tests.conftest import TEST_KEY, recorded_requests


def landscape(width: int = 320, height: int = 320, fmt: str = "PNG") -> bytes:
    """A small asymmetric picture: sky, sun, two hills, water."""
    image = Image.new("RGB", (width, height), (120, 170, 230))
    draw = ImageDraw.Draw(image)
    w, h = width / 320, height / 320
    draw.ellipse((190 * w, 40 * h, 250 * w, 100 * h), fill=(255, 220, 80))
    draw.polygon([(0, 250 * h), (90 * w, 120 * h), (190 * w, 250 * h)], fill=(90, 110, 90))
    draw.polygon([(130 * w, 250 * h), (230 * w, 140 * h), (320 * w, 250 * h)], fill=(60, 80, 70))
    draw.rectangle((0, 250 * h, 320 * w, 320 * h), fill=(40, 90, 140))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def decoded(item) -> Image.Image:  # noqa: ANN001 - openai.types.Image
    image = Image.open(io.BytesIO(base64.b64decode(item.b64_json)))
    assert image.format == "PNG"
    return image


def resemblance(source: bytes, variation: Image.Image) -> float:
    """Correlation of 16x16 grey thumbnails with the source or its mirror image."""

    def thumb(image: Image.Image) -> np.ndarray:
        return np.asarray(image.convert("L").resize((16, 16), Image.Resampling.BOX), dtype=float).ravel()

    original = Image.open(io.BytesIO(source))
    mirrored = original.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    out = thumb(variation)
    return max(np.corrcoef(thumb(original), out)[0, 1], np.corrcoef(thumb(mirrored), out)[0, 1])


def test_b64_variations_have_the_size_asked_differ_and_resemble_the_source(client: openai.OpenAI) -> None:
    source = landscape()
    result = client.images.create_variation(
        image=("landscape.png", source, "image/png"), model="local-image", n=4, size="256x256", response_format="b64_json"
    )
    assert abs(result.created - time.time()) < 60
    assert len(result.data) == 4
    images = [decoded(item) for item in result.data]
    assert all(image.size == (256, 256) for image in images)
    assert all(item.url is None for item in result.data)
    pixels = [np.asarray(image.convert("RGB"), dtype=np.int16) for image in images]
    for i in range(4):
        assert resemblance(source, images[i]) > 0.6
        for j in range(i):
            assert np.abs(pixels[i] - pixels[j]).mean() > 3, (i, j)


def test_each_size_is_served(client: openai.OpenAI) -> None:
    for size, side in (("512x512", 512), ("1024x1024", 1024)):
        result = client.images.create_variation(image=landscape(), size=size, response_format="b64_json")
        assert decoded(result.data[0]).size == (side, side)


def test_the_same_request_gives_the_same_images_and_the_user_field_changes_them(client: openai.OpenAI) -> None:
    def run(user: str | None = None) -> list[str]:
        extra = {"user": user} if user else {}
        result = client.images.create_variation(image=landscape(), n=2, size="256x256", response_format="b64_json", **extra)
        return [item.b64_json for item in result.data]

    first = run()
    assert run() == first
    assert run("someone-else") != first


def test_defaults_are_one_1024_url_and_dall_e_2_is_served_locally(client: openai.OpenAI) -> None:
    result = client.images.create_variation(image=landscape(), model="dall-e-2")
    assert len(result.data) == 1 and result.data[0].url and result.data[0].b64_json is None
    image = Image.open(io.BytesIO(httpx.get(result.data[0].url, timeout=10).content))
    assert image.size == (1024, 1024)


def test_url_serves_without_a_key_the_same_png_as_b64(client: openai.OpenAI, engine_url: str) -> None:
    source = landscape()
    by_url = client.images.create_variation(image=source, n=2, size="256x256", response_format="url")
    by_b64 = client.images.create_variation(image=source, n=2, size="256x256", response_format="b64_json")
    root = engine_url.removesuffix("/v1")
    for url_item, b64_item in zip(by_url.data, by_b64.data):
        assert url_item.url.startswith(f"{root}/images-public/") and url_item.url.endswith(".png")
        fetched = httpx.get(url_item.url, timeout=10)  # no Authorization header
        assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
        assert fetched.content == base64.b64decode(b64_item.b64_json)
    assert by_url.data[0].url != by_url.data[1].url


def test_urls_expire_after_an_hour(start_engine, tmp_path: Path) -> None:  # noqa: ANN001 - fixture factory
    with start_engine("--api-key", TEST_KEY) as url:
        client = openai.OpenAI(base_url=url, api_key=TEST_KEY, max_retries=0)
        result = client.images.create_variation(image=landscape(), size="256x256")
        image_url = result.data[0].url
        assert httpx.get(image_url, timeout=10).status_code == 200
        # start_engine's data dir is this test's tmp_path: age the file past 3600 s.
        stored = tmp_path / "images" / image_url.rsplit("/", 1)[1]
        assert stored.is_file()
        an_hour_ago = time.time() - 3601
        os.utime(stored, (an_hour_ago, an_hour_ago))
        gone = httpx.get(image_url, timeout=10)
        assert gone.status_code == 404 and "expired" in gone.json()["error"]["message"]
        assert not stored.exists()
        assert httpx.get(f"{url.removesuffix('/v1')}/images-public/..%2Fsecret.png", timeout=10).status_code == 404


def test_unknown_model_is_a_404_naming_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.images.create_variation(image=landscape(), model="local-text")
    assert caught.value.body["param"] == "model"


def _png(image: Image.Image, **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", **save)
    return out.getvalue()


def _too_large_png() -> bytes:
    noise = np.random.default_rng(0).integers(0, 256, (1200, 1200, 3), dtype=np.uint8)
    data = _png(Image.fromarray(noise), compress_level=0)
    assert len(data) >= 4 * 1024 * 1024
    return data


@pytest.mark.parametrize(
    ("case", "kwargs", "param", "words"),
    [
        ("jpeg", {"image": landscape(fmt="JPEG")}, "image", "must be a PNG"),
        ("not an image", {"image": b"hello, this is text"}, "image", "must be a PNG"),
        ("corrupt png", {"image": landscape()[:200]}, "image", "could not be decoded"),
        ("not square", {"image": landscape(320, 200)}, "image", "must be square"),
        ("4 MB", {"image": _too_large_png()}, "image", "less than 4 MB"),
        ("n=0", {"n": 0}, "n", "greater than or equal to 1"),
        ("n=11", {"n": 11}, "n", "less than or equal to 10"),
        ("size", {"size": "300x300"}, "size", "'256x256', '512x512' or '1024x1024'"),
        ("response_format", {"response_format": "jpeg"}, "response_format", "'url' or 'b64_json'"),
    ],
)
def test_what_the_api_refuses_is_a_400_naming_the_param(
    client: openai.OpenAI, case: str, kwargs: dict, param: str, words: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.create_variation(**{"image": landscape(), "size": "256x256", **kwargs})
    error = caught.value.body
    assert error["param"] == param, case
    assert error["type"] == "invalid_request_error"
    assert words in error["message"], error["message"]


def test_the_model_is_listed(client: openai.OpenAI) -> None:
    assert "local-image" in [model.id for model in client.models.list()]


def test_the_multipart_fields_are_recorded_for_tests(client: openai.OpenAI, engine_url: str) -> None:
    source = landscape()
    client.images.create_variation(image=("pic.png", source, "image/png"), n=2, size="256x256", user="recorder")
    body = recorded_requests(engine_url, "/images/variations")[-1]["body"]
    assert body == {"image": {"filename": "pic.png", "bytes": len(source)}, "n": "2", "size": "256x256", "user": "recorder"}
