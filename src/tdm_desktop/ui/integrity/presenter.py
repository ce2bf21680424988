"""Check against S3… and Migrate… in the window: which actor they act on, the dialogs, the
question before deleting orphans, the actor list's marks, and reloading what a fix or a
migration changed. The work runs in ``IntegrityController``.

Both act on the actor selected in the list (the open one, or one that could not be opened, such
as a manifest written before the S3-only change). After a fix the open actor is read again once,
through the watcher that follows its documents (so the change is not read twice); another actor's
row is refreshed by listing the actors again. After a migration the actor is opened, then the
list read again (its row no longer says "to migrate").
"""

from __future__ import annotations

import logging
from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QListView, QWidget

from tdm_desktop.core.repair import FIXES_KIND, Fix
from tdm_desktop.core.training_data import ActorTrainingData
from tdm_desktop.ui.actors.list_widget import SyncEraRole
from tdm_desktop.ui.integrity.check_dialog import CheckDialog
from tdm_desktop.ui.integrity.controller import (
    CheckResult,
    IntegrityController,
    IntegritySource,
    MigrationResult,
    RepairResult,
)
from tdm_desktop.ui.integrity.delegate import CheckMarkDelegate
from tdm_desktop.ui.integrity.findings import FIX_NAMES, findings_count, findings_phrase
from tdm_desktop.ui.integrity.migrate_dialog import MigrateDialog
from tdm_desktop.ui.integrity.questions import IntegrityQuestions, message_box_questions

log = logging.getLogger(__name__)

STATUS_MS = 8000


class ActorRows(Protocol):
    """The actor list (``ActorListWidget``)."""

    list_view: QListView

    def current_actor_id(self) -> str | None: ...


class StateWatcher(Protocol):
    def check_now(self) -> None: ...


class ActorReloads(Protocol):
    """The open actor and reading it again (``ActorSessionController``)."""

    watcher: StateWatcher
    actors_listed: Signal
    opened: Signal

    @property
    def actor_id(self) -> str | None: ...
    def reload_actor_list(self) -> None: ...
    def load_actor(self, actor_id: str) -> None: ...


class IntegrityPresenter(QObject):
    """Drives ``actionCheckAgainstS3`` and ``actionMigrate``. ``status_message(text, ms)`` for
    the status bar. ``check_dialog`` / ``migrate_dialog``: the dialog shown last (or None)."""

    status_message = Signal(str, int)

    def __init__(
        self,
        window: QWidget,
        service: IntegritySource,
        session: ActorReloads,
        actor_rows: ActorRows,
        check_action: QAction,
        migrate_action: QAction,
        *,
        questions: IntegrityQuestions | None = None,
        controller: IntegrityController | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._session = session
        self._rows = actor_rows
        self._questions = questions or message_box_questions(window)
        self.controller = controller or IntegrityController(service, parent=self)
        self.check_action = check_action
        self.migrate_action = migrate_action
        self.check_dialog: CheckDialog | None = None
        self.migrate_dialog: MigrateDialog | None = None
        self._relist_when_open: str | None = None

        self.delegate = CheckMarkDelegate(self.controller, actor_rows.list_view)
        actor_rows.list_view.setItemDelegate(self.delegate)
        check_action.triggered.connect(lambda _checked=False: self.check())
        migrate_action.triggered.connect(lambda _checked=False: self.migrate())
        c = self.controller
        c.mark_changed.connect(lambda _actor_id: actor_rows.list_view.viewport().update())
        c.checked.connect(self._on_checked)
        c.repaired.connect(self._on_repaired)
        c.migration_read.connect(self._on_migration_read)
        c.migrated.connect(self._on_migrated)
        c.failed.connect(self._on_failed)
        c.cancelled.connect(self._on_cancelled)
        actor_rows.list_view.selectionModel().currentChanged.connect(self.update_actions)
        session.actors_listed.connect(self.update_actions)
        session.opened.connect(self._on_opened)
        self.update_actions()

    # -- which actor -----------------------------------------------------------------------------

    def target(self) -> str | None:
        """The actor selected in the list, else the open one."""
        return self._rows.current_actor_id() or self._session.actor_id

    def _target_is_sync_era(self) -> bool:
        index = self._rows.list_view.currentIndex()
        return bool(index.isValid() and index.data(SyncEraRole))

    def update_actions(self, *_args: object) -> None:
        target = self.target()
        self.check_action.setEnabled(target is not None)
        self.migrate_action.setEnabled(target is not None and self._target_is_sync_era())

    # -- Check against S3… -----------------------------------------------------------------------

    def check(self) -> None:
        actor_id = self.target()
        if actor_id is None:
            return
        dialog = self._new_check_dialog(actor_id)
        if not self.controller.check(actor_id):
            self._busy()
            dialog.close()
            return
        dialog.show_running(f"Checking actor {actor_id} against S3: listing its prefix…")
        self.status_message.emit(f"Checking actor {actor_id} against S3…", 0)

    def _new_check_dialog(self, actor_id: str) -> CheckDialog:
        if self.check_dialog is not None:
            self.check_dialog.close()
            self.check_dialog.deleteLater()
        dialog = self.check_dialog = CheckDialog(actor_id, self._window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.fix_requested.connect(self._fix)
        dialog.check_again_requested.connect(lambda: self._check_again(dialog))
        dialog.cancel_requested.connect(self.controller.cancel)
        dialog.migrate_requested.connect(lambda: self._migrate_from(dialog))
        dialog.show()
        return dialog

    def _check_again(self, dialog: CheckDialog) -> None:
        if self.controller.check(dialog.actor_id):
            dialog.show_running(f"Checking actor {dialog.actor_id} against S3 again…")

    def _fix(self, fix: Fix) -> None:
        dialog = self.check_dialog
        if dialog is None:
            return
        only = None
        if fix is Fix.DELETE_ORPHANS:  # exactly the orphans the curator saw and confirmed
            last = self.controller.last_check(dialog.actor_id)
            if last is None:
                return
            only = {f.filename for f in last.report.of_kind(FIXES_KIND[fix]) if f.repairable}
            if not only or not self._questions.confirm_delete_orphans(
                last.report.actor_name, len(only)
            ):
                return
        if self.controller.repair(dialog.actor_id, fix, only):
            dialog.show_running(f"{FIX_NAMES[fix]}: checking S3 afresh, then fixing…")
            self.status_message.emit(f"{FIX_NAMES[fix]} for actor {dialog.actor_id}…", 0)

    def _dialog_for(self, actor_id: str) -> CheckDialog | None:
        dialog = self.check_dialog
        return dialog if dialog is not None and dialog.actor_id == actor_id else None

    def _on_checked(self, actor_id: str, result: CheckResult) -> None:
        report = result.report
        if report.clean:
            text = f"{report.actor_name}: clean, the manifest and S3 match"
        elif not report.complete:
            text = f"{report.actor_name}: the check is incomplete (the listing stopped)"
        else:
            found = findings_count(len(report.findings))
            text = f"{report.actor_name}: {found} ({findings_phrase(report.findings)})"
        self.status_message.emit(text, STATUS_MS)
        dialog = self._dialog_for(actor_id)
        if dialog is not None:
            dialog.show_check(result)

    def _on_repaired(self, actor_id: str, result: RepairResult) -> None:
        if actor_id == self._session.actor_id:
            self._session.watcher.check_now()  # changed: read again, once
        else:
            self._session.reload_actor_list()
        done = len(result.outcome.done)
        self.status_message.emit(f"{FIX_NAMES[result.fix]}: {done} changed", STATUS_MS)
        dialog = self._dialog_for(actor_id)
        if dialog is not None:
            dialog.show_repair(result)

    def _on_failed(self, actor_id: str, message: str, sync_era: bool) -> None:
        self.status_message.emit(message, STATUS_MS)
        check = self._dialog_for(actor_id)
        if check is not None and check.is_running():
            check.show_failure(message, sync_era)
        migrate = self.migrate_dialog
        if migrate is not None and migrate.actor_id == actor_id and migrate.is_running():
            migrate.show_failure(message)

    def _on_cancelled(self, actor_id: str) -> None:
        self.status_message.emit(f"Actor {actor_id}: cancelled, nothing was changed", STATUS_MS)
        check = self._dialog_for(actor_id)
        if check is not None and check.is_running():
            check.show_cancelled()
        migrate = self.migrate_dialog
        if migrate is not None and migrate.actor_id == actor_id and migrate.is_running():
            migrate.show_cancelled()

    def _busy(self) -> None:
        self.status_message.emit(
            "A check, fix or migration is still running: wait for it, or cancel it", STATUS_MS
        )

    # -- Migrate… --------------------------------------------------------------------------------

    def migrate(self, actor_id: str | None = None) -> None:
        actor_id = actor_id or self.target()
        if actor_id is None:
            return
        if self.migrate_dialog is not None:
            self.migrate_dialog.close()
            self.migrate_dialog.deleteLater()
        dialog = self.migrate_dialog = MigrateDialog(actor_id, self._window)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.migrate_requested.connect(lambda: self._start_migration(dialog))
        dialog.cancel_requested.connect(self.controller.cancel)
        dialog.show()
        if not self.controller.read_migration(actor_id):
            self._busy()
            dialog.close()
            return
        dialog.show_running(
            f"Reading actor {actor_id}'s manifest and listing its S3 prefix (a dry run: "
            "nothing is written)…"
        )

    def _migrate_from(self, check: CheckDialog) -> None:
        check.close()
        self.migrate(check.actor_id)

    def _start_migration(self, dialog: MigrateDialog) -> None:
        if self.controller.migrate(dialog.actor_id):
            dialog.show_running(f"Migrating actor {dialog.actor_id}…")

    def _on_migration_read(self, actor_id: str, result: MigrationResult) -> None:
        dialog = self.migrate_dialog
        if dialog is not None and dialog.actor_id == actor_id:
            dialog.show_plan(result)

    def _on_migrated(self, actor_id: str, result: MigrationResult) -> None:
        dialog = self.migrate_dialog
        if dialog is not None and dialog.actor_id == actor_id:
            dialog.show_migrated(result)
        if result.outcome.written:
            self.status_message.emit(f"Actor {actor_id} migrated: opening it", STATUS_MS)
            self._relist_when_open = actor_id  # once open, the list is read again with it
            self._session.load_actor(actor_id)

    def _on_opened(self, data: ActorTrainingData) -> None:
        if self._relist_when_open is not None and data.actor_id == self._relist_when_open:
            self._relist_when_open = None
            self._session.reload_actor_list()

    # -- closing ---------------------------------------------------------------------------------

    def close(self, deadline: float) -> list[str]:
        """The window closes: stop a listing that runs; a job still running at ``deadline``
        (``time.monotonic()``) is left to end unseen. Returns what the curator should know."""
        for dialog in (self.check_dialog, self.migrate_dialog):
            if dialog is not None:
                dialog.close()
        return self.controller.shutdown(deadline)
