"""The Settings dialog: generator, AUTOMATIC1111 URL/steps/denoising, thumbnail cache budget.

It shows and returns ``AppSettings`` (``settings.model``); the presenter loads and saves them.
"""

from __future__ import annotations

from collections.abc import Sequence

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

from tdm_desktop.generators.a1111 import DEFAULT_URL
from tdm_desktop.generators.base import available_generators
from tdm_desktop.ui.settings.model import (
    MAX_BUDGET_MIB,
    MAX_REQUESTS,
    MAX_STEPS,
    MIN_BUDGET_MIB,
    MIN_REQUESTS,
    MIN_STEPS,
    AppSettings,
    url_problem,
)


class SettingsDialog(QDialog):
    """Generator, A1111 URL, steps, denoising strength, thumbnail cache budget (MiB)."""

    def __init__(
        self,
        values: AppSettings,
        generators: Sequence[str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Settings")

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
        self.requests_spin = QSpinBox()
        self.requests_spin.setObjectName("thumbnailRequestsSpin")
        self.requests_spin.setRange(MIN_REQUESTS, MAX_REQUESTS)
        self.requests_spin.setValue(values.thumbnail_requests)
        self.requests_spin.setToolTip(
            "Thumbnail downloads at once at most (fewer while the link is slow); "
            "more connections than 16 apply from the next start"
        )

        self.problem_label = QLabel()
        self.problem_label.setObjectName("settingsProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #b71c1c;")
        self.problem_label.hide()

        form = QFormLayout()
        form.addRow("&Generator:", self.generator_combo)
        form.addRow("AUTOMATIC1111 &URL:", self.url_edit)
        form.addRow("&Steps:", self.steps_spin)
        form.addRow("&Denoising strength:", self.denoising_spin)
        form.addRow("&Thumbnail cache:", self.budget_spin)
        form.addRow("Thumbnail &downloads at once:", self.requests_spin)
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
        self.url_edit.textChanged.connect(self._check_url)
        self._update_enabled()

    def values(self) -> AppSettings:
        return AppSettings(
            generator=str(self.generator_combo.currentData()),
            a1111_url=self.url_edit.text().strip() or DEFAULT_URL,
            steps=self.steps_spin.value(),
            denoising_strength=round(self.denoising_spin.value(), 2),
            thumbnail_budget_mib=self.budget_spin.value(),
            thumbnail_requests=self.requests_spin.value(),
        )

    def accept(self) -> None:
        if self._check_url():
            super().accept()

    def _update_enabled(self, *_args: object) -> None:
        a1111 = self.generator_combo.currentData() == "a1111"
        for widget in (self.url_edit, self.steps_spin, self.denoising_spin):
            widget.setEnabled(a1111)

    def _check_url(self, *_args: object) -> bool:
        problem = url_problem(self.url_edit.text().strip() or DEFAULT_URL)
        self.problem_label.setText(problem or "")
        self.problem_label.setVisible(bool(problem))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(problem is None)
        return problem is None
