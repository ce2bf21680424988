"""The per-actor training-data manifest: ``actor_manifests/{actor_id}_manifest.json``.

The file has exactly the seed's structure and key order::

    {"character_id": "0042", "character_name": "0042_european_30_male",
     "training_data": [{"filename", "s3_url", "size_mb", "modified_date"}, ...],
     "training_data_updated": "2025-10-17T16:30:00.000000",
     "statistics": {"training_images_count": 17, "training_data_size_mb": 5.0}}

The manifest is a document of the catalog (``core.documents``): a file in a folder data dir or
an object under an S3 prefix, the same bytes in both. Every read validates the whole document
strictly; an invalid one raises ``ManifestError`` naming the file or ``s3://`` URL and the field,
and is never overwritten. Every change is applied to a fresh read (under the lock beside a local
file; re-read and re-applied after a conflict in S3), recomputes ``statistics`` and
``training_data_updated`` and is written in one piece. Keys this module does not know (top level,
per entry, in ``statistics``) are kept where they are. A change that changes nothing does not
write.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import operator
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn, Self, TypeVar

from tdm_desktop.core.documents import (
    Document,
    DocumentBacked,
    DocumentRef,
    DocumentStore,
    open_documents,
    unreadable_as,
)
from tdm_desktop.core.errors import (
    BadInputError,
    DocumentExistsError,
    DuplicateImageError,
    InvalidNameError,
    ManifestError,
    ManifestNotFoundError,
    SyncEraManifestError,
)
from tdm_desktop.core.jsonfile import TOO_DEEP, dump_json, nested_too_deeply, parse_json_object
from tdm_desktop.core.layout import MANIFESTS_DIR as MANIFESTS_DIR
from tdm_desktop.core.layout import manifest_name
from tdm_desktop.core.names import (
    NAME_PATTERN,
    check_actor_name,
    check_filename,
    normalize_actor_id,
)
from tdm_desktop.core.sizes import size_mb as size_mb
from tdm_desktop.core.sync_era import sync_era_keys
from tdm_desktop.core.timestamps import Clock, manifest_now, parse_timestamp

logger = logging.getLogger(__name__)

ENTRY_KEYS = ("filename", "s3_url", "size_mb", "modified_date")
_ENTRY_KEY_SET = frozenset(ENTRY_KEYS)
_TOP_KEYS = frozenset(
    ("character_id", "character_name", "training_data", "training_data_updated", "statistics")
)
_STATISTICS_KEYS = frozenset(("training_images_count", "training_data_size_mb"))
_FILE_NAME = re.compile(r"([0-9]{1,9})_manifest\.json")
_DIGITS = re.compile(r"[0-9]{1,9}")
_NAME_RULE = "letters, digits, '.', '_' and '-' only; no '/', '\\', '..'"
_T = TypeVar("_T")
_NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class ManifestEntry:
    """One image listed in a manifest. ``extra`` holds the entry's keys this app does not know."""

    filename: str
    s3_url: str
    size_mb: float
    modified_date: str
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def to_json(self) -> dict[str, Any]:
        """The entry as the manifest stores it: the seed's four keys first, then ``extra``."""
        known = dict(zip(ENTRY_KEYS, self._known_values(), strict=True))
        return known | {k: copy.deepcopy(v) for k, v in self.extra.items() if k not in known}

    def _known_values(self) -> tuple[Any, ...]:
        return (self.filename, self.s3_url, self.size_mb, self.modified_date)

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> ManifestEntry:
        extra = {k: copy.deepcopy(v) for k, v in item.items() if k not in ENTRY_KEYS}
        return cls(
            filename=item["filename"],
            s3_url=item["s3_url"],
            size_mb=item["size_mb"],
            modified_date=item["modified_date"],
            extra=MappingProxyType(extra) if extra else _NO_EXTRA,
        )


@dataclass
class _Document:
    data: dict[str, Any]
    trailing_newline: bool


class TrainingDataManifest(DocumentBacked):
    """One actor's manifest. Reads are lazy; every change is made on a fresh read, in one piece.

    ``document``: a ``DocumentRef`` (any store), or the path of a local file.
    """

    def __init__(self, document: DocumentRef | Path | str, clock: Clock | None = None) -> None:
        self._ref = document if isinstance(document, DocumentRef) else DocumentRef.local(document)
        self._clock = clock
        self._doc: _Document | None = None
        self._version: str | None = None

    @classmethod
    def for_actor(
        cls,
        data_dir: Path | str | DocumentStore,
        actor_id: str | int,
        clock: Clock | None = None,
    ) -> TrainingDataManifest:
        """The manifest of ``actor_id`` (``42`` or ``"0042"``) in ``data_dir`` (a folder or a
        document store)."""
        return cls(DocumentRef(open_documents(data_dir), manifest_name(actor_id)), clock=clock)

    def exists(self) -> bool:
        return self._ref.read().exists

    # -- reading -----------------------------------------------------------------------------

    def load(self) -> Self:
        """(Re-)read and validate the file. Raises ``ManifestError`` if missing or invalid."""
        self._doc = self._read()
        return self

    def get_all_images(self) -> list[ManifestEntry]:
        """The listed images, in manifest order (as of the last load or change)."""
        return [ManifestEntry.from_json(item) for item in self._loaded()["training_data"]]

    def entries_json(self) -> list[dict[str, Any]]:
        """The listed images as the document stores them, validated, in manifest order (as of the
        last load or change): the document's own list, so read it and never change it. Cheaper
        than ``get_all_images`` for a big manifest (``core.actor_images`` builds entries lazily)."""
        return self._loaded()["training_data"]

    @property
    def image_count(self) -> int:
        """How many images it lists (without building their entries)."""
        return len(self._loaded()["training_data"])

    def get_image(self, filename: str) -> ManifestEntry | None:
        """The entry for ``filename``, or None when the manifest does not list it."""
        return next((e for e in self.get_all_images() if e.filename == filename), None)

    @property
    def character_id(self) -> str:
        return self._loaded()["character_id"]

    @property
    def character_name(self) -> str:
        return self._loaded()["character_name"]

    @property
    def training_data_updated(self) -> str:
        return self._loaded()["training_data_updated"]

    # -- changing ----------------------------------------------------------------------------

    def create(self, character_id: str | int, character_name: str) -> Self:
        """Write a new manifest listing no images. Raises ``ManifestError`` if one exists."""
        character_id = normalize_actor_id(character_id)
        check_actor_name(character_name)
        self._check_id_matches_file(character_id)
        data: dict[str, Any] = {
            "character_id": character_id,
            "character_name": character_name,
            "training_data": [],
            "training_data_updated": "",
            "statistics": {"training_images_count": 0, "training_data_size_mb": 0.0},
        }
        doc = _Document(data, trailing_newline=True)
        self._refresh_derived(data)
        try:
            with unreadable_as(ManifestError):
                stored = self._ref.write(_encode(doc), expected=None)
        except DocumentExistsError:
            raise ManifestError(
                self.url, "already exists; a new manifest never replaces it"
            ) from None
        self._doc, self._version = doc, stored.version
        logger.info("[S3-ONLY] Created manifest %s for %s", self.url, character_name)
        return self

    def save(self) -> None:
        """Rewrite the file from its current content, under the lock.

        Changes are saved by the methods that make them; this only normalizes the formatting
        (a file already in the seed's format comes out byte for byte the same).
        """
        self._change(lambda data: (None, True), refresh=False, force_write=True)

    def add_image(
        self,
        filename: str,
        s3_url: str,
        size_mb: float,
        modified_date: str | None = None,
    ) -> ManifestEntry:
        """List a new image (``modified_date`` defaults to now). Raises ``DuplicateImageError``."""
        date = manifest_now(self._clock) if modified_date is None else modified_date
        return self.add_entry(ManifestEntry(filename, s3_url, size_mb, date))

    def add_entry(self, entry: ManifestEntry, index: int | None = None) -> ManifestEntry:
        """List ``entry`` (with its ``extra`` keys) at ``index`` (default: the end).

        Undo of a delete uses this to put an entry back where it was.
        """
        _check_new_entry(entry)

        def apply(data: dict[str, Any]) -> tuple[ManifestEntry, bool]:
            items = data["training_data"]
            if any(item["filename"] == entry.filename for item in items):
                raise DuplicateImageError(
                    f"{self.url}: already lists an image named {entry.filename!r}"
                )
            items.insert(len(items) if index is None else index, entry.to_json())
            return entry, True

        added = self._change(apply)
        logger.info("[S3-ONLY] Added %s to manifest %s", entry.filename, self.url)
        return added

    def add_entries(self, entries: Iterable[ManifestEntry]) -> list[ManifestEntry]:
        """List each of ``entries`` whose filename is not listed yet, in one write; returns those
        added (the others were listed meanwhile, e.g. by another curator)."""
        entries = list(entries)
        for entry in entries:
            _check_new_entry(entry)

        def apply(data: dict[str, Any]) -> tuple[list[ManifestEntry], bool]:
            items = data["training_data"]
            listed = {item["filename"] for item in items}
            added = []
            for entry in entries:
                if entry.filename not in listed:
                    items.append(entry.to_json())
                    listed.add(entry.filename)
                    added.append(entry)
            return added, bool(added)

        added = self._change(apply)
        if added:
            logger.info("[S3-ONLY] Added %d images to manifest %s", len(added), self.url)
        return added

    def update_sizes(self, corrections: Mapping[str, tuple[float, float]]) -> list[str]:
        """``{filename: (size_mb as read, new size_mb)}``: set each listed entry's ``size_mb`` to
        the new value when it still has the value read (another change wins); returns the
        filenames changed."""
        for filename, (_old, new) in corrections.items():
            problem = _size_problem(new)
            if problem:
                raise BadInputError(f"image {filename!r}: {problem}")

        def apply(data: dict[str, Any]) -> tuple[list[str], bool]:
            changed = []
            for item in data["training_data"]:
                old, new = corrections.get(item["filename"], (None, None))
                if new is not None and item["size_mb"] == old and old != new:
                    item["size_mb"] = new
                    changed.append(item["filename"])
            return changed, bool(changed)

        return self._change(apply)

    def remove_image(self, filename: str) -> bool:
        """Stop listing ``filename``. Returns False when it was not listed."""
        return bool(self.remove_images([filename]))

    def remove_images(self, filenames: Iterable[str]) -> list[str]:
        """Stop listing ``filenames``; returns those that were listed (in the order given)."""
        wanted = list(dict.fromkeys(filenames))

        def apply(data: dict[str, Any]) -> tuple[list[str], bool]:
            items = data["training_data"]
            listed = {item["filename"] for item in items}
            removed = [name for name in wanted if name in listed]
            gone = set(removed)
            items[:] = [item for item in items if item["filename"] not in gone]
            return removed, bool(removed)

        removed = self._change(apply)
        if removed:
            logger.info("[S3-ONLY] Removed %d images from manifest %s", len(removed), self.url)
        return removed

    # -- internals ---------------------------------------------------------------------------

    def _loaded(self) -> dict[str, Any]:
        if self._doc is None:
            self.load()
        assert self._doc is not None
        return self._doc.data

    def _read(self) -> _Document:
        with unreadable_as(ManifestError):
            current = self._ref.read()
        doc = self._parse(current)
        self._version = current.version
        return doc

    def _parse(self, current: Document) -> _Document:
        if current.data is None:
            raise ManifestNotFoundError(self.url, "file not found")
        data = parse_json_object(self.url, current.data, ManifestError)
        try:
            _Validator(self.url, self._ref.name).check(data)
        except ManifestError:
            if sync_era_keys(data):  # `tdm-desktop migrate` says what else is wrong, if anything
                raise SyncEraManifestError(
                    self.url, self._actor_id_for_message(data), _valid_name(data)
                ) from None
            raise
        return _Document(data, trailing_newline=current.data.endswith(b"\n"))

    def _actor_id_for_message(self, data: dict[str, Any]) -> str:
        match = _FILE_NAME.fullmatch(_base_name(self._ref.name))
        raw_id = match.group(1) if match else data.get("character_id")
        try:
            return normalize_actor_id(raw_id)
        except InvalidNameError:
            return self.url

    def _change(
        self,
        apply: Callable[[dict[str, Any]], tuple[_T, bool]],
        refresh: bool = True,
        force_write: bool = False,
    ) -> _T:
        def edit(current: Document) -> tuple[tuple[_T, _Document], bytes | None]:
            doc = self._parse(current)
            result, changed = apply(doc.data)
            if changed and refresh:
                self._refresh_derived(doc.data)
            return (result, doc), _encode(doc) if changed or force_write else None

        with unreadable_as(ManifestError):
            changed = self._ref.change(edit)
        (result, doc), self._version = changed.result, changed.document.version
        self._doc = doc
        return result

    def _refresh_derived(self, data: dict[str, Any]) -> None:
        items = data["training_data"]
        data["training_data_updated"] = manifest_now(self._clock)
        statistics = data["statistics"]
        statistics["training_images_count"] = len(items)
        statistics["training_data_size_mb"] = round(float(sum(i["size_mb"] for i in items)), 2)

    def _check_id_matches_file(self, character_id: str) -> None:
        match = _FILE_NAME.fullmatch(_base_name(self._ref.name))
        if match and normalize_actor_id(match.group(1)) != character_id:
            raise BadInputError(
                f"{self.url}: character_id {character_id!r} does not match the file name"
            )


def check_manifest_document(url: str, name: str, data: dict[str, Any]) -> None:
    """Validate a parsed manifest as ``load`` does (``url`` for messages, ``name`` the document's
    name, whose file name must match the ``character_id``); raises ``ManifestError``."""
    _Validator(url, name).check(data)


def _encode(doc: _Document) -> bytes:
    raw = dump_json(doc.data)
    return raw if doc.trailing_newline else raw[:-1]


def _valid_name(data: dict[str, Any]) -> str | None:
    """The document's ``character_name`` when it is a valid actor name, else None."""
    name = data.get("character_name")
    try:
        check_actor_name(name)
    except InvalidNameError:
        return None
    return name


def _base_name(name: str) -> str:
    return name.rsplit("/", 1)[-1]


def _check_new_entry(entry: ManifestEntry) -> None:
    check_filename(entry.filename)
    problem = (
        _url_problem(entry.s3_url)
        or _size_problem(entry.size_mb)
        or _timestamp_problem(entry.modified_date)
    )
    if problem:
        raise BadInputError(f"image {entry.filename!r}: {problem}")


def _url_problem(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return None
    return f"s3_url must be a non-empty string, got {_shown(value)}"


def _size_problem(value: Any, key: str = "size_mb") -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{key} must be a number, got {_shown(value)}"
    if not math.isfinite(value) or value < 0:
        return f"{key} must be a number >= 0, got {_shown(value)}"
    return None


def _timestamp_problem(value: Any, key: str = "modified_date") -> str | None:
    try:
        parse_timestamp(value)
    except ValueError:
        return f'{key} must be a timestamp like "2025-10-17T15:57:00.000000", got {_shown(value)}'
    return None


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_ENTRY_VALUES = operator.itemgetter(*ENTRY_KEYS)
_NAME_LINES = re.compile(rf"(?:{NAME_PATTERN.pattern}\n)*{NAME_PATTERN.pattern}")
_MANIFEST_TIMES = re.compile(r"(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\n)*")


def _entries_valid(items: list[Any]) -> bool:
    """True when every entry passes ``_Validator._check_entry``, checked column by column in a few
    passes of C code (a 100,000-image manifest in tens of milliseconds, not seconds). False says
    nothing about which entry is wrong: the caller then checks one at a time for the message.
    Only the common forms are taken here (timestamps in the manifest form); any other form is
    left to the per-entry check, which knows them all."""
    if not items:
        return True
    if not all(type(item) is dict for item in items):
        return False
    try:
        names, urls, sizes, times = zip(*map(_ENTRY_VALUES, items), strict=True)
    except KeyError:
        return False
    if not all(type(value) is str for column in (names, urls, times) for value in column):
        return False
    listed = "\n".join(names)
    if not _NAME_LINES.fullmatch(listed) or ".." in listed or len(set(names)) != len(names):
        return False
    if not all(url.strip() for url in urls):
        return False
    if not all(type(size) in (int, float) and 0 <= size <= sys.float_info.max for size in sizes):
        return False
    if not _MANIFEST_TIMES.fullmatch("\n".join(times) + "\n"):
        return False
    try:
        all(map(datetime.fromisoformat, times))
    except ValueError:
        return False
    known = len(ENTRY_KEYS)  # keys of their own are kept and copied: never nested too deeply
    return not any(
        nested_too_deeply(value)
        for item in items
        if len(item) > known
        for key, value in item.items()
        if key not in _ENTRY_KEY_SET
    )


class _Validator:
    """Checks a parsed manifest; the first problem raises ``ManifestError(url, field problem)``."""

    def __init__(self, url: str, name: str) -> None:
        self._url = url
        self._file_name = _base_name(name)

    def check(self, data: dict[str, Any]) -> None:
        self._check_character_id(self._field(data, "character_id", ""))
        name = self._field(data, "character_name", "")
        try:
            check_actor_name(name)
        except InvalidNameError:
            self._fail(
                f"character_name must be a valid actor name ({_NAME_RULE}), got {_shown(name)}"
            )
        items = self._field(data, "training_data", "")
        if not isinstance(items, list):
            self._fail(f"training_data must be an array, got {_shown(items)}")
        if not _entries_valid(items):  # else find the first problem, one entry at a time
            seen: dict[str, int] = {}
            for index, item in enumerate(items):
                self._check_entry(item, f"training_data[{index}]", seen, index)
        updated = self._field(data, "training_data_updated", "")
        problem = _timestamp_problem(updated, "training_data_updated")
        if problem:
            self._fail(problem)
        self._check_statistics(self._field(data, "statistics", ""))
        self._check_unknown_values(data, _TOP_KEYS)

    def _check_unknown_values(self, obj: dict[str, Any], known: frozenset[str]) -> None:
        """Values of keys this app does not know are kept and copied: refuse any nested so deeply
        that copying it would exhaust the stack."""
        if len(obj) > len(known) and any(
            nested_too_deeply(value) for key, value in obj.items() if key not in known
        ):
            self._fail(TOO_DEEP)

    def _check_character_id(self, value: Any) -> None:
        if not isinstance(value, str) or not _DIGITS.fullmatch(value):
            self._fail(f'character_id must be a string of digits like "0042", got {_shown(value)}')
        match = _FILE_NAME.fullmatch(self._file_name)
        if match and normalize_actor_id(match.group(1)) != normalize_actor_id(value):
            self._fail(
                f"character_id {_shown(value)} does not match the id in the file name "
                f'"{match.group(1)}"'
            )

    def _check_entry(self, item: Any, where: str, seen: dict[str, int], index: int) -> None:
        if not isinstance(item, dict):
            self._fail(f"{where} must be an object {{...}}, got {_shown(item)}")
        filename = self._field(item, "filename", where + ".")
        try:
            check_filename(filename)
        except InvalidNameError:
            self._fail(
                f"{where}.filename must be a valid file name ({_NAME_RULE}), got {_shown(filename)}"
            )
        if filename in seen:
            self._fail(
                f"{where}.filename {_shown(filename)} is listed twice "
                f"(also training_data[{seen[filename]}])"
            )
        seen[filename] = index
        for problem in (
            _url_problem(self._field(item, "s3_url", where + ".")),
            _size_problem(self._field(item, "size_mb", where + ".")),
            _timestamp_problem(self._field(item, "modified_date", where + ".")),
        ):
            if problem:
                self._fail(f"{where}.{problem}")
        self._check_unknown_values(item, _ENTRY_KEY_SET)

    def _check_statistics(self, statistics: Any) -> None:
        if not isinstance(statistics, dict):
            self._fail(f"statistics must be an object {{...}}, got {_shown(statistics)}")
        count = self._field(statistics, "training_images_count", "statistics.")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            self._fail(
                f"statistics.training_images_count must be a whole number >= 0, got {_shown(count)}"
            )
        size = self._field(statistics, "training_data_size_mb", "statistics.")
        problem = _size_problem(size, "statistics.training_data_size_mb")
        if problem:
            self._fail(problem)
        self._check_unknown_values(statistics, _STATISTICS_KEYS)

    def _field(self, obj: dict[str, Any], key: str, prefix: str) -> Any:
        if key not in obj:
            self._fail(f"{prefix}{key} is missing")
        return obj[key]

    def _fail(self, problem: str) -> NoReturn:
        raise ManifestError(self._url, problem)
