"""Image generators: ``placeholder`` (offline, Pillow) and ``a1111`` (AUTOMATIC1111 web UI API)."""

from tdm_desktop.core.generator import GenerationRequest, GenerationResult, Generator
from tdm_desktop.generators.base import available_generators, get_generator

__all__ = [
    "GenerationRequest",
    "GenerationResult",
    "Generator",
    "available_generators",
    "get_generator",
]
