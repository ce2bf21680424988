"""The question Check against S3… asks before deleting orphans from S3, as a modal box; the window
injects it as ``IntegrityQuestions``, tests inject answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QMessageBox, QWidget

ConfirmDeleteOrphans = Callable[[str, int], bool]
"""``(actor name, how many orphans) -> delete them?``"""


@dataclass
class IntegrityQuestions:
    confirm_delete_orphans: ConfirmDeleteOrphans


def orphans_question(actor_name: str, count: int) -> str:
    what = "1 orphan" if count == 1 else f"{count} orphans"
    return (
        f"Delete {what} of {actor_name} from S3?\n\n"
        f"{'It is' if count == 1 else 'They are'} under the actor's prefix but in no manifest, "
        "so nothing can bring them back: there is no undo."
    )


def message_box_questions(parent: QWidget) -> IntegrityQuestions:
    def confirm(actor_name: str, count: int) -> bool:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Delete orphans from S3")
        box.setText(orphans_question(actor_name, count))
        delete = box.addButton(f"Delete {count} from S3", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is delete

    return IntegrityQuestions(confirm)
