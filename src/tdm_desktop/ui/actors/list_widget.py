"""The actor list on the left: a search box over ``actorList``, one row per actor.

A row reads ``0042_european_30_male (17)``, with the review's progress once decisions are known
(``(12/17)``, ``(17/17 ✓)``); an actor whose manifest is broken shows a warning icon and its
problem as the tooltip, and can still be chosen (the window then says what is wrong).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QLineEdit, QListView, QStyle, QVBoxLayout, QWidget

from tdm_desktop.core.errors import sync_era_problem

if TYPE_CHECKING:
    from tdm_desktop.core.actors import ActorSummary

ActorIdRole = Qt.ItemDataRole.UserRole + 1
ProblemRole = Qt.ItemDataRole.UserRole + 2
NameRole = Qt.ItemDataRole.UserRole + 3
CountRole = Qt.ItemDataRole.UserRole + 4


def actor_row_text(summary: ActorSummary, reviewed: int | None = None) -> str:
    """``"0042_european_30_male (17)"``; a broken manifest reads ``"0042 (broken manifest)"``."""
    if summary.sync_era:
        return f"{summary.actor_name or summary.actor_id} (to migrate)"
    if summary.problem:
        return f"{summary.actor_name or summary.actor_id} (broken manifest)"
    return count_text(summary.actor_name, summary.image_count, reviewed)


def count_text(actor_name: str, count: int, reviewed: int | None) -> str:
    """``"name (17)"`` before any decision, ``"name (12/17)"`` on the way, ``"name (17/17 ✓)"``
    when every image is decided."""
    if not reviewed or not count:
        return f"{actor_name} ({count})"
    reviewed = min(reviewed, count)
    return f"{actor_name} ({reviewed}/{count}{' ✓' if reviewed == count else ''})"


def count_tooltip(actor_id: str, count: int, reviewed: int | None) -> str:
    text = f"actor {actor_id}: {count} images"
    return f"{text}, {min(reviewed, count)} reviewed" if reviewed and count else text


# A manifest written before the S3-only change reads "0521_nordic_28_female (to migrate)", with an
# information icon and what to do as its tooltip; SyncEraRole is true on its row.
SyncEraRole = Qt.ItemDataRole.UserRole + 11
MIGRATE_HINT = "Actor → Migrate… does it from here, a dry run first"


class ActorListWidget(QWidget):
    """Search box + actor list. ``actor_chosen(actor_id)`` when the current row changes."""

    actor_chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search_box = QLineEdit(self)
        self.search_box.setObjectName("actorSearch")
        self.search_box.setPlaceholderText("Search actors…")
        self.search_box.setClearButtonEnabled(True)

        self._model = QStandardItemModel(self)
        self._proxy = QSortFilterProxyModel(self)
        self._proxy.setSourceModel(self._model)
        self._proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search_box.textChanged.connect(self._proxy.setFilterFixedString)

        self.list_view = QListView(self)
        self.list_view.setObjectName("actorList")
        self.list_view.setModel(self._proxy)
        self.list_view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.list_view.setUniformItemSizes(True)
        self.list_view.selectionModel().currentChanged.connect(self._on_current_changed)
        self._keyboard = False
        self._reviewed: dict[str, int] = {}  # actor ID -> images decided, as last known
        self.list_view.installEventFilter(self)
        self.list_view.viewport().installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search_box)
        layout.addWidget(self.list_view, 1)

    def set_actors(self, actors: Sequence[ActorSummary]) -> None:
        """Replace the rows (keeping the current actor selected, without re-announcing it)."""
        current = self.current_actor_id()
        warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        information = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
        blocker = self.list_view.selectionModel().blockSignals(True)
        try:
            self._model.clear()
            for summary in actors:
                reviewed = self._reviewed.get(summary.actor_id)
                item = QStandardItem(actor_row_text(summary, reviewed))
                item.setEditable(False)
                item.setData(summary.actor_id, ActorIdRole)
                item.setData(summary.problem, ProblemRole)
                item.setData(summary.sync_era, SyncEraRole)
                if summary.sync_era:
                    item.setIcon(information)
                    item.setToolTip(f"{sync_era_problem(summary.actor_id)}\n{MIGRATE_HINT}")
                elif summary.problem:
                    item.setIcon(warning)
                    item.setToolTip(summary.problem)
                else:
                    item.setToolTip(count_tooltip(summary.actor_id, summary.image_count, reviewed))
                item.setData(summary.actor_name, NameRole)
                item.setData(summary.image_count, CountRole)
                self._model.appendRow(item)
            if current is not None:
                self._select(current)
        finally:
            self.list_view.selectionModel().blockSignals(blocker)

    def update_count(self, actor_id: str, actor_name: str, image_count: int) -> None:
        """Refresh one row's text after the open actor was reloaded (its count may have changed)."""
        for row in range(self._model.rowCount()):
            item = self._model.item(row)
            if item.data(ActorIdRole) == actor_id and not item.data(ProblemRole):
                item.setData(actor_name, NameRole)
                item.setData(image_count, CountRole)
                self._show_counts(item)

    def update_reviewed(self, actor_id: str, reviewed: int) -> None:
        """How many of the actor's images are decided (the review's progress on its row)."""
        if self._reviewed.get(actor_id) == reviewed:
            return
        self._reviewed[actor_id] = reviewed
        for row in range(self._model.rowCount()):
            item = self._model.item(row)
            if item.data(ActorIdRole) == actor_id and not item.data(ProblemRole):
                self._show_counts(item)

    def _show_counts(self, item: QStandardItem) -> None:
        actor_id, count = item.data(ActorIdRole), item.data(CountRole) or 0
        reviewed = self._reviewed.get(actor_id)
        item.setText(count_text(item.data(NameRole), count, reviewed))
        item.setToolTip(count_tooltip(actor_id, count, reviewed))

    def browsing_with_keyboard(self) -> bool:
        """The curator is moving through the list with the keys (so the grid should not take focus)."""
        return self._keyboard and self.list_view.hasFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            self._keyboard = True
        elif event.type() == QEvent.Type.MouseButtonPress:
            self._keyboard = False
        return super().eventFilter(watched, event)

    def actor_ids(self) -> list[str]:
        return [self._model.item(row).data(ActorIdRole) for row in range(self._model.rowCount())]

    def visible_row_texts(self) -> list[str]:
        return [self._proxy.index(r, 0).data() for r in range(self._proxy.rowCount())]

    def current_actor_id(self) -> str | None:
        index = self.list_view.currentIndex()
        return index.data(ActorIdRole) if index.isValid() else None

    def select_actor(self, actor_id: str) -> bool:
        """Make ``actor_id`` current (emits ``actor_chosen`` if it changed)."""
        return self._select(actor_id)

    def _select(self, actor_id: str) -> bool:
        for row in range(self._proxy.rowCount()):
            index = self._proxy.index(row, 0)
            if index.data(ActorIdRole) == actor_id:
                self.list_view.selectionModel().setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                )
                return True
        return False

    @Slot(QModelIndex, QModelIndex)
    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.actor_chosen.emit(current.data(ActorIdRole))
