"""The Settings dialog: the catalog (data dir, curator name, how often S3 is checked for others'
changes), generator, AUTOMATIC1111 URL/steps/denoising, thumbnail cache budget, and the review's
near-duplicate threshold and training resolution.

It shows and returns ``AppSettings`` (``settings.model``); the presenter loads and saves them. The
data dir and curator rows say which one is in effect and where it comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tdm_desktop.core.curators import FROM_ENV, CuratorChoice
from tdm_desktop.core.data_dirs import DataDirChoice, data_dir_problem
from tdm_desktop.generators.a1111 import DEFAULT_URL
from tdm_desktop.generators.base import available_generators
from tdm_desktop.ui.settings.model import (
    MAX_BUDGET_MIB,
    MAX_DUPLICATE_THRESHOLD,
    MAX_POLL_S,
    MAX_REQUESTS,
    MAX_RESOLUTION,
    MAX_STEPS,
    MAX_UNDO_MIB,
    MIN_BUDGET_MIB,
    MIN_POLL_S,
    MIN_REQUESTS,
    MIN_RESOLUTION,
    MIN_STEPS,
    MIN_UNDO_MIB,
    AppSettings,
    curator_problem,
    url_problem,
)

DATA_DIR_PLACEHOLDER = "./data or s3://bucket/prefix"


@dataclass(frozen=True)
class InEffect:
    """What the window uses now, and why: the data dir it has open, the curator it records."""

    data_dir: DataDirChoice | None = None
    curator: CuratorChoice | None = None


def data_dir_note(choice: DataDirChoice | None) -> str:
    if choice is None:
        return ""
    return f"In effect: {choice}"


def curator_note(choice: CuratorChoice | None) -> str:
    if choice is None:
        return ""
    if choice.source == FROM_ENV:
        return f"In effect: {choice}; {FROM_ENV} wins over a name set here"
    return f"In effect: {choice}"


class SettingsDialog(QDialog):
    """Data dir, curator, check interval; generator, A1111 URL, steps, denoising strength,
    thumbnail cache budget (MiB), thumbnail downloads at once, undo memory (MiB)."""

    def __init__(
        self,
        values: AppSettings,
        generators: Sequence[str] | None = None,
        parent: QWidget | None = None,
        *,
        in_effect: InEffect | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")
        self.setMinimumWidth(560)  # an s3:// URL and where it comes from on one line
        in_effect = in_effect or InEffect()

        self.data_dir_edit = QLineEdit(values.data_dir)
        self.data_dir_edit.setObjectName("dataDirEdit")
        self.data_dir_edit.setPlaceholderText(DATA_DIR_PLACEHOLDER)
        self.data_dir_edit.setToolTip(
            "Where the catalog is (manifests, flags, prompts, base images): a folder, or an S3 "
            "prefix a team shares. --data-dir and TDM_DATA_DIR win at start; a new one opens now."
        )
        self.data_dir_note = _note("dataDirInEffect", data_dir_note(in_effect.data_dir))
        self.curator_edit = QLineEdit(values.curator)
        self.curator_edit.setObjectName("curatorEdit")
        self.curator_edit.setPlaceholderText("your name, as your flags record it")
        self.curator_note = _note("curatorInEffect", curator_note(in_effect.curator))
        self.poll_spin = QSpinBox()
        self.poll_spin.setObjectName("pollSecondsSpin")
        self.poll_spin.setRange(MIN_POLL_S, MAX_POLL_S)
        self.poll_spin.setSuffix(" s")
        self.poll_spin.setValue(values.poll_seconds)
        self.poll_spin.setToolTip(
            "An actor open from an S3 catalog is checked this often for what other curators "
            "changed (a conditional GET: nothing is downloaded while nothing changed)"
        )

        self.generator_combo = QComboBox()
        self.generator_combo.setObjectName("generatorCombo")
        for name in generators if generators is not None else available_generators():
            self.generator_combo.addItem(name, name)
        self.generator_combo.setCurrentIndex(
            max(0, self.generator_combo.findData(values.generator))
        )

        self.url_edit = QLineEdit(values.a1111_url)
        self.url_edit.setObjectName("a1111UrlEdit")
        self.url_edit.setPlaceholderText(DEFAULT_URL)
        self.url_edit.setToolTip(
            "The AUTOMATIC1111 / Forge web UI (started with --api). Basic auth only from "
            "TDM_A1111_USER / TDM_A1111_PASSWORD; never stored here."
        )
        self.steps_spin = QSpinBox()
        self.steps_spin.setObjectName("stepsSpin")
        self.steps_spin.setRange(MIN_STEPS, MAX_STEPS)
        self.steps_spin.setValue(values.steps)
        self.denoising_spin = QDoubleSpinBox()
        self.denoising_spin.setObjectName("denoisingSpin")
        self.denoising_spin.setRange(0.0, 1.0)
        self.denoising_spin.setSingleStep(0.05)
        self.denoising_spin.setDecimals(2)
        self.denoising_spin.setValue(values.denoising_strength)
        self.denoising_spin.setToolTip("img2img: how far the image may move from the base image")
        self.budget_spin = QSpinBox()
        self.budget_spin.setObjectName("thumbnailBudgetSpin")
        self.budget_spin.setRange(MIN_BUDGET_MIB, MAX_BUDGET_MIB)
        self.budget_spin.setSingleStep(64)
        self.budget_spin.setSuffix(" MiB")
        self.budget_spin.setValue(values.thumbnail_budget_mib)
        self.duplicate_spin = QSpinBox()
        self.duplicate_spin.setObjectName("duplicateThresholdSpin")
        self.duplicate_spin.setRange(0, MAX_DUPLICATE_THRESHOLD)
        self.duplicate_spin.setSuffix(" bits of 64")
        self.duplicate_spin.setValue(values.duplicate_threshold)
        self.duplicate_spin.setToolTip(
            "Two images are near-duplicates when their perceptual hashes differ in at most this "
            "many bits (a re-encode or a small crop: up to about 10; different pictures: 18 or more)"
        )
        self.resolution_spin = QSpinBox()
        self.resolution_spin.setObjectName("trainingResolutionSpin")
        self.resolution_spin.setRange(MIN_RESOLUTION, MAX_RESOLUTION)
        self.resolution_spin.setSingleStep(64)
        self.resolution_spin.setSuffix(" px")
        self.resolution_spin.setValue(values.training_resolution)
        self.resolution_spin.setToolTip(
            'An image whose short side is below this is marked "too small" (the trainer '
            "would upscale it)"
        )
        self.requests_spin = QSpinBox()
        self.requests_spin.setObjectName("thumbnailRequestsSpin")
        self.requests_spin.setRange(MIN_REQUESTS, MAX_REQUESTS)
        self.requests_spin.setValue(values.thumbnail_requests)
        self.requests_spin.setToolTip(
            "Thumbnail downloads at once at most (fewer while the link is slow); "
            "more connections than 16 apply from the next start"
        )
        self.undo_spin = QSpinBox()
        self.undo_spin.setObjectName("undoMemorySpin")
        self.undo_spin.setRange(MIN_UNDO_MIB, MAX_UNDO_MIB)
        self.undo_spin.setSingleStep(64)
        self.undo_spin.setSuffix(" MiB")
        self.undo_spin.setValue(values.undo_memory_mib)
        self.undo_spin.setToolTip(
            "Copies of deleted images kept in memory so that Undo can bring them back; the "
            "oldest deletes' copies go first (their Undo then says so). 0: deletes cannot be "
            "undone"
        )

        self.problem_label = QLabel()
        self.problem_label.setObjectName("settingsProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #b71c1c;")
        self.problem_label.hide()

        form = QFormLayout()
        form.addRow("D&ata dir:", self.data_dir_edit)
        form.addRow("", self.data_dir_note)
        form.addRow("&Curator:", self.curator_edit)
        form.addRow("", self.curator_note)
        form.addRow("&Check S3 for changes every:", self.poll_spin)
        form.addRow("&Generator:", self.generator_combo)
        form.addRow("AUTOMATIC1111 &URL:", self.url_edit)
        form.addRow("&Steps:", self.steps_spin)
        form.addRow("&Denoising strength:", self.denoising_spin)
        form.addRow("&Thumbnail cache:", self.budget_spin)
        form.addRow("&Near-duplicates within:", self.duplicate_spin)
        form.addRow("Training &resolution:", self.resolution_spin)
        form.addRow("Thumbnail do&wnloads at once:", self.requests_spin)
        form.addRow("Undo &memory for deletes:", self.undo_spin)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)

        self.generator_combo.currentIndexChanged.connect(self._update_enabled)
        for edit in (self.url_edit, self.data_dir_edit, self.curator_edit):
            edit.textChanged.connect(self._check)
        self._update_enabled()
        self._check()

    def values(self) -> AppSettings:
        return AppSettings(
            generator=str(self.generator_combo.currentData()),
            a1111_url=self.url_edit.text().strip() or DEFAULT_URL,
            steps=self.steps_spin.value(),
            denoising_strength=round(self.denoising_spin.value(), 2),
            thumbnail_budget_mib=self.budget_spin.value(),
            duplicate_threshold=self.duplicate_spin.value(),
            training_resolution=self.resolution_spin.value(),
            thumbnail_requests=self.requests_spin.value(),
            undo_memory_mib=self.undo_spin.value(),
            data_dir=self.data_dir_edit.text().strip(),
            curator=self.curator_edit.text().strip(),
            poll_seconds=self.poll_spin.value(),
        )

    def problem(self) -> str:
        """The one line the dialog shows about what cannot be saved ("" when all is fine)."""
        return self.problem_label.text() if not self.problem_label.isHidden() else ""

    def accept(self) -> None:
        if self._check():
            super().accept()

    def _update_enabled(self, *_args: object) -> None:
        a1111 = self.generator_combo.currentData() == "a1111"
        for widget in (self.url_edit, self.steps_spin, self.denoising_spin):
            widget.setEnabled(a1111)

    def _check(self, *_args: object) -> bool:
        problem = (
            data_dir_problem(self.data_dir_edit.text())
            or curator_problem(self.curator_edit.text())
            or url_problem(self.url_edit.text().strip() or DEFAULT_URL)
        )
        self.problem_label.setText(problem or "")
        self.problem_label.setVisible(bool(problem))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(problem is None)
        return problem is None


def _note(name: str, text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet("color: palette(placeholder-text);")
    label.setVisible(bool(text))
    return label
