"""An actor's images as one read of its documents lists them, each built when first asked for.

Opening an actor of 100,000 images must not build 100,000 ``TrainingImage``s before the first
screen: ``ActorImages`` keeps the manifest's validated entries and the prompt metadata's records as
read, and builds the ``TrainingImage`` of a row (its ``ManifestEntry``, its S3 location, its
review) the first time the row is asked for. It is a read-only ``Sequence[TrainingImage]``, so code
that walks every image (the CLI, export, analysis) works as on a tuple; what a window asks per key
(``row_of``, ``filenames``, ``review_counts``) never builds a row.
"""

from __future__ import annotations

import abc
import itertools
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from tdm_desktop.core.manifest import ManifestEntry
from tdm_desktop.core.prompt_metadata import review_of
from tdm_desktop.core.s3_urls import S3Location

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import TrainingImage

Locate = Callable[[ManifestEntry], tuple[S3Location | None, str | None]]
"""An entry's S3 location, or None and why it is foreign (never fetched)."""
_URL = operator.itemgetter("s3_url")
MakeImage = Callable[[int, ManifestEntry, S3Location | None, str | None, Mapping | None], Any]


class ImageRows(Sequence["TrainingImage"]):
    """A read-only sequence of images made one row at a time: ``_row(index)`` (0 <= index <
    ``len``) gives a row; indexing (negative, slices) and iterating are done here."""

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def _row(self, index: int) -> TrainingImage: ...

    @overload
    def __getitem__(self, index: int) -> TrainingImage: ...
    @overload
    def __getitem__(self, index: slice) -> list[TrainingImage]: ...
    def __getitem__(self, index: int | slice) -> TrainingImage | list[TrainingImage]:
        if isinstance(index, slice):
            return [self._row(i) for i in range(*index.indices(len(self)))]
        count = len(self)
        if not -count <= index < count:
            raise IndexError(f"row {index} of {count}")
        return self._row(index % count)

    def __iter__(self) -> Iterator[TrainingImage]:
        for index in range(len(self)):
            yield self._row(index)


class ActorImages(ImageRows):
    """The rows of one actor as read: ``items`` (the manifest's entries, validated, in order, as
    the document stores them; never changed here) and ``records`` (prompt_metadata.json's
    ``images``: ``{filename: record}``). ``make(index, entry, location, reason, record)`` builds a
    row's ``TrainingImage``; ``locate(entry)`` finds its object, and ``canonical`` (URL prefixes
    whose ``prefix + filename`` are known to name this actor's object ``key_prefix + filename``)
    lets a row be told listed-and-fetchable without building it.

    Thread-safe for readers: two threads building the same row build equal images.
    """

    def __init__(
        self,
        items: Sequence[Mapping[str, Any]],
        records: Mapping[str, Mapping[str, Any]],
        make: MakeImage,
        locate: Locate,
        *,
        bucket: str = "",
        key_prefix: str = "",
        canonical: tuple[str, ...] = (),
    ) -> None:
        self._items = items
        self._records = records
        self._make = make
        self._locate = locate
        self._bucket = bucket
        self._key_prefix = key_prefix
        self._canonical = tuple(p for p in dict.fromkeys(canonical) if p)
        self._built: list[TrainingImage | None] = [None] * len(items)
        self._names: list[str] | None = None
        self._rows: dict[str, int] | None = None
        self._canonical_cache: list[bool] | None = None

    # -- Sequence ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def _row(self, index: int) -> TrainingImage:
        image = self._built[index]
        return image if image is not None else self._build(index)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ActorImages):
            return self._items == other._items and self._records_equal(other)
        if isinstance(other, Sequence) and not isinstance(other, str | bytes):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  (a list's semantics: equal by content)

    def __repr__(self) -> str:
        return f"ActorImages({len(self)} images)"

    # -- without building rows ----------------------------------------------------------------------

    def filenames(self) -> list[str]:
        """The listed filenames in order (one list, made once: do not change it)."""
        if self._names is None:
            self._names = [item["filename"] for item in self._items]
        return self._names

    def row_of(self, filename: str) -> int:
        """The row of ``filename``, or -1."""
        if self._rows is None:
            self._rows = dict(zip(self.filenames(), range(len(self._items)), strict=True))
        return self._rows.get(filename, -1)

    def item(self, row: int) -> Mapping[str, Any]:
        """The manifest's entry of ``row`` as stored (read it, do not change it)."""
        return self._items[row]

    def record(self, filename: str) -> Mapping[str, Any] | None:
        """prompt_metadata.json's record of ``filename`` as read, or None."""
        return self._records.get(filename)

    def bad_count(self) -> int:
        """How many listed images are decided bad (from the records, not the rows)."""
        return self.review_counts()[1]

    def review_counts(self) -> tuple[int, int]:
        """How many listed images are decided (good or bad), and how many bad: one pass over the
        records, no row built."""
        listed = self.row_of
        decided = bad = 0
        for name, record in self._records.items():
            if not isinstance(record, Mapping) or listed(name) < 0:
                continue
            review = review_of(record)
            decided += review.decided
            bad += not review.good
        return decided, bad

    def key_of(self, row: int) -> str | None:
        """The S3 key of ``row`` (None: a foreign URL), without building it when its URL is one
        this app writes itself."""
        image = self._built[row]
        if image is not None:
            return image.key
        if self._canonical_rows()[row]:
            return self._key_prefix + self._items[row]["filename"]
        return self[row].key

    def foreign_count(self) -> int:
        """How many rows have a URL that is not this actor's object (never fetched)."""
        canonical = self._canonical_rows()
        return sum(1 for row, known in enumerate(canonical) if not known and self[row].key is None)

    def _canonical_rows(self) -> list[bool]:
        """Per row: its URL is ``prefix + filename`` for one of the canonical prefixes (a few
        passes of C code over the columns: no row is built)."""
        if self._canonical_cache is None:
            urls = list(map(_URL, self._items))
            names = self.filenames()
            known = [False] * len(urls)
            for prefix in self._canonical:
                expected = map(operator.add, itertools.repeat(prefix), names)
                known = list(map(operator.or_, known, map(operator.eq, urls, expected)))
            self._canonical_cache = known
        return self._canonical_cache

    def same_row(self, row: int, other: ActorImages, other_row: int) -> bool:
        """Whether ``row`` here and ``other_row`` of ``other`` read the same: the same entry and
        the same record (a cheap comparison of what was read, no row is built)."""
        item = self._items[row]
        if item != other._items[other_row]:
            return False
        name = item["filename"]
        return self._records.get(name) == other._records.get(name)

    def changed_rows(self, other: ActorImages) -> list[int] | None:
        """The rows that read differently in ``other`` (a later read of the same actor), when both
        list the same filenames in the same order; None when they do not. Compares what was read,
        column by column in C (no row is built): a reload of 100,000 unchanged rows costs
        milliseconds."""
        if self.filenames() != other.filenames():
            return None
        differ = map(operator.ne, self._items, other._items)
        rows = set(itertools.compress(range(len(self._items)), differ))
        names = self._records.keys() | other._records.keys()
        for name in names:
            if self._records.get(name) != other._records.get(name):
                row = self.row_of(name)
                if row >= 0:
                    rows.add(row)
        return sorted(rows)

    # -- building ---------------------------------------------------------------------------------

    def _build(self, row: int) -> TrainingImage:
        entry = ManifestEntry.from_json(self._items[row])
        location, reason = self._locate(entry)
        image = self._make(row, entry, location, reason, self._records.get(entry.filename))
        self._built[row] = image
        return image

    def _records_equal(self, other: ActorImages) -> bool:
        names = self.filenames()
        return all(self._records.get(n) == other._records.get(n) for n in names)
