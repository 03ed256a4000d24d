"""playground.images: loading any picture safely and preparing it for the variations endpoint."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from playground import images
from playground.catalog import model_info
from playground.images import Picture, PictureError, Preparation, load_picture, prepare_for_api, square_box


def encoded(image: Image.Image, fmt: str = "PNG", **save: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def thirds(width: int, height: int) -> Image.Image:
    """Red, green, blue thirds along the long side."""
    image = Image.new("RGB", (width, height))
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    for i, colour in enumerate(colours):
        if width >= height:
            image.paste(colour, (i * width // 3, 0, (i + 1) * width // 3, height))
        else:
            image.paste(colour, (0, i * height // 3, width, (i + 1) * height // 3))
    return image


def picture(image: Image.Image) -> Picture:
    return load_picture(encoded(image))


def prepared_image(prepared: images.Prepared) -> Image.Image:
    image = Image.open(io.BytesIO(prepared.png))
    assert image.format == "PNG" and image.width == image.height == prepared.side
    return image


@pytest.mark.parametrize(
    ("size", "anchor", "colour"),
    [
        ((300, 100), "left", (255, 0, 0)),
        ((300, 100), "center", (0, 255, 0)),
        ((300, 100), "right", (0, 0, 255)),
        ((100, 300), "top", (255, 0, 0)),
        ((100, 300), "center", (0, 255, 0)),
        ((100, 300), "bottom", (0, 0, 255)),
    ],
)
def test_crop_takes_the_square_where_asked(size: tuple[int, int], anchor: str, colour: tuple[int, int, int]) -> None:
    prepared = prepare_for_api(picture(thirds(*size)), Preparation(fit="crop", anchor=anchor))
    image = prepared_image(prepared)
    assert image.size == (100, 100)
    assert image.convert("RGB").getpixel((50, 50)) == colour
    assert prepared.steps[0].startswith("Cropped 300×100" if size[0] > size[1] else "Cropped 100×300")


def test_a_focal_point_centres_the_crop_and_stays_inside_the_picture() -> None:
    assert square_box(300, 100, focus=(0.5, 0.5)) == (100, 0, 200, 100)
    assert square_box(300, 100, focus=(0.4, 0.5)) == (70, 0, 170, 100)
    assert square_box(300, 100, focus=(0.95, 0.5)) == (200, 0, 300, 100)  # clamped to the edge
    image = prepared_image(prepare_for_api(picture(thirds(300, 100)), Preparation(focus=(0.9, 0.5))))
    assert image.convert("RGB").getpixel((50, 50)) == (0, 0, 255)


def test_pad_keeps_the_whole_picture_on_a_coloured_or_transparent_square() -> None:
    source = picture(thirds(300, 150))
    black = prepared_image(prepare_for_api(source, Preparation(fit="pad", pad_color=(0, 0, 0, 255)))).convert("RGB")
    assert black.size == (300, 300)
    assert black.getpixel((150, 10)) == (0, 0, 0) and black.getpixel((150, 290)) == (0, 0, 0)
    assert black.getpixel((10, 150)) == (255, 0, 0) and black.getpixel((290, 150)) == (0, 0, 255)
    clear = prepared_image(prepare_for_api(source, Preparation(fit="pad", pad_color=(255, 255, 255, 0))))
    assert clear.mode == "RGBA"
    assert clear.getpixel((150, 10))[3] == 0 and clear.getpixel((150, 150)) == (0, 255, 0, 255)


def test_large_pictures_come_out_at_1024_at_most() -> None:
    prepared = prepare_for_api(picture(thirds(2400, 1600)))
    assert prepared.side == 1024
    assert any("Downscaled to 1024×1024" in step for step in prepared.steps)


def test_a_png_over_4_mb_is_shrunk_until_under_the_limit() -> None:
    noise = np.random.default_rng(1).integers(0, 256, (1024, 1024, 4), dtype=np.uint8)
    source = load_picture(encoded(Image.fromarray(noise, "RGBA"), compress_level=1))
    prepared = prepare_for_api(source)
    assert prepared.byte_count < images.API_MAX_BYTES < len(encoded(source.image))
    assert 800 < prepared.side < 1024
    assert any(step.startswith(f"Shrunk to {prepared.side}×{prepared.side}") for step in prepared.steps)


def test_cmyk_becomes_rgb_with_a_note() -> None:
    cmyk = Image.new("CMYK", (40, 40), (255, 0, 0, 0))  # pure cyan ink
    for data in (encoded(cmyk, "JPEG", quality=95), encoded(cmyk, "JPEG", quality=95, icc_profile=b"not a profile")):
        loaded = load_picture(data)
        assert loaded.mode == "CMYK" and loaded.image.mode == "RGB"
        r, g, b = loaded.image.getpixel((20, 20))
        assert r < 30 and g > 220 and b > 220
        assert any("CMYK converted to RGB" in note for note in loaded.notes)


@pytest.mark.parametrize(("mode", "fmt"), [("I;16", "PNG"), ("I;16", "TIFF"), ("I;16B", "TIFF")])
def test_16_bit_grey_is_scaled_to_8_bits_not_clipped(mode: str, fmt: str) -> None:
    ramp = Image.new(mode, (3, 1))
    for x, value in enumerate((0, 32896, 65535)):
        ramp.putpixel((x, 0), value)
    loaded = load_picture(encoded(ramp, fmt))
    assert loaded.mode == mode and loaded.image.mode == "RGB"
    assert [loaded.image.getpixel((x, 0)) for x in range(3)] == [(0, 0, 0), (128, 128, 128), (255, 255, 255)]
    assert "16-bit greyscale scaled to 8 bits." in loaded.notes


def _png_48_bit(pixels: list[list[tuple[int, int, int]]]) -> bytes:
    """A 16-bit-per-channel RGB PNG, written by hand (Pillow does not write them)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\0" + b"".join(struct.pack(">3H", *px) for px in row) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def test_48_bit_png_is_read_at_8_bits_per_channel() -> None:
    loaded = load_picture(_png_48_bit([[(65535, 32896, 0), (1000, 2000, 60000)]]))
    assert loaded.image.mode == "RGB"
    assert loaded.image.getpixel((0, 0)) == (255, 128, 0)
    assert loaded.image.getpixel((1, 0)) == (3, 7, 234)
    assert any("16 bits per channel" in note for note in loaded.notes)


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (32, 32), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    loaded = load_picture(data)
    assert loaded.format == "GIF" and loaded.image.mode == "RGB"
    assert loaded.image.getpixel((5, 5)) == (255, 0, 0)
    assert "Animated GIF with 3 frames: the first frame is used." in loaded.notes


def test_palette_transparency_becomes_rgba() -> None:
    palette = Image.new("P", (10, 10), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0])
    palette.putpixel((0, 0), 0)
    loaded = load_picture(encoded(palette, transparency=0))
    assert loaded.image.mode == "RGBA"
    assert loaded.image.getpixel((0, 0))[3] == 0 and loaded.image.getpixel((5, 5)) == (255, 0, 0, 255)


def test_exif_orientation_is_applied() -> None:
    wide = thirds(120, 60)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: rotate 90 degrees clockwise to view
    loaded = load_picture(encoded(wide, "JPEG", exif=exif, quality=95))
    assert loaded.size == (120, 60) and loaded.image.size == (60, 120)
    assert "Turned upright, as its EXIF orientation says." in loaded.notes


def test_a_50_megapixel_photo_is_downscaled_not_refused() -> None:
    big = Image.linear_gradient("L").resize((8200, 6100)).convert("RGB")
    loaded = load_picture(encoded(big, "JPEG", quality=70))
    assert loaded.size == (8200, 6100)
    assert max(loaded.image.size) <= images.WORKING_MAX_SIDE
    assert any("50 megapixels" in note and "downscaled" in note for note in loaded.notes)


def test_a_decompression_bomb_is_refused_with_its_size() -> None:
    bomb = encoded(Image.new("1", (10_000, 10_000)))  # 100 megapixels in a few KB
    assert len(bomb) < 100_000
    with pytest.raises(PictureError, match=r"too large to open safely \(100 megapixels\)"):
        load_picture(bomb)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "The file is empty"),
        (b"Dear diary, today I uploaded a text file.", "not a picture this page can read"),
        (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "not a picture this page can read"),
        (encoded(thirds(300, 300), "JPEG")[:600], "damaged or truncated"),
        (encoded(thirds(300, 300))[:120], "damaged or truncated"),
    ],
    ids=["empty", "text", "eps", "truncated jpeg", "truncated png"],
)
def test_files_that_are_not_usable_pictures_get_a_clear_message(data: bytes, words: str) -> None:
    with pytest.raises(PictureError, match=words):
        load_picture(data)


def test_results_zip_holds_every_file() -> None:
    data = images.results_zip([("a.png", b"one"), ("b.png", b"two")])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == ["a.png", "b.png"]
        assert archive.read("b.png") == b"two"


def test_cost_is_per_image_at_the_size_and_free_on_the_local_engine() -> None:
    assert images.variation_cost(model_info("dall-e-2"), "1024x1024", 3) == pytest.approx(0.06)
    assert images.variation_cost(model_info("dall-e-2"), "256x256", 10) == pytest.approx(0.16)
    assert images.variation_cost(model_info("local-image"), "512x512", 4) == 0.0
    assert images.variation_cost(model_info("someones-image-model"), "512x512", 4) is None


def test_samples_are_the_same_pictures_every_time() -> None:
    samples = images.sample_pictures()
    assert len(samples) == 3
    images.sample_pictures.cache_clear()
    assert images.sample_pictures() == samples
    for data in samples.values():
        loaded = load_picture(data)
        assert loaded.format == "PNG" and loaded.image.width != loaded.image.height  # so the crop shows
