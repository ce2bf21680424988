"""Where the thumbnail loader's bytes come from, and which keys it may ask for at all.

Only the images the grid lists may be fetched (the gate): a key that is no longer listed (a
delete, another actor) raises instead of reaching S3. Bytes come through the service's S3 GET
(botocore, in the loader's workers) or, on a custom endpoint such as the bundled local S3, through
presigned URLs that Qt's network stack GETs without the GIL (docs/PERFORMANCE.md has the figures).
On AWS the botocore GET stays: the unit tests' moto only intercepts botocore, and a Qt request
would go out to the real AWS. Foreign URLs have no key, so they are never fetched nor presigned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from tdm_desktop.core.training_data import TrainingImage


class ImageSource(Protocol):
    """What thumbnails and the preview need from the service layer."""

    @property
    def s3_endpoint(self) -> str | None: ...

    def fetch_image_bytes(self, image: TrainingImage) -> bytes: ...

    def presign_get(self, key: str) -> str: ...


class ThumbnailSource:
    """The loader's ``fetch`` (worker threads) and ``url_for`` (GUI thread), over the listed images.

    ``set_images`` replaces the listed images from the GUI thread; the workers only read the dict
    it swaps in, so no lock is needed.
    """

    def __init__(self, service: ImageSource) -> None:
        self._service = service
        self._images_by_key: dict[str, TrainingImage] = {}

    def set_images(self, images: Sequence[TrainingImage]) -> None:
        self._images_by_key = {img.location.key: img for img in images if img.location is not None}

    def fetch_key(self, key: str) -> bytes:
        """S3 key → the listed image → the service's GET. Raises ``KeyError`` if not listed."""
        return self._service.fetch_image_bytes(self._listed(key))

    def presigned_url(self, key: str) -> str:
        """A presigned GET URL for a listed key. Raises ``KeyError`` if not listed."""
        self._listed(key)
        return self._service.presign_get(key)

    def url_source(self) -> Callable[[str], str] | None:
        """``presigned_url`` when Qt's network stack should fetch (a custom endpoint), else None."""
        return self.presigned_url if self._service.s3_endpoint is not None else None

    def _listed(self, key: str) -> TrainingImage:
        image = self._images_by_key.get(key)
        if image is None:
            raise KeyError(f"{key}: no longer listed")
        return image
