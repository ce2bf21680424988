"""✨ Generate Single Image and 🎨 Generate All Prompts: the dialogs and a small controller.

``GenerationController`` runs ``GenerationService.generate`` / ``generate_all`` on a one-thread
``JobRunner`` (never on the GUI thread) and reports on the GUI thread through signals; the worker's
``on_progress`` crosses threads by emitting a queued signal. Cancel sets an event that
``should_stop`` reads, so the image in flight finishes and nothing after it starts.
The window (``main_window.py``) only wires the actions, the grid refresh and these dialogs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Qt, Signal, Slot
from PySide6.QtGui import QImage, QImageReader, QPixmap
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

from tdm_desktop.core.actors import BaseImage
from tdm_desktop.core.errors import one_line
from tdm_desktop.core.generation import GeneratedImage, GenerationReport, GenerationService
from tdm_desktop.generators.base import GenerationRequest, GenerationResult, Generator
from tdm_desktop.ui.jobs import JobRunner
from tdm_desktop.ui.settings_dialog import AppSettings

log = logging.getLogger(__name__)

SINGLE_TITLE = "✨ Generate Single Image"
ALL_TITLE = "🎨 Generate All Prompts"
MAX_SEED = 2**31 - 1
BASE_PREVIEW = 96
MAX_LISTED_FAILURES = 10

GeneratorFactory = Callable[[AppSettings], Generator]
"""Builds the generator the settings choose (tests inject a fast fake)."""


# -- generators from settings ----------------------------------------------------------------------


class DenoisingGenerator:
    """Passes every request to ``inner`` with the configured img2img denoising strength."""

    def __init__(self, inner: Generator, denoising_strength: float) -> None:
        self.inner = inner
        self.name = inner.name
        self.denoising_strength = denoising_strength

    @property
    def display_url(self) -> str | None:
        return getattr(self.inner, "display_url", None)

    def generate(self, request: GenerationRequest) -> GenerationResult:
        strength = self.denoising_strength
        return self.inner.generate(dataclasses.replace(request, denoising_strength=strength))


def make_generator(values: AppSettings, env: Mapping[str, str] = os.environ) -> Generator:
    """The generator ``values`` choose. A1111 auth, sampler and timeout still come from ``env``.

    Raises ``BadInputError`` for an unknown name or an unusable setting.
    """
    from tdm_desktop.generators import get_generator

    if values.generator != "a1111":
        return get_generator(values.generator, env)
    chosen = {**env, "TDM_A1111_URL": values.a1111_url, "TDM_A1111_STEPS": str(values.steps)}
    return DenoisingGenerator(get_generator("a1111", chosen), values.denoising_strength)


def generator_label(generator: Generator) -> str:
    """``placeholder`` or ``a1111 (http://127.0.0.1:7860)``: what the dialogs name."""
    url = getattr(generator, "display_url", None)
    return f"{generator.name} ({url})" if url else generator.name


# -- values ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SingleRequest:
    """What the ✨ dialog asks for. ``seed=None``: a random one."""

    prompt: str
    seed: int | None = None
    negative_prompt: str = ""


@dataclass(frozen=True)
class GenerationProgress:
    """Where a 🎨 run is: images done and failed of ``total``; the last file that landed."""

    done: int
    failed: int
    total: int
    last_filename: str | None = None

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed


def report_text(report: GenerationReport) -> tuple[str, str]:
    """The summary line and the failures, prompt by prompt (one per line)."""
    lines = [f"{prompt}: {message}" for prompt, message in report.failed]
    return report.summary(), "\n".join(lines)


# -- the controller ----------------------------------------------------------------------------------


class GenerationController(QObject):
    """Runs one generation at a time in the background; results come back as signals."""

    busy_changed = Signal(bool)
    single_finished = Signal(str, object)  # actor_id, GeneratedImage
    image_landed = Signal(str, object)  # actor_id, GeneratedImage (each 🎨 image as it lands)
    progress_changed = Signal(object)  # GenerationProgress
    all_finished = Signal(str, object)  # actor_id, GenerationReport
    generation_failed = Signal(str, str)  # title, one-line message
    _progress_reported = Signal(str, int, int, int, object)  # from the worker thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs = JobRunner(max_threads=1, parent=self)
        self._busy = False
        self._stop = threading.Event()
        self._progress_reported.connect(self._on_progress_reported)

    def is_busy(self) -> bool:
        return self._busy

    def is_stopping(self) -> bool:
        return self._stop.is_set()

    def wait_for_jobs(self, msecs: int = -1) -> bool:
        return self._jobs.wait_for_done(msecs)

    def generate_single(
        self, service: GenerationService, actor_id: str, request: SingleRequest
    ) -> bool:
        """Start one image; False when a generation is already running."""
        if self._busy:
            return False
        self._set_busy(True)
        self._jobs.run(
            lambda: service.generate(
                actor_id, request.prompt, seed=request.seed, negative_prompt=request.negative_prompt
            ),
            on_result=lambda image: self._single_done(actor_id, image),
            on_error=lambda error: self._failed(SINGLE_TITLE, error),
        )
        return True

    def generate_all(
        self, service: GenerationService, actor_id: str, prompts: Sequence[str]
    ) -> bool:
        """Start one image per prompt; False when a generation is already running."""
        if self._busy:
            return False
        prompts = list(prompts)
        self._stop.clear()
        self._set_busy(True)
        emit = self._progress_reported.emit

        def progress(done: int, failed: int, total: int, last: GeneratedImage | None) -> None:
            emit(actor_id, done, failed, total, last)  # queued to the GUI thread

        self.progress_changed.emit(GenerationProgress(0, 0, len(prompts)))
        self._jobs.run(
            lambda: service.generate_all(
                actor_id, prompts, on_progress=progress, should_stop=self._stop.is_set
            ),
            on_result=lambda report: self._all_done(actor_id, report),
            on_error=lambda error: self._failed(ALL_TITLE, error),
        )
        return True

    @Slot()
    def cancel(self) -> None:
        """🎨 Cancel: the image in flight finishes, no new one starts."""
        if self._busy and not self._stop.is_set():
            log.info("generation: stopping after the image in flight")
            self._stop.set()

    @Slot(str, int, int, int, object)
    def _on_progress_reported(
        self, actor_id: str, done: int, failed: int, total: int, last: object
    ) -> None:
        image = last if isinstance(last, GeneratedImage) else None
        if image is not None:
            self.image_landed.emit(actor_id, image)
        name = image.filename if image is not None else None
        self.progress_changed.emit(GenerationProgress(done, failed, total, name))

    def _single_done(self, actor_id: str, image: GeneratedImage) -> None:
        self._set_busy(False)
        self.single_finished.emit(actor_id, image)

    def _all_done(self, actor_id: str, report: GenerationReport) -> None:
        self._set_busy(False)
        self.all_finished.emit(actor_id, report)

    def _failed(self, title: str, error: BaseException) -> None:
        self._set_busy(False)
        self.generation_failed.emit(title, one_line(error))

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)


# -- the dialogs -------------------------------------------------------------------------------------


class GenerateSingleDialog(QDialog):
    """✨: a prompt (from the actor's list or typed), a seed or random, a negative prompt; shows the
    base image (or says txt2img) and the generator in use."""

    def __init__(
        self,
        actor_name: str,
        prompts: Sequence[str],
        base_image: BaseImage | None,
        generator_name: str,
        parent: QWidget | None = None,
        *,
        base_preview: QImage | None = None,
    ) -> None:
        """``base_preview`` is the base image already decoded and scaled off the GUI thread
        (``load_base_preview``); without it the dialog names the file but does not decode it."""
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
        self._show_base_image(base_image, base_preview)

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

    def _show_base_image(self, path: BaseImage | None, preview: QImage | None) -> None:
        if path is None:
            self.base_image_label.setText("no base image: txt2img")
            return
        if preview is None or preview.isNull():
            self.base_image_label.setText(f"{path.name} (img2img)")
        else:
            self.base_image_label.setPixmap(QPixmap.fromImage(preview))
        self.base_image_label.setToolTip(f"{path} (img2img)")


def load_base_preview(base: BaseImage | None) -> QImage | None:
    """The base image read (from its folder or S3) and decoded at preview size, for a worker
    thread (``QImageReader`` scales while decoding); None when there is none."""
    if base is None:
        return None
    buffer = QBuffer()
    buffer.setData(QByteArray(base.read()))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    size = reader.size()
    if size.isValid():
        reader.setScaledSize(
            size.scaled(BASE_PREVIEW, BASE_PREVIEW, Qt.AspectRatioMode.KeepAspectRatio)
        )
    image = reader.read()
    return None if image.isNull() else image


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

    def closeEvent(self, event: Any) -> None:
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


# -- questions and reports (injectable) ----------------------------------------------------------


ConfirmGenerateAll = Callable[[str, int, str], bool]
"""``(actor_name, image_count, generator_name) -> go ahead?``"""
ShowReport = Callable[[str, GenerationReport], None]
"""``(actor_name, report)``: the summary at the end of 🎨."""
ShowError = Callable[[str, str], None]
"""``(title, message)``."""


@dataclass
class GenerationDialogs:
    """The questions and reports around generation; tests inject answers instead of modal boxes."""

    confirm_all: ConfirmGenerateAll
    show_report: ShowReport
    show_error: ShowError


def confirm_all_text(actor_name: str, count: int, generator_name: str) -> str:
    return f"Generate {count} images for {actor_name} with {generator_name}?"


def message_box_dialogs(parent: QWidget) -> GenerationDialogs:
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

    return GenerationDialogs(confirm, report, error)
