"""A curator's session with the keyboard alone: 100 decisions, each on disk as it is made."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from tdm_desktop.core.training_data import TrainingDataService
from tests.factories import make_actor
from tests.ui.conftest import grid_focus, wait_idle

ACTOR_ID, NAME = "0077", "0077_nordic_50_female"


def test_a_curator_flags_100_images_with_the_keyboard_alone(qtbot, data_dir, store, make_window):
    names = make_actor(data_dir, store, ACTOR_ID, NAME, count=110)
    window = make_window()
    with qtbot.waitSignal(window.actor_opened, timeout=10000):
        window.session.open_actor(ACTOR_ID)
    grid_focus(qtbot, window)
    assert window.selection.current_filename() == names[0]

    # Every third image bad, the rest good; the flag keys advance to the next image themselves.
    keys = [Qt.Key.Key_B if index % 3 == 0 else Qt.Key.Key_G for index in range(100)]
    for key in keys:
        qtbot.keyClick(window.grid, key)
    wait_idle(qtbot, window)

    assert window.selection.current_filename() == names[100]
    metadata = json.loads((data_dir / "actors" / NAME / "prompt_metadata.json").read_text())
    flags = {name: entry["good"] for name, entry in metadata["images"].items()}
    expected_bad = {names[i] for i in range(0, 100, 3)}
    assert {name for name, good in flags.items() if not good} == expected_bad
    goods = TrainingDataService(data_dir, store).get_training_data(ACTOR_ID)["training_images"]
    assert sum(not image["good"] for image in goods) == len(expected_bad) == 34
    assert window.flag_counts_label.text() == f"good {110 - 34} · bad 34"

    # Undo the last ten decisions from the keyboard: the file follows.
    for _ in range(10):
        qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    metadata = json.loads((data_dir / "actors" / NAME / "prompt_metadata.json").read_text())
    still_bad = {n for n, e in metadata["images"].items() if not e["good"]}
    assert still_bad == {names[i] for i in range(0, 90, 3)}
