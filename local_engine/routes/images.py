"""POST /v1/images/variations, served by `local-image` (see `local_engine.imagery`).

Wire format: the OpenAI spec's CreateImageVariationRequest (multipart) and ImagesResponse.
- `model`: "local-image"; "dall-e-2" (the API's default, and its only variations model) and
  an omitted model are served by local-image too, so code written for the API runs as is.
  dall-e-2 is not listed in /v1/models: the app would price it as the paid model.
- Refused as the API refuses, a 400 naming the param: `image` not a PNG, not square,
  4 MiB (4,194,304 bytes) or more, undecodable or a decompression bomb; `n` outside 1..10;
  `size` not 256x256/512x512/1024x1024; `response_format` not url/b64_json.
- Seeds: the API has none; output i's seed is SHA-256(image bytes, `user`, i), so the same
  request gives the same images and the n images of a request differ.
- `url` results: the PNG is kept in <data_dir>/images and served without a key at
  /images-public/<32 hex>.png for URL_TTL seconds (the API's 60 minutes), then it is gone
  (pruned at every request and at start-up). The URL is built from the request's base URL.
"""

from __future__ import annotations

import base64
import io
import re
import secrets
import time
import warnings
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from PIL import Image

from .. import imagery
from ..engine import Engine, ModelCard
from ..errors import APIError, invalid

router = APIRouter()

MODEL_ID = "local-image"
ALIASES = {"dall-e-2": MODEL_ID}
MAX_IMAGE_BYTES = 4 * 1024 * 1024
URL_TTL = 3600
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PUBLIC_NAME = re.compile(r"[0-9a-f]{32}\.png")


class ImageStore:
    """PNG files behind the `url` response format, each for URL_TTL seconds."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def put(self, png: bytes) -> str:
        self.prune()
        name = f"{secrets.token_hex(16)}.png"
        (self.directory / name).write_bytes(png)
        return name

    def get(self, name: str) -> bytes | None:
        path = self.directory / name
        if not PUBLIC_NAME.fullmatch(name) or not path.is_file():
            return None
        if time.time() - path.stat().st_mtime >= URL_TTL:
            path.unlink(missing_ok=True)
            return None
        return path.read_bytes()

    def prune(self) -> None:
        cutoff = time.time() - URL_TTL
        for path in self.directory.glob("*.png"):
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
            except FileNotFoundError:
                pass  # another request pruned it first


def setup(engine: Engine) -> None:
    store = ImageStore(engine.config.data_dir / "images")
    store.prune()
    engine.register(ModelCard(MODEL_ID, kind="image", served_by=store))


def _decode_source(data: bytes, size: int) -> Image.Image:
    """`data`: the upload's first bytes, enough to refuse it; `size`: its whole length."""
    if size >= MAX_IMAGE_BYTES:
        raise invalid(
            f"Invalid input image: it must be a PNG of less than 4 MB; this one is {size:,} bytes.", "image"
        )
    if not data.startswith(PNG_SIGNATURE):
        raise invalid("Invalid input image: it must be a PNG file; this file is not PNG data.", "image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            source = Image.open(io.BytesIO(data), formats=["PNG"])
            source.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise invalid("Invalid input image: it has too many pixels to decode safely.", "image") from None
    except Exception as exc:  # Pillow's decoders raise many kinds of errors for damaged files
        raise invalid(f"Invalid input image: the PNG could not be decoded ({exc}).", "image") from None
    if source.width != source.height:
        raise invalid(f"Invalid input image: it must be square; this one is {source.width}x{source.height}.", "image")
    return source


@router.post("/v1/images/variations")
def create_variation(
    request: Request,
    image: Annotated[UploadFile, File()],
    model: Annotated[str | None, Form()] = None,
    n: Annotated[int | None, Form(ge=1, le=10)] = None,
    response_format: Annotated[Literal["url", "b64_json"] | None, Form()] = None,
    size: Annotated[Literal["256x256", "512x512", "1024x1024"] | None, Form()] = None,
    user: Annotated[str | None, Form()] = None,
) -> dict:
    engine: Engine = request.app.state.engine
    requested = model or "dall-e-2"
    store: ImageStore = engine.card(ALIASES.get(requested, requested), kind="image", project=None).served_by
    data = image.file.read(MAX_IMAGE_BYTES + 1)  # enough to refuse a larger one
    source = _decode_source(data, max(image.size or 0, len(data)))
    side = int((size or "1024x1024").split("x")[0])
    created = int(time.time())
    items = []
    for index in range(n or 1):
        recipe = imagery.plan(imagery.variation_seed(data, index, user))
        png = imagery.variation_png(source, recipe, side)
        if (response_format or "url") == "b64_json":
            items.append({"b64_json": base64.b64encode(png).decode("ascii")})
        else:
            items.append({"url": f"{request.base_url}images-public/{store.put(png)}"})
    return {"created": created, "data": items}


@router.get("/images-public/{name}")
def public_image(name: str, request: Request) -> Response:
    store: ImageStore = request.app.state.engine.card(MODEL_ID, kind="image", project=None).served_by
    png = store.get(name)
    if png is None:
        raise APIError(404, "This image URL has expired (they last an hour) or never existed.")
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
