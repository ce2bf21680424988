"""The size slider and the filter are remembered without writing settings on every drag step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QSlider


class CountingSettings(QSettings):
    """An ini-file QSettings that records every key written."""

    def __init__(self, path) -> None:
        super().__init__(str(path), QSettings.Format.IniFormat)
        self.writes: list[str] = []

    def setValue(self, key, value) -> None:
        self.writes.append(key)
        super().setValue(key, value)


@pytest.fixture
def settings(tmp_path) -> CountingSettings:
    return CountingSettings(tmp_path / "settings.ini")


def test_a_slider_drag_saves_the_size_once_it_has_settled(qtbot, window, settings):
    slider = window.findChild(QSlider, "gridSizeSlider")
    settings.writes.clear()

    for value in range(168, 320, 8):  # a drag: 19 steps
        slider.setValue(value)
    assert window.grid.iconSize().width() == 312  # the grid follows every step at once
    assert "grid/thumbnailSize" not in settings.writes

    qtbot.waitUntil(lambda: "grid/thumbnailSize" in settings.writes, timeout=10000)
    assert settings.writes.count("grid/thumbnailSize") == 1
    assert int(settings.value("grid/thumbnailSize")) == 312
