"""Image variations for `local-image`: seeded Pillow transformations that keep the picture recognisable.

A variation is a Recipe drawn from a seed, then applied to the source at the requested size:
- geometry, in one resampling step: a crop and zoom into the picture, sometimes mirrored,
  sometimes turned a few degrees, sometimes bent by a gentle mesh warp;
- two to four of: a hue turn, more or less saturation, a tone change (brightness, contrast,
  gamma), a warmer or cooler white balance, a vignette, film grain, softening or sharpening.

The API has no seed parameter, so the seed comes from the request: SHA-256 of the image
bytes, the `user` field and the output's index (`variation_seed`). The same request gives the
same images; the n images of one request differ; output sizes share recipes.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageEnhance, ImageFilter

MESH_CELLS = 4  # the warp grid is MESH_CELLS x MESH_CELLS
TONAL_STEPS = ("hue", "saturation", "tone", "temperature", "vignette", "grain", "focus")


def variation_seed(image_bytes: bytes, index: int, user: str | None = None) -> int:
    digest = hashlib.sha256()
    digest.update(image_bytes)
    digest.update(b"\0user\0" + (user or "").encode("utf-8"))
    digest.update(b"\0index\0" + str(index).encode("ascii"))
    return int.from_bytes(digest.digest()[:8], "big")


@dataclass(frozen=True)
class Recipe:
    """One variation's parameters; geometry is in fractions of the source side, so sizes agree."""

    seed: int
    zoom: float  # >= 1: the view is 1/zoom of the source side
    center: tuple[float, float]  # view centre, fractions of the source side
    angle: float  # degrees, counter-clockwise
    mirror: bool
    warp: tuple[tuple[float, float], ...]  # per mesh vertex, offsets in cells; () for none
    hue: float = 0.0  # turns
    saturation: float = 1.0
    brightness: float = 1.0
    contrast: float = 1.0
    gamma: float = 1.0
    temperature: float = 0.0  # > 0 warmer (more red, less blue)
    vignette: float = 0.0  # darkening at the corners, 0..1
    grain: float = 0.0  # noise standard deviation, in 0..255 levels
    focus: float = 0.0  # > 0 sharpen (unsharp %), < 0 soften (blur radius at 1024 px)


def plan(seed: int) -> Recipe:
    rng = random.Random(seed)
    angle = rng.uniform(-7.0, 7.0) if rng.random() < 0.5 else 0.0
    # A turned view must still fit inside the source: its half-extent grows by |cos|+|sin|.
    spread = abs(math.cos(math.radians(angle))) + abs(math.sin(math.radians(angle)))
    zoom = rng.uniform(max(1.04, spread), spread + 0.28)
    half = spread / (2 * zoom)
    center = (rng.uniform(half, 1 - half), rng.uniform(half, 1 - half))
    mirror = rng.random() < 0.5
    warp: tuple[tuple[float, float], ...] = ()
    if rng.random() < 0.5:
        amp = rng.uniform(0.08, 0.2)
        warp = tuple(
            (rng.uniform(-amp, amp), rng.uniform(-amp, amp)) for _ in range((MESH_CELLS + 1) ** 2)
        )
    params: dict[str, float] = {}
    for step in rng.sample(TONAL_STEPS, rng.randint(2, 4)):
        if step == "hue":
            params["hue"] = rng.choice((-1, 1)) * rng.uniform(0.02, 0.06)
        elif step == "saturation":
            params["saturation"] = rng.choice((rng.uniform(0.6, 0.85), rng.uniform(1.15, 1.45)))
        elif step == "tone":
            params["brightness"] = rng.uniform(0.9, 1.1)
            params["contrast"] = rng.uniform(0.85, 1.2)
            params["gamma"] = rng.uniform(0.8, 1.25)
        elif step == "temperature":
            params["temperature"] = rng.choice((-1, 1)) * rng.uniform(0.04, 0.1)
        elif step == "vignette":
            params["vignette"] = rng.uniform(0.2, 0.45)
        elif step == "grain":
            params["grain"] = rng.uniform(2.5, 6.0)
        else:
            params["focus"] = rng.choice((rng.uniform(60, 140), -rng.uniform(0.8, 1.6)))
    return Recipe(seed=seed, zoom=zoom, center=center, angle=angle, mirror=mirror, warp=warp, **params)


def render(source: Image.Image, recipe: Recipe, size: int) -> Image.Image:
    """The variation, `size` x `size`, RGB or RGBA like the source."""
    has_alpha = source.mode in ("RGBA", "LA", "PA") or "transparency" in source.info
    image = source.convert("RGBA" if has_alpha else "RGB")
    image = _geometry(image, recipe, size)
    alpha = image.getchannel("A") if has_alpha else None
    rgb = _colour(image.convert("RGB"), recipe, size)
    if alpha is not None:
        rgb.putalpha(alpha)
    return rgb


def variation_png(source: Image.Image, recipe: Recipe, size: int) -> bytes:
    out = io.BytesIO()
    render(source, recipe, size).save(out, "PNG", compress_level=2)
    return out.getvalue()


def _geometry(image: Image.Image, recipe: Recipe, size: int) -> Image.Image:
    # Transforms sample without antialiasing: first bring the source near the view's scale.
    view_side = max(image.width, image.height) / recipe.zoom
    if view_side > 1.5 * size:
        side = max(size, round(size * recipe.zoom * 1.25))
        image = image.resize((side, side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    s = float(image.width)
    view = s / recipe.zoom
    cos, sin = math.cos(math.radians(-recipe.angle)), math.sin(math.radians(-recipe.angle))
    flip = -1.0 if recipe.mirror else 1.0
    m11, m12, m21, m22 = cos * flip, -sin, sin * flip, cos
    cx, cy = recipe.center[0] * s, recipe.center[1] * s

    def to_source(u: float, v: float) -> tuple[float, float]:
        pu, pv = u / size - 0.5, v / size - 0.5
        return cx + view * (m11 * pu + m12 * pv), cy + view * (m21 * pu + m22 * pv)

    if not recipe.warp:
        a, b = view * m11 / size, view * m12 / size
        d, e = view * m21 / size, view * m22 / size
        c, f = to_source(0.0, 0.0)
        return image.transform((size, size), Image.Transform.AFFINE, (a, b, c, d, e, f), Image.Resampling.BICUBIC)

    cell = size / MESH_CELLS
    grid = MESH_CELLS + 1
    # Vertices move inside the output square: interior ones freely, edge ones along their edge.
    points: list[list[tuple[float, float]]] = []
    for j in range(grid):
        row = []
        for i in range(grid):
            du, dv = recipe.warp[j * grid + i]
            du = 0.0 if i in (0, MESH_CELLS) else du
            dv = 0.0 if j in (0, MESH_CELLS) else dv
            row.append(to_source((i + du) * cell, (j + dv) * cell))
        points.append(row)
    mesh = []
    for j in range(MESH_CELLS):
        for i in range(MESH_CELLS):
            box = (round(i * cell), round(j * cell), round((i + 1) * cell), round((j + 1) * cell))
            ul, ll, lr, ur = points[j][i], points[j + 1][i], points[j + 1][i + 1], points[j][i + 1]
            mesh.append((box, (*ul, *ll, *lr, *ur)))
    return image.transform((size, size), Image.Transform.MESH, mesh, Image.Resampling.BICUBIC)


def _colour(rgb: Image.Image, recipe: Recipe, size: int) -> Image.Image:
    if recipe.hue:
        shift = round(recipe.hue * 256)
        h, s, v = rgb.convert("HSV").split()
        h = h.point([(x + shift) % 256 for x in range(256)])
        rgb = Image.merge("HSV", (h, s, v)).convert("RGB")
    if recipe.saturation != 1.0:
        rgb = ImageEnhance.Color(rgb).enhance(recipe.saturation)
    if recipe.contrast != 1.0:
        rgb = ImageEnhance.Contrast(rgb).enhance(recipe.contrast)
    if recipe.brightness != 1.0 or recipe.gamma != 1.0 or recipe.temperature:
        gains = (1 + recipe.temperature, 1.0, 1 - recipe.temperature)
        lut = [
            min(255, round(255 * (x / 255) ** (1 / recipe.gamma) * recipe.brightness * gain))
            for gain in gains
            for x in range(256)
        ]
        rgb = rgb.point(lut)
    if recipe.focus > 0:
        rgb = rgb.filter(ImageFilter.UnsharpMask(radius=2 * size / 1024 + 0.5, percent=round(recipe.focus), threshold=2))
    elif recipe.focus < 0:
        rgb = rgb.filter(ImageFilter.GaussianBlur(-recipe.focus * size / 1024))
    if recipe.vignette:
        axis = np.linspace(-1.0, 1.0, size, dtype=np.float32)
        radius = (axis[None, :] ** 2 + axis[:, None] ** 2) / 2  # 0 at the centre, 1 in the corners
        gain = Image.fromarray(np.round(255 * (1 - recipe.vignette * radius**1.5)).astype(np.uint8), "L")
        rgb = ImageChops.multiply(rgb, Image.merge("RGB", (gain, gain, gain)))
    if recipe.grain:
        noise = np.random.default_rng(recipe.seed).standard_normal((size, size), dtype=np.float32)
        grain = Image.fromarray(np.clip(128 + recipe.grain * noise, 0, 255).astype(np.uint8), "L")
        rgb = ImageChops.add(rgb, Image.merge("RGB", (grain, grain, grain)), offset=-128)
    return rgb

