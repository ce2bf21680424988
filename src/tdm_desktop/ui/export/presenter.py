"""File → Export good set…: the dialog, the progress with Cancel, and the summary at the end
(what was written, what was already there and skipped, what failed and why). The choices are
remembered in ``QSettings`` for the next export; the work runs in ``ExportController``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from tdm_desktop.core.export import ExportReport, report_lines
from tdm_desktop.core.export_layout import DEFAULT_REPEATS, ExportFormat, Include
from tdm_desktop.core.prompt_metadata import parse_actor_name
from tdm_desktop.core.quality import DEFAULT_TRAINING_RESOLUTION
from tdm_desktop.ui.common.messages import images_phrase
from tdm_desktop.ui.export.controller import ExportController, ExportRequest, ExportWork
from tdm_desktop.ui.export.dialog import ExportChoices, ExportDialog
from tdm_desktop.ui.settings.model import read_number

KEY_FORMAT = "export/format"
KEY_DESTINATION = "export/destination"
KEY_INCLUDE = "export/include"
KEY_REPEATS = "export/repeats"
KEY_TOML = "export/toml"
KEY_RESOLUTION = "export/resolution"
SUMMARY_LINES = 12  # in the box; all of them under "Show Details…"


class OpenActor(Protocol):
    """Which actor is open (``CurationController``)."""

    @property
    def actor_id(self) -> str | None: ...
    @property
    def actor_name(self) -> str: ...


def load_choices(settings: QSettings) -> ExportChoices:
    def choice(key: str, kind: type[ExportFormat] | type[Include], default):
        try:
            return kind(str(settings.value(key, default)))
        except ValueError:
            return default

    return ExportChoices(
        format=choice(KEY_FORMAT, ExportFormat, ExportFormat.AI_TOOLKIT),
        destination=str(settings.value(KEY_DESTINATION, "") or ""),
        include=choice(KEY_INCLUDE, Include, Include.GOOD),
        repeats=max(1, min(10_000, read_number(settings, KEY_REPEATS, DEFAULT_REPEATS))),
        toml=str(settings.value(KEY_TOML, "false")).lower() == "true",
        resolution=max(
            64, min(8192, read_number(settings, KEY_RESOLUTION, DEFAULT_TRAINING_RESOLUTION))
        ),
    )


def save_choices(settings: QSettings, choices: ExportChoices) -> None:
    settings.setValue(KEY_FORMAT, str(choices.format))
    settings.setValue(KEY_DESTINATION, choices.destination)
    settings.setValue(KEY_INCLUDE, str(choices.include))
    settings.setValue(KEY_REPEATS, choices.repeats)
    settings.setValue(KEY_TOML, "true" if choices.toml else "false")
    settings.setValue(KEY_RESOLUTION, choices.resolution)


def summary_title(report: ExportReport) -> str:
    if report.cancelled:
        return "Export cancelled"
    return "Export finished" if report.complete else "Export finished with problems"


class ExportPresenter(QObject):
    """Drives ``actionExport`` for the open actor; ``status_message(text, ms)``."""

    status_message = Signal(str, int)

    def __init__(
        self,
        window: QWidget,
        service: ExportWork,
        settings: QSettings,
        actor: OpenActor,
        action: QAction,
        *,
        counts: Callable[[], tuple[int, int]],
        trigger_word: Callable[[], str],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._settings = settings
        self._actor = actor
        self._action = action
        self._counts = counts
        self._trigger_word = trigger_word
        self.controller = ExportController(service, self)
        self.dialog: ExportDialog | None = None
        self.progress: QProgressDialog | None = None
        self.summary: QMessageBox | None = None
        self.controller.progress_changed.connect(self._on_progress)
        self.controller.finished.connect(self._on_finished)
        self.controller.failed.connect(self._on_failed)
        self.controller.busy_changed.connect(lambda _busy: self.update_action())
        self.update_action()

    def update_action(self) -> None:
        self._action.setEnabled(self._actor.actor_id is not None and not self.controller.is_busy())

    def open(self) -> None:
        """The dialog for the open actor (or the one already open)."""
        if self.dialog is not None:
            self.dialog.raise_()
            return
        actor_id, name = self._actor.actor_id, self._actor.actor_name
        if actor_id is None or self.controller.is_busy():
            return
        good, bad = self._counts()
        about = (
            f"{name}: {images_phrase(good)} not flagged bad, of {good + bad}, with their captions "
            f"(the generation prompt unless edited). Trigger word: {self._trigger_word() or name} "
            "(edit it in the header)."
        )
        dialog = ExportDialog(
            load_choices(self._settings),
            about,
            default_class_token=parse_actor_name(name).person,
            parent=self._window,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog
        dialog.accepted.connect(lambda: self._start(actor_id, dialog.choices()))
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        dialog.open()

    def _start(self, actor_id: str, choices: ExportChoices) -> None:
        save_choices(self._settings, choices)
        request = ExportRequest(actor_id, choices.destination, choices.options())
        if not self.controller.start(request):
            return
        progress = QProgressDialog(
            f"Exporting to {choices.destination}…", "Cancel", 0, 0, self._window
        )
        progress.setObjectName("exportProgress")
        progress.setWindowTitle("Export good set")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.canceled.connect(self._cancel)
        progress.show()
        self.progress = progress
        self.status_message.emit(f"Exporting to {choices.destination}…", 0)

    def _cancel(self) -> None:
        self.controller.cancel()
        if self.progress is not None:
            self.progress.setLabelText("Cancelling: the images in flight finish…")

    def _on_progress(self, done: int, total: int, name: str) -> None:
        progress = self.progress
        if progress is None or self.controller.is_cancelling():
            return
        # setValue may run the event loop (a window-modal progress does): set the text first.
        progress.setLabelText(f"Exporting {done} / {total}: {name}")
        progress.setMaximum(total)
        progress.setValue(done)

    def _close_progress(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def _on_finished(self, request: ExportRequest, report: ExportReport) -> None:
        self._close_progress()
        lines = report_lines(report, request.options.include)
        title = summary_title(report)
        icon = QMessageBox.Icon.Information if report.complete else QMessageBox.Icon.Warning
        self._show_summary(title, lines[-1], lines[:-1], icon)
        self.status_message.emit(f"{title}: {lines[-1]}", 10_000)

    def _on_failed(self, request: ExportRequest, message: str) -> None:
        self._close_progress()
        self._show_summary("Export failed", message, [], QMessageBox.Icon.Critical)
        self.status_message.emit(f"Export failed: {message}", 10_000)

    def _show_summary(
        self, title: str, text: str, details: list[str], icon: QMessageBox.Icon
    ) -> None:
        if self.summary is not None:
            self.summary.close()
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self._window)
        box.setObjectName("exportSummary")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if details:
            box.setInformativeText("\n".join(details[:SUMMARY_LINES]))
            if len(details) > SUMMARY_LINES:
                box.setDetailedText("\n".join(details))
        box.finished.connect(lambda _result: setattr(self, "summary", None))
        self.summary = box
        box.open()

    def shutdown(self, deadline: float) -> list[str]:
        """The window closes: an export stops after the images in flight (until ``deadline``,
        ``time.monotonic()``); the lines returned say one that had not stopped by then."""
        return self.controller.shutdown(deadline)
