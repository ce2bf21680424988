"""Where the thumbnail loader's bytes come from, and which keys it may ask for at all.

Only the images the grid lists may be fetched (the gate, ``allow``): a key that is no longer
listed (a delete, another actor) is refused on the GUI thread, before any transport sees it,
whether the bytes then come by Qt on a presigned URL or by the service's GET in a worker. Foreign
URLs have no key, so they are never fetched nor presigned. ``make_transport`` builds the
transport the configuration chooses (``transport.transport_choice``): the same one on AWS as on a
custom endpoint.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject

from tdm_desktop.core.training_data import TrainingImage
from tdm_desktop.ui.thumbnails.network import NetworkTransport
from tdm_desktop.ui.thumbnails.transport import Transport, WorkerTransport, transport_choice

PROBE_KEY = "system_actors/training_data/"
"""Signed to learn where GETs go (scheme, host, port); never fetched."""


class ImageSource(Protocol):
    """What thumbnails and the preview need from the service layer."""

    @property
    def s3_endpoint(self) -> str | None: ...

    def fetch_image_bytes(self, image: TrainingImage) -> bytes: ...

    def presign_get(self, key: str) -> str: ...


class ListedImages(Protocol):
    """The grid's images by S3 key (``ImageGridModel``), asked on the GUI thread: a function
    giving the image of a listed key (callable on another thread), or None."""

    def image_getter(self, key: str) -> Callable[[], TrainingImage] | None: ...


class ThumbnailSource:
    """The gate and the two ways to the bytes, over the images ``listed`` shows.

        ``allow(key)`` (GUI thread) is the loader's gate; the image it found is remembered for
        ``fetch_key`` (a worker thread), which never reads the model itself (it calls the function the
    model gave for the key, which reads the list the row came from).
    """

    def __init__(self, service: ImageSource, listed: ListedImages) -> None:
        self._service = service
        self._listed = listed
        self._allowed: dict[str, Callable[[], TrainingImage]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Whether ``key`` is a listed image's object (and may be fetched). Builds no row."""
        image = self._listed.image_getter(key)
        with self._lock:
            if image is None:
                self._allowed.pop(key, None)
                return False
            self._allowed[key] = image
        return True

    def forget(self) -> None:
        """The listed images changed: each key passes the gate again before its next GET."""
        with self._lock:
            self._allowed.clear()

    def fetch_key(self, key: str) -> bytes:
        """The bytes of a key that passed the gate, by the service's GET. ``KeyError`` if not."""
        with self._lock:
            image = self._allowed.get(key)
        if image is None:
            raise KeyError(f"{key}: no longer listed")
        return self._service.fetch_image_bytes(image())

    def presigned_url(self, key: str) -> str:
        """A presigned GET URL for a key that passed the gate. ``KeyError`` if it did not."""
        with self._lock:
            allowed = key in self._allowed
        if not allowed:
            raise KeyError(f"{key}: no longer listed")
        return self._service.presign_get(key)

    def probe_url(self) -> str:
        """A URL on the images' endpoint, to open a connection ahead (signed, never fetched)."""
        return self._service.presign_get(PROBE_KEY)

    def make_transport(self, *, connections: int, parent: QObject | None = None) -> Transport:
        """The transport the configuration chooses for the service's endpoint (see the module)."""
        if transport_choice(self._service.s3_endpoint) == "qt":
            return NetworkTransport(
                self.presigned_url, connections=connections, probe=self.probe_url, parent=parent
            )
        return WorkerTransport(self.fetch_key, threads=connections, parent=parent)
