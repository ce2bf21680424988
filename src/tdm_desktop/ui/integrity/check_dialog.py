"""``checkDialog``: Check against S3…, its findings grouped by kind (each with its file, what it
is and what to do), the fixes one named kind at a time, and what a fix changed.

A view only: it shows what it is given and says what the curator asked for through signals
(``fix_requested(Fix)``, ``check_again_requested``, ``cancel_requested``, ``migrate_requested``);
``IntegrityPresenter`` decides. Object names, for tests and scripts: ``checkStatusLabel``,
``checkNoteLabel``, ``checkFindings`` (the tree), ``checkChanges`` (what a fix changed),
``checkCancelButton``, ``checkAgainButton``, ``checkMigrateButton``, and one button per fix:
``fixAdoptOrphans``, ``fixDeleteOrphans``, ``fixDropDangling``, ``fixSizes``, ``fixForgetStale``.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tdm_desktop.core.audit import KIND_ORDER, AuditReport
from tdm_desktop.core.repair import Fix
from tdm_desktop.ui.integrity.controller import CheckResult, RepairResult
from tdm_desktop.ui.integrity.findings import (
    FIX_NAMES,
    FIX_ORDER,
    KIND_TITLES,
    fix_offers,
    incomplete_note,
    repair_lines,
    repair_summary,
    report_summary,
    window_fix,
)

FIX_BUTTON_NAMES: Mapping[Fix, str] = {
    Fix.ADOPT_ORPHANS: "fixAdoptOrphans",
    Fix.DELETE_ORPHANS: "fixDeleteOrphans",
    Fix.DROP_DANGLING: "fixDropDangling",
    Fix.FIX_SIZES: "fixSizes",
    Fix.FORGET_STALE: "fixForgetStale",
}

NOTE_STYLE = (
    "QLabel#checkNoteLabel { background: #fff4e5; color: #663c00; border: 1px solid #ffd8a8;"
    " padding: 6px; border-radius: 4px; }"
)

FILE_COLUMN, WHAT_COLUMN, TODO_COLUMN = 0, 1, 2


def status_label(object_name: str) -> QLabel:
    """A dialog's first line: what it is doing or what it found, in bold."""
    label = QLabel()
    label.setObjectName(object_name)
    bold = QFont(label.font())
    bold.setBold(True)
    label.setFont(bold)
    label.setWordWrap(True)
    return label


def note_label(object_name: str) -> QLabel:
    """A line that needs reading (incomplete, read-only, failed), hidden while empty."""
    label = QLabel()
    label.setObjectName(object_name)
    label.setWordWrap(True)
    label.setStyleSheet(NOTE_STYLE.replace("checkNoteLabel", object_name))
    label.hide()
    return label


def busy_bar() -> QProgressBar:
    """A thin busy bar: how long a listing takes is not known beforehand."""
    bar = QProgressBar()
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.setMaximumHeight(8)
    return bar


class CheckDialog(QDialog):
    fix_requested = Signal(object)  # Fix
    check_again_requested = Signal()
    cancel_requested = Signal()
    migrate_requested = Signal()

    def __init__(self, actor_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("checkDialog")
        self.actor_id = actor_id
        self.setWindowTitle(f"Check against S3 — actor {actor_id}")
        self.resize(1100, 560)
        self._running = False

        self.status_label = status_label("checkStatusLabel")
        self.progress = busy_bar()
        self.note_label = note_label("checkNoteLabel")

        self.findings = QTreeWidget()
        self.findings.setObjectName("checkFindings")
        self.findings.setHeaderLabels(["File", "What", "What to do"])
        self.findings.setRootIsDecorated(True)
        self.findings.setUniformRowHeights(True)
        self.findings.setWordWrap(False)
        header = self.findings.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.findings.setColumnWidth(FILE_COLUMN, 280)
        self.findings.setColumnWidth(WHAT_COLUMN, 420)

        self.changes = QPlainTextEdit()
        self.changes.setObjectName("checkChanges")
        self.changes.setReadOnly(True)
        self.changes.setMaximumHeight(110)
        self.changes_label = QLabel("What the fix changed")
        self.changes_label.setBuddy(self.changes)
        self.changes.hide()
        self.changes_label.hide()

        self.fix_buttons: dict[Fix, QPushButton] = {}
        fix_row = QHBoxLayout()
        fix_row.addWidget(QLabel("Fix:"))
        for fix in FIX_ORDER:
            button = QPushButton()
            button.setObjectName(FIX_BUTTON_NAMES[fix])
            button.setAutoDefault(False)
            button.clicked.connect(lambda _checked=False, f=fix: self.fix_requested.emit(f))
            button.hide()
            self.fix_buttons[fix] = button
            fix_row.addWidget(button)
        fix_row.addStretch(1)
        self.fix_row_label = fix_row.itemAt(0).widget()

        buttons = QDialogButtonBox()
        self.migrate_button = buttons.addButton("Migrate…", QDialogButtonBox.ButtonRole.ActionRole)
        self.migrate_button.setObjectName("checkMigrateButton")
        self.migrate_button.hide()
        self.again_button = buttons.addButton("Check Again", QDialogButtonBox.ButtonRole.ActionRole)
        self.again_button.setObjectName("checkAgainButton")
        self.cancel_button = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setObjectName("checkCancelButton")
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName("checkCloseButton")
        for button in (self.migrate_button, self.again_button, self.cancel_button):
            button.setAutoDefault(False)
        self.migrate_button.clicked.connect(self.migrate_requested)
        self.again_button.clicked.connect(self.check_again_requested)
        self.cancel_button.clicked.connect(self._cancel)
        self.close_button.clicked.connect(self.close)

        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.note_label)
        layout.addWidget(self.findings, 1)
        layout.addWidget(self.changes_label)
        layout.addWidget(self.changes)
        layout.addLayout(fix_row)
        layout.addWidget(buttons)

    # -- what it shows ---------------------------------------------------------------------------

    def show_running(self, text: str) -> None:
        """A job runs: ``text`` says which; Cancel stops its listing; no fix may be pressed."""
        self._running = True
        self.status_label.setText(text)
        self.progress.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.close_button.hide()
        self.again_button.setEnabled(False)
        self.migrate_button.hide()
        for button in self.fix_buttons.values():
            button.setEnabled(False)

    def show_check(self, result: CheckResult) -> None:
        """A check's findings, and the fixes it offers."""
        self._idle()
        report = result.report
        self.setWindowTitle(f"Check against S3 — {report.actor_name}")
        self.status_label.setText(report_summary(report))
        self._show_findings(report)
        notes = []
        if not report.complete:
            notes.append(incomplete_note(report))
        elif result.read_only and report.findings:
            notes.append(f"Read-only: {result.read_only}: the fixes are off.")
        self._show_note(" ".join(notes))
        self._show_fixes(result)

    def show_repair(self, result: RepairResult) -> None:
        """What a fix changed, then the check made right after it (or why there is none)."""
        lines = repair_lines(result.outcome)
        head = f"{FIX_NAMES[result.fix]}: {repair_summary(result.outcome)}"
        self.changes.setPlainText("\n".join([head, *lines]))
        self.changes.show()
        self.changes_label.show()
        if result.after is not None:
            self.show_check(result.after)
            return
        self._idle()
        self.status_label.setText("Fixed; not checked again")
        self._show_note(result.after_problem or "")
        for button in self.fix_buttons.values():
            button.setEnabled(False)

    def show_failure(self, message: str, sync_era: bool = False) -> None:
        """The job failed: ``message`` says why; a sync-era manifest offers Migrate…."""
        self._idle()
        self.status_label.setText("Not checked")
        self._show_note(message)
        self.findings.clear()
        for button in self.fix_buttons.values():
            button.hide()
        self.fix_row_label.hide()
        self.migrate_button.setVisible(sync_era)

    def show_cancelled(self) -> None:
        self._idle()
        self.status_label.setText("Cancelled: nothing was changed")
        for button in self.fix_buttons.values():
            button.setEnabled(False)

    def is_running(self) -> bool:
        return self._running

    # -- the parts -----------------------------------------------------------------------------

    def _idle(self) -> None:
        self._running = False
        self.progress.hide()
        self.cancel_button.hide()
        self.close_button.show()
        self.again_button.setEnabled(True)

    def _show_note(self, text: str) -> None:
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))

    def _show_findings(self, report: AuditReport) -> None:
        self.findings.clear()
        bold = QFont(self.findings.font())
        bold.setBold(True)
        for kind in KIND_ORDER:
            found = report.of_kind(kind)
            if not found:
                continue
            title, meaning = KIND_TITLES[kind]
            group = QTreeWidgetItem([f"{title} ({len(found)})", meaning, ""])
            group.setData(FILE_COLUMN, Qt.ItemDataRole.UserRole, str(kind))
            group.setFont(FILE_COLUMN, bold)
            group.setFirstColumnSpanned(False)
            self.findings.addTopLevelItem(group)
            for finding in found:
                item = QTreeWidgetItem([finding.filename, finding.detail, window_fix(finding)])
                for column in (FILE_COLUMN, WHAT_COLUMN, TODO_COLUMN):
                    item.setToolTip(column, item.text(column))
                group.addChild(item)
            group.setExpanded(True)

    def _show_fixes(self, result: CheckResult) -> None:
        offers = {offer.fix: offer for offer in fix_offers(result.report, result.read_only)}
        for fix, button in self.fix_buttons.items():
            offer = offers.get(fix)
            button.setVisible(offer is not None)
            if offer is not None:
                button.setText(offer.label)
                button.setEnabled(offer.enabled)
                button.setToolTip(offer.tooltip)
        self.fix_row_label.setVisible(bool(offers))

    def found_rows(self) -> dict[str, list[tuple[str, str, str]]]:
        """What the tree shows: kind → (file, what, what to do) per finding (for tests)."""
        rows: dict[str, list[tuple[str, str, str]]] = {}
        for i in range(self.findings.topLevelItemCount()):
            group = self.findings.topLevelItem(i)
            kind = group.data(FILE_COLUMN, Qt.ItemDataRole.UserRole)
            rows[kind] = [
                tuple(group.child(j).text(c) for c in range(3))  # type: ignore[misc]
                for j in range(group.childCount())
            ]
        return rows

    # -- closing ---------------------------------------------------------------------------------

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.status_label.setText(f"{self.status_label.text()} — cancelling")
        self.cancel_requested.emit()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._running:
            self.cancel_requested.emit()  # closing while a listing runs stops it
        super().closeEvent(event)

    def reject(self) -> None:  # Esc
        if self._running:
            self.cancel_requested.emit()
        super().reject()
