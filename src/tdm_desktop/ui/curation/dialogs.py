"""The questions and reports around curation, as modal boxes: Delete (with "Don't ask again this
session"), Delete All, and the list of images a delete left behind. The window injects them as
``CurationQuestions``; tests inject answers instead of modal boxes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import QCheckBox, QMessageBox, QWidget

from tdm_desktop.ui.common.messages import images_phrase
from tdm_desktop.ui.curation.controller import ConfirmDelete, ConfirmDeleteAll

ShowProblems = Callable[[str, Mapping[str, str]], None]
"""``(title, {filename: why it stayed})``."""


@dataclass
class CurationQuestions:
    """What curation asks and reports."""

    confirm_delete: ConfirmDelete
    confirm_delete_all: ConfirmDeleteAll
    show_problems: ShowProblems


def message_box_questions(parent: QWidget) -> CurationQuestions:
    """The real, modal questions and reports."""
    return CurationQuestions(
        SessionDeleteConfirmer(parent),
        confirm_delete_all_dialog(parent),
        message_box_problems(parent),
    )


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


class SessionDeleteConfirmer:
    """The Delete question, with "Don't ask again this session" (asked again anyway when the
    delete could not be undone)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        self._parent = parent
        self.ask = True

    def __call__(self, filenames: Sequence[str], actor_name: str, undoable: bool = True) -> bool:
        if not self.ask and undoable:
            return True
        box = QMessageBox(self._parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Delete images")
        what = filenames[0] if len(filenames) == 1 else images_phrase(len(filenames))
        box.setText(f"Delete {what} of {actor_name} from S3 and the manifest?")
        if undoable:
            box.setInformativeText("Edit ▸ Undo brings them back while the app stays open.")
        else:
            box.setInformativeText(
                "This cannot be undone: the images are more than the undo memory holds "
                "(Settings… › Undo memory)."
            )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        check = QCheckBox("Don't ask again this session")
        box.setCheckBox(check)
        go = box.exec() == QMessageBox.StandardButton.Yes
        if go and check.isChecked():
            self.ask = False
        return go


def confirm_delete_all_dialog(parent: QWidget | None) -> ConfirmDeleteAll:
    def confirm(actor_name: str, count: int) -> bool:
        answer = QMessageBox.warning(
            parent,
            "Delete all images",
            f"Delete all {images_phrase(count)} of {actor_name} from S3 and the manifest?\n\n"
            "This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        return answer == QMessageBox.StandardButton.Yes

    return confirm
