"""What every image generator takes and gives.

The service layer (``generation.py``) drives a ``Generator``; the generators in
``tdm_desktop.generators`` implement it. Both import these types from here, so neither package
depends on the other's insides and there is no import cycle between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

DEFAULT_DENOISING = 0.55
"""img2img: how far a generated image may move from the base image (0 keeps it, 1 ignores it)."""


@dataclass(frozen=True)
class GenerationRequest:
    """One image to make. ``seed=None`` lets the generator pick (and report) one."""

    prompt: str
    negative_prompt: str = ""
    seed: int | None = None
    width: int = 1024
    height: int = 1024
    base_image: bytes | None = field(default=None, repr=False)
    denoising_strength: float = DEFAULT_DENOISING


@dataclass(frozen=True)
class GenerationResult:
    """An encoded image (``mime`` is ``image/jpeg`` or ``image/png``) and what made it."""

    image_bytes: bytes = field(repr=False)
    mime: str
    seed: int
    width: int
    height: int
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Generator(Protocol):
    """Anything that turns a prompt into an image.

    ``name`` is recorded with each image (``placeholder``, ``a1111``); ``display_name`` is what a
    window shows, e.g. ``a1111 (http://127.0.0.1:7860)``.
    """

    name: str

    @property
    def display_name(self) -> str: ...

    def generate(self, request: GenerationRequest) -> GenerationResult: ...
