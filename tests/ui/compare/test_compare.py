"""The compare view: 2–4 selected images side by side, the focus moved with the arrows, flags on
the focused pane (on disk, undoable), zoom and pan kept in step, Esc back to the same selection."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt

from tdm_desktop.ui.compare.controller import columns_for, compare_problem
from tests.images import jpeg, picture, resized, upload_actor
from tests.ui.conftest import grid_focus, wait_idle

ACTOR_ID, NAME = "0051", "0051_nordic_28_female"


@pytest.fixture
def big_actor(data_dir, store):
    """Five 1200×900 pictures (bigger than a pane, so 100 % shows a part) and a 95 % resize."""
    images = {f"{NAME}_{n}.jpg": jpeg(picture(n, (1200, 900))) for n in range(5)}
    images[f"{NAME}_5.jpg"] = jpeg(resized(picture(0, (1200, 900)), 0.95))
    return upload_actor(data_dir, store, images, ACTOR_ID, NAME)


def open_big_actor(qtbot, window):
    with qtbot.waitSignal(window.actor_opened, timeout=10000):
        window.session.open_actor(ACTOR_ID)
    grid_focus(qtbot, window)


def select(window, names):
    """Select ``names`` in the grid, the first one current (what Shift/Ctrl+click would do)."""
    window.selection.select_filename(names[0])
    flags = QItemSelectionModel.SelectionFlag.Select
    for name in names[1:]:
        index = window.rows.view_index(window.model.row_of(name))
        window.grid.selectionModel().select(index, flags)


def flags_on_disk(data_dir) -> dict[str, bool]:
    path = data_dir / "actors" / NAME / "prompt_metadata.json"
    if not path.exists():
        return {}
    return {n: e["good"] for n, e in json.loads(path.read_text())["images"].items() if "good" in e}


def wait_pictures(qtbot, presenter):
    qtbot.waitUntil(
        lambda: all(pane.has_picture() for pane in presenter.widget.shown_panes()), timeout=10000
    )


def test_how_many_images_a_comparison_takes():
    assert compare_problem(1) == "Compare: select 2 to 4 images (Shift+arrows or Ctrl+click), not 1"
    assert compare_problem(5) is not None
    assert [compare_problem(n) for n in (2, 3, 4)] == [None, None, None]
    assert [columns_for(n) for n in (2, 3, 4)] == [2, 3, 2]


def test_c_compares_the_selection_and_flag_keys_act_on_the_focused_pane(
    qtbot, data_dir, store, big_actor, make_window
):
    names = big_actor
    window = make_window()
    open_big_actor(qtbot, window)
    presenter = window.compare_presenter
    qtbot.keyClick(window.grid, Qt.Key.Key_Right)  # names[1] current
    qtbot.keyClick(window.grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(window.grid, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert window.selection.selected_filenames() == names[1:4]

    qtbot.keyClick(window.grid, Qt.Key.Key_C)
    assert window.grid_stack.currentWidget() is presenter.widget
    qtbot.waitUntil(presenter.widget.hasFocus, timeout=10000)
    panes = presenter.widget.shown_panes()
    assert len(panes) == 3
    wait_pictures(qtbot, presenter)
    assert [pane.caption().split(" · ")[0] for pane in panes] == names[1:4]
    assert all("1200×900" in pane.caption() for pane in panes)
    # Shift+Right moved the current image to the last selected one: the focus starts there.
    assert [pane.is_focused() for pane in panes] == [False, False, True]

    qtbot.keyClick(presenter.widget, Qt.Key.Key_Left)
    qtbot.keyClick(presenter.widget, Qt.Key.Key_Left)
    qtbot.keyClick(presenter.widget, Qt.Key.Key_Left)  # stops at the first pane
    assert [pane.is_focused() for pane in panes] == [True, False, False]
    qtbot.keyClick(presenter.widget, Qt.Key.Key_B)
    qtbot.keyClick(presenter.widget, Qt.Key.Key_Right)
    qtbot.keyClick(presenter.widget, Qt.Key.Key_G)
    wait_idle(qtbot, window)

    on_disk = flags_on_disk(data_dir)
    assert {name for name in names if not on_disk.get(name, True)} == {names[1]}
    assert window.model.image_at(window.model.row_of(names[2])).good
    assert " · ✗ bad" in panes[0].caption()
    assert " · ✓ good" in panes[1].caption()  # decided good (it was unreviewed)
    assert " · unreviewed" in panes[2].caption()
    assert [pane.is_focused() for pane in panes] == [False, True, False]  # a flag does not move

    # The same undo stack as the grid: Ctrl+Z twice takes both decisions back, on disk too.
    assert window.controller.undo_stack.undoText() == "Mark Good (1 image)"
    qtbot.keyClick(presenter.widget, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(presenter.widget, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert all(flags_on_disk(data_dir).get(name, True) for name in names)
    assert " · ✗ bad" not in panes[0].caption()

    # Esc: the grid again, with the same three selected and the focused image current.
    qtbot.keyClick(presenter.widget, Qt.Key.Key_Escape)
    assert window.grid_stack.currentWidget() is window.grid
    qtbot.waitUntil(window.grid.hasFocus, timeout=10000)
    assert window.selection.selected_filenames() == names[1:4]
    assert window.selection.current_filename() == names[2]


def test_zoom_and_pan_stay_in_step_between_panes(qtbot, big_actor, make_window):
    names = big_actor
    window = make_window()
    window.resize(1300, 900)
    open_big_actor(qtbot, window)
    presenter = window.compare_presenter
    select(window, [names[0], names[5]])  # a picture and its 95 % resize
    qtbot.keyClick(window.grid, Qt.Key.Key_C)
    wait_pictures(qtbot, presenter)
    first, second = presenter.widget.shown_panes()
    area = first.image_area()

    # Fit: each picture fits its pane whole.
    fitted = first.drawn_rect()
    assert area.width() >= fitted.width() and area.height() >= fitted.height() - 1
    assert round(fitted.width()) in (area.width(), area.width() - 1) or round(fitted.height()) in (
        area.height(),
        area.height() - 1,
    )

    # Z: both at 100 % (one image pixel per screen pixel), showing the same spot.
    qtbot.keyClick(presenter.widget, Qt.Key.Key_Z)
    one, two = first.drawn_rect(), second.drawn_rect()
    assert (round(one.width()), round(one.height())) == (1200, 900)
    assert (round(two.width()), round(two.height())) == (1140, 855)
    assert first.fraction_under(area.center()) == pytest.approx((0.5, 0.5), abs=0.01)

    # A drag in one pane moves both by the same share of their picture.
    start = QPoint(area.center())
    qtbot.mousePress(first, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(first, start + QPoint(-150, -100))
    qtbot.mouseRelease(first, Qt.MouseButton.LeftButton, pos=start + QPoint(-150, -100))
    x1, y1 = first.fraction_under(area.center())
    x2, y2 = second.fraction_under(second.image_area().center())
    assert x1 == pytest.approx(0.5 + 150 / 1200, abs=0.01)
    assert y1 == pytest.approx(0.5 + 100 / 900, abs=0.01)
    assert (x2, y2) == pytest.approx((x1, y1), abs=0.01)

    # Z again: back to fit.
    qtbot.keyClick(presenter.widget, Qt.Key.Key_Z)
    assert first.drawn_rect() == fitted


def test_c_with_one_image_says_how_to_compare(qtbot, big_actor, make_window):
    window = make_window()
    open_big_actor(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_C)
    assert window.grid_stack.currentWidget() is window.grid
    assert window.statusBar().currentMessage() == (
        "Compare: select 2 to 4 images (Shift+arrows or Ctrl+click), not 1"
    )


def test_four_images_are_two_by_two_and_the_arrows_move_between_rows(qtbot, big_actor, make_window):
    names = big_actor
    window = make_window()
    open_big_actor(qtbot, window)
    presenter = window.compare_presenter
    select(window, names[:4])
    qtbot.keyClick(window.grid, Qt.Key.Key_C)
    panes = presenter.widget.shown_panes()
    assert len(panes) == 4
    assert panes[0].y() == panes[1].y() < panes[2].y() == panes[3].y()
    qtbot.keyClick(presenter.widget, Qt.Key.Key_Down)
    assert [pane.is_focused() for pane in panes] == [False, False, True, False]
    qtbot.keyClick(presenter.widget, Qt.Key.Key_Right)
    qtbot.keyClick(presenter.widget, Qt.Key.Key_Up)
    assert [pane.is_focused() for pane in panes] == [False, True, False, False]
    qtbot.mouseClick(panes[2], Qt.MouseButton.LeftButton)  # a click gives a pane the focus
    assert panes[2].is_focused()
