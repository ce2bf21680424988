"""The generator the Settings choose (tests inject a fast fake instead of this factory)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping

from tdm_desktop.core.generator import GenerationRequest, GenerationResult, Generator
from tdm_desktop.generators import get_generator
from tdm_desktop.ui.settings.model import AppSettings

GeneratorFactory = Callable[[AppSettings], Generator]
"""Builds the generator the settings choose."""


class DenoisingGenerator:
    """Passes every request to ``inner`` with the configured img2img denoising strength."""

    def __init__(self, inner: Generator, denoising_strength: float) -> None:
        self.inner = inner
        self.name = inner.name
        self.denoising_strength = denoising_strength

    @property
    def display_name(self) -> str:
        return self.inner.display_name

    def generate(self, request: GenerationRequest) -> GenerationResult:
        strength = self.denoising_strength
        return self.inner.generate(dataclasses.replace(request, denoising_strength=strength))


def make_generator(values: AppSettings, env: Mapping[str, str] = os.environ) -> Generator:
    """The generator ``values`` choose. A1111 auth, sampler and timeout still come from ``env``.

    Raises ``BadInputError`` for an unknown name or an unusable setting.
    """
    if values.generator != "a1111":
        return get_generator(values.generator, env)
    chosen = {**env, "TDM_A1111_URL": values.a1111_url, "TDM_A1111_STEPS": str(values.steps)}
    return DenoisingGenerator(get_generator("a1111", chosen), values.denoising_strength)
