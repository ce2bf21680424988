"""Curation in the window: flag / delete / copy on the grid's selection, where the current image
goes afterwards, the Delete All progress, and the report of what stayed. Decisions about the data
live in ``CurationController``; this only connects it to the grid, the actions and the curator."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QProgressDialog, QWidget

from tdm_desktop.core.training_data import DeleteOutcome
from tdm_desktop.ui.common.messages import images_phrase
from tdm_desktop.ui.curation.controller import CurationController, delete_problems
from tdm_desktop.ui.curation.dialogs import ShowProblems
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.grid.selection import GridSelection
from tdm_desktop.ui.review.advance import NONE_LEFT, next_unreviewed_shown


class CurationPresenter(QObject):
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
        controller.delete_failed.connect(self._on_delete_failed)
        controller.delete_all_started.connect(self._on_delete_all_started)
        controller.delete_all_finished.connect(self._on_delete_all_finished)
        controller.delete_all_failed.connect(self._close_progress)
        controller.restore_finished.connect(self._on_restore_finished)

    def mark_good(self) -> None:
        self._decide(lambda names: self._controller.mark(names, True))

    def mark_bad(self) -> None:
        self._decide(lambda names: self._controller.mark(names, False))

    def toggle_flag(self) -> None:
        self._decide(self._controller.toggle)

    def _decide(self, act: Callable[[list[str]], bool]) -> None:
        """Act on the selection, then go to the next unreviewed image in the grid's order
        (wrapping); when none is left, stay and say so."""
        none_left = False

        def next_for(names: list[str]) -> str | None:
            nonlocal none_left
            after = self._selection.row_of(names[-1])
            target = next_unreviewed_shown(self._selection, self._model, after, names)
            none_left = target is None
            return target

        self._selection.act_and_advance(act, next_for)
        if none_left:
            self.status_message.emit(NONE_LEFT, 5000)

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

    def _on_delete_finished(self, outcome: DeleteOutcome) -> None:
        target, self._after_delete = self._after_delete, None
        if outcome.deleted:
            self.status_message.emit(f"Deleted {images_phrase(len(outcome.deleted))}", 5000)
        if target is not None:
            self._selection.select_filename(target)
        elif not self._selection.has_current():
            self._selection.make_last_row_current()
        problems = delete_problems(outcome)
        if problems:
            self._show_problems("Delete", problems)

    def _on_delete_failed(self) -> None:
        """The controller reported why; nothing was deleted, so the current image stays."""
        self._after_delete = None
        self.status_message.emit("", 0)  # the "Deleting…" line ends

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

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress.deleteLater()
            self._progress = None

    def _on_delete_all_finished(self, outcome: DeleteOutcome) -> None:
        self._close_progress()
        self.status_message.emit(f"Deleted {images_phrase(len(outcome.deleted))}", 5000)
        self._selection.make_current_row(0)
        problems = delete_problems(outcome)
        if problems:
            self._show_problems("Delete All", problems)

    def _on_restore_finished(self, restored: list[str]) -> None:
        if restored:
            self.status_message.emit(f"Restored {images_phrase(len(restored))}", 5000)
            self._selection.select_filename(restored[0])
