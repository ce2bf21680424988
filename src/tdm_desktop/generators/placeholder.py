"""An offline generator that draws a labelled stand-in image: for demos and tests, and says so.

Pure Pillow (no Qt), so it runs in worker threads. The same prompt and seed always give the same
bytes; the picture has gradients, shapes and grain seeded from both, so its JPEG is about the size
of a real training image.
"""

from __future__ import annotations

import hashlib
import io
import logging
import random
import textwrap
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont, ImageOps

from tdm_desktop.core.errors import GeneratorError
from tdm_desktop.core.generator import GenerationRequest, GenerationResult

log = logging.getLogger(__name__)

BANNER = "PLACEHOLDER — not a real generation"
# The bundled default font has no dashes, so the picture spells the banner with a hyphen.
BANNER_DRAWN = "PLACEHOLDER - not a real generation"
JPEG_QUALITY = 85
MAX_SIDE = 4096
_GRAIN_TILE = 512
_GRAIN_STRENGTH = 0.2


def seed_from_prompt(prompt: str) -> int:
    """A stable seed in [0, 2**32) for a prompt (independent of ``PYTHONHASHSEED``)."""
    return int.from_bytes(hashlib.sha256(prompt.encode("utf-8")).digest()[:4], "big")


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


class PlaceholderGenerator:
    """Renders the prompt and seed on a seeded abstract background, with a PLACEHOLDER banner."""

    name = "placeholder"
    display_name = "placeholder"

    def __init__(self, quality: int = JPEG_QUALITY) -> None:
        self._quality = quality

    def generate(self, request: GenerationRequest) -> GenerationResult:
        width, height = request.width, request.height
        if not (16 <= width <= MAX_SIDE and 16 <= height <= MAX_SIDE):
            raise GeneratorError(
                f"placeholder: image size {width}x{height} is out of range (16..{MAX_SIDE} pixels)"
            )
        seed = request.seed if request.seed is not None else seed_from_prompt(request.prompt)
        rng = random.Random(hashlib.sha256(f"{seed}\x00{request.prompt}".encode()).digest())
        image = _background(rng, width, height)
        _draw_shapes(image, rng)
        image = _add_grain(image, rng)
        _draw_labels(image, request.prompt, seed)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=self._quality, optimize=False)
        data = out.getvalue()
        log.debug("placeholder image %dx%d seed %d: %d bytes", width, height, seed, len(data))
        return GenerationResult(
            image_bytes=data,
            mime="image/jpeg",
            seed=seed,
            width=width,
            height=height,
            info={
                "generator": self.name,
                "placeholder": True,
                "note": BANNER,
                "prompt": request.prompt,
                "negative_prompt": request.negative_prompt,
                "seed": seed,
                "used_base_image": False,
            },
        )


def _color(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randrange(256), rng.randrange(256), rng.randrange(256))


def _background(rng: random.Random, width: int, height: int) -> Image.Image:
    gradient = Image.linear_gradient("L").rotate(rng.uniform(0, 360), resample=Image.BICUBIC)
    gradient = gradient.crop((40, 40, 216, 216)).resize((width, height), Image.BICUBIC)
    return ImageOps.colorize(gradient, black=_color(rng), white=_color(rng), mid=_color(rng))


def _draw_shapes(image: Image.Image, rng: random.Random) -> None:
    width, height = image.size
    layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    scale = min(width, height)
    for _ in range(rng.randint(14, 22)):
        x, y = rng.uniform(-0.1, 1.1) * width, rng.uniform(-0.1, 1.1) * height
        r = rng.uniform(0.04, 0.3) * scale
        fill = (*_color(rng), rng.randint(60, 170))
        kind = rng.random()
        if kind < 0.45:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
        elif kind < 0.8:
            draw.regular_polygon(
                (x, y, r), rng.randint(3, 7), rotation=rng.uniform(0, 360), fill=fill
            )
        else:
            points = [(x + rng.uniform(-r, r), y + rng.uniform(-r, r)) for _ in range(4)]
            draw.line(points, fill=fill, width=max(2, int(r / 12)))
    layer = layer.filter(ImageFilter.GaussianBlur(radius=scale / 300))
    image.paste(layer, (0, 0), layer)


def _add_grain(image: Image.Image, rng: random.Random) -> Image.Image:
    """Film-like grain: a seeded noise tile, stretched a little, blended in lightly."""
    tile = Image.frombytes("RGB", (_GRAIN_TILE, _GRAIN_TILE), rng.randbytes(_GRAIN_TILE**2 * 3))
    grain = tile.resize(image.size, Image.BILINEAR)
    return Image.blend(image, grain, _GRAIN_STRENGTH)


def _draw_labels(image: Image.Image, prompt: str, seed: int) -> None:
    width, height = image.size
    draw = ImageDraw.Draw(image, "RGBA")
    unit = max(8, min(width, height) // 32)
    banner_font, text_font, small_font = (
        _font(unit),
        _font(int(unit * 0.9)),
        _font(int(unit * 0.75)),
    )

    banner_h = int(unit * 2.2)
    draw.rectangle((0, 0, width, banner_h), fill=(200, 20, 20, 235))
    draw.text((width / 2, banner_h / 2), BANNER_DRAWN, font=banner_font, fill="white", anchor="mm")

    chars_per_line = max(10, int(width / (unit * 0.5)))
    lines = textwrap.wrap(prompt or "(empty prompt)", width=chars_per_line)[:12]
    lines.append(f"seed {seed}")
    line_h = int(unit * 1.25)
    box_h = line_h * len(lines) + unit
    top = height - box_h
    draw.rectangle((0, top, width, height), fill=(0, 0, 0, 170))
    for i, line in enumerate(lines):
        font = small_font if i == len(lines) - 1 else text_font
        draw.text((unit // 2, top + unit // 2 + i * line_h), line, font=font, fill="white")
