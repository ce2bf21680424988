"""Flagging from the keyboard: what lands in prompt_metadata.json, undo/redo, the filter, the preview."""

from __future__ import annotations

import json

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QAction

from tdm_desktop.ui.curation import CurationController, command_text, next_after
from tdm_desktop.ui.grid_model import ImageGridModel
from tests.ui.conftest import ACTOR_A, grid_focus

NAME = ACTOR_A[1]


def flags_on_disk(data_dir, actor_name: str = NAME) -> dict[str, bool]:
    """The flags a curator keeps: only images with an entry (no entry means good)."""
    path = data_dir / "actors" / actor_name / "prompt_metadata.json"
    if not path.exists():
        return {}
    images = json.loads(path.read_text(encoding="utf-8")).get("images", {})
    return {name: entry.get("good", True) for name, entry in images.items()}


def bad_on_disk(data_dir) -> set[str]:
    return {name for name, good in flags_on_disk(data_dir).items() if not good}


def test_b_marks_bad_on_disk_and_moves_to_the_next_image(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)
    assert bad_on_disk(data_dir) == {names[0]}
    assert window.current_filename() == names[1]
    assert window.selected_filenames() == [names[1]]
    qtbot.keyClick(window.grid, Qt.Key.Key_X)  # photo-culling alias
    assert bad_on_disk(data_dir) == {names[0], names[1]}
    assert window.flag_counts_label.text() == f"good {len(names) - 2} · bad 2"


def test_g_and_t_on_a_selection(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    grid_focus(qtbot, window)
    window.grid.selectAll()
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    assert bad_on_disk(data_dir) == set(names)
    window.select_filename(names[2])
    qtbot.keyClick(window.grid, Qt.Key.Key_G)
    assert bad_on_disk(data_dir) == set(names) - {names[2]}
    qtbot.keyClick(window.grid, Qt.Key.Key_P)  # alias of G, on names[3]
    assert bad_on_disk(data_dir) == set(names) - {names[2], names[3]}
    assert window.current_filename() == names[4]


def test_undo_and_redo_restore_the_file(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    grid_focus(qtbot, window)
    sel = window.grid.selectionModel()
    for row in (0, 1, 2):
        sel.select(window.proxy.index(row, 0), QItemSelectionModel.SelectionFlag.Select)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)
    assert bad_on_disk(data_dir) == set(names[:3])
    undo = window.findChild(QAction, "actionUndo")
    assert undo.text() == "&Undo Mark Bad (3 images)"

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert bad_on_disk(data_dir) == set()
    assert window.flag_counts_label.text() == f"good {len(names)} · bad 0"

    redo = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, redo)
    assert bad_on_disk(data_dir) == set(names[:3])
    assert not window.model.image_at(window.model.row_of(names[0])).good


def test_bad_filter_shows_only_bad_images(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    window.controller.mark([names[1], names[4]], False)
    window.flag_filter.setCurrentIndex(window.flag_filter.findText("Bad"))
    assert window.visible_filenames() == [names[1], names[4]]
    window.flag_filter.setCurrentIndex(window.flag_filter.findText("Good"))
    assert names[1] not in window.visible_filenames()
    assert len(window.visible_filenames()) == len(names) - 2


def test_undo_of_a_flag_applies_while_the_grid_is_filtered(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)  # names[0] bad
    window.flag_filter.setCurrentIndex(window.flag_filter.findText("Good"))
    assert names[0] not in window.visible_filenames()
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert bad_on_disk(data_dir) == set()
    assert names[0] in window.visible_filenames()


def test_marking_bad_under_the_bad_filter_keeps_a_current_image(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    window.controller.mark(names[:3], False)
    window.flag_filter.setCurrentIndex(window.flag_filter.findText("Bad"))
    grid_focus(qtbot, window)
    window.select_filename(names[0])
    qtbot.keyClick(window.grid, Qt.Key.Key_G)  # leaves the filtered view
    assert window.visible_filenames() == names[1:3]
    assert window.current_filename() == names[1]


def test_single_letters_in_the_search_box_do_not_flag(qtbot, window, data_dir):
    window.search_box.setFocus()
    qtbot.waitUntil(window.search_box.hasFocus, timeout=2000)
    qtbot.keyClicks(window.search_box, "gbtpx")
    assert window.search_box.text() == "gbtpx"
    assert flags_on_disk(data_dir) == {}
    window.actor_list.setFocus()
    qtbot.waitUntil(window.actor_list.hasFocus, timeout=2000)
    for key in (Qt.Key.Key_G, Qt.Key.Key_B, Qt.Key.Key_T, Qt.Key.Key_Delete):
        qtbot.keyClick(window.actor_list, key)
    assert flags_on_disk(data_dir) == {}
    assert window.controller.undo_stack.count() == 0
    assert window.model.rowCount() == ACTOR_A[2]


def test_preview_shows_the_image_and_flags_with_the_same_keys(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    preview = window.preview
    assert preview is not None and preview.isVisible()
    qtbot.waitUntil(preview.has_picture, timeout=3000)
    assert preview.info_text().startswith(f"{names[0]} · ✓ good")
    assert "64×48" in preview.info_text()

    preview.activateWindow()
    preview.setFocus()
    qtbot.waitUntil(preview.hasFocus, timeout=2000)
    qtbot.keyClick(preview, Qt.Key.Key_Right)
    assert preview.image.filename == names[1]
    qtbot.keyClick(preview, Qt.Key.Key_B)
    assert bad_on_disk(data_dir) == {names[1]}
    assert preview.image.filename == names[2]  # advanced, like the grid
    qtbot.keyClick(preview, Qt.Key.Key_Left)
    assert preview.info_text().startswith(f"{names[1]} · ✗ bad")
    qtbot.keyClick(preview, Qt.Key.Key_Escape)
    assert not preview.isVisible()


# -- the controller alone, without a window ------------------------------------------------------


def test_controller_names_commands_and_writes_through(qtbot, service, data_dir, actors):
    names = actors[ACTOR_A[0]]
    model = ImageGridModel()
    model.set_images(service.load_actor(ACTOR_A[0]).images)
    controller = CurationController(service, model)
    controller.set_actor(ACTOR_A[0], NAME)

    assert controller.mark([names[0]], False)
    assert controller.toggle(names[:2])
    stack = controller.undo_stack
    assert [stack.text(i) for i in range(stack.count())] == [
        "Mark Bad (1 image)",
        "Toggle Flag (2 images)",
    ]
    assert flags_on_disk(data_dir) == {names[0]: True, names[1]: False}
    stack.undo()
    assert bad_on_disk(data_dir) == {names[0]}
    assert model.good_bad_counts() == (len(names) - 1, 1)
    stack.undo()
    assert bad_on_disk(data_dir) == set()


def test_a_failed_flag_write_is_reported_and_not_undoable(qtbot, service, actors):
    model = ImageGridModel()
    model.set_images(service.load_actor(ACTOR_A[0]).images)
    controller = CurationController(service, model)
    controller.set_actor(ACTOR_A[0], NAME)
    (service.data_dir / "actors" / NAME).mkdir(parents=True, exist_ok=True)
    (service.data_dir / "actors" / NAME / "prompt_metadata.json").write_text("{oops")
    with qtbot.waitSignal(controller.error_reported) as reported:
        assert not controller.mark([actors[ACTOR_A[0]][0]], False)
    assert "prompt_metadata.json" in reported.args[0]
    assert controller.undo_stack.count() == 0
    assert model.good_bad_counts() == (ACTOR_A[2], 0)


def test_next_after_and_command_text():
    order = ["a", "b", "c", "d"]
    assert next_after(order, ["b"]) == "c"
    assert next_after(order, ["b", "c"]) == "d"
    assert next_after(order, ["d"]) == "c"
    assert next_after(order, order) is None
    assert command_text("Mark Bad", 1) == "Mark Bad (1 image)"
    assert command_text("Delete", 3) == "Delete (3 images)"


def test_flagging_does_not_wait_on_the_manifest(qtbot, window, data_dir, actors):
    """G/B/T check the names against the window's model: the manifest is not read again."""
    names = actors[ACTOR_A[0]]
    manifest = data_dir / "actor_manifests" / f"{ACTOR_A[0]}_manifest.json"
    manifest.write_text('{"character_id": "0042", "character_name": ')  # a read would fail
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)
    assert bad_on_disk(data_dir) == {names[0]}
    assert not window.model.image_at(window.model.row_of(names[0])).good
