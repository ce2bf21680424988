"""File → Export good set…: the trainer's layout, where to (a folder or ``s3://bucket/prefix``),
which images, and kohya's options. The export itself runs in ``ExportController``.

A choice that cannot work is said under the fields in one line and the dialog stays open; the
core refuses the rest (a destination with other content, outside the bucket...) before writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tdm_desktop.core.errors import BadInputError
from tdm_desktop.core.export_layout import (
    DEFAULT_REPEATS,
    ExportFormat,
    ExportOptions,
    Include,
)
from tdm_desktop.core.export_targets import is_s3_destination
from tdm_desktop.core.quality import DEFAULT_TRAINING_RESOLUTION

FORMAT_LABELS = {
    ExportFormat.AI_TOOLKIT: "ai-toolkit: images + same-name .txt captions",
    ExportFormat.KOHYA: "kohya (sd-scripts): {repeats}_{trigger} {class} folder + .txt captions",
    ExportFormat.IMAGEFOLDER: "Hugging Face ImageFolder: train/ + metadata.jsonl",
}


@dataclass(frozen=True)
class ExportChoices:
    """What the dialog shows and returns (remembered between exports, but the class token,
    which belongs to one actor)."""

    format: ExportFormat = ExportFormat.AI_TOOLKIT
    destination: str = ""
    include: Include = Include.GOOD
    repeats: int = DEFAULT_REPEATS
    class_token: str = ""
    toml: bool = False
    resolution: int = DEFAULT_TRAINING_RESOLUTION

    def options(self) -> ExportOptions:
        kohya = self.format is ExportFormat.KOHYA
        return ExportOptions(
            format=self.format,
            include=self.include,
            repeats=self.repeats,
            class_token=(self.class_token.strip() or None) if kohya else None,
            toml=self.toml and kohya,
            resolution=self.resolution,
        )


def destination_problem(text: str) -> str | None:
    """Why ``text`` cannot be where an export goes (before the core looks at it), or None."""
    text = text.strip()
    if not text:
        return "Export to: choose a folder, or type s3://bucket/prefix"
    if is_s3_destination(text):
        return None
    if not Path(text).expanduser().is_absolute():
        return f"Export to {text!r}: give the folder's full path, or s3://bucket/prefix"
    return None


class ExportDialog(QDialog):
    """``choices()`` once accepted; ``Export`` stays disabled while ``problem_text()`` says why."""

    def __init__(
        self,
        choices: ExportChoices,
        about: str,
        *,
        default_class_token: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export good set")
        self.setMinimumWidth(560)

        intro = QLabel(about)
        intro.setObjectName("exportAbout")
        intro.setWordWrap(True)

        self.format_combo = QComboBox()
        self.format_combo.setObjectName("exportFormat")
        for fmt, label in FORMAT_LABELS.items():
            self.format_combo.addItem(label, str(fmt))
        self.format_combo.setCurrentIndex(list(FORMAT_LABELS).index(choices.format))

        self.destination_edit = QLineEdit(choices.destination)
        self.destination_edit.setObjectName("exportDestination")
        self.destination_edit.setPlaceholderText("/path/to/folder or s3://bucket/prefix")
        self.destination_edit.setToolTip(
            "A folder (images are downloaded and checked against S3) or an s3:// prefix in the "
            "configured bucket (copied inside S3, nothing downloaded). Nothing is overwritten: "
            "exporting into an earlier export adds only what is new."
        )
        browse = QPushButton("Browse…")
        browse.setObjectName("exportBrowse")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.destination_edit, 1)
        where.addWidget(browse)

        self.include_good = QRadioButton("Good images (every image not flagged bad)")
        self.include_good.setObjectName("exportIncludeGood")
        self.include_all = QRadioButton("All images")
        self.include_all.setObjectName("exportIncludeAll")
        group = QButtonGroup(self)
        group.addButton(self.include_good)
        group.addButton(self.include_all)
        (self.include_all if choices.include is Include.ALL else self.include_good).setChecked(True)
        include = QVBoxLayout()
        include.addWidget(self.include_good)
        include.addWidget(self.include_all)

        self.kohya_box = QGroupBox("kohya")
        self.repeats_spin = QSpinBox()
        self.repeats_spin.setObjectName("exportRepeats")
        self.repeats_spin.setRange(1, 10_000)
        self.repeats_spin.setValue(choices.repeats)
        self.class_edit = QLineEdit(choices.class_token)
        self.class_edit.setObjectName("exportClassToken")
        self.class_edit.setPlaceholderText(default_class_token)
        self.toml_check = QCheckBox("Also write dataset.toml (for --dataset_config)")
        self.toml_check.setObjectName("exportToml")
        self.toml_check.setChecked(choices.toml)
        self.resolution_spin = QSpinBox()
        self.resolution_spin.setObjectName("exportResolution")
        self.resolution_spin.setRange(64, 8192)
        self.resolution_spin.setSingleStep(64)
        self.resolution_spin.setSuffix(" px")
        self.resolution_spin.setValue(choices.resolution)
        kohya = QFormLayout(self.kohya_box)
        kohya.addRow("Repeats", self.repeats_spin)
        kohya.addRow("Class token", self.class_edit)
        kohya.addRow(self.toml_check)
        kohya.addRow("Resolution (dataset.toml)", self.resolution_spin)

        self.problem_label = QLabel()
        self.problem_label.setObjectName("exportProblem")
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #d23c3c")

        form = QFormLayout()
        form.addRow("Format", self.format_combo)
        form.addRow("Export to", where)
        form.addRow("Images", include)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.export_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.export_button.setText("Export")
        self.export_button.setObjectName("exportStart")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.kohya_box)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)

        for signal in (
            self.format_combo.currentIndexChanged,
            self.destination_edit.textChanged,
            self.repeats_spin.valueChanged,
            self.class_edit.textChanged,
            self.toml_check.toggled,
            self.resolution_spin.valueChanged,
        ):
            signal.connect(self._update)
        self._update()

    def choices(self) -> ExportChoices:
        return ExportChoices(
            format=ExportFormat(self.format_combo.currentData()),
            destination=self.destination_edit.text().strip(),
            include=Include.ALL if self.include_all.isChecked() else Include.GOOD,
            repeats=self.repeats_spin.value(),
            class_token=self.class_edit.text().strip(),
            toml=self.toml_check.isChecked(),
            resolution=self.resolution_spin.value(),
        )

    def problem_text(self) -> str:
        return self.problem_label.text()

    def accept(self) -> None:
        if self._problem() is None:
            super().accept()

    def _problem(self) -> str | None:
        choices = self.choices()
        problem = destination_problem(choices.destination)
        if problem is None:
            try:
                choices.options().check()
            except BadInputError as err:
                problem = str(err).replace("--class-token", "Class token")
        return problem

    def _update(self) -> None:
        kohya = self.format_combo.currentData() == ExportFormat.KOHYA
        self.kohya_box.setEnabled(kohya)
        self.resolution_spin.setEnabled(kohya and self.toml_check.isChecked())
        problem = self._problem()
        self.problem_label.setText(problem or "")
        self.export_button.setEnabled(problem is None)

    def _browse(self) -> None:
        start = self.destination_edit.text().strip()
        if is_s3_destination(start):
            start = ""
        folder = QFileDialog.getExistingDirectory(
            self, "Export to folder", start or str(Path.home())
        )
        if folder:
            self.destination_edit.setText(folder)
