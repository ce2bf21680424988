"""The document-store seam: the catalog's documents in a local folder or under an S3 prefix.

A *document* (a manifest, a prompt metadata file, a base image) is named by its path inside the
catalog, e.g. ``actor_manifests/0042_manifest.json`` (``core.layout`` builds the names). Every
segment of a name passes the allow-list of ``core.names``, so no name reaches outside the catalog.
A read gives the bytes and a *version*, an opaque token that conditional writes and polls take
back: the ETag in S3; a content hash for a file. Equal content means an equal version on both.

``DocumentStore`` (the Protocol; ``LocalDocuments`` and ``S3Documents`` implement it):

- ``read(name) -> Document``; ``data`` and ``version`` are None when there is no such document.
- ``poll(name, since) -> Document | None``: None while the document is still at version ``since``
  (S3: a GET with If-None-Match, answered 304; a file: a stat, then the content hash).
- ``write(name, data, expected=...) -> Document``: compare-and-swap. ``expected`` is the version
  the caller read, or None to create only. ``DocumentConflictError`` (``DocumentExistsError`` for
  create-only) when the document is not at ``expected``.
- ``change(name, apply) -> Changed``: ``apply(current) -> (result, new bytes or None)`` runs on a
  fresh read and what it returns is written conditionally; when someone else wrote in between,
  the document is read again and ``apply`` runs again (a bounded number of times, with jitter),
  so ``apply`` must depend only on the document it is given. ``None`` (or the same bytes) writes
  nothing. When the retries run out: ``ChangeConflictError``, nothing written.
- ``names(folder) -> Iterator[str]``: the names of every document under ``folder``, in order.
- ``check_writable()``: raises ``ReadOnlyCatalogError`` when this account may only read.
- ``url(name)`` (the file path or ``s3://bucket/key``, for messages), ``local_path(name)`` (for
  file watchers; None in S3), ``location`` (the catalog's own path or URL), ``is_remote``.

The local folder keeps the safety the data dir always had (``core.jsonfile``): a change takes the
lock beside the file, re-reads under it and replaces the file atomically, so writers on one
machine never conflict and ``change`` never retries. S3 has no lock objects: a change is a GET
that remembers the ETag and a single-part PUT with ``If-Match`` (``If-None-Match: *`` to create);
a 412 or 409 means someone wrote in between.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import random
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import botocore.exceptions as bce

from tdm_desktop.core.errors import (
    BadInputError,
    CatalogLocationError,
    ChangeConflictError,
    DataFileError,
    DocumentConflictError,
    DocumentExistsError,
    InvalidNameError,
    ReadOnlyCatalogError,
    TdmError,
)
from tdm_desktop.core.jsonfile import (
    atomic_write_bytes,
    create_new_bytes,
    locked,
    remove_stale_temp_files,
)
from tdm_desktop.core.names import NAME_PATTERN
from tdm_desktop.core.s3_store import _client_error_code, _s3_error
from tdm_desktop.core.s3_urls import is_valid_bucket_name

log = logging.getLogger(__name__)

T = TypeVar("T")

CHANGE_RETRIES = 10  # re-reads after a conflict before a change gives up
BACKOFF_BASE_S = 0.02  # the first re-read waits up to this long, doubling up to the cap
BACKOFF_CAP_S = 1.0
LOCK_SUFFIX = ".lock"  # the lock beside a local file (core.jsonfile.file_lock)
WRITE_PROBE = "tdm-write-probe"  # never created: the name check_writable() tries to overwrite

_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict"}
_NOT_MODIFIED_CODES = {"304", "NotModified"}
_MISSING_CODES = {"NoSuchKey", "NotFound"}
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_CONTENT_TYPES = {
    "json": "application/json",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}


# -- values ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """A document as read: ``data`` and ``version`` are None when there is none."""

    name: str
    data: bytes | None
    version: str | None

    @property
    def exists(self) -> bool:
        return self.data is not None


@dataclass(frozen=True)
class Changed(Generic[T]):
    """What ``change`` did: ``apply``'s result, the document as it now is (as written, or as read
    when nothing was written), whether it wrote, and how many conflicts it re-applied after."""

    result: T
    document: Document
    written: bool
    conflicts: int = 0


Apply = Callable[[Document], tuple[T, bytes | None]]


class DocumentStore(Protocol):
    """Where the catalog's documents live. See the module docstring for the contract."""

    @property
    def location(self) -> str: ...

    @property
    def is_remote(self) -> bool: ...

    def url(self, name: str) -> str: ...

    def local_path(self, name: str) -> Path | None: ...

    def read(self, name: str) -> Document: ...

    def poll(self, name: str, since: str | None) -> Document | None: ...

    def write(self, name: str, data: bytes, *, expected: str | None) -> Document: ...

    def change(self, name: str, apply: Apply[T]) -> Changed[T]: ...

    def names(self, folder: str = "") -> Iterator[str]: ...

    def check_writable(self) -> None: ...


@dataclass(frozen=True)
class DocumentRef:
    """One document of a store: ``store.read(name)`` and the rest, bound to ``name``."""

    store: DocumentStore
    name: str

    @classmethod
    def local(cls, path: Path | str) -> DocumentRef:
        """The file ``path`` as a document of its folder."""
        path = Path(path)
        return cls(LocalDocuments(path.parent, check_names=False), path.name)

    @property
    def url(self) -> str:
        return self.store.url(self.name)

    @property
    def local_path(self) -> Path | None:
        return self.store.local_path(self.name)

    def read(self) -> Document:
        return self.store.read(self.name)

    def poll(self, since: str | None) -> Document | None:
        return self.store.poll(self.name, since)

    def write(self, data: bytes, *, expected: str | None) -> Document:
        return self.store.write(self.name, data, expected=expected)

    def change(self, apply: Apply[T]) -> Changed[T]:
        return self.store.change(self.name, apply)


class DocumentBacked:
    """What a class kept in one document (a manifest, a prompt metadata file) shows of it:
    ``document``, ``url`` (for messages), ``path`` (local only) and ``version`` (as last read or
    written through it). Subclasses set ``_ref`` and keep ``_version`` current."""

    _ref: DocumentRef
    _version: str | None = None

    @property
    def document(self) -> DocumentRef:
        return self._ref

    @property
    def url(self) -> str:
        """Where it is: the file's path or its ``s3://`` URL (what messages and logs name)."""
        return self._ref.url

    @property
    def path(self) -> Path:
        """The local file (a folder data dir only; see ``url`` for any store)."""
        path = self._ref.local_path
        if path is None:
            raise ValueError(f"{self.url} is not a local file")
        return path

    @property
    def version(self) -> str | None:
        """The document's version as last read or written here (None: missing, or not read)."""
        return self._version


@contextlib.contextmanager
def unreadable_as(error_cls: type[DataFileError]) -> Iterator[None]:
    """A document the store cannot read (a folder, a FIFO, no permission: ``DataFileError``)
    raises ``error_cls`` (e.g. ``ManifestError``) with the same location and problem."""
    try:
        yield
    except error_cls:
        raise
    except DataFileError as err:
        raise error_cls(err.location, err.problem) from None


def check_document_name(name: object, *, allow_empty: bool = False) -> str:
    """``name`` if every ``/``-separated segment passes the allow-list, else ``InvalidNameError``."""
    if not isinstance(name, str):
        raise InvalidNameError(f"document name {name!r}: must be a string")
    if name == "" and allow_empty:
        return name
    for segment in name.split("/"):
        if not NAME_PATTERN.fullmatch(segment) or ".." in segment:
            raise InvalidNameError(
                f"document name {name!r}: each part must be letters, digits, '.', '_' and '-' "
                "(no '..', spaces, '\\' or empty parts)"
            )
    return name


def content_type_for(name: str) -> str:
    return _CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


def content_version(data: bytes) -> str:
    """The local store's version of ``data``: a hash of the bytes (equal bytes, equal version)."""
    return "b2-" + hashlib.blake2b(data, digest_size=16).hexdigest()


# -- the local folder ------------------------------------------------------------------------


class LocalDocuments:
    """Documents as files under ``root``: locked, re-read and atomically replaced."""

    def __init__(self, root: Path | str, *, check_names: bool = True) -> None:
        self.root = Path(root)
        self._check_names = check_names
        # name -> (inode, mtime, size) and the content version seen then: polls stat, not hash
        self._seen: dict[str, tuple[tuple[int, int, int], str]] = {}

    @property
    def location(self) -> str:
        return str(self.root)

    @property
    def is_remote(self) -> bool:
        return False

    def path(self, name: str) -> Path:
        if self._check_names:
            check_document_name(name)
        return self.root / name

    def url(self, name: str) -> str:
        return str(self.path(name))

    def local_path(self, name: str) -> Path | None:
        return self.path(name)

    def read(self, name: str) -> Document:
        path = self.path(name)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            return Document(name, None, None)
        except IsADirectoryError:
            raise DataFileError(path, "is a folder, not a file") from None
        except OSError as exc:
            raise DataFileError(path, f"cannot be read: {exc.strerror or exc}") from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            what = (
                "is a folder, not a file" if stat.S_ISDIR(info.st_mode) else "is not a regular file"
            )
            raise DataFileError(path, what)
        with os.fdopen(fd, "rb") as file:
            try:
                data = file.read()
            except OSError as exc:
                raise DataFileError(path, f"cannot be read: {exc.strerror or exc}") from None
        version = content_version(data)
        self._seen[name] = (_stat_key(info), version)
        return Document(name, data, version)

    def poll(self, name: str, since: str | None) -> Document | None:
        path = self.path(name)
        try:
            info = path.stat()
        except FileNotFoundError:
            return None if since is None else Document(name, None, None)
        except OSError as exc:
            raise DataFileError(path, f"cannot be read: {exc.strerror or exc}") from None
        seen = self._seen.get(name)
        if since is not None and seen == (_stat_key(info), since):
            return None
        current = self.read(name)
        return None if current.version == since else current

    def write(self, name: str, data: bytes, *, expected: str | None) -> Document:
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path):
            current = self.read(name)
            if current.version != expected:
                raise _conflict(self.url(name), expected, current.exists)
            return self._store(name, path, data, create=expected is None)

    def change(self, name: str, apply: Apply[T]) -> Changed[T]:
        first = self.read(name)
        result, new = apply(first)
        if new is None or new == first.data:  # nothing to write: no lock, no folder, no file
            return Changed(result, first, written=False)
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        with locked(path):
            current = self.read(name)
            if current.version != first.version:
                result, new = apply(current)
                if new is None or new == current.data:
                    return Changed(result, current, written=False)
            stored = self._store(name, path, new, create=not current.exists)
        return Changed(result, stored, written=True)

    def _store(self, name: str, path: Path, data: bytes, *, create: bool) -> Document:
        """Write ``data`` at ``path``; the caller holds the lock."""
        remove_stale_temp_files(path)
        if create:
            try:
                create_new_bytes(path, data)
            except FileExistsError:  # a program that does not take the lock made it meanwhile
                raise _conflict(str(path), None, True) from None
        else:
            atomic_write_bytes(path, data)
        version = content_version(data)
        with contextlib.suppress(OSError):
            self._seen[name] = (_stat_key(path.stat()), version)
        return Document(name, data, version)

    def names(self, folder: str = "") -> Iterator[str]:
        check_document_name(folder, allow_empty=True)
        found: list[str] = []
        folders = [folder]
        while folders:
            here = folders.pop()
            try:
                entries = list(os.scandir(self.root / here if here else self.root))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:  # is_dir / is_file use the type scandir already read
                if not _is_segment(entry.name):
                    continue
                name = f"{here}/{entry.name}" if here else entry.name
                if entry.is_dir(follow_symlinks=False):
                    folders.append(name)
                elif not entry.name.endswith(LOCK_SUFFIX):
                    # Not only regular files: a FIFO (or a socket) where a document belongs is
                    # listed too, so its reader names it as broken (and never blocks on it).
                    found.append(name)
        yield from sorted(found)

    def check_writable(self) -> None:
        """Nothing to check beforehand: a folder that cannot be written fails at the write."""


def _stat_key(info: os.stat_result) -> tuple[int, int, int]:
    return (info.st_ino, info.st_mtime_ns, info.st_size)


def _is_segment(text: str) -> bool:
    return bool(NAME_PATTERN.fullmatch(text)) and ".." not in text


# -- S3 --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Prefix:
    """A catalog under ``s3://bucket/prefix`` (``prefix`` without slashes at either end)."""

    bucket: str
    prefix: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


def parse_data_dir(text: str | Path) -> Path | S3Prefix:
    """A data dir: a folder, or ``s3://bucket/prefix``. A URL in any other form (another scheme,
    no bucket, ``..``, empty parts, characters outside the allow-list) raises
    ``CatalogLocationError`` in one line."""
    if isinstance(text, Path):
        return text
    if not _URL_SCHEME.match(text) or re.match(r"[A-Za-z]:[\\/]", text):
        return Path(text)  # a plain path (also a Windows drive path like C:\data)
    if not text.startswith("s3://"):
        scheme = text.split(":", 1)[0]
        raise CatalogLocationError(
            f"data dir {text!r}: {scheme}: is not supported; give a folder or s3://bucket/prefix"
        )
    rest = text[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise CatalogLocationError(f"data dir {text!r}: no bucket; expected s3://bucket/prefix")
    if not is_valid_bucket_name(bucket):
        raise CatalogLocationError(f"data dir {text!r}: {bucket!r} is not a valid bucket name")
    prefix = prefix.removesuffix("/")
    if prefix:
        try:
            check_document_name(prefix)
        except InvalidNameError:
            raise CatalogLocationError(
                f"data dir {text!r}: the prefix must be parts of letters, digits, '.', '_' and "
                "'-' separated by single '/' (no '..', '%', spaces or empty parts)"
            ) from None
    return S3Prefix(bucket, prefix)


class S3Documents:
    """Documents as objects under ``s3://bucket/prefix``, through one shared (thread-safe) client.

    ``retries``, ``sleep`` and ``jitter`` (a ``random()`` in [0, 1)) shape the re-reads after a
    conflict; ``conflicts`` counts every conflict this store has met.
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        retries: int = CHANGE_RETRIES,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        page_size: int = 1000,
    ) -> None:
        if not is_valid_bucket_name(bucket):
            raise InvalidNameError(f"bucket {bucket!r}: not a valid S3 bucket name")
        prefix = prefix.strip("/")
        if prefix:
            check_document_name(prefix)
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self._root = f"{prefix}/" if prefix else ""
        self._retries = retries
        self._sleep = sleep
        self._jitter = jitter
        self._lock = threading.Lock()
        self._conflicts = 0
        self._writable: bool | None = None
        self._page_size = page_size

    @classmethod
    def at(cls, client: Any, where: S3Prefix, **options: Any) -> S3Documents:
        return cls(client, where.bucket, where.prefix, **options)

    @property
    def location(self) -> str:
        return str(S3Prefix(self.bucket, self.prefix))

    @property
    def is_remote(self) -> bool:
        return True

    @property
    def conflicts(self) -> int:
        with self._lock:
            return self._conflicts

    def key(self, name: str) -> str:
        return self._root + check_document_name(name)

    def url(self, name: str) -> str:
        return f"s3://{self.bucket}/{self.key(name)}"

    def local_path(self, name: str) -> Path | None:
        return None

    # -- reading

    def read(self, name: str) -> Document:
        return self._get(name, None) or Document(name, None, None)

    def poll(self, name: str, since: str | None) -> Document | None:
        if since is None:
            current = self.read(name)
            return current if current.exists else None
        return self._get(name, since)

    def _get(self, name: str, if_none_match: str | None) -> Document | None:
        """The document; None when it is still at ``if_none_match`` (304). A missing one is a
        Document without data."""
        key, url = self.key(name), self.url(name)
        options = {"IfNoneMatch": if_none_match} if if_none_match else {}
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key, **options)
            with response["Body"] as body:
                data = body.read()
        except bce.ClientError as err:
            code = _client_error_code(err)
            if code in _NOT_MODIFIED_CODES:
                return None
            if code in _MISSING_CODES:
                return Document(name, None, None)
            raise _s3_error(url, err) from None
        except bce.BotoCoreError as err:
            raise _s3_error(url, err) from None
        return Document(name, data, response["ETag"])

    def names(self, folder: str = "") -> Iterator[str]:
        check_document_name(folder, allow_empty=True)
        prefix = self._root + (f"{folder}/" if folder else "")
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": self._page_size}
        )
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(self._root) :]
                    if all(_is_segment(part) for part in name.split("/")):
                        yield name
        except (bce.ClientError, bce.BotoCoreError) as err:
            raise _s3_error(f"s3://{self.bucket}/{prefix}", err) from None

    # -- writing

    def write(self, name: str, data: bytes, *, expected: str | None) -> Document:
        key, url = self.key(name), self.url(name)
        condition = {"IfNoneMatch": "*"} if expected is None else {"IfMatch": expected}
        try:
            response = self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type_for(name),
                **condition,
            )
        except bce.ClientError as err:
            code = _client_error_code(err)
            # NoSuchKey: If-Match on a key that is gone (some servers answer so, others 412)
            if code in _CONFLICT_CODES or (expected is not None and code in _MISSING_CODES):
                exists = expected is None or code in _CONFLICT_CODES
                raise _conflict(url, expected, exists) from None
            if code == "AccessDenied":
                raise self._read_only(err) from None
            raise _s3_error(url, err) from None
        except bce.BotoCoreError as err:
            raise _s3_error(url, err) from None
        log.debug("wrote %s (%d bytes)", url, len(data))
        return Document(name, data, response["ETag"])

    def change(self, name: str, apply: Apply[T]) -> Changed[T]:
        conflicts = 0
        pending: tuple[T, bytes] | None = None  # the last write that met a conflict
        while True:
            current = self.read(name)
            if pending is not None and current.data == pending[1]:
                # The answer to our PUT was lost and botocore's retry met our own write.
                return Changed(pending[0], current, written=True, conflicts=conflicts)
            result, new = apply(current)
            if new is None or new == current.data:
                return Changed(result, current, written=False, conflicts=conflicts)
            try:
                stored = self.write(name, new, expected=current.version)
            except DocumentConflictError:
                conflicts += 1
                with self._lock:
                    self._conflicts += 1
                if conflicts > self._retries:
                    raise ChangeConflictError(
                        f"{self.url(name)}: others changed it {conflicts} times while this "
                        "change was being applied; nothing was written, try again"
                    ) from None
                delay = self._jitter() * min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (conflicts - 1))
                log.debug(
                    "%s changed meanwhile (conflict %d): re-read in %.3f s",
                    self.url(name),
                    conflicts,
                    delay,
                )
                pending = (result, new)
                self._sleep(delay)
                continue
            return Changed(result, stored, written=True, conflicts=conflicts)

    def check_writable(self) -> None:
        """Ask S3 whether this account may write here without writing anything: a PUT of
        ``tdm-write-probe`` that may only replace a version that cannot exist. S3 checks the
        permission first (AccessDenied: read-only), then the condition (412, or NoSuchKey: fine).
        A server that stores it anyway ignores conditions and cannot hold a shared catalog."""
        if self._writable:
            return
        key, url = self.key(WRITE_PROBE), self.url(WRITE_PROBE)
        try:
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=b"", IfMatch='"tdm-no-such-version"'
            )
        except bce.ClientError as err:
            code = _client_error_code(err)
            if code == "AccessDenied":
                raise self._read_only(err) from None
            if code not in _CONFLICT_CODES | _MISSING_CODES:
                raise _s3_error(url, err) from None
        except bce.BotoCoreError as err:
            raise _s3_error(url, err) from None
        else:
            with contextlib.suppress(bce.ClientError, bce.BotoCoreError):
                self._client.delete_object(Bucket=self.bucket, Key=key)
            raise TdmError(
                f"{self.location}: this S3 server ignored an If-Match condition on a PUT, so "
                "curators' changes could overwrite each other; it cannot hold a shared catalog"
            )
        self._writable = True

    def _read_only(self, err: bce.ClientError) -> ReadOnlyCatalogError:
        error = _s3_error(self.location, err)
        return ReadOnlyCatalogError(
            f"this account can only read {self.location}: {error.code}: {error.message}"
        )


def _conflict(url: str, expected: str | None, exists: bool) -> DocumentConflictError:
    if expected is None and exists:
        return DocumentExistsError(url, "already exists; a create-only write never replaces it")
    if not exists:
        return DocumentConflictError(url, "was removed since it was read")
    return DocumentConflictError(url, "was changed by someone else since it was read")


# -- opening ---------------------------------------------------------------------------------


def open_documents(data_dir: Path | str | DocumentStore, client: Any = None) -> DocumentStore:
    """The store of a data dir: a folder, an ``s3://bucket/prefix`` (needs ``client``), or a
    store already made (returned as is)."""
    if not isinstance(data_dir, Path | str):
        return data_dir
    where = parse_data_dir(data_dir)
    if isinstance(where, Path):
        return LocalDocuments(where)
    if client is None:
        raise BadInputError(f"data dir {where}: an S3 data dir needs an S3 client")
    return S3Documents.at(client, where)


__all__ = [
    "Apply",
    "Changed",
    "Document",
    "DocumentBacked",
    "DocumentRef",
    "DocumentStore",
    "LocalDocuments",
    "S3Documents",
    "S3Prefix",
    "check_document_name",
    "content_version",
    "open_documents",
    "parse_data_dir",
    "unreadable_as",
]
