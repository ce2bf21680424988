"""The list model behind the thumbnail grid: one row per image of the open actor."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from tdm_desktop.core.actor_images import ActorImages
from tdm_desktop.core.prompt_metadata import Review
from tdm_desktop.core.review_text import review_text
from tdm_desktop.core.timestamps import Clock, utc_now

if TYPE_CHECKING:
    from datetime import datetime

    from tdm_desktop.core.training_data import TrainingImage

AnyIndex = QModelIndex | QPersistentModelIndex


def image_key(image: TrainingImage) -> str:
    """The S3 key the thumbnail loader fetches, or "" for a foreign URL (never fetched)."""
    return image.location.key if image.location is not None else ""


def image_error(image: TrainingImage) -> str | None:
    """The error the model itself knows of: a foreign URL."""
    if image.location is None:
        return f"foreign URL: {image.foreign_reason or 'not in this actor’s S3 folder'}"
    return None


_SOURCE_BITS = 32
_INDEX_MASK = (1 << _SOURCE_BITS) - 1


class ImageGridModel(QAbstractListModel):
    """One row per ``TrainingImage`` of the open actor, in manifest order.

    Rows are not copied: each row refers to an image of the list the model was given (``refs``:
    which list, which index), and an ``ActorImages`` builds a row's image only when it is asked
    for (painted, flagged). So showing 100,000 images costs no work per row, and what a key does
    (flag, count, find a row) costs O(what it touches), never O(rows). An image changed here (a
    flag shown before it is written) is kept beside its list, by ref.
    """

    ImageRole = Qt.ItemDataRole.UserRole + 1
    KeyRole = Qt.ItemDataRole.UserRole + 2
    GoodRole = Qt.ItemDataRole.UserRole + 3
    ErrorRole = Qt.ItemDataRole.UserRole + 4
    ReviewRole = Qt.ItemDataRole.UserRole + 5
    """The image's ``Review`` (``TrainingImage.review``): good / bad / unreviewed, who, when."""

    counts_changed = Signal(int, int)  # good, bad
    images_replaced = Signal(list)
    """S3 keys whose row went away, came (back) or whose manifest entry changed
    (``update_images``): what was fetched for them may be another picture (a key can be reused)."""

    def __init__(self, parent: QObject | None = None, *, clock: Clock | None = None) -> None:
        """``clock``: now, for "5 min ago" in the tooltips (the system clock by default)."""
        super().__init__(parent)
        self._clock = clock or utc_now
        self._sources: list[Sequence[TrainingImage]] = []
        self._refs: Sequence[int] = range(0)  # row -> (source << 32) | index in that source
        self._names: Sequence[str] = []  # row -> filename (may be a source's own list: no edits)
        self._names_owned = True
        self._row_index: dict[str, int] | None = {}  # filename -> row; None: to be rebuilt
        self._changed: dict[int, TrainingImage] = {}  # ref -> the image as changed here
        self._bad = 0
        self._decided = 0  # rows with a decision (good or bad): "· 18 reviewed"

    # -- Qt model API ----------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's default)
        return 0 if parent.isValid() else len(self._refs)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._refs):
            return None
        ref = self._refs[index.row()]
        if role == self.KeyRole:  # what the view asks of every row around the screen: no build
            return self._key_of(ref) or ""
        image = self._image(ref)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return image.filename
        if role == self.ImageRole:
            return image
        if role == self.KeyRole:
            return image_key(image)
        if role == self.GoodRole:
            return image.good
        if role == self.ErrorRole:
            return image_error(image)
        if role == self.ReviewRole:
            return image.review
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(image, self._clock())
        return None

    # flags() is QAbstractListModel's own (enabled, selectable, never has children): the view asks
    # it of every tile it paints, and a Python override costs a call into Python each time.

    def roleNames(self) -> dict[int, Any]:
        names = dict(super().roleNames())
        names.update({self.ImageRole: b"image", self.KeyRole: b"key"})
        names.update({self.GoodRole: b"good", self.ErrorRole: b"error"})
        names[self.ReviewRole] = b"review"
        return names

    # -- our API ---------------------------------------------------------------------------------

    def images(self) -> list[TrainingImage]:
        """Every row's image (builds them all: for tests and small actors, not per key)."""
        return [self._image(ref) for ref in self._refs]

    def image_at(self, row: int) -> TrainingImage | None:
        return self._image(self._refs[row]) if 0 <= row < len(self._refs) else None

    def keys_at(self, rows: Sequence[int]) -> list[str]:
        """The S3 key of each row ("" for a foreign URL or a row that is not there), without a
        ``QModelIndex`` per row: what the view asks of the rows on and around the screen."""
        refs, count, key_of = self._refs, len(self._refs), self._key_of
        return [(key_of(refs[row]) or "") if 0 <= row < count else "" for row in rows]

    def filenames(self) -> Sequence[str]:
        """The listed filenames in row order (a live view: read it, do not keep it)."""
        return self._names

    def row_of(self, filename: str) -> int:
        """The row of ``filename``, or -1."""
        if self._row_index is None:
            self._row_index = dict(zip(self._names, range(len(self._names)), strict=True))
        return self._row_index.get(filename, -1)

    def image_for_key(self, key: str) -> TrainingImage | None:
        """The listed image whose S3 object is ``key``, or None (not listed, or foreign)."""
        row = self.row_of(key.rpartition("/")[2])
        if row < 0 or self._key_of(self._refs[row]) != key:
            return None
        return self.image_at(row)

    def image_getter(self, key: str) -> Callable[[], TrainingImage] | None:
        """For a listed key: a function giving its image, safe to call on another thread (it
        reads the list the row came from, never the model), without building the row now."""
        row = self.row_of(key.rpartition("/")[2])
        if row < 0:
            return None
        ref = self._refs[row]
        if self._key_of(ref) != key:
            return None
        changed = self._changed.get(ref)
        if changed is not None:
            return lambda: changed
        source, index = self._sources[ref >> _SOURCE_BITS], ref & _INDEX_MASK
        return lambda: source[index]

    def is_listed(self, key: str) -> bool:
        """Whether a listed row's S3 object is ``key`` (without building the row)."""
        row = self.row_of(key.rpartition("/")[2])
        return row >= 0 and self._key_of(self._refs[row]) == key

    def good_bad_counts(self) -> tuple[int, int]:
        return len(self._refs) - self._bad, self._bad

    def reviewed_count(self) -> int:
        """How many rows are decided (good or bad); kept up to date like the flag counts, so
        asking costs nothing per row. ``counts_changed`` follows every change of it."""
        return self._decided

    def set_images(self, images: Sequence[TrainingImage]) -> None:
        """Show another list (another actor): a reset; selection and current row are lost."""
        self.beginResetModel()
        self._sources = []
        self._take(images)
        self.endResetModel()
        self._emit_counts()

    def update_images(self, images: Sequence[TrainingImage]) -> None:
        """Show a refreshed list of the same actor without a reset.

        Rows are matched by filename: gone ones are removed, new ones inserted, changed ones
        updated, so the selection and the current row survive a refresh.
        """
        new_names = _names_of(images)
        if len(set(new_names)) != len(new_names):  # cannot be diffed by name: fall back
            old_keys = [self._key_of(ref) or "" for ref in self._refs]
            self.set_images(images)
            self._emit_replaced(old_keys)
            return
        changed = self._changed_in_place(images) if new_names == list(self._names) else None
        if changed is not None:
            replaced = self._replace_rows(images, changed)
        else:
            source = len(self._sources) << _SOURCE_BITS
            self._sources.append(images)
            wanted = set(new_names)
            gone = [row for row, name in enumerate(self._names) if name not in wanted]
            replaced = [self._key_of(self._refs[row]) or "" for row in gone]
            self._remove_rows(gone)
            self._reorder([name for name in new_names if self.row_of(name) >= 0])
            replaced += self._insert_missing(images, new_names, source)
            replaced += self._replace_changed(images, source)
        self._emit_counts()
        self._emit_replaced(replaced)

    def differences(
        self, images: Sequence[TrainingImage]
    ) -> tuple[list[TrainingImage], list[TrainingImage], int, int]:
        """How a new read ``images`` differs from what the rows show, without building the rows
        that read the same: (the rows as shown, the same rows as read) for each filename in both
        that reads differently, then how many filenames were added and how many are gone."""
        new_names = _names_of(images)
        if new_names == list(self._names):
            rows = self._changed_in_place(images)
            if rows is None:
                rows = list(range(len(self._refs)))
            pairs = [(self.image_at(row), images[row]) for row in rows]
            return [a for a, _ in pairs if a], [b for a, b in pairs if a], 0, 0
        new_rows = dict(zip(new_names, range(len(new_names)), strict=False))
        old: list[TrainingImage] = []
        new: list[TrainingImage] = []
        for row, name in enumerate(self._names):
            other = new_rows.get(name)
            if other is None:
                continue
            ref = self._refs[row]
            source = self._sources[ref >> _SOURCE_BITS]
            if (
                ref not in self._changed
                and isinstance(source, ActorImages)
                and isinstance(images, ActorImages)
                and source.same_row(ref & _INDEX_MASK, images, other)
            ):
                continue
            old.append(self._image(ref))
            new.append(images[other])
        shown = set(self._names)
        added = sum(1 for name in new_names if name not in shown)
        gone = len(shown) - (len(new_names) - added)
        return old, new, added, gone

    def set_good(self, flags: Mapping[str, bool]) -> None:
        """Change good/bad flags of listed filenames (unknown names are ignored). A row whose
        flag changes gets an anonymous decision; ``set_reviews`` says who and when."""
        reviews = {}
        for filename, good in flags.items():
            image = self.image_at(self.row_of(filename))
            if image is not None and image.good != bool(good):
                reviews[filename] = Review("good" if good else "bad")
        self.set_reviews(reviews)

    def set_reviews(self, reviews: Mapping[str, Review]) -> None:
        """Show these decisions (good / bad / unreviewed, who, when) of listed filenames; the
        flag follows each (unknown names are ignored). O(len(reviews))."""
        changed = False
        roles = [self.GoodRole, self.ReviewRole, Qt.ItemDataRole.ToolTipRole]
        for filename, review in reviews.items():
            row = self.row_of(filename)
            image = self.image_at(row)
            if image is None or image.review == review:
                continue
            self._replace_image(row, dataclasses.replace(image, good=review.good, review=review))
            index = self.index(row)
            self.dataChanged.emit(index, index, roles)
            changed = True
        if changed:
            self._emit_counts()

    def remove_filenames(self, filenames: Collection[str]) -> None:
        """Take these rows out (a delete went through); unknown names are ignored."""
        rows = sorted({row for row in map(self.row_of, filenames) if row >= 0})
        if rows:
            replaced = [self._key_of(self._refs[row]) or "" for row in rows]
            self._remove_rows(rows)
            self._emit_counts()
            self._emit_replaced(replaced)

    # -- storage ---------------------------------------------------------------------------------

    def _take(self, images: Sequence[TrainingImage]) -> None:
        """Rows are ``images`` itself, one per index, nothing changed."""
        source = len(self._sources) << _SOURCE_BITS
        self._sources.append(images)
        self._refs = range(source, source + len(images))
        self._names = _names_of(images)
        self._names_owned = not isinstance(images, ActorImages)
        self._row_index = None
        self._changed = {}
        if isinstance(images, ActorImages):
            self._decided, self._bad = images.review_counts()
        else:
            self._bad = sum(1 for image in images if not image.good)
            self._decided = sum(1 for image in images if image.review.decided)

    def _image(self, ref: int) -> TrainingImage:
        image = self._changed.get(ref)
        if image is None:
            image = self._sources[ref >> _SOURCE_BITS][ref & _INDEX_MASK]
        return image

    def _key_of(self, ref: int) -> str | None:
        source = self._sources[ref >> _SOURCE_BITS]
        if ref not in self._changed and isinstance(source, ActorImages):
            return source.key_of(ref & _INDEX_MASK)
        return self._image(ref).key

    def _replace_image(self, row: int, image: TrainingImage) -> None:
        ref = self._refs[row]
        before = self._image(ref)
        self._bad += int(not image.good) - int(not before.good)
        self._decided += int(image.review.decided) - int(before.review.decided)
        self._changed[ref] = image

    def _editable(self) -> tuple[list[int], list[str]]:
        if not isinstance(self._refs, list):
            self._refs = list(self._refs)
        if not self._names_owned:
            self._names = list(self._names)
            self._names_owned = True
        return self._refs, self._names  # type: ignore[return-value]

    # -- diffing ---------------------------------------------------------------------------------

    def _emit_counts(self) -> None:
        self.counts_changed.emit(*self.good_bad_counts())

    def _emit_replaced(self, keys: list[str]) -> None:
        keys = [key for key in dict.fromkeys(keys) if key]
        if keys:
            self.images_replaced.emit(keys)

    def _changed_in_place(self, images: Sequence[TrainingImage]) -> list[int] | None:
        """Rows (same names, same order) that read differently in ``images``: a cheap comparison
        of what was read when both are one ``ActorImages`` read; else None (compare images)."""
        if not (isinstance(self._refs, range) and len(self._sources) > 0):
            return None
        old = self._sources[self._refs.start >> _SOURCE_BITS] if self._refs else None
        if not (isinstance(old, ActorImages) and isinstance(images, ActorImages)):
            return None
        rows = old.changed_rows(images)
        if rows is None:
            return None
        base = self._refs.start
        return sorted({*rows, *(ref - base for ref in self._changed)})

    def _replace_rows(self, images: Sequence[TrainingImage], rows: list[int]) -> list[str]:
        """Take ``images`` (same names, same order) as the rows; only ``rows`` may read
        differently: those that do are announced. Returns the keys whose entry changed."""
        old = [self.image_at(row) for row in rows]
        self._sources = []
        self._take(images)
        replaced: list[str] = []
        changed: list[int] = []
        for row, before in zip(rows, old, strict=True):
            after = images[row]
            if before == after or before is None:
                continue
            changed.append(row)
            if before.entry != after.entry or before.location != after.location:
                replaced += [image_key(before), image_key(after)]
        for first, last in _runs(changed):
            self.dataChanged.emit(self.index(first), self.index(last))
        return replaced

    def _remove_rows(self, rows: list[int]) -> None:
        for first, last in reversed(_runs(rows)):
            self.beginRemoveRows(QModelIndex(), first, last)
            refs, names = self._editable()
            for ref in refs[first : last + 1]:
                image = self._image(ref)
                self._bad -= int(not image.good)
                self._decided -= int(image.review.decided)
                self._changed.pop(ref, None)
            del refs[first : last + 1]
            del names[first : last + 1]
            self._row_index = None
            self.endRemoveRows()

    def _reorder(self, order: list[str]) -> None:
        old_names = list(self._names)
        if old_names == order:
            return
        self.layoutAboutToBeChanged.emit()
        refs = [self._refs[self.row_of(name)] for name in order]
        self._refs, self._names, self._names_owned = refs, list(order), True
        self._row_index = None
        persistent = self.persistentIndexList()
        moved = [self.index(self.row_of(old_names[index.row()])) for index in persistent]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def _insert_missing(
        self, new: Sequence[TrainingImage], new_names: Sequence[str], source: int
    ) -> list[str]:
        """Insert the rows of ``new`` not shown yet; returns their keys (a key can come back
        with another picture, and what was known of it before, even a failure, is stale)."""
        inserted: list[str] = []
        row = 0
        while row < len(new_names):
            if row < len(self._names) and self._names[row] == new_names[row]:
                row += 1
                continue
            end = row
            while end < len(new_names) and self.row_of(new_names[end]) < 0:
                end += 1
            self.beginInsertRows(QModelIndex(), row, end - 1)
            refs, names = self._editable()
            refs[row:row] = range(source + row, source + end)
            names[row:row] = new_names[row:end]
            self._row_index = None
            for ref in range(source + row, source + end):
                image = self._image(ref)
                self._bad += int(not image.good)
                self._decided += int(image.review.decided)
            self.endInsertRows()
            inserted += [image_key(new[i]) for i in range(row, end)]
            row = end
        return inserted

    def _replace_changed(self, new: Sequence[TrainingImage], source: int) -> list[str]:
        """Take ``new`` (same names, same order); returns the keys whose entry changed. Rows
        already from ``new`` (just inserted) are not compared."""
        return self._replace_rows(
            new, [row for row, ref in enumerate(self._refs) if ref - source != row]
        )


def _names_of(images: Sequence[TrainingImage]) -> Sequence[str]:
    if isinstance(images, ActorImages):
        return images.filenames()
    return [image.filename for image in images]


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted rows as inclusive (first, last) runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for row in sorted(rows):
        if runs and runs[-1][1] == row - 1:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _tooltip(image: TrainingImage, now: datetime) -> str:
    """``"0042_x_3.jpg\nbad · alice · 5 min ago\n0.31 MB, 2025-...\nhttps://..."``."""
    where = image.s3_url if image.location is not None else f"{image_error(image)}\n{image.s3_url}"
    decided = review_text(image.review, now)
    return f"{image.filename}\n{decided}\n{image.size_mb:.2f} MB, {image.modified_date}\n{where}"
