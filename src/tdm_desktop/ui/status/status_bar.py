"""The status bar's permanent labels: thumbnails loaded, and the good · bad counts."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar


def counts_text(good: int, bad: int) -> str:
    return f"good {good} · bad {bad}"


def add_status_labels(bar: QStatusBar) -> tuple[QLabel, QLabel]:
    """``loadedLabel`` and ``flagCountsLabel``, permanent on the right of ``bar``."""
    loaded_label = QLabel("Loaded 0 / 0")
    loaded_label.setObjectName("loadedLabel")
    flag_counts_label = QLabel(counts_text(0, 0))
    flag_counts_label.setObjectName("flagCountsLabel")
    bar.addPermanentWidget(loaded_label)
    bar.addPermanentWidget(flag_counts_label)
    return loaded_label, flag_counts_label
