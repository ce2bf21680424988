"""``migrateDialog``: Migrate… for a manifest written before the S3-only change. It shows the dry
run first (which entries are kept, which dropped because their images are gone from S3, the
sync-era keys it removes, where the original stays), and migrates only when the curator presses
``migrateButton``.

A view only, like ``CheckDialog``: ``migrate_requested`` and ``cancel_requested`` go to
``IntegrityPresenter``. Object names: ``migrateStatusLabel``, ``migrateNoteLabel``,
``migratePlan`` (the tree of kept and dropped entries), ``migrateButton``,
``migrateCancelButton``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tdm_desktop.core.migration import SYNC_ERA_SUFFIX, Migration
from tdm_desktop.ui.integrity.check_dialog import busy_bar, note_label, status_label
from tdm_desktop.ui.integrity.controller import MigrationResult


def entries_phrase(count: int) -> str:
    return f"{count} entry" if count == 1 else f"{count} entries"


def plan_summary(migration: Migration, *, done: bool) -> str:
    """``"Migrating keeps 4 entries and drops 2 whose images are gone from S3"``."""
    kept, dropped = entries_phrase(len(migration.kept)), len(migration.dropped)
    if done:
        line = f"Migrated: kept {kept}"
        return line + (f", dropped {dropped} whose images were gone from S3" if dropped else "")
    line = f"Migrating keeps {kept}"
    return line + (f" and drops {dropped} whose images are gone from S3" if dropped else "")


class MigrateDialog(QDialog):
    migrate_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, actor_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("migrateDialog")
        self.actor_id = actor_id
        self.setWindowTitle(f"Migrate actor {actor_id}")
        self.resize(760, 480)
        self._running = False

        self.status_label = status_label("migrateStatusLabel")
        self.explain_label = QLabel(
            "This manifest was written before the S3-only change: it still records local copies "
            "and their sync status. Migrating keeps every image whose object is in S3, drops the "
            "entries whose images are gone, and removes the sync keys."
        )
        self.explain_label.setWordWrap(True)
        self.progress = busy_bar()
        self.note_label = note_label("migrateNoteLabel")
        self.plan = QTreeWidget()
        self.plan.setObjectName("migratePlan")
        self.plan.setHeaderLabels(["Entry", "What happens"])
        self.plan.setColumnWidth(0, 300)
        self.details_label = QLabel()
        self.details_label.setObjectName("migrateDetailsLabel")
        self.details_label.setWordWrap(True)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        buttons = QDialogButtonBox()
        self.migrate_button = buttons.addButton("Migrate", QDialogButtonBox.ButtonRole.AcceptRole)
        self.migrate_button.setObjectName("migrateButton")
        self.migrate_button.setEnabled(False)
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("migrateCancelButton")
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName("migrateCloseButton")
        self.close_button.hide()
        self.migrate_button.clicked.connect(self.migrate_requested)
        self.cancel_button.clicked.connect(self.reject)
        self.close_button.clicked.connect(self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(self.explain_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.note_label)
        layout.addWidget(self.plan, 1)
        layout.addWidget(self.details_label)
        layout.addWidget(buttons)

    def show_running(self, text: str) -> None:
        self._running = True
        self.status_label.setText(text)
        self.progress.show()
        self.migrate_button.setEnabled(False)

    def show_plan(self, result: MigrationResult) -> None:
        """The dry run: what migrating would keep and drop; Migrate unless it is read-only."""
        migration = self._ended(result)
        if migration is None:
            return
        name = migration.document.get("character_name")
        if isinstance(name, str) and name:
            self.setWindowTitle(f"Migrate {name}")
        self.status_label.setText(plan_summary(migration, done=False))
        self._show_entries(migration, done=False)
        self.details_label.setText(
            f"Sync-era keys removed: {', '.join(migration.sync_keys)}.\n"
            f"The original stays beside it as {result.outcome.url}{SYNC_ERA_SUFFIX} "
            "(never overwritten nor deleted)."
        )
        if result.read_only:
            self._show_note(f"Read-only: {result.read_only}: it cannot be migrated from here.")
        self.migrate_button.setEnabled(not result.read_only)
        self.migrate_button.setDefault(not result.read_only)

    def show_migrated(self, result: MigrationResult) -> None:
        migration = self._ended(result)
        if migration is None:
            return
        self.status_label.setText(plan_summary(migration, done=True))
        self._show_entries(migration, done=True)
        self.details_label.setText(f"The original is kept as {result.outcome.copy_url}.")
        self._finished()

    def show_failure(self, message: str) -> None:
        self._running = False
        self.progress.hide()
        self.status_label.setText("Not migrated: nothing was written")
        self._show_note(message)
        self._finished()

    def show_cancelled(self) -> None:
        self._running = False
        self.progress.hide()
        self.status_label.setText("Cancelled: nothing was written")
        self._finished()

    def is_running(self) -> bool:
        return self._running

    def plan_rows(self) -> dict[str, list[tuple[str, str]]]:
        """What the tree shows: group heading → (entry, what happens) (for tests)."""
        rows = {}
        for i in range(self.plan.topLevelItemCount()):
            group = self.plan.topLevelItem(i)
            rows[group.text(0)] = [
                (group.child(j).text(0), group.child(j).text(1)) for j in range(group.childCount())
            ]
        return rows

    def _ended(self, result: MigrationResult) -> Migration | None:
        """A job ended with ``result``: its migration, or None when there was nothing to do
        (which is then said)."""
        self._running = False
        self.progress.hide()
        migration = result.outcome.migration
        if migration is None:
            self._nothing_to_do(result.outcome.url)
        return migration

    def _nothing_to_do(self, url: str) -> None:
        self.status_label.setText("Already in the S3-only structure: nothing to migrate")
        self.details_label.setText(url)
        self._finished()

    def _finished(self) -> None:
        self.migrate_button.hide()
        self.cancel_button.hide()
        self.close_button.show()
        self.close_button.setDefault(True)

    def _show_note(self, text: str) -> None:
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))

    def _show_entries(self, migration: Migration, *, done: bool) -> None:
        self.plan.clear()
        given = set(migration.given_url)
        foreign = set(migration.foreign)
        kept = QTreeWidgetItem([f"{'Kept' if done else 'To keep'} ({len(migration.kept)})", ""])
        for name in migration.kept:
            if name in given:
                what = "had no s3_url; its object is in S3, so it gets its URL"
            elif name in foreign:
                what = "kept as it is: a URL the app refuses (Check against S3 shows it)"
            else:
                what = "its object is in S3; its sync keys go"
            kept.addChild(QTreeWidgetItem([name, what]))
        self.plan.addTopLevelItem(kept)
        kept.setExpanded(True)
        if migration.dropped:
            word = "Dropped" if done else "To drop"
            dropped = QTreeWidgetItem([f"{word} ({len(migration.dropped)})", ""])
            for name in migration.dropped:
                why = "no object in S3: its local file was deleted with the S3-only change"
                dropped.addChild(QTreeWidgetItem([name, why]))
            self.plan.addTopLevelItem(dropped)
            dropped.setExpanded(True)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._running:
            self.cancel_requested.emit()
        super().closeEvent(event)

    def reject(self) -> None:
        if self._running:
            self.cancel_requested.emit()
        super().reject()
