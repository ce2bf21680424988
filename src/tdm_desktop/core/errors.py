"""Specific exceptions raised by the core; the edges (CLI, dialogs) turn them into one clear line.

Every ``TdmError``'s ``str()`` is a complete one-line message naming the thing and the problem.
"""

from __future__ import annotations

from pathlib import Path


class TdmError(Exception):
    """Base of every error the core raises on purpose."""


class BadInputError(TdmError, ValueError):
    """The user gave something unusable (a name, an ID, an option). The CLI exits 2."""


class InvalidNameError(BadInputError):
    """A name used in an S3 key or a path is outside the allow-list."""


class ActorNotFoundError(BadInputError):
    """No manifest exists for the actor ID."""


class DataFileError(BadInputError):
    """A JSON data file (manifest, prompt metadata) is not valid. It is never overwritten."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.location = str(path)  # a file path or an s3:// URL, as shown
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.location}: {problem}")


class ManifestError(DataFileError):
    """A manifest file is not valid."""


class ManifestNotFoundError(ManifestError):
    """No manifest where one was read."""


class PromptMetadataError(DataFileError):
    """A prompt_metadata.json file is not valid."""


def sync_era_problem(actor_id: str) -> str:
    """What a manifest written before the S3-only change needs, in one line."""
    return f"written before the S3-only change: run tdm-desktop migrate {actor_id}"


class SyncEraManifestError(ManifestError):
    """A manifest written before the S3-only change (local paths, sync status) that does not load
    as it is: ``tdm-desktop migrate`` turns it into the design's structure."""

    def __init__(self, path: Path | str, actor_id: str, actor_name: str | None = None) -> None:
        self.actor_id = actor_id
        self.actor_name = actor_name  # its character_name, when that is a valid actor name
        super().__init__(path, sync_era_problem(actor_id))


class UploadJournalError(DataFileError):
    """An actor's uploads_in_progress.json is not valid."""


class ImageNotInManifestError(BadInputError):
    """A filename given by the user is not listed in the actor's manifest."""


class DuplicateImageError(TdmError):
    """The manifest already lists an image with that filename."""


class ForeignImageError(TdmError):
    """An s3_url outside the configured bucket and the actor's prefix, or malformed.

    Such an image is shown as foreign and never fetched with credentials, overwritten or deleted.
    """

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"foreign image {url!r}: {reason}")


class S3Error(TdmError):
    """An S3 request failed. ``code`` is the S3 error code or a short word (``Timeout``...)."""

    def __init__(self, key: str, code: str, message: str) -> None:
        self.key = key
        self.code = code
        self.message = message
        super().__init__(f"s3 object {key!r}: {code}: {message}")


class ObjectExistsError(S3Error):
    """A write with If-None-Match: * found an object already at the key (HTTP 412)."""


class CatalogLocationError(BadInputError):
    """A data dir given as a URL that is not a valid ``s3://bucket/prefix``."""


class DocumentConflictError(TdmError):
    """A conditional write found the document at another version than expected (HTTP 412/409)."""

    def __init__(self, url: str, message: str) -> None:
        self.url = url
        super().__init__(f"{url}: {message}")


class DocumentExistsError(DocumentConflictError):
    """A create-only write found a document already there."""


class ChangeConflictError(TdmError):
    """Others kept changing a document while a change was re-applied; nothing was written."""


class ReadOnlyCatalogError(TdmError):
    """The account may read the catalog but not write it (AccessDenied on a PUT)."""


class GeneratorError(TdmError):
    """An image generator failed (server unreachable, bad answer, not an image...)."""


def one_line(error: BaseException) -> str:
    """What to show a person: a ``TdmError``'s own message, else the type and message, on one line."""
    text = str(error) if isinstance(error, TdmError) else f"{type(error).__name__}: {error}"
    return " ".join(text.split())
