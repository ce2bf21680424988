"""The Settings dialog and the settings it edits: generator, AUTOMATIC1111 URL/steps/denoising,
and the thumbnail cache budget.

Values live in the injected ``QSettings``. With nothing saved, ``TDM_GENERATOR`` picks the generator
and ``TDM_A1111_URL`` / ``TDM_A1111_STEPS`` give the A1111 defaults. A password is never stored:
basic auth comes only from ``TDM_A1111_USER`` / ``TDM_A1111_PASSWORD``, and a URL carrying
``user:password@`` is refused.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from PySide6.QtCore import QSettings
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

from tdm_desktop.generators.a1111 import DEFAULT_STEPS, DEFAULT_URL
from tdm_desktop.generators.base import DEFAULT_GENERATOR, GENERATOR_ENV, available_generators

log = logging.getLogger(__name__)

MIB = 1024 * 1024
DEFAULT_DENOISING = 0.55
DEFAULT_BUDGET_MIB = 512
MIN_BUDGET_MIB, MAX_BUDGET_MIB = 16, 16 * 1024

KEY_GENERATOR = "generation/generator"
KEY_A1111_URL = "generation/a1111Url"
KEY_STEPS = "generation/a1111Steps"
KEY_DENOISING = "generation/denoisingStrength"
KEY_BUDGET = "thumbnails/pixmapBudgetMiB"


@dataclass(frozen=True)
class AppSettings:
    """What the Settings dialog edits."""

    generator: str = DEFAULT_GENERATOR
    a1111_url: str = DEFAULT_URL
    steps: int = DEFAULT_STEPS
    denoising_strength: float = DEFAULT_DENOISING
    thumbnail_budget_mib: int = DEFAULT_BUDGET_MIB


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be the A1111 URL (one line), or None when it can."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"AUTOMATIC1111 URL {url.strip()!r} is not valid: expected e.g. {DEFAULT_URL}"
    if "@" in parts.netloc:
        return (
            "AUTOMATIC1111 URL: leave user and password out of it "
            "(set TDM_A1111_USER and TDM_A1111_PASSWORD in the environment)"
        )
    return None


def load_settings(settings: QSettings, env: Mapping[str, str] = os.environ) -> AppSettings:
    """The saved values; what is not saved comes from the environment, then the defaults."""
    known = available_generators()
    generator = str(settings.value(KEY_GENERATOR, "") or "").strip().lower()
    if generator not in known:
        generator = env.get(GENERATOR_ENV, "").strip().lower() or DEFAULT_GENERATOR
    if generator not in known:
        log.warning("%s=%r is unknown; using %s", GENERATOR_ENV, generator, DEFAULT_GENERATOR)
        generator = DEFAULT_GENERATOR
    url = str(settings.value(KEY_A1111_URL, "") or "").strip()
    if not url or url_problem(url):
        url = env.get("TDM_A1111_URL", "").strip() or DEFAULT_URL
    if url_problem(url):
        url = DEFAULT_URL
    steps = _number(settings.value(KEY_STEPS), int, _number(env.get("TDM_A1111_STEPS"), int, 0))
    denoising = _number(settings.value(KEY_DENOISING), float, DEFAULT_DENOISING)
    budget = _number(settings.value(KEY_BUDGET), int, DEFAULT_BUDGET_MIB)
    return AppSettings(
        generator=generator,
        a1111_url=url,
        steps=steps if 1 <= steps <= 150 else DEFAULT_STEPS,
        denoising_strength=denoising if 0.0 <= denoising <= 1.0 else DEFAULT_DENOISING,
        thumbnail_budget_mib=max(MIN_BUDGET_MIB, min(MAX_BUDGET_MIB, budget)),
    )


def save_settings(settings: QSettings, values: AppSettings) -> None:
    """Store ``values``; refuses a URL with credentials in it (never stored)."""
    problem = url_problem(values.a1111_url)
    if problem:
        raise ValueError(problem)
    settings.setValue(KEY_GENERATOR, values.generator)
    settings.setValue(KEY_A1111_URL, values.a1111_url.strip())
    settings.setValue(KEY_STEPS, values.steps)
    settings.setValue(KEY_DENOISING, values.denoising_strength)
    settings.setValue(KEY_BUDGET, values.thumbnail_budget_mib)
    settings.sync()


def _number(value: object, kind: type, default):  # type: ignore[no-untyped-def]
    try:
        return kind(value)  # type: ignore[call-arg]
    except (TypeError, ValueError):
        return default


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
        self.steps_spin.setRange(1, 150)
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
