"""The window's curation glue: flag / delete / copy on the grid's selection, where the current image
goes afterwards, the Delete All progress, and the reports of what stayed. Decisions about the data
live in ``curation.CurationController``; this only connects it to the grid and the curator."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QWidget

from tdm_desktop.ui.curation.controller import (
    ConfirmDelete,
    ConfirmDeleteAll,
    CurationController,
    DeleteResult,
    images_phrase,
)
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.grid.selection import GridSelection

ShowProblems = Callable[[str, Mapping[str, str]], None]


@dataclass
class WindowDialogs:
    """The questions and reports the window shows; tests inject answers instead of modal boxes."""

    confirm_delete: ConfirmDelete
    confirm_delete_all: ConfirmDeleteAll
    show_problems: ShowProblems


def problems_text(problems: Mapping[str, str]) -> str:
    return "\n".join(f"{name}: {reason}" for name, reason in problems.items())


def message_box_problems(parent: QWidget) -> ShowProblems:
    """The real report: a warning box listing the images that stayed."""

    def show(title: str, problems: Mapping[str, str]) -> None:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title)
        box.setText(f"{title}: {images_phrase(len(problems))} stayed in S3 and the manifest.")
        box.setDetailedText(problems_text(problems))
        box.setInformativeText(problems_text(dict(list(problems.items())[:10])))
        box.exec()

    return show


class CurationPanel(QObject):
    """Acts on ``selection`` through ``controller``; ``status_message(text, timeout_ms)`` for the
    status bar. Dialogs (the Delete All progress) are children of ``window``."""

    status_message = Signal(str, int)

    def __init__(
        self,
        window: QWidget,
        controller: CurationController,
        model: ImageGridModel,
        selection: GridSelection,
        show_problems: ShowProblems,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._controller = controller
        self._model = model
        self._selection = selection
        self._show_problems = show_problems
        self._after_delete: str | None = None
        self._progress: QProgressDialog | None = None
        controller.delete_finished.connect(self._on_delete_finished)
        controller.delete_all_started.connect(self._on_delete_all_started)
        controller.delete_all_finished.connect(self._on_delete_all_finished)
        controller.restore_finished.connect(self._on_restore_finished)

    def mark_good(self) -> None:
        self._selection.act_and_advance(lambda names: self._controller.mark(names, True))

    def mark_bad(self) -> None:
        self._selection.act_and_advance(lambda names: self._controller.mark(names, False))

    def toggle_flag(self) -> None:
        self._selection.act_and_advance(self._controller.toggle)

    def delete_selected(self) -> None:
        names = self._selection.selected_filenames()
        if not names:
            return
        target = self._selection.next_after_selection(names)
        if self._controller.delete(names):
            self._after_delete = target
            self.status_message.emit(f"Deleting {images_phrase(len(names))}…", 0)

    def delete_all(self) -> None:
        self._controller.delete_all()

    def copy_s3_urls(self) -> None:
        urls = []
        for name in self._selection.selected_filenames():
            image = self._model.image_at(self._model.row_of(name))
            if image is not None:
                urls.append(image.s3_url)
        if urls:
            QGuiApplication.clipboard().setText("\n".join(urls))
            self.status_message.emit(f"Copied {len(urls)} S3 URL(s)", 3000)

    def _on_delete_finished(self, result: DeleteResult) -> None:
        target, self._after_delete = self._after_delete, None
        if result.error is not None:  # already reported by the controller
            self.status_message.emit("Delete failed", 5000)
            return
        if result.deleted:
            self.status_message.emit(f"Deleted {images_phrase(len(result.deleted))}", 5000)
        if target is not None:
            self._selection.select_filename(target)
        elif not self._selection.has_current():
            self._selection.make_last_row_current()
        if result.problems:
            self._show_problems("Delete", result.problems)

    def _on_delete_all_started(self, actor_name: str, count: int) -> None:
        progress = QProgressDialog(
            f"Deleting {images_phrase(count)} of {actor_name}…", "", 0, 0, self._window
        )
        progress.setObjectName("deleteAllProgress")
        progress.setCancelButton(None)
        progress.setWindowTitle("Delete All")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.show()
        self._progress = progress

    def _on_delete_all_finished(self, result: DeleteResult) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress.deleteLater()
            self._progress = None
        if result.error is not None:  # already reported by the controller
            self.status_message.emit("Delete All failed", 5000)
            return
        self.status_message.emit(f"Deleted {images_phrase(len(result.deleted))}", 5000)
        self._selection.make_current_row(0)
        if result.problems:
            self._show_problems("Delete All", result.problems)

    def _on_restore_finished(self, result: DeleteResult) -> None:
        if result.deleted:
            self.status_message.emit(f"Restored {images_phrase(len(result.deleted))}", 5000)
            self._selection.select_filename(result.deleted[0])
