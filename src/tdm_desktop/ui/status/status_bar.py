"""The status bar's permanent labels: thumbnails loaded, the good · bad counts, who is curating,
and whether this account may only read the catalog."""

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


def curator_text(name: str) -> str:
    return f"Curator: {name}"


def add_catalog_labels(bar: QStatusBar) -> tuple[QLabel, QLabel]:
    """``curatorLabel`` (whose decisions the flags record) and ``accessLabel`` (shown only while
    this account may only read the catalog), permanent on the right of ``bar``."""
    access_label = QLabel("Read-only")
    access_label.setObjectName("accessLabel")
    access_label.setStyleSheet("color: #b71c1c; font-weight: bold;")
    access_label.hide()
    curator_label = QLabel()
    curator_label.setObjectName("curatorLabel")
    bar.addPermanentWidget(access_label)
    bar.addPermanentWidget(curator_label)
    return curator_label, access_label
