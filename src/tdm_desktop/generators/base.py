"""How a generator is chosen by name; the types every generator takes and gives live in
``tdm_desktop.core.generator`` (re-exported here for generator authors)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from tdm_desktop.core.errors import BadInputError
from tdm_desktop.core.generator import GenerationRequest, GenerationResult, Generator

__all__ = [  # the types live in core; generator authors may import them from here too
    "DEFAULT_GENERATOR",
    "GENERATOR_ENV",
    "GenerationRequest",
    "GenerationResult",
    "Generator",
    "available_generators",
    "get_generator",
    "sniff_image_mime",
]

DEFAULT_GENERATOR = "placeholder"
GENERATOR_ENV = "TDM_GENERATOR"

JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def sniff_image_mime(data: bytes) -> str | None:
    """``image/jpeg`` or ``image/png`` from the magic bytes, else None."""
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    if data.startswith(PNG_MAGIC):
        return "image/png"
    return None


def _make_placeholder(env: Mapping[str, str]) -> Generator:
    from tdm_desktop.generators.placeholder import PlaceholderGenerator

    return PlaceholderGenerator()


def _make_a1111(env: Mapping[str, str]) -> Generator:
    from tdm_desktop.generators.a1111 import A1111Generator

    return A1111Generator.from_env(env)


_FACTORIES: dict[str, Callable[[Mapping[str, str]], Generator]] = {
    "placeholder": _make_placeholder,
    "a1111": _make_a1111,
}


def available_generators() -> list[str]:
    """The names ``get_generator`` accepts, sorted."""
    return sorted(_FACTORIES)


def get_generator(name: str | None = None, env: Mapping[str, str] = os.environ) -> Generator:
    """The generator called ``name``, else ``$TDM_GENERATOR``, else ``placeholder``.

    Raises ``BadInputError`` (listing the known names) for an unknown name.
    """
    chosen = name if name else env.get(GENERATOR_ENV, "") or DEFAULT_GENERATOR
    key = chosen.strip().lower()
    factory = _FACTORIES.get(key)
    if factory is None:
        source = "--generator" if name else GENERATOR_ENV
        raise BadInputError(
            f"generator {chosen!r} (from {source}) is unknown; "
            f"known generators: {', '.join(available_generators())}"
        )
    return factory(env)
