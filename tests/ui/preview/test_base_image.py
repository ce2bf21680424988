"""C in the preview: the actor's base image beside the candidate, in panes of one size; the flag
keys still flag (on disk), and an actor without a base image says so."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from tests.ui.conftest import ACTOR_A, ACTOR_B, grid_focus, wait_idle


def open_preview(qtbot, window):
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.preview_presenter.dialog is not None, timeout=10000)
    dialog = window.preview_presenter.dialog
    qtbot.waitUntil(dialog.has_picture, timeout=5000)
    dialog.activateWindow()
    dialog.setFocus()
    qtbot.waitUntil(dialog.hasFocus, timeout=10000)
    return dialog


def test_c_shows_the_base_image_beside_the_candidate_and_flags_still_work(
    qtbot, data_dir, actors, window
):
    names = actors[ACTOR_A[0]]
    dialog = open_preview(qtbot, window)
    assert not dialog.base_shown()

    qtbot.keyClick(dialog, Qt.Key.Key_C)
    assert dialog.base_shown()
    qtbot.waitUntil(dialog.base_pane.has_picture, timeout=5000)
    base, candidate = dialog.base_pane, dialog.picture_pane
    assert base.caption() == f"Base image: {ACTOR_A[1]}_base.png · 32×32"
    assert candidate.caption() == f"Candidate: {names[0]}"
    assert base.width() == candidate.width() and base.height() == candidate.height()
    # Fitted to panes of one size: the 32×32 base and the 64×48 candidate are drawn as wide.
    assert round(base.drawn_rect().width()) == round(candidate.drawn_rect().width())

    qtbot.keyClick(dialog, Qt.Key.Key_B)  # marks the candidate bad and moves on, base stays
    wait_idle(qtbot, window)
    metadata = json.loads((data_dir / "actors" / ACTOR_A[1] / "prompt_metadata.json").read_text())
    assert metadata["images"][names[0]]["good"] is False
    qtbot.waitUntil(lambda: dialog.image.filename == names[1], timeout=10000)
    assert dialog.base_shown()
    qtbot.waitUntil(lambda: dialog.picture_pane.caption().startswith(f"Candidate: {names[1]}"))

    qtbot.keyClick(dialog, Qt.Key.Key_C)
    assert not dialog.base_shown()


def test_an_actor_without_a_base_image_says_so(qtbot, actors, window):
    with qtbot.waitSignal(window.actor_opened, timeout=5000):
        window.session.open_actor(ACTOR_B[0])
    dialog = open_preview(qtbot, window)
    qtbot.keyClick(dialog, Qt.Key.Key_C)
    qtbot.waitUntil(lambda: dialog.base_pane.message() == "This actor has no base image")
    assert not dialog.base_pane.has_picture()
