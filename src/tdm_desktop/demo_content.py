"""What each demo image is, so a new user meets every review feature in ``tdm-desktop demo``:
near-duplicate pairs (a re-encode, a darker copy, a 2 % crop of another image), a blurred image,
one smaller than the training resolution, curators' captions (one on two lines, with
``[trigger]``), a trigger word, and a few decisions already made (good and bad) by "demo".

Everything is drawn by the placeholder generator from a prompt and a seed, so a copy is made
again from its original's prompt and seed without reading anything back from S3.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from tdm_desktop.core.generator import GenerationRequest, Generator

SMALL_SIDE = 512  # below the default training resolution (1024 on the short side)
BLUR_RADIUS = 6


class Variant(StrEnum):
    ORIGINAL = "original"
    REENCODED = "re-encoded at JPEG quality 55"
    DARKER = "darkened to 85 %"
    CROPPED = "cropped by 2 % and scaled back"
    BLURRED = "blurred"
    SMALL = f"{SMALL_SIDE}×{SMALL_SIDE}"


@dataclass(frozen=True)
class DemoImage:
    """Image ``index`` of a demo actor: drawn from prompt ``index`` and seed ``1000 + index``, or a
    ``variant`` of image ``source``; with a curator's ``caption`` and ``good`` decision, if any."""

    index: int
    variant: Variant = Variant.ORIGINAL
    source: int | None = None
    caption: str | None = None
    good: bool | None = None

    @property
    def drawn_from(self) -> int:
        """The image whose prompt and seed draw this one."""
        return self.source if self.source is not None else self.index

    def seed(self) -> int:
        return 1000 + self.drawn_from

    def prompt(self, prompts: Sequence[str]) -> str:
        return prompts[self.drawn_from % len(prompts)]


@dataclass(frozen=True)
class DemoSpecials:
    """One actor's special images (by index) and its trigger word; every other image is an
    original, decided good when its index is ``0 mod 7``, bad when ``3 mod 7``."""

    copies: dict[int, tuple[int, Variant]]  # index -> (source, variant)
    blurred: tuple[int, ...] = ()
    small: tuple[int, ...] = ()
    captions: dict[int, str] | None = None
    trigger_word: str | None = None


SPECIALS = {
    "0042": DemoSpecials(
        copies={5: (4, Variant.REENCODED), 12: (11, Variant.DARKER), 20: (19, Variant.CROPPED)},
        blurred=(8,),
        small=(15,),
        captions={
            1: "[trigger] smiling, looking at the camera, soft window light",
            2: "[trigger], three-quarter view\nneutral expression, studio lighting",
        },
        trigger_word="ohwx",
    ),
    "0107": DemoSpecials(
        copies={9: (8, Variant.REENCODED)},
        blurred=(4,),
        captions={1: "[trigger] with a gentle smile, outdoor light"},
    ),
    "0213": DemoSpecials(
        copies={13: (12, Variant.DARKER), 26: (25, Variant.CROPPED)},
        small=(6,),
    ),
    "0388": DemoSpecials(copies={11: (10, Variant.REENCODED)}),
}


def demo_image(actor_id: str, index: int) -> DemoImage:
    specials = SPECIALS.get(actor_id, DemoSpecials(copies={}))
    caption = (specials.captions or {}).get(index)
    good = True if index % 7 == 0 else False if index % 7 == 3 else None
    if index in specials.copies:
        source, variant = specials.copies[index]
        return DemoImage(index, variant, source, caption, good)
    if index in specials.blurred:
        return DemoImage(index, Variant.BLURRED, None, caption, good)
    if index in specials.small:
        return DemoImage(index, Variant.SMALL, None, caption, good)
    return DemoImage(index, caption=caption, good=good)


def trigger_word(actor_id: str) -> str | None:
    specials = SPECIALS.get(actor_id)
    return specials.trigger_word if specials is not None else None


def render(image: DemoImage, generator: Generator, prompts: Sequence[str]) -> bytes:
    """The JPEG bytes of ``image``."""
    side = SMALL_SIDE if image.variant is Variant.SMALL else GenerationRequest.width
    request = GenerationRequest(
        prompt=image.prompt(prompts), seed=image.seed(), width=side, height=side
    )
    data = generator.generate(request).image_bytes
    if image.variant in (Variant.ORIGINAL, Variant.SMALL):
        return data
    return _derived(data, image.variant)


def _derived(data: bytes, variant: Variant) -> bytes:
    from PIL import Image, ImageEnhance, ImageFilter

    picture = Image.open(io.BytesIO(data)).convert("RGB")
    quality = 90
    if variant is Variant.REENCODED:
        quality = 55
    elif variant is Variant.DARKER:
        picture = ImageEnhance.Brightness(picture).enhance(0.85)
    elif variant is Variant.CROPPED:
        width, height = picture.size
        dx, dy = round(width * 0.01), round(height * 0.01)
        picture = picture.crop((dx, dy, width - dx, height - dy)).resize(
            (width, height), Image.Resampling.LANCZOS
        )
    elif variant is Variant.BLURRED:
        picture = picture.filter(ImageFilter.GaussianBlur(BLUR_RADIUS))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality)
    return out.getvalue()
