"""Full-size image bytes for the preview and the compare view: the thumbnail loader's copy of the
fetched bytes when it has one (no second GET), else a fetch through the service. Called in a
worker thread, never on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import TrainingImage

FetchImage = Callable[["TrainingImage"], bytes]
"""``image -> its bytes`` (``TrainingDataService.fetch_image_bytes``)."""


class CompressedCache(Protocol):
    """The thumbnail loader's cache of fetched bytes (``ThumbnailLoader``)."""

    def compressed_bytes(self, key: str) -> bytes | None: ...


class FullImageSource:
    """``source(image) -> bytes``: cached bytes first, else ``fetch``."""

    def __init__(self, cache: CompressedCache, fetch: FetchImage) -> None:
        self._cache = cache
        self._fetch = fetch

    def __call__(self, image: TrainingImage) -> bytes:
        if image.location is not None:
            data = self._cache.compressed_bytes(image.location.key)
            if data:
                return data
        return self._fetch(image)
