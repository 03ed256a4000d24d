"""Pictures for the image variations endpoint: load anything safely, make it what the API takes.

Loading (`load_picture`): PNG, JPEG, WebP, GIF, BMP or TIFF, decoded by Pillow with only those
plugins. The result is always an upright 8-bit RGB or RGBA image, with notes on what was done:
- more than Image.MAX_IMAGE_PIXELS (about 89 megapixels) is refused as a possible
  decompression bomb; anything below is decoded (JPEGs at a reduced scale straight away) and
  then downscaled to at most WORKING_MAX_SIDE, so a 50-megapixel photo works, it is not refused;
- an animated GIF/WebP/PNG gives its first frame;
- CMYK becomes RGB through its embedded colour profile when it has one;
- 16-bit greyscale is scaled to 8 bits (x/257), never clipped; 48/64-bit PNGs are read at
  8 bits per channel by Pillow (the high byte);
- palettes and transparency become RGBA; EXIF orientation is applied.

Preparing (`prepare_for_api`): a square (crop at a chosen place or a focal point, or pad with
a colour), at most 1024 px (the largest output), encoded as PNG and shrunk until it is under
API_MAX_BYTES. 4,000,000 bytes: "less than 4MB" holds however the server counts a megabyte.
"""

from __future__ import annotations

import base64
import functools
import io
import math
import random
import re
import warnings
import zipfile
from dataclasses import dataclass
from typing import Literal

import numpy as np
import openai
from openai.types import ImagesResponse
from PIL import Image, ImageCms, ImageDraw, ImageOps

from playground.catalog import ModelInfo
from playground.fetch import fetch_provider_url

ACCEPTED_FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF")  # JPEG includes camera MPOs
API_MAX_BYTES = 4_000_000
API_MAX_SIDE = 1024
WORKING_MAX_SIDE = 4096
SIZES = ("256x256", "512x512", "1024x1024")

Anchor = Literal["center", "top", "bottom", "left", "right"]
ANCHORS: tuple[Anchor, ...] = ("center", "top", "bottom", "left", "right")


class PictureError(ValueError):
    """A picture that cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Picture:
    image: Image.Image  # upright, 8-bit RGB or RGBA
    format: str  # as read: "JPEG", "PNG"...
    mode: str  # the file's own mode: "CMYK", "I;16", "P"...
    size: tuple[int, int]  # the file's own dimensions
    byte_count: int
    notes: tuple[str, ...]  # what loading changed, for the user


@dataclass(frozen=True)
class Preparation:
    fit: Literal["crop", "pad"] = "crop"
    anchor: Anchor = "center"
    focus: tuple[float, float] | None = None  # (x, y) in 0..1: crop centred here instead of at `anchor`
    pad_color: tuple[int, int, int, int] = (255, 255, 255, 255)  # alpha 0: transparent
    max_side: int | None = API_MAX_SIDE
    max_bytes: int = API_MAX_BYTES


@dataclass(frozen=True)
class Prepared:
    png: bytes
    side: int
    steps: tuple[str, ...]

    @property
    def byte_count(self) -> int:
        return len(self.png)


def human_bytes(count: int) -> str:
    if count < 1000:
        return f"{count} B"
    if count < 1_000_000:
        return f"{count / 1000:.1f} KB"
    return f"{count / 1_000_000:.2f} MB"


def load_picture(data: bytes) -> Picture:
    if not data:
        raise PictureError("The file is empty. Choose a PNG, JPEG, WebP or GIF picture.")
    Image.init()  # registers every plugin, so `formats` can name WEBP and TIFF; only those are tried
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        megapixels = f" ({int(found.group(1)) / 1e6:.0f} megapixels)" if found else ""
        raise PictureError(
            f"This picture is too large to open safely{megapixels}: the limit is "
            f"{Image.MAX_IMAGE_PIXELS / 1e6:.0f} megapixels. Scale it down in an image editor and upload it again."
        ) from None
    except Image.UnidentifiedImageError:
        raise PictureError(
            "This file is not a picture this page can read. Upload a PNG, JPEG, WebP or GIF (BMP and TIFF work too)."
        ) from None
    except Exception as exc:  # a recognised format whose header is damaged
        raise _damaged("picture", exc) from None
    notes: list[str] = []
    file_format, file_mode, file_size = image.format or "?", image.mode, image.size
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        notes.append(f"Animated {file_format} with {frames} frames: the first frame is used.")
    if file_format in ("JPEG", "MPO") and max(file_size) > WORKING_MAX_SIDE:
        image.draft(image.mode, (WORKING_MAX_SIDE, WORKING_MAX_SIDE))  # decode at 1/2, 1/4 or 1/8 scale
    try:
        image.load()
        orientation = image.getexif().get(0x0112, 1)
        image = ImageOps.exif_transpose(image)
    except Exception as exc:  # Pillow's decoders raise many kinds of errors for damaged files
        raise _damaged(f"{file_format} file", exc) from None
    if orientation not in (1, None):
        notes.append("Turned upright, as its EXIF orientation says.")
    if file_format == "PNG" and data[24:25] == b"\x10" and file_mode in ("RGB", "RGBA"):
        notes.append("16 bits per channel: read at 8 bits per channel.")
    image, note = _to_8bit_rgb(image)
    if note:
        notes.append(note)
    if max(image.size) > WORKING_MAX_SIDE:
        megapixels = file_size[0] * file_size[1] / 1e6
        image.thumbnail((WORKING_MAX_SIDE, WORKING_MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
        notes.append(
            f"Large picture ({file_size[0]}×{file_size[1]}, {megapixels:.0f} megapixels): "
            f"downscaled to {image.width}×{image.height} to work with."
        )
    return Picture(image, file_format, file_mode, file_size, len(data), tuple(notes))


def _damaged(what: str, exc: Exception) -> PictureError:
    return PictureError(
        f"This {what} is damaged or truncated and could not be decoded ({exc}). "
        "Export it again or choose another picture."
    )


def _to_8bit_rgb(image: Image.Image) -> tuple[Image.Image, str | None]:
    mode = image.mode
    if mode in ("RGB", "RGBA") and "transparency" not in image.info:
        return image, None
    if mode == "CMYK":
        profile = image.info.get("icc_profile")
        if profile:
            try:
                converted = ImageCms.profileToProfile(
                    image, ImageCms.ImageCmsProfile(io.BytesIO(profile)), ImageCms.createProfile("sRGB"), outputMode="RGB"
                )
                return converted, "CMYK converted to RGB through its colour profile."
            except (ImageCms.PyCMSError, OSError):
                pass  # a broken profile: fall back to the plain formula
        return image.convert("RGB"), "CMYK converted to RGB (no usable colour profile: colours are approximate)."
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image).astype(np.float64)
        if mode.startswith("I;16") or (mode == "I" and values.min() >= 0 and values.max() <= 65535):
            grey = values / 257.0
            note = "16-bit greyscale scaled to 8 bits."
        else:
            low, high = float(values.min()), float(values.max())
            grey = (values - low) * (255.0 / (high - low)) if high > low else np.zeros_like(values)
            note = f"{mode}-mode greyscale stretched from {low:g}..{high:g} to 8 bits."
        return Image.fromarray(np.clip(np.round(grey), 0, 255).astype(np.uint8), "L").convert("RGB"), note
    has_alpha = mode in ("RGBA", "RGBa", "LA", "La", "PA") or "transparency" in image.info
    target = "RGBA" if has_alpha else "RGB"
    if mode == "P" and has_alpha:
        return image.convert("RGBA"), "Palette with transparency converted to RGBA."
    return image.convert(target), None


def square_box(width: int, height: int, anchor: Anchor = "center", focus: tuple[float, float] | None = None) -> tuple[int, int, int, int]:
    """The largest square inside width x height, placed at `anchor` or centred on `focus`."""
    side = min(width, height)
    if focus is not None:
        left = round(focus[0] * width - side / 2)
        top = round(focus[1] * height - side / 2)
    else:
        left = {"left": 0, "right": width - side}.get(anchor, (width - side) // 2)
        top = {"top": 0, "bottom": height - side}.get(anchor, (height - side) // 2)
    left, top = min(max(left, 0), width - side), min(max(top, 0), height - side)
    return left, top, left + side, top + side


def prepare_for_api(picture: Picture, preparation: Preparation = Preparation()) -> Prepared:
    image = picture.image
    width, height = image.size
    steps: list[str] = []
    if width == height:
        square = image
    elif preparation.fit == "crop":
        square = image.crop(square_box(width, height, preparation.anchor, preparation.focus))
        where = (
            f"centred on ({preparation.focus[0]:.0%}, {preparation.focus[1]:.0%})"
            if preparation.focus
            else {"center": "from the centre"}.get(preparation.anchor, f"at the {preparation.anchor}")
        )
        steps.append(f"Cropped {width}×{height} to {square.width}×{square.height} {where}.")
    else:
        side = max(width, height)
        transparent = preparation.pad_color[3] < 255
        canvas = Image.new("RGBA" if transparent or image.mode == "RGBA" else "RGB", (side, side), preparation.pad_color)
        canvas.paste(image, ((side - width) // 2, (side - height) // 2), image if image.mode == "RGBA" else None)
        square = canvas
        colour = "transparency" if transparent else "#{:02x}{:02x}{:02x}".format(*preparation.pad_color[:3])
        steps.append(f"Padded {width}×{height} to {side}×{side} with {colour}.")
    if preparation.max_side and square.width > preparation.max_side:
        square = square.resize((preparation.max_side, preparation.max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
        steps.append(f"Downscaled to {square.width}×{square.width}, the largest size the API returns.")
    png = _png(square)
    first_size = len(png)
    side = square.width
    while len(png) >= preparation.max_bytes:
        side = max(1, math.floor(side * math.sqrt(preparation.max_bytes / len(png)) * 0.95))
        png = _png(square.resize((side, side), Image.Resampling.LANCZOS, reducing_gap=3.0))
    if side != square.width:
        steps.append(
            f"Shrunk to {side}×{side}: as PNG it was {human_bytes(first_size)}, "
            f"the API takes less than {human_bytes(preparation.max_bytes)}."
        )
    steps.append(f"Encoded as PNG: {human_bytes(len(png))} (the file was {human_bytes(picture.byte_count)}).")
    return Prepared(png, side, tuple(steps))


def preview_png(image: Image.Image, max_side: int = 640) -> bytes:
    """A smaller copy for showing on the page."""
    preview = image.copy()
    preview.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return _png(preview)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def result_png(item: object, timeout: float = 30.0) -> bytes:
    """The bytes of one `data[]` entry of an ImagesResponse: b64_json, or its url fetched."""
    b64 = getattr(item, "b64_json", None)
    if b64:
        return base64.b64decode(b64)
    url = getattr(item, "url", None)
    if not url:
        raise PictureError("The provider returned an image with neither b64_json nor a url.")
    return fetch_provider_url(str(url), timeout=timeout)


def results_zip(files: list[tuple[str, bytes]]) -> bytes:
    """One zip of named files (PNGs are already compressed: stored as is)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in files:
            archive.writestr(name, data)
    return out.getvalue()


def variation_cost(model: ModelInfo, size: str, n: int) -> float | None:
    """Dollars for n variations at `size`, or None when the price is unknown."""
    price = model.image_prices.get(size)
    return None if price is None else price * n


@functools.cache
def sample_pictures() -> dict[str, bytes]:
    """Three pictures drawn with Pillow, the same bytes every time (no licence to worry about)."""
    return {"Lake at sunset": _png(_lake()), "Still life": _png(_still_life()), "City at night": _png(_city())}


def _lake() -> Image.Image:
    width, height = 960, 640
    sky = Image.linear_gradient("L").resize((width, 400))
    image = Image.merge("RGB", (sky.point(lambda v: 70 + v * 0.7), sky.point(lambda v: 60 + v * 0.45), sky.point(lambda v: 130 - v * 0.35)))
    image = image.crop((0, 0, width, height))
    draw = ImageDraw.Draw(image)
    draw.ellipse((560, 230, 680, 350), fill=(255, 200, 90))
    draw.polygon([(0, 400), (180, 200), (330, 330), (470, 170), (700, 400)], fill=(70, 60, 90))
    draw.polygon([(420, 400), (760, 230), (960, 360), (960, 400)], fill=(50, 45, 75))
    reflection = image.crop((0, 160, width, 400)).transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    water = Image.blend(reflection, Image.new("RGB", reflection.size, (30, 50, 90)), 0.45)
    image.paste(water, (0, 400))
    for y in range(410, height, 14):
        draw.line((0, y, width, y), fill=(40, 70, 110), width=1)
    for x, y in ((200, 110), (240, 95), (265, 125)):
        draw.line((x - 12, y - 6, x, y, x + 12, y - 6), fill=(30, 25, 40), width=3)
    return image


def _still_life() -> Image.Image:
    image = Image.new("RGB", (640, 800), (205, 190, 160))
    draw = ImageDraw.Draw(image)
    for x in range(0, 640, 64):
        draw.rectangle((x, 0, x + 31, 520), fill=(190, 172, 140))
    draw.rectangle((0, 520, 640, 800), fill=(120, 80, 50))
    draw.pieslice((130, 380, 510, 660), 0, 180, fill=(60, 110, 150))
    for box, colour in (
        ((170, 380, 290, 500), (200, 40, 40)),
        ((270, 350, 390, 470), (240, 150, 30)),
        ((360, 390, 470, 500), (110, 170, 60)),
        ((230, 430, 330, 530), (150, 40, 90)),
    ):
        draw.ellipse(box, fill=colour)
    draw.polygon([(520, 520), (560, 250), (600, 520)], fill=(235, 235, 220))
    return image


def _city() -> Image.Image:
    rng = random.Random(7)
    image = Image.new("RGB", (800, 600), (15, 20, 45))
    draw = ImageDraw.Draw(image)
    draw.ellipse((80, 60, 150, 130), fill=(235, 235, 210))
    x = 0
    while x < 800:
        width, top = rng.randint(60, 130), rng.randint(180, 440)
        shade = rng.randint(30, 55)
        draw.rectangle((x, top, x + width, 600), fill=(shade, shade, shade + 15))
        for wy in range(top + 12, 590, 22):
            for wx in range(x + 8, x + width - 12, 18):
                if rng.random() < 0.45:
                    draw.rectangle((wx, wy, wx + 8, wy + 10), fill=(250, 215, 120))
        x += width + rng.randint(2, 12)
    return image


def create_variations(client: openai.OpenAI, *, png: bytes, model: str, n: int, size: str) -> ImagesResponse:
    """Variations of a prepared PNG, as b64_json (kept after the API's one-hour URLs expire).

    Azure OpenAI offers no dall-e-2 variations, so the SDK's AzureOpenAI does not route them to
    a deployment; on Azure we post to the deployment's path ourselves (the local engine's
    Azure layout answers it; a real Azure resource answers 404, which the page explains)."""
    image = ("picture.png", png, "image/png")
    if isinstance(client, openai.AzureOpenAI):
        return client.post(
            f"/deployments/{model}/images/variations",
            body={"n": n, "size": size, "response_format": "b64_json"},
            files=[("image", image)],
            options={"headers": {"Content-Type": "multipart/form-data"}},
            cast_to=ImagesResponse,
        )
    return client.images.create_variation(image=image, model=model, n=n, size=size, response_format="b64_json")


# --- what the history keeps of an image run ----------------------------------------------
# Thumbnails of the results and the source the API was sent, so History can show a run,
# send it again and open it on the page, and the gallery comes back after a reload. The
# full-size results are not kept (a run of ten at 1024 px is tens of megabytes).
THUMB_SIDE = 256
THUMB_QUALITY = 80  # lossy WebP, with transparency: a few kilobytes each
SOURCE_KEEP_BYTES = 1_000_000  # a larger source is kept scaled down, and the run says so


@dataclass(frozen=True)
class KeptPictures:
    """An image run's pictures as the history keeps them."""

    source_name: str
    source_png: bytes | None  # None: a run saved before pictures were kept
    source_note: str | None  # why the kept source is smaller than the one sent, when it is
    thumbnails: list[bytes]  # WebP, THUMB_SIDE at most


def thumbnail(data: bytes, side: int = THUMB_SIDE) -> bytes:
    """A small WebP copy of a picture, for the history and the gallery."""
    image = Image.open(io.BytesIO(data))
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "WEBP", quality=THUMB_QUALITY)
    return out.getvalue()


def kept_source(png: bytes, limit: int = SOURCE_KEEP_BYTES) -> tuple[bytes, str | None]:
    """The source PNG the history keeps: as sent when it fits `limit`, else scaled down until
    it does, with a note saying so."""
    if len(png) <= limit:
        return png, None
    image = Image.open(io.BytesIO(png))
    side, kept = image.width, png
    while len(kept) > limit and side > 64:
        side = int(side * 0.75)
        kept = _png(image.resize((side, side), Image.Resampling.LANCZOS))
    note = (f"The history keeps the source at {side}×{side} ({human_bytes(len(kept))}): the picture sent was "
            f"{image.width}×{image.height}, {human_bytes(len(png))}, over the history's {human_bytes(limit)} cap.")
    return kept, note


def image_run_record(source_name: str, source_png: bytes, *, model: str, n: int, size: str,
                     pngs: list[bytes]) -> tuple[dict, dict]:
    """(request, response) of an image run as the history saves it: thumbnails of the results
    and the source (size-capped), base64 in JSON."""
    kept, note = kept_source(source_png)
    request = {"model": model, "n": n, "size": size, "image": source_name}
    response = {
        "images": len(pngs),
        "thumbnails": [base64.b64encode(thumbnail(png)).decode("ascii") for png in pngs],
        "source": {"name": source_name, "png": base64.b64encode(kept).decode("ascii"), "capped": note},
    }
    return request, response


def kept_pictures(request: dict, response: dict) -> KeptPictures:
    """The pictures a saved image run holds (none for a run saved before they were kept)."""
    source = response.get("source") if isinstance(response.get("source"), dict) else {}
    png = source.get("png")
    return KeptPictures(
        source_name=str(source.get("name") or request.get("image") or "picture"),
        source_png=base64.b64decode(png) if isinstance(png, str) else None,
        source_note=source.get("capped") or None,
        thumbnails=[base64.b64decode(t) for t in response.get("thumbnails") or [] if isinstance(t, str)],
    )
