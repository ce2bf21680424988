"""The list model behind the thumbnail grid: one row per image of the open actor."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

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


class ImageGridModel(QAbstractListModel):
    """One row per ``TrainingImage`` of the open actor, in manifest order."""

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
        self._images: list[TrainingImage] = []
        self._rows: dict[str, int] = {}

    # -- Qt model API ----------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's default)
        return 0 if parent.isValid() else len(self._images)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._images):
            return None
        image = self._images[index.row()]
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

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flag = Qt.ItemFlag
        return flag.ItemIsEnabled | flag.ItemIsSelectable | flag.ItemNeverHasChildren

    def roleNames(self) -> dict[int, Any]:
        names = dict(super().roleNames())
        names.update({self.ImageRole: b"image", self.KeyRole: b"key"})
        names.update({self.GoodRole: b"good", self.ErrorRole: b"error"})
        names[self.ReviewRole] = b"review"
        return names

    # -- our API ---------------------------------------------------------------------------------

    def images(self) -> list[TrainingImage]:
        return list(self._images)

    def image_at(self, row: int) -> TrainingImage | None:
        return self._images[row] if 0 <= row < len(self._images) else None

    def filenames(self) -> Collection[str]:
        """The listed filenames (a live view: read it, do not keep it)."""
        return self._rows.keys()

    def row_of(self, filename: str) -> int:
        """The row of ``filename``, or -1."""
        return self._rows.get(filename, -1)

    def good_bad_counts(self) -> tuple[int, int]:
        good = sum(1 for image in self._images if image.good)
        return good, len(self._images) - good

    def set_images(self, images: Sequence[TrainingImage]) -> None:
        """Show another list (another actor): a reset; selection and current row are lost."""
        self.beginResetModel()
        self._images = list(images)
        self._reindex()
        self.endResetModel()
        self._emit_counts()

    def update_images(self, images: Sequence[TrainingImage]) -> None:
        """Show a refreshed list of the same actor without a reset.

        Rows are matched by filename: gone ones are removed, new ones inserted, changed ones
        updated, so the selection and the current row survive a refresh.
        """
        new = list(images)
        new_names = [image.filename for image in new]
        if len(set(new_names)) != len(new_names):  # cannot be diffed by name: fall back
            old_keys = [image_key(image) for image in self._images]
            self.set_images(new)
            self._emit_replaced(old_keys)
            return
        wanted = set(new_names)
        gone = [row for row, im in enumerate(self._images) if im.filename not in wanted]
        replaced = [image_key(self._images[row]) for row in gone]
        self._remove_rows(gone)
        self._reorder([name for name in new_names if name in self._rows])
        replaced += self._insert_missing(new)
        replaced += self._replace_changed(new)
        self._emit_counts()
        self._emit_replaced(replaced)

    def set_good(self, flags: Mapping[str, bool]) -> None:
        """Change good/bad flags of listed filenames (unknown names are ignored). A row whose
        flag changes gets an anonymous decision; ``set_reviews`` says who and when."""
        reviews = {}
        for filename, good in flags.items():
            image = self.image_at(self._rows.get(filename, -1))
            if image is not None and image.good != bool(good):
                reviews[filename] = Review("good" if good else "bad")
        self.set_reviews(reviews)

    def set_reviews(self, reviews: Mapping[str, Review]) -> None:
        """Show these decisions (good / bad / unreviewed, who, when) of listed filenames; the
        flag follows each (unknown names are ignored)."""
        changed = False
        roles = [self.GoodRole, self.ReviewRole, Qt.ItemDataRole.ToolTipRole]
        for filename, review in reviews.items():
            row = self._rows.get(filename, -1)
            if row < 0 or self._images[row].review == review:
                continue
            image = self._images[row]
            self._images[row] = dataclasses.replace(image, good=review.good, review=review)
            index = self.index(row)
            self.dataChanged.emit(index, index, roles)
            changed = True
        if changed:
            self._emit_counts()

    # -- diffing ---------------------------------------------------------------------------------

    def _reindex(self) -> None:
        self._rows = {image.filename: row for row, image in enumerate(self._images)}

    def _emit_counts(self) -> None:
        self.counts_changed.emit(*self.good_bad_counts())

    def _emit_replaced(self, keys: list[str]) -> None:
        keys = [key for key in dict.fromkeys(keys) if key]
        if keys:
            self.images_replaced.emit(keys)

    def _remove_rows(self, rows: list[int]) -> None:
        for first, last in reversed(_runs(rows)):
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._images[first : last + 1]
            self.endRemoveRows()
        self._reindex()

    def _reorder(self, order: list[str]) -> None:
        old_names = [image.filename for image in self._images]
        if old_names == order:
            return
        self.layoutAboutToBeChanged.emit()
        self._images = [self._images[self._rows[name]] for name in order]
        self._reindex()
        persistent = self.persistentIndexList()
        moved = [self.index(self._rows[old_names[index.row()]]) for index in persistent]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def _insert_missing(self, new: list[TrainingImage]) -> list[str]:
        """Insert the rows of ``new`` not shown yet; returns their keys (a key can come back
        with another picture, and what was known of it before, even a failure, is stale)."""
        inserted: list[str] = []
        row = 0
        while row < len(new):
            if row < len(self._images) and self._images[row].filename == new[row].filename:
                row += 1
                continue
            end = row
            while end < len(new) and new[end].filename not in self._rows:
                end += 1
            self.beginInsertRows(QModelIndex(), row, end - 1)
            self._images[row:row] = new[row:end]
            self.endInsertRows()
            self._reindex()
            inserted += [image_key(image) for image in new[row:end]]
            row = end
        return inserted

    def _replace_changed(self, new: list[TrainingImage]) -> list[str]:
        """Take ``new`` (same names, same order); returns the keys whose entry changed."""
        old = self._images
        changed = [row for row, image in enumerate(new) if old[row] != image]
        replaced = [
            key
            for row in changed
            if old[row].entry != new[row].entry or old[row].location != new[row].location
            for key in (image_key(old[row]), image_key(new[row]))
        ]
        self._images = new
        for first, last in _runs(changed):
            self.dataChanged.emit(self.index(first), self.index(last))
        return replaced


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
