"""A curator reviews 30 images with the keyboard alone: each flag key moves to the next
*unreviewed* image (skipping ones decided before, wrapping to the top), U jumps there, the
header and the actor list show the progress, and every decision is on disk with who and when."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.training_data import TrainingDataService
from tdm_desktop.ui.review.advance import NONE_LEFT
from tests.factories import make_actor
from tests.ui.conftest import grid_focus, wait_idle

ACTOR_ID, NAME = "0077", "0077_nordic_50_female"
COUNT = 30


def test_thirty_images_reviewed_with_the_keyboard_and_the_unreviewed_advance(
    qtbot, data_dir, store, make_window
):
    names = make_actor(data_dir, store, ACTOR_ID, NAME, count=COUNT)
    earlier = PromptMetadata.for_actor(data_dir, NAME)
    earlier.set_flags({names[3]: False, names[10]: False}, curator="bob")
    earlier.set_flags({names[27]: True}, curator="bob")
    metadata_file = data_dir / "actors" / NAME / "prompt_metadata.json"
    before = json.loads(metadata_file.read_text())["images"]
    window = make_window(service_=TrainingDataService(data_dir, store, curator="alice"))
    with qtbot.waitSignal(window.actor_opened, timeout=10000):
        window.session.open_actor(ACTOR_ID)
    grid_focus(qtbot, window)
    label = window.header.image_count_label
    assert label.text() == "30 images in S3 · 3 reviewed"
    qtbot.waitUntil(lambda: f"{NAME} (3/30)" in window.actor_list_widget.visible_row_texts())

    # Start at image 25: 25, 26, (27 was decided) 28, 29, then wrap to 0, 1, 2, (3) 4...
    for _ in range(25):
        qtbot.keyClick(window.grid, Qt.Key.Key_Right)
    assert window.selection.current_filename() == names[25]
    wanted: dict[str, bool] = {}
    visited = []
    for step in range(12):
        current = window.selection.current_filename()
        visited.append(current)
        good = step % 4 != 1
        wanted[current] = good
        qtbot.keyClick(window.grid, Qt.Key.Key_G if good else Qt.Key.Key_B)
    assert visited == [names[i] for i in (25, 26, 28, 29, 0, 1, 2, 4, 5, 6, 7, 8)]
    assert label.text() == "30 images in S3 · 15 reviewed"

    # Home goes to a decided image; U jumps to the next unreviewed one (9), T decides it.
    qtbot.keyClick(window.grid, Qt.Key.Key_Home)
    qtbot.keyClick(window.grid, Qt.Key.Key_U)
    assert window.selection.current_filename() == names[9]
    wanted[names[9]] = False  # T on an unreviewed (good) image: bad
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    assert window.selection.current_filename() == names[11]  # 10 was decided by bob

    while len(wanted) < COUNT - 3:
        current = window.selection.current_filename()
        assert current not in wanted
        wanted[current] = len(wanted) % 5 != 0
        qtbot.keyClick(window.grid, Qt.Key.Key_G if wanted[current] else Qt.Key.Key_B)
    wait_idle(qtbot, window)

    # None left: the last image decided stays current, and the status bar says so.
    assert window.selection.current_filename() == names[24]
    assert window.statusBar().currentMessage() == NONE_LEFT
    qtbot.keyClick(window.grid, Qt.Key.Key_U)
    assert window.selection.current_filename() == names[24]
    assert label.text() == "30 images in S3 · 30 reviewed"
    assert f"{NAME} (30/30 ✓)" in window.actor_list_widget.visible_row_texts()

    on_disk = json.loads(metadata_file.read_text())["images"]
    for name, good in wanted.items():
        entry = on_disk[name]
        assert (entry["good"], entry["reviewed_by"]) == (good, "alice"), name
        assert entry["reviewed_at"] > before[names[3]]["reviewed_at"]
    for name in (names[3], names[10], names[27]):
        assert on_disk[name] == before[name]  # decided earlier by bob: untouched
    api = TrainingDataService(data_dir, store).get_training_data(ACTOR_ID)["training_images"]
    assert [image["good"] for image in api] == [
        wanted.get(name, name == names[27]) for name in names
    ]
