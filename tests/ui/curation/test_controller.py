"""Flagging from the keyboard: what lands in prompt_metadata.json, undo/redo, the filter, the preview."""

from __future__ import annotations

import json
import threading

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QAction

from tdm_desktop.core.errors import PromptMetadataError
from tdm_desktop.core.training_data import TrainingDataService
from tdm_desktop.ui.curation.commands import command_text
from tdm_desktop.ui.curation.controller import CurationController
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.grid.selection import next_after
from tests.ui.conftest import ACTOR_A, grid_focus, wait_idle

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
    wait_idle(qtbot, window)
    assert bad_on_disk(data_dir) == {names[0]}
    assert window.selection.current_filename() == names[1]
    assert window.selection.selected_filenames() == [names[1]]
    qtbot.keyClick(window.grid, Qt.Key.Key_X)  # photo-culling alias
    wait_idle(qtbot, window)
    assert bad_on_disk(data_dir) == {names[0], names[1]}
    assert window.flag_counts_label.text() == f"good {len(names) - 2} · bad 2"


def test_keys_faster_than_the_writes_start_land_in_the_order_pressed(
    qtbot, window, data_dir, actors
):
    names = actors[ACTOR_A[0]]
    grid_focus(qtbot, window)
    for key in (Qt.Key.Key_B, Qt.Key.Key_G, Qt.Key.Key_B, Qt.Key.Key_T):
        window.selection.select_filename(names[0])
        qtbot.keyClick(window.grid, key)  # no event loop between keys: no write has started
    qtbot.keyClick(window.grid, Qt.Key.Key_B)  # names[1], the image the last key moved to
    assert window.model.image_at(window.model.row_of(names[0])).good  # shown at once
    assert window.controller.is_busy()
    wait_idle(qtbot, window)
    assert flags_on_disk(data_dir) == {names[0]: True, names[1]: False}  # T: bad -> good
    assert window.flag_counts_label.text() == f"good {len(names) - 1} · bad 1"
    assert not window.model.image_at(window.model.row_of(names[1])).good


def test_g_and_t_on_a_selection(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    grid_focus(qtbot, window)
    window.grid.selectAll()
    qtbot.keyClick(window.grid, Qt.Key.Key_T)
    wait_idle(qtbot, window)
    assert bad_on_disk(data_dir) == set(names)
    window.selection.select_filename(names[2])
    qtbot.keyClick(window.grid, Qt.Key.Key_G)
    wait_idle(qtbot, window)
    assert bad_on_disk(data_dir) == set(names) - {names[2]}
    # Every image is decided now: no unreviewed image to go to, so the current one stays.
    assert window.selection.current_filename() == names[2]
    assert window.statusBar().currentMessage().startswith("No unreviewed image left")
    qtbot.keyClick(window.grid, Qt.Key.Key_Right)
    qtbot.keyClick(window.grid, Qt.Key.Key_P)  # alias of G, on names[3]
    wait_idle(qtbot, window)
    assert bad_on_disk(data_dir) == set(names) - {names[2], names[3]}
    assert window.selection.current_filename() == names[3]


def test_undo_and_redo_restore_the_file(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    grid_focus(qtbot, window)
    sel = window.grid.selectionModel()
    for row in (0, 1, 2):
        sel.select(window.rows.view_model().index(row, 0), QItemSelectionModel.SelectionFlag.Select)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)
    wait_idle(qtbot, window)
    assert bad_on_disk(data_dir) == set(names[:3])
    undo = window.findChild(QAction, "actionUndo")
    assert undo.text() == "&Undo Mark Bad (3 images)"

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert bad_on_disk(data_dir) == set()
    assert window.flag_counts_label.text() == f"good {len(names)} · bad 0"

    redo = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, redo)
    wait_idle(qtbot, window)
    assert bad_on_disk(data_dir) == set(names[:3])
    assert not window.model.image_at(window.model.row_of(names[0])).good


def test_bad_good_and_unreviewed_filters_split_the_images(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    window.controller.mark([names[1], names[4]], False)
    window.controller.mark([names[2]], True)
    window.flag_filter.setCurrentIndex(window.flag_filter.findText("Bad"))
    assert window.selection.visible_filenames() == [names[1], names[4]]
    window.flag_filter.setCurrentIndex(window.flag_filter.findText("Good"))  # decided good
    assert window.selection.visible_filenames() == [names[2]]
    window.flag_filter.setCurrentIndex(window.flag_filter.findText("Unreviewed"))
    assert window.selection.visible_filenames() == [
        name for name in names if name not in (names[1], names[2], names[4])
    ]


def test_undo_of_a_flag_applies_while_the_grid_is_filtered(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)  # names[0] bad
    window.flag_filter.setCurrentIndex(window.flag_filter.findText("Bad"))
    assert window.selection.visible_filenames() == [names[0]]
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert bad_on_disk(data_dir) == set()
    assert window.selection.visible_filenames() == []


def test_marking_bad_under_the_bad_filter_keeps_a_current_image(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    window.controller.mark(names[:3], False)
    window.flag_filter.setCurrentIndex(window.flag_filter.findText("Bad"))
    grid_focus(qtbot, window)
    window.selection.select_filename(names[0])
    qtbot.keyClick(window.grid, Qt.Key.Key_G)  # leaves the filtered view
    assert window.selection.visible_filenames() == names[1:3]
    assert window.selection.current_filename() == names[1]


def test_single_letters_in_the_search_box_do_not_flag(qtbot, window, data_dir):
    window.search_box.setFocus()
    qtbot.waitUntil(window.search_box.hasFocus, timeout=10000)
    qtbot.keyClicks(window.search_box, "gbtpx")
    assert window.search_box.text() == "gbtpx"
    wait_idle(qtbot, window)
    assert flags_on_disk(data_dir) == {}
    window.actor_list.setFocus()
    qtbot.waitUntil(window.actor_list.hasFocus, timeout=10000)
    for key in (Qt.Key.Key_G, Qt.Key.Key_B, Qt.Key.Key_T, Qt.Key.Key_Delete):
        qtbot.keyClick(window.actor_list, key)
    wait_idle(qtbot, window)
    assert flags_on_disk(data_dir) == {}
    assert window.controller.undo_stack.count() == 0
    assert window.model.rowCount() == ACTOR_A[2]


def test_preview_shows_the_image_and_flags_with_the_same_keys(qtbot, window, data_dir, actors):
    names = actors[ACTOR_A[0]]
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    preview = window.preview_presenter.dialog
    assert preview is not None and preview.isVisible()
    qtbot.waitUntil(preview.has_picture, timeout=10000)
    assert preview.info_text().startswith(f"{names[0]} · unreviewed · ")  # nobody decided yet
    assert "64×48" in preview.info_text()

    preview.activateWindow()
    preview.setFocus()
    qtbot.waitUntil(preview.hasFocus, timeout=10000)
    qtbot.keyClick(preview, Qt.Key.Key_Right)
    assert preview.image.filename == names[1]
    qtbot.keyClick(preview, Qt.Key.Key_B)
    wait_idle(qtbot, window)
    assert bad_on_disk(data_dir) == {names[1]}
    assert preview.image.filename == names[2]  # advanced, like the grid
    qtbot.keyClick(preview, Qt.Key.Key_Left)
    curator = window.service_curator()
    assert preview.info_text().startswith(f"{names[1]} · ✗ bad · {curator} · just now · ")
    qtbot.keyClick(preview, Qt.Key.Key_Escape)
    assert not preview.isVisible()


# -- the controller alone, without a window ------------------------------------------------------


def make_controller(service) -> tuple[CurationController, ImageGridModel]:
    model = ImageGridModel()
    model.set_images(service.load_actor(ACTOR_A[0]).images)
    controller = CurationController(service, model)
    controller.set_actor(ACTOR_A[0], NAME)
    return controller, model


def controller_idle(qtbot, controller: CurationController) -> None:
    qtbot.waitUntil(lambda: not controller.is_busy(), timeout=5000)


def is_good(model: ImageGridModel, filename: str) -> bool:
    return model.image_at(model.row_of(filename)).good


def test_controller_names_commands_and_writes_through(qtbot, service, data_dir, actors):
    names = actors[ACTOR_A[0]]
    controller, model = make_controller(service)

    assert controller.mark([names[0]], False)
    assert controller.toggle(names[:2])
    stack = controller.undo_stack
    assert [stack.text(i) for i in range(stack.count())] == [
        "Mark Bad (1 image)",
        "Toggle Flag (2 images)",
    ]
    controller_idle(qtbot, controller)
    assert flags_on_disk(data_dir) == {names[0]: True, names[1]: False}
    stack.undo()
    controller_idle(qtbot, controller)
    assert bad_on_disk(data_dir) == {names[0]}
    assert model.good_bad_counts() == (len(names) - 1, 1)
    stack.undo()
    controller_idle(qtbot, controller)
    assert bad_on_disk(data_dir) == set()


def test_a_failed_flag_write_is_reported_and_not_undoable(qtbot, service, data_dir, actors):
    controller, model = make_controller(service)
    (service.data_dir / "actors" / NAME).mkdir(parents=True, exist_ok=True)
    (service.data_dir / "actors" / NAME / "prompt_metadata.json").write_text("{oops")
    with qtbot.waitSignal(controller.error_reported, timeout=5000) as reported:
        assert controller.mark([actors[ACTOR_A[0]][0]], False)
        assert model.good_bad_counts() == (ACTOR_A[2] - 1, 1)  # shown before it is written
    controller_idle(qtbot, controller)
    assert "prompt_metadata.json" in reported.args[0]
    assert reported.args[0].startswith("Could not save the flags of 1 image: ")
    assert controller.undo_stack.count() == 0
    assert model.good_bad_counts() == (ACTOR_A[2], 0)
    assert (data_dir / "actors" / NAME / "prompt_metadata.json").read_text() == "{oops"


class _FlagsFailService(TrainingDataService):
    """Flag writes fail (as when another process holds prompt_metadata.json's lock too long)
    for the writes numbered in ``failing`` (1-based; every write when None). ``calls``: the
    flags of each write asked, ``writes``: how many writes there were (one merges several)."""

    def __init__(self, *args, failing: set[int] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.failing = failing
        self.calls: list[dict[str, bool]] = []
        self.writes = 0

    def flag_each(self, actor_id, flag_sets, known_filenames=None):
        self.calls.extend(dict(flags) for flags in flag_sets)
        self._maybe_fail()
        return super().flag_each(actor_id, flag_sets, known_filenames=known_filenames)

    def undo_flags(self, actor_id, changes):
        changes = list(changes)
        self.calls.append({c.filename: c.before_review.good for c in changes})
        self._maybe_fail()
        return super().undo_flags(actor_id, changes)

    def _maybe_fail(self) -> None:
        self.writes += 1
        if self.failing is None or self.writes in self.failing:
            path = self.prompt_metadata_path(NAME)
            raise PromptMetadataError(path, "locked by another process for 30 s")


class _GatedService(TrainingDataService):
    """Flag writes wait for ``gate`` and note the thread they run on."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.threads: list[int] = []
        self.known: list[object] = []

    def flag_each(self, actor_id, flag_sets, known_filenames=None):
        self.threads.append(threading.get_ident())
        self.known.append(known_filenames)
        if not self.gate.wait(5):
            raise AssertionError("the gate was never opened")
        return super().flag_each(actor_id, flag_sets, known_filenames=known_filenames)


def test_a_flag_key_shows_at_once_and_writes_off_the_gui_thread(
    qtbot, make_window, data_dir, store, actors
):
    names = actors[ACTOR_A[0]]
    service = _GatedService(data_dir, store)
    window = make_window(service_=service)
    try:
        grid_focus(qtbot, window)
        qtbot.keyClick(window.grid, Qt.Key.Key_B)  # returns although the write cannot end yet
        assert not is_good(window.model, names[0])
        assert window.flag_counts_label.text() == f"good {len(names) - 1} · bad 1"
        assert window.selection.current_filename() == names[1]
        assert window.controller.is_busy()
        assert bad_on_disk(data_dir) == set()
    finally:
        service.gate.set()
    wait_idle(qtbot, window)
    assert bad_on_disk(data_dir) == {names[0]}
    assert len(service.threads) == 1
    assert service.threads[0] != threading.get_ident()
    assert set(service.known[0]) == {names[0]}  # listed in the model: no manifest read, O(flags)


def test_a_failed_flag_write_puts_the_badge_back_and_reports_once(
    qtbot, make_window, data_dir, store, actors
):
    names = actors[ACTOR_A[0]]
    service = _FlagsFailService(data_dir, store)
    window = make_window(service_=service)
    errors: list[str] = []
    window.controller.error_reported.connect(errors.append)
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)
    assert not is_good(window.model, names[0])  # shown at once
    wait_idle(qtbot, window)

    assert is_good(window.model, names[0])
    assert window.flag_counts_label.text() == f"good {len(names)} · bad 0"
    assert len(errors) == 1 and "locked by another process" in errors[0]
    assert "locked by another process" in window.error_text()
    assert window.selection.current_filename() == names[1]  # the selection advanced, as ever
    assert window.controller.undo_stack.count() == 0  # nothing to undo

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert len(service.calls) == 1 and len(errors) == 1
    assert flags_on_disk(data_dir) == {}


def test_undo_of_a_failed_flag_command_writes_nothing(qtbot, data_dir, store, actors):
    names = actors[ACTOR_A[0]]
    service = _FlagsFailService(data_dir, store, failing={1})
    controller, model = make_controller(service)
    errors: list[str] = []
    controller.error_reported.connect(errors.append)
    controller.mark([names[0]], False)  # fails
    controller.wait_for_jobs()  # it ran: the next write is one of its own, not merged into it
    controller.mark([names[1]], False)  # queued before the failure is known: written
    controller_idle(qtbot, controller)
    assert len(errors) == 1
    assert bad_on_disk(data_dir) == {names[1]}
    assert [is_good(model, n) for n in names[:2]] == [True, False]

    stack = controller.undo_stack
    stack.undo()  # the good Mark Bad
    stack.undo()  # the failed one: dropped, not run
    controller_idle(qtbot, controller)
    assert bad_on_disk(data_dir) == set()
    assert service.calls == [{names[0]: False}, {names[1]: False}, {names[1]: True}]
    assert not stack.canUndo()
    assert stack.count() == 1 and stack.text(0) == "Mark Bad (1 image)"
    assert len(errors) == 1


def test_a_later_write_of_the_same_image_wins_over_an_earlier_failure(
    qtbot, data_dir, store, actors
):
    names = actors[ACTOR_A[0]]
    service = _FlagsFailService(data_dir, store, failing={1})
    controller, model = make_controller(service)
    controller.mark([names[0]], False)  # fails
    controller.wait_for_jobs()  # it ran: the next writes are not merged into it
    controller.toggle([names[0], names[1]])  # shown: names[0] good, names[1] bad; written
    controller.mark([names[0]], False)  # written
    controller_idle(qtbot, controller)
    assert bad_on_disk(data_dir) == {names[0], names[1]}
    assert [is_good(model, n) for n in names[:2]] == [False, False]


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
    wait_idle(qtbot, window)
    assert bad_on_disk(data_dir) == {names[0]}
    assert not window.model.image_at(window.model.row_of(names[0])).good


class _CountingService(_GatedService):
    """Also counts full reads of an actor (``load_actor``)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.loads = 0

    def load_actor(self, actor_id):
        self.loads += 1
        return super().load_actor(actor_id)


def test_no_reload_while_flag_writes_are_queued_then_one(
    qtbot, make_window, data_dir, store, actors
):
    names = actors[ACTOR_A[0]]
    service = _CountingService(data_dir, store)
    window = make_window(service_=service)
    loads = service.loads
    try:
        grid_focus(qtbot, window)
        for _ in range(3):
            qtbot.keyClick(window.grid, Qt.Key.Key_B)
        for _ in range(5):  # the documents changed (the watcher), F5...
            window.session.reload_actor()
        qtbot.wait(300)
        assert service.loads == loads  # nothing re-read while our writes are queued
    finally:
        service.gate.set()
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: service.loads == loads + 1, timeout=5000)
    qtbot.wait(300)
    assert service.loads == loads + 1  # one read once they have landed, not one per key
    assert bad_on_disk(data_dir) == set(names[:3])
    assert [is_good(window.model, name) for name in names[:4]] == [False, False, False, True]
