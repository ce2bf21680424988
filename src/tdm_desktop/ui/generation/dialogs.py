"""The dialogs of ✨ / 🎨: the prompt dialog, 🎨's progress, and the injectable questions and
reports around them (tests answer instead of modal boxes)."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QCloseEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tdm_desktop.core.generation import GenerationReport
from tdm_desktop.ui.generation.controller import (
    ALL_TITLE,
    SINGLE_TITLE,
    GenerationController,
    GenerationProgress,
    SingleRequest,
)

MAX_SEED = 2**31 - 1
BASE_PREVIEW = 96
MAX_LISTED_FAILURES = 10


class GenerateSingleDialog(QDialog):
    """✨: a prompt (from the actor's list or typed), a seed or random, a negative prompt; shows the
    base image (or says txt2img) and the generator in use."""

    def __init__(
        self,
        actor_name: str,
        prompts: Sequence[str],
        generator_name: str,
        parent: QWidget | None = None,
        *,
        has_base_image: bool = False,
        base_preview: QImage | None = None,
    ) -> None:
        """``has_base_image``: generation will start from the actor's base image (img2img).
        ``base_preview`` is that image, already decoded at ``BASE_PREVIEW`` off the GUI thread;
        without it the dialog says img2img without showing it."""
        super().__init__(parent)
        self.setObjectName("generateSingleDialog")
        self.setWindowTitle(f"{SINGLE_TITLE}: {actor_name}")
        self.setMinimumWidth(680)

        self.prompt_combo = QComboBox()
        self.prompt_combo.setObjectName("promptCombo")
        self.prompt_combo.setEditable(True)
        self.prompt_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.prompt_combo.addItems(list(prompts))
        self.prompt_combo.lineEdit().setPlaceholderText("Pick a prompt or write one")
        self.prompt_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.prompt_combo.setMinimumContentsLength(40)

        self.seed_spin = QSpinBox()
        self.seed_spin.setObjectName("seedSpin")
        self.seed_spin.setRange(0, MAX_SEED)
        self.seed_spin.setValue(random.randrange(MAX_SEED))
        self.random_seed_check = QCheckBox("random")
        self.random_seed_check.setObjectName("randomSeedCheck")
        self.random_seed_check.setChecked(True)
        self.random_seed_check.toggled.connect(lambda on: self.seed_spin.setEnabled(not on))
        self.seed_spin.setEnabled(False)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.random_seed_check)

        self.negative_edit = QLineEdit()
        self.negative_edit.setObjectName("negativePromptEdit")
        self.negative_edit.setPlaceholderText("optional, e.g. blurry, extra fingers")

        self.base_image_label = QLabel()
        self.base_image_label.setObjectName("baseImagePreview")
        self.base_image_label.setAlignment(
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.base_image_label.setMinimumHeight(BASE_PREVIEW)
        self._show_base_image(has_base_image, base_preview)

        self.generator_label = QLabel(generator_name)
        self.generator_label.setObjectName("generatorLabel")

        form = QFormLayout()
        form.addRow("&Prompt:", self.prompt_combo)
        form.addRow("Seed:", seed_row)
        form.addRow("&Negative prompt:", self.negative_edit)
        form.addRow("Base image:", self.base_image_label)
        form.addRow("Generator:", self.generator_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Generate")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.prompt_combo.editTextChanged.connect(self._update_ok)
        self.prompt_combo.currentIndexChanged.connect(self._show_prompt_start)
        self._show_prompt_start()
        self._update_ok()

    def request(self) -> SingleRequest:
        seed = None if self.random_seed_check.isChecked() else self.seed_spin.value()
        return SingleRequest(
            prompt=self.prompt_combo.currentText().strip(),
            seed=seed,
            negative_prompt=self.negative_edit.text().strip(),
        )

    def _show_prompt_start(self, *_args: object) -> None:
        self.prompt_combo.lineEdit().setCursorPosition(0)  # long prompts: show how they begin

    def _update_ok(self, *_args: object) -> None:
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(bool(self.prompt_combo.currentText().strip()))

    def _show_base_image(self, has_base_image: bool, preview: QImage | None) -> None:
        if not has_base_image:
            self.base_image_label.setText("no base image: txt2img")
            return
        if preview is None or preview.isNull():
            self.base_image_label.setText("the actor's base image (img2img)")
        else:
            self.base_image_label.setPixmap(QPixmap.fromImage(preview))
        self.base_image_label.setToolTip("img2img from the actor's base image")


class GenerateAllProgressDialog(QDialog):
    """🎨's non-modal progress: done, failed, remaining, the last file; Cancel stops after the
    image in flight. Follows ``controller`` and closes itself when the run ends."""

    def __init__(
        self,
        controller: GenerationController,
        actor_name: str,
        generator_name: str,
        total: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("generateAllProgress")
        self.setWindowTitle(f"{ALL_TITLE}: {actor_name}")
        self.setModal(False)
        self.setMinimumWidth(460)
        self._controller = controller

        self.heading = QLabel(f"Generating {total} images for {actor_name} with {generator_name}")
        self.heading.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setObjectName("generationProgressBar")
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(0)
        self.counts_label = QLabel()
        self.counts_label.setObjectName("generationCounts")
        self.last_label = QLabel("Last file: none yet")
        self.last_label.setObjectName("generationLastFile")
        self.last_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelGenerationButton")
        self.cancel_button.setToolTip("Finish the image in flight, then stop")
        self.cancel_button.clicked.connect(self._cancel)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.bar)
        layout.addWidget(self.counts_label)
        layout.addWidget(self.last_label)
        layout.addLayout(buttons)

        self.show_progress(GenerationProgress(0, 0, total))
        controller.progress_changed.connect(self.show_progress)
        controller.all_finished.connect(self._finished)
        controller.generation_failed.connect(self._finished)

    @Slot(object)
    def show_progress(self, progress: GenerationProgress) -> None:
        self.bar.setMaximum(max(1, progress.total))
        self.bar.setValue(progress.done + progress.failed)
        self.counts_label.setText(
            f"Done {progress.done} · failed {progress.failed} · remaining {progress.remaining}"
        )
        if progress.last_filename:
            self.last_label.setText(f"Last file: {progress.last_filename}")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._controller.is_busy():  # closing the window is asking to stop
            self._cancel()
            event.ignore()
            return
        super().closeEvent(event)

    def reject(self) -> None:  # Esc
        if self._controller.is_busy():
            self._cancel()
            return
        super().reject()

    def _cancel(self) -> None:
        self._controller.cancel()
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Stopping after the image in flight…")

    def _finished(self, *_args: object) -> None:
        self._disconnect()
        self.done(QDialog.DialogCode.Accepted)
        self.deleteLater()

    def _disconnect(self) -> None:
        for signal, slot in (
            (self._controller.progress_changed, self.show_progress),
            (self._controller.all_finished, self._finished),
            (self._controller.generation_failed, self._finished),
        ):
            with contextlib.suppress(RuntimeError, TypeError):
                signal.disconnect(slot)


def report_text(report: GenerationReport) -> tuple[str, str]:
    """The summary line and the failures, prompt by prompt (one per line)."""
    lines = [f"{prompt}: {message}" for prompt, message in report.failed]
    return report.summary(), "\n".join(lines)


ConfirmGenerateAll = Callable[[str, int, str], bool]
"""``(actor_name, image_count, generator_name) -> go ahead?``"""
ShowReport = Callable[[str, GenerationReport], None]
"""``(actor_name, report)``: the summary at the end of 🎨."""
ShowError = Callable[[str, str], None]
"""``(title, message)``."""


@dataclass
class GenerationQuestions:
    """The questions and reports around generation; tests inject answers instead of modal boxes."""

    confirm_all: ConfirmGenerateAll
    show_report: ShowReport
    show_error: ShowError


def confirm_all_text(actor_name: str, count: int, generator_name: str) -> str:
    return f"Generate {count} images for {actor_name} with {generator_name}?"


def message_box_questions(parent: QWidget) -> GenerationQuestions:
    """The real, modal questions and reports."""

    def confirm(actor_name: str, count: int, generator_name: str) -> bool:
        answer = QMessageBox.question(
            parent,
            ALL_TITLE,
            confirm_all_text(actor_name, count, generator_name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Yes,
        )
        return answer == QMessageBox.StandardButton.Yes

    def report(actor_name: str, result: GenerationReport) -> None:
        summary, failures = report_text(result)
        box = QMessageBox(parent)
        box.setObjectName("generationSummary")
        box.setWindowTitle(ALL_TITLE)
        box.setIcon(QMessageBox.Icon.Warning if result.failed else QMessageBox.Icon.Information)
        box.setText(f"{summary} for {actor_name}.")
        if failures:
            shown = failures.splitlines()[:MAX_LISTED_FAILURES]
            more = len(result.failed) - len(shown)
            box.setInformativeText("\n".join(shown) + (f"\n… and {more} more" if more else ""))
            box.setDetailedText(failures)
        box.exec()

    def error(title: str, message: str) -> None:
        QMessageBox.warning(parent, title, message)

    return GenerationQuestions(confirm, report, error)
