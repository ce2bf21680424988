"""Where a training-set export writes: a local folder or a prefix in the configured bucket.

Both never overwrite: a file or object that exists is left as it is (create-only writes: a
temp file hard-linked into place, or ``If-None-Match: *``), and ``metadata.jsonl`` is only ever
extended, by a compare-and-swap on what was read (the same bytes on disk, ``If-Match`` on S3).

- ``FolderTarget``: downloads each image through the configured S3 client and checks it against
  S3 (its length, and its MD5 where the ETag is one) before the file appears.
- ``S3PrefixTarget``: copies each image server-side (CopyObject: no download), writes captions
  as objects. The prefix must be in the configured bucket and outside the actors' training data.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tdm_desktop.core.errors import BadInputError, ObjectExistsError, S3Error, TdmError
from tdm_desktop.core.jsonfile import atomic_write_bytes, write_synced_temp
from tdm_desktop.core.s3_store import TRAINING_DATA_PREFIX, ObjectInfo, S3Store
from tdm_desktop.core.training_data import TrainingImage

FILE_MODE = 0o644
_TEMP_FILE = re.compile(r"\..+\.[A-Za-z0-9_]+\.tmp")  # write_synced_temp's names
_CONTENT_TYPES = {".txt": "text/plain; charset=utf-8", ".toml": "application/toml"}
_BAD_KEY_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\\]")
OTHER_SAMPLE = 5  # unknown files named in the error
# A first write failing with one of these means the destination takes nothing (EDQUOT: a quota,
# not on every platform).
_REFUSED_ERRNOS = {
    errno.EROFS,
    errno.ENOSPC,
    errno.EACCES,
    *[getattr(errno, "EDQUOT", errno.ENOSPC)],
}


class ExportDestinationError(BadInputError):
    """The destination cannot take this export (other content, outside the bucket, not a
    folder...). Nothing was written."""


class ExportWriteError(TdmError):
    """The destination refused the first write (not writable). Nothing was written."""


class ImageCheckError(TdmError):
    """A downloaded image does not match what S3 says it is (size or MD5)."""


class ImageReadError(TdmError):
    """The image itself could not be read from S3 (a fault of this image, not of the
    destination)."""


@dataclass(frozen=True)
class Scan:
    """What a destination holds: the files an export may have written (``existing``) and the
    first few it may not have (``other``: any makes the destination unusable)."""

    existing: dict[str, ObjectInfo]
    other: list[str]


class ExportTarget(Protocol):
    """A destination. Paths are relative, "/"-separated; every write is create-only."""

    @property
    def label(self) -> str: ...

    @property
    def toml_root(self) -> str | None: ...

    def prepare(self) -> None: ...

    def scan(self, known: frozenset[str]) -> Scan: ...

    def holds_image(self, path: str, existing: ObjectInfo, source: ObjectInfo) -> bool: ...

    def read(self, path: str) -> tuple[bytes, str]: ...

    def write_image(self, path: str, image: TrainingImage, source: ObjectInfo) -> None: ...

    def write_new(self, path: str, data: bytes) -> None: ...

    def extend(self, path: str, data: bytes, version: str) -> None: ...


def is_s3_destination(text: str) -> bool:
    return text.startswith("s3://")


# -- a folder ---------------------------------------------------------------------------------


class FolderTarget:
    def __init__(self, root: Path | str, store: S3Store) -> None:
        self._root = Path(root)
        self._store = store

    @property
    def label(self) -> str:
        return str(self._root)

    @property
    def toml_root(self) -> str | None:
        return str(self._root.resolve())

    def prepare(self) -> None:
        """Create the folder when missing; refuse a file or a folder this user cannot write."""
        if self._root.exists() and not self._root.is_dir():
            raise ExportDestinationError(f"export destination {self._root}: not a folder")
        try:
            self._root.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ExportWriteError(
                f"export destination {self._root}: cannot create it: {err.strerror or err}"
            ) from None
        if not os.access(self._root, os.W_OK | os.X_OK):
            raise ExportWriteError(f"export destination {self._root}: not writable")

    def scan(self, known: frozenset[str]) -> Scan:
        """Walk the folder; stop early once a few unknown files show it is someone else's."""
        folders = {path.rsplit("/", 1)[0] for path in known if "/" in path}
        existing: dict[str, ObjectInfo] = {}
        other: list[str] = []
        for top, dirs, files in os.walk(self._root):
            base = Path(top).relative_to(self._root).as_posix()
            base = "" if base == "." else base + "/"
            for name in dirs:
                if f"{base}{name}" not in folders:
                    other.append(f"{base}{name}/")
            dirs[:] = [name for name in dirs if f"{base}{name}" in folders]
            for name in files:
                relative = f"{base}{name}"
                if _TEMP_FILE.fullmatch(name):
                    continue  # an interrupted write's leftover; create-only writes never meet it
                if relative in known:
                    size = (Path(top) / name).lstat().st_size
                    existing[relative] = ObjectInfo(relative, size, "")
                else:
                    other.append(relative)
            if len(other) >= OTHER_SAMPLE:
                break
        return Scan(existing, sorted(other)[:OTHER_SAMPLE])

    def holds_image(self, path: str, existing: ObjectInfo, source: ObjectInfo) -> bool:
        if existing.size != source.size:
            return False
        if source.md5 is None:
            return True
        return _md5_of_file(self._root / path) == source.md5

    def read(self, path: str) -> tuple[bytes, str]:
        data = (self._root / path).read_bytes()
        return data, hashlib.sha256(data).hexdigest()

    def write_image(self, path: str, image: TrainingImage, source: ObjectInfo) -> None:
        assert image.location is not None
        try:
            fetched = self._store.get_object(image.location.key)
        except S3Error as err:
            raise ImageReadError(str(err)) from None
        data = fetched.data
        if len(data) != fetched.info.size or len(data) != source.size:
            raise ImageCheckError(
                f"downloaded {len(data)} bytes, S3 says {fetched.info.size}: not written"
            )
        expected = None if fetched.kms_encrypted else fetched.info.md5
        if (
            expected is not None
            and hashlib.md5(data, usedforsecurity=False).hexdigest() != expected
        ):
            raise ImageCheckError("the download's MD5 is not the object's ETag: not written")
        self.write_new(path, data)

    def write_new(self, path: str, data: bytes) -> None:
        target = self._root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = write_synced_temp(target, data, FILE_MODE)
        try:
            _link_new(temp, target)
        finally:
            temp.unlink(missing_ok=True)
        _fsync_dir(target.parent)

    def extend(self, path: str, data: bytes, version: str) -> None:
        """Replace ``path`` with ``data`` (its old content plus new lines) if it is still the
        content whose SHA-256 is ``version``."""
        target = self._root / path
        _, current = self.read(path)
        if current != version:
            raise ObjectExistsError(path, "Changed", f"{target} changed while exporting")
        atomic_write_bytes(target, data, FILE_MODE)


def _link_new(temp: Path, target: Path) -> None:
    """Put ``temp`` at ``target`` only if nothing is there: a hard link fails on an existing
    name, so a file that appeared meanwhile is never replaced."""
    try:
        os.link(temp, target)
    except FileExistsError:
        raise ObjectExistsError(
            str(target), "Exists", f"{target} exists: not overwritten"
        ) from None
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        # A filesystem without hard links (FAT, some network shares): check, then rename.
        if target.exists():
            raise ObjectExistsError(
                str(target), "Exists", f"{target} exists: not overwritten"
            ) from None
        os.replace(temp, target)


def _md5_of_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- a prefix in the bucket -------------------------------------------------------------------


@dataclass(frozen=True)
class _S3Destination:
    bucket: str
    prefix: str  # without a trailing "/"


def parse_s3_destination(text: str, store: S3Store) -> _S3Destination:
    """``s3://bucket/prefix`` checked: the configured bucket, a prefix, outside the training
    data of the actors, no ``..`` or empty segment, no control characters."""
    rest = text[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.rstrip("/")
    if bucket != store.bucket:
        raise ExportDestinationError(
            f"export destination {text}: bucket {bucket!r} is outside the allowed bucket "
            f"{store.bucket!r} (set --bucket to export elsewhere)"
        )
    if not prefix:
        raise ExportDestinationError(
            f"export destination {text}: give a prefix, e.g. s3://{bucket}/training-sets/NAME"
        )
    segments = prefix.split("/")
    if any(s in ("", ".", "..") for s in segments) or _BAD_KEY_CHARACTERS.search(prefix):
        raise ExportDestinationError(
            f"export destination {text}: the prefix must be '/'-separated names without "
            "empty, '.' or '..' parts, backslashes or control characters"
        )
    if f"{prefix}/".startswith(f"{TRAINING_DATA_PREFIX}/") or TRAINING_DATA_PREFIX.startswith(
        f"{prefix}/"
    ):
        raise ExportDestinationError(
            f"export destination {text}: overlaps the actors' training data under "
            f"{TRAINING_DATA_PREFIX}/; choose another prefix"
        )
    return _S3Destination(bucket, prefix)


class S3PrefixTarget:
    def __init__(self, text: str, store: S3Store) -> None:
        self._store = store
        self._destination = parse_s3_destination(text, store)

    @property
    def label(self) -> str:
        return f"s3://{self._destination.bucket}/{self._destination.prefix}"

    @property
    def toml_root(self) -> str | None:
        return None  # a trainer reads a local copy: image_dir is relative to the export root

    def _key(self, path: str) -> str:
        return f"{self._destination.prefix}/{path}"

    def prepare(self) -> None:
        """Nothing to create: S3 has no folders."""

    def scan(self, known: frozenset[str]) -> Scan:
        start = len(self._destination.prefix) + 1
        existing: dict[str, ObjectInfo] = {}
        other: list[str] = []
        for info in self._store.list_objects(f"{self._destination.prefix}/"):
            relative = info.key[start:]
            if relative in known:
                existing[relative] = ObjectInfo(relative, info.size, info.etag)
            else:
                other.append(relative)
        return Scan(existing, sorted(other)[:OTHER_SAMPLE])

    def holds_image(self, path: str, existing: ObjectInfo, source: ObjectInfo) -> bool:
        if existing.size != source.size:
            return False
        if existing.md5 is not None and source.md5 is not None:
            return existing.md5 == source.md5  # a single-part copy keeps the MD5 ETag
        return True

    def read(self, path: str) -> tuple[bytes, str]:
        fetched = self._store.get_object(self._key(path))
        return fetched.data, fetched.info.etag

    def write_image(self, path: str, image: TrainingImage, source: ObjectInfo) -> None:
        assert image.location is not None
        try:
            self._store.copy_new(image.location.key, self._key(path))
        except S3Error as err:
            if err.code != "AccessDenied" or isinstance(err, ObjectExistsError):
                raise
            # A copy needs to read the source and write the destination: tell which refused.
            try:
                self._store.head_size(image.location.key)
            except S3Error as source:
                raise ImageReadError(str(source)) from None
            raise

    def write_new(self, path: str, data: bytes) -> None:
        self._store.put_new(self._key(path), data, _content_type(path))

    def extend(self, path: str, data: bytes, version: str) -> None:
        self._store.put_replacing(self._key(path), data, _content_type(path), version)


def _content_type(path: str) -> str:
    suffix = "." + path.rsplit(".", 1)[-1] if "." in path else ""
    if path.endswith(".jsonl"):
        return "application/jsonl; charset=utf-8"
    return _CONTENT_TYPES.get(suffix, "application/octet-stream")


def make_target(text: str, store: S3Store) -> ExportTarget:
    """The target ``--to`` names: ``s3://bucket/prefix`` or a folder."""
    if is_s3_destination(text):
        return S3PrefixTarget(text, store)
    if not text.strip():
        raise ExportDestinationError("export destination: empty (give --to DIR or s3://...)")
    return FolderTarget(Path(text), store)


def refused_write(err: BaseException) -> bool:
    """Whether a failed write says the destination as a whole cannot be written (so the export
    stops before writing anything), rather than that one image failed."""
    if isinstance(err, PermissionError | IsADirectoryError | NotADirectoryError):
        return True
    if isinstance(err, OSError):
        return err.errno in _REFUSED_ERRNOS
    if isinstance(err, S3Error) and not isinstance(err, ObjectExistsError):
        return err.code in ("AccessDenied", "NoSuchBucket", "AllAccessDisabled", "NoCredentials")
    return False
