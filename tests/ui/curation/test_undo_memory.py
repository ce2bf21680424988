"""The copies kept for undoing deletes stay within the undo memory: the oldest delete's go first,
and its undo then says it cannot bring the images back (the Edit menu says so before); a delete
larger than the whole budget is asked about as one that cannot be undone; the copies are fetched
several at a time."""

from __future__ import annotations

import contextlib
import dataclasses
import threading

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction

from tdm_desktop.core.training_data import TrainingDataService
from tdm_desktop.ui.settings.model import AppSettings, load_settings
from tests.factories import jpeg_bytes
from tests.ui.conftest import ACTOR_A, grid_focus, wait_idle
from tests.ui.curation.test_delete import in_s3, listed

ACTOR_ID, NAME, COUNT = ACTOR_A


def delete_one(qtbot, window, filename: str) -> None:
    window.selection.select_filename(filename)
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Delete)
    wait_idle(qtbot, window)


def undo_text(window) -> str:
    return window.findChild(QAction, "actionUndo").text()


def test_past_the_budget_the_oldest_delete_keeps_no_copy_and_its_undo_says_so(
    qtbot, window, s3_client, data_dir, actors
):
    first, second = actors[ACTOR_ID][1], actors[ACTOR_ID][3]
    one_copy = max(len(jpeg_bytes(1)), len(jpeg_bytes(3)))
    window.controller.set_undo_memory(one_copy + one_copy // 2)  # room for one copy, not two
    errors: list[str] = []
    window.controller.error_reported.connect(errors.append)

    delete_one(qtbot, window, first)
    assert undo_text(window) == "&Undo Delete (1 image)"
    delete_one(qtbot, window, second)
    assert window.controller.undo_memory.total_bytes() <= one_copy + one_copy // 2

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert in_s3(s3_client, second) and second in listed(data_dir)  # the newest had its copy
    assert undo_text(window) == "&Undo Delete (1 image), no copy kept"

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert not in_s3(s3_client, first) and first not in listed(data_dir)
    assert len(errors) == 1
    assert errors[0].startswith("Cannot undo Delete (1 image): no copy of its images was kept")
    assert "Settings… can raise it" in errors[0]
    stack = window.controller.undo_stack
    assert stack.count() == 1  # the delete without a copy left the stack; the newer one stays
    assert (stack.index(), stack.redoText()) == (0, "Delete (1 image)")


def test_lowering_the_budget_drops_copies_at_once_and_the_edit_menu_says_so(qtbot, window, actors):
    delete_one(qtbot, window, actors[ACTOR_ID][2])
    assert undo_text(window) == "&Undo Delete (1 image)"
    assert window.controller.undo_memory.total_bytes() == len(jpeg_bytes(2))
    window.settings_presenter.apply(_with_undo_memory(window, 0))
    assert undo_text(window) == "&Undo Delete (1 image), no copy kept"
    assert window.controller.undo_memory.total_bytes() == 0


def _with_undo_memory(window, mib: int) -> AppSettings:
    return dataclasses.replace(load_settings(window._settings), undo_memory_mib=mib)


def test_a_delete_larger_than_the_undo_memory_is_asked_as_one_that_cannot_be_undone(
    qtbot, window, dialogs, s3_client, data_dir, actors
):
    victim = actors[ACTOR_ID][0]
    window.settings_presenter.apply(_with_undo_memory(window, 0))
    delete_one(qtbot, window, victim)
    assert dialogs.undoable_answers == [False]
    assert not in_s3(s3_client, victim) and victim not in listed(data_dir)
    assert undo_text(window) == "&Undo Delete (1 image), no copy kept"


class _ConcurrentFetches(TrainingDataService):
    """Counts how many copies for undo are being fetched at once."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.calls = 0
        self.three_at_once = threading.Barrier(3, timeout=5)

    def fetch_image_bytes(self, image):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
            self.calls += 1
            first_three = self.calls <= 3
        if first_three:  # the barrier breaks (after 5 s) unless three run side by side
            with contextlib.suppress(threading.BrokenBarrierError):
                self.three_at_once.wait()
        try:
            return super().fetch_image_bytes(image)
        finally:
            with self.lock:
                self.now -= 1


def test_the_copies_for_undo_are_fetched_several_at_a_time(
    qtbot, make_window, data_dir, store, s3_client, actors
):
    service = _ConcurrentFetches(data_dir, store)
    window = make_window(service_=service)
    window.grid.selectAll()
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: not window.controller.is_busy(), timeout=15000)
    assert service.most >= 3
    assert listed(data_dir) == []
    window.controller.undo_stack.undo()
    wait_idle(qtbot, window)
    assert [in_s3(s3_client, name) for name in actors[ACTOR_ID]] == [True] * COUNT
