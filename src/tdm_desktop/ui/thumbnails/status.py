"""How thumbnail loading goes, for the status bar and the error banner: loaded / failed of the
listed images, and one clear line when a failure hits every image (endpoint unreachable, no
credentials, timeout)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal


def connection_problem(reason: str, endpoint: str | None) -> str | None:
    """A banner line for thumbnail failures that hit every image, else None."""
    where = endpoint or "AWS S3"
    if reason == "unreachable":
        return (
            f"S3 is unreachable at {where}: thumbnails cannot load. Check the endpoint "
            "(--endpoint-url, AWS_ENDPOINT_URL_S3) and the network, then press F5."
        )
    if reason == "no credentials":
        return (
            "No AWS credentials found: set AWS_PROFILE (or --profile) or the AWS_ACCESS_KEY_ID "
            "variables, then press F5."
        )
    if reason == "timeout":
        return f"S3 at {where} does not answer in time: press F5 to try again."
    return None


class ThumbnailStatusController(QObject):
    """Counts which listed thumbnails loaded or failed. ``loaded_text_changed(text)`` for the
    status bar, ``connection_failed(line)`` for the banner; ``endpoint`` is where S3 is (None:
    AWS), for that line."""

    loaded_text_changed = Signal(str)
    connection_failed = Signal(str)

    def __init__(self, endpoint: str | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._endpoint = endpoint
        self._listed: Callable[[str], bool] = lambda _key: False
        self._loaded_keys: set[str] = set()
        self._failed_keys: set[str] = set()
        self._row_count = 0

    def forget_loaded(self) -> None:
        """Another actor opens: nothing of it is loaded yet."""
        self._loaded_keys.clear()
        self._failed_keys.clear()

    def set_listed(self, row_count: int, is_listed: Callable[[str], bool]) -> None:
        """The grid lists ``row_count`` images; ``is_listed(key)`` tells a listed image's key.
        O(loaded), not O(rows): only the keys counted so far are checked again."""
        self._listed = is_listed
        self._loaded_keys = {key for key in self._loaded_keys if is_listed(key)}
        self._failed_keys = {key for key in self._failed_keys if is_listed(key)}
        self._row_count = row_count
        self._announce()

    def loaded_text(self) -> str:
        text = f"Loaded {len(self._loaded_keys)} / {self._row_count}"
        if self._failed_keys:
            text += f" ({len(self._failed_keys)} failed)"
        return text

    def retry_failed(self, retry: Callable[[list[str]], None]) -> None:
        """F5: ask ``retry`` to load the failed thumbnails again."""
        if self._failed_keys:
            retry(sorted(self._failed_keys))
            self._failed_keys.clear()
            self._announce()

    def on_thumbnail_ready(self, key: str) -> None:
        if self._listed(key):
            self._loaded_keys.add(key)
            self._failed_keys.discard(key)
            self._announce()

    def on_thumbnail_failed(self, key: str, reason: str) -> None:
        if self._listed(key):
            self._failed_keys.add(key)
            self._announce()
            message = connection_problem(reason, self._endpoint)
            if message is not None:
                self.connection_failed.emit(message)

    def _announce(self) -> None:
        self.loaded_text_changed.emit(self.loaded_text())
