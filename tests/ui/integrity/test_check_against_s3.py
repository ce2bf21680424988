"""Check against S3… in the window, on moto: the planted actor of tests/integrity_scenarios.py
(dangling entries, a wrong size, a duplicate, a foreign URL, orphans, stale metadata) shows
exactly its findings; each fix button fixes exactly its kind (the manifest on disk, the objects
in S3); the actor list's mark appears and clears; an incomplete listing offers no fix; a
read-only account gets the fixes off with the reason; the audit never runs on the GUI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Iterator

import pytest
from PySide6.QtCore import QPoint, Qt

from tdm_desktop.core.audit import AuditReport, ShouldStop
from tdm_desktop.core.errors import ReadOnlyCatalogError, S3Error
from tdm_desktop.core.integrity import IntegrityService
from tdm_desktop.core.manifest import size_mb
from tdm_desktop.core.migration import MigrationOutcome
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.repair import Fix, RepairOutcome
from tdm_desktop.core.s3_store import ObjectInfo, S3Store
from tdm_desktop.core.training_data import ActorTrainingData, TrainingDataService
from tdm_desktop.ui.actions import build_actor_context_menu
from tdm_desktop.ui.integrity.check_dialog import FIX_BUTTON_NAMES, CheckDialog
from tdm_desktop.ui.integrity.delegate import FOUND_COLOR, INCOMPLETE_COLOR
from tests.conftest import BUCKET
from tests.factories import jpeg_bytes, make_actor
from tests.integrity_scenarios import (
    ACTOR,
    ACTOR_ID,
    AWS,
    NESTED_KEY,
    PREFIX,
    listed,
    manifest_bytes,
    name,
    objects,
    plant_drift,
)
from tests.ui.integrity.conftest import (
    CLEAN_ACTOR,
    CLEAN_ID,
    Answers,
    kinds_shown,
    list_index,
    wait_repair,
)


class RecordingIntegrity:
    """The real integrity service, recording the thread each audit runs on; ``gate`` holds an
    audit until it is set."""

    def __init__(self, real: IntegrityService, threads: list[threading.Thread], gate) -> None:
        self._real, self._threads, self._gate = real, threads, gate

    def audit(self, actor_id: str, should_stop: ShouldStop | None = None) -> AuditReport:
        self._threads.append(threading.current_thread())
        assert self._gate.wait(10)
        return self._real.audit(actor_id, should_stop)

    def repair(
        self,
        actor_id: str,
        fixes: Iterable[Fix],
        should_stop: ShouldStop | None = None,
        only: Collection[str] | None = None,
    ) -> RepairOutcome:
        self._threads.append(threading.current_thread())
        return self._real.repair(actor_id, fixes, should_stop, only)

    def migrate(
        self, actor_id: str, *, dry_run: bool, should_stop: ShouldStop | None = None
    ) -> MigrationOutcome:
        return self._real.migrate(actor_id, dry_run=dry_run, should_stop=should_stop)

    def check_writable(self) -> None:
        self._real.check_writable()


class RecordingService(TrainingDataService):
    """The service the window uses, with its integrity recorded and each open/reload counted."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.threads: list[threading.Thread] = []
        self.gate = threading.Event()
        self.gate.set()
        self.loads: list[str] = []

    def integrity(self) -> RecordingIntegrity:
        return RecordingIntegrity(super().integrity(), self.threads, self.gate)

    def load_actor(self, actor_id: str) -> ActorTrainingData:
        self.loads.append(actor_id)
        return super().load_actor(actor_id)


@pytest.fixture
def planted(world) -> dict[str, set[str]]:
    expected = plant_drift(world)
    make_actor(world.catalog, world.store, CLEAN_ID, CLEAN_ACTOR, 2)
    return expected


def check(qtbot, window) -> CheckDialog:
    with qtbot.waitSignal(window.integrity.controller.checked, timeout=10_000):
        window.window_actions.check_s3.trigger()
    dialog = window.integrity.check_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_the_check_runs_in_the_background_and_shows_exactly_the_planted_findings(
    qtbot, world, planted, open_window
):
    service = RecordingService(world.catalog, world.store)
    window = open_window(service)
    assert window.session.actor_id == ACTOR_ID
    service.gate.clear()  # the audit waits in its worker while the window goes on
    window.window_actions.check_s3.trigger()
    dialog = window.integrity.check_dialog
    assert dialog.is_running() and dialog.cancel_button.isVisible()
    assert dialog.status_label.text() == "Checking actor 0042 against S3: listing its prefix…"
    assert not any(button.isEnabled() for button in dialog.fix_buttons.values())
    assert window.statusBar().currentMessage() == "Checking actor 0042 against S3…"
    with qtbot.waitSignal(window.integrity.controller.checked, timeout=10_000):
        service.gate.set()

    assert kinds_shown(dialog) == planted
    assert all(what and todo for rows in dialog.found_rows().values() for _f, what, todo in rows)
    assert service.threads and threading.main_thread() not in service.threads
    assert dialog.status_label.text() == (
        "8 findings: 2 orphans, 2 dangling, 1 size mismatch, 1 foreign URL, 1 duplicate, "
        "1 stale metadata entry (7 listed, 6 objects in S3)"
    )
    rows = dict(dialog.found_rows()["orphan"][i][::2] for i in range(2))
    assert rows[name(10)] == "Adopt lists it; Delete… removes it from S3"
    assert rows["drafts/sketch.jpg"].startswith("left alone by repair")
    shown = {
        button.objectName(): button.text()
        for button in dialog.fix_buttons.values()
        if button.isVisibleTo(dialog) and button.isEnabled()
    }
    assert shown == {
        "fixAdoptOrphans": "Adopt 1 orphan",
        "fixDeleteOrphans": "Delete 1 orphan from S3…",
        "fixDropDangling": "Drop 2 dangling entries",
        "fixSizes": "Fix 1 size",
        "fixForgetStale": "Forget 1 stale metadata entry",
    }
    assert not dialog.note_label.isVisibleTo(dialog)


def test_each_fix_button_fixes_exactly_its_kind(qtbot, world, planted, open_window):
    service = RecordingService(world.catalog, world.store)
    window = open_window(service)
    dialog = check(qtbot, window)
    in_s3 = objects(world)
    expected = {kind: set(names) for kind, names in planted.items()}
    for fix, kind in (
        (Fix.DROP_DANGLING, "dangling"),
        (Fix.FIX_SIZES, "size-mismatch"),
        (Fix.FORGET_STALE, "stale-metadata"),
        (Fix.ADOPT_ORPHANS, "orphan"),
    ):
        loads = len(service.loads)
        wait_repair(qtbot, window, dialog.fix_buttons[fix])
        if kind == "orphan":
            expected[kind] = {"drafts/sketch.jpg"}  # a name the app never writes: left alone
        else:
            del expected[kind]
        assert kinds_shown(dialog) == expected, fix  # the check made right after the fix
        assert objects(world) == in_s3, fix  # only the manifest and the metadata changed
        visible = {b.objectName() for b in dialog.fix_buttons.values() if b.isVisibleTo(dialog)}
        if kind != "orphan":
            assert FIX_BUTTON_NAMES[fix] not in visible, fix
        qtbot.waitUntil(lambda n=loads: len(service.loads) == n + 1, timeout=5000)
        qtbot.wait(400)  # the watcher of its documents does not read it a second time
        assert len(service.loads) == loads + 1, fix
    entries = listed(world)
    assert set(entries) == {name(n) for n in (0, 1, 4, 5, 10)} | {"elsewhere.jpg"}
    assert entries[name(1)]["size_mb"] == size_mb(len(jpeg_bytes(1)))
    assert entries[name(10)]["s3_url"] == AWS + PREFIX + name(10)
    metadata = PromptMetadata.for_actor(world.catalog, ACTOR)
    assert metadata.generation(name(40)) is None
    assert metadata.is_good(name(0)) is False  # a listed image's flag is kept
    assert window.model.rowCount() == 6  # the grid read the actor again
    assert dialog.changes.toPlainText().splitlines() == [
        "Adopt orphans: 1 changed",
        f"✓ listed {name(10)} (0.0 MB)",
    ]
    # Checking again changes nothing and finds the same.
    before = manifest_bytes(world)
    with qtbot.waitSignal(window.integrity.controller.checked, timeout=10_000):
        qtbot.mouseClick(dialog.again_button, Qt.MouseButton.LeftButton)
    assert kinds_shown(dialog) == expected
    assert manifest_bytes(world) == before


def test_delete_orphans_asks_naming_the_count_and_deletes_only_those(
    qtbot, world, planted, open_window
):
    answers = Answers(answer=False)
    window = open_window(RecordingService(world.catalog, world.store), answers)
    dialog = check(qtbot, window)
    before_manifest, before_objects = manifest_bytes(world), objects(world)
    qtbot.mouseClick(dialog.fix_buttons[Fix.DELETE_ORPHANS], Qt.MouseButton.LeftButton)
    assert answers.asked == [(ACTOR, 1)]
    assert not window.integrity.controller.is_busy()
    assert objects(world) == before_objects  # declined: nothing deleted
    answers.answer = True
    # Another tool writes one more orphan after the check: it was not asked about, so it stays.
    world.store.put_new(world.store.key_for(ACTOR, name(11)), jpeg_bytes(11), "image/jpeg")
    wait_repair(qtbot, window, dialog.fix_buttons[Fix.DELETE_ORPHANS])
    assert answers.asked == [(ACTOR, 1), (ACTOR, 1)]
    assert set(before_objects) - set(objects(world)) == {PREFIX + name(10)}
    assert NESTED_KEY in objects(world) and PREFIX + name(11) in objects(world)
    assert manifest_bytes(world) == before_manifest  # S3 only: nothing listed changed
    assert f"✓ deleted {name(10)} from S3" in dialog.changes.toPlainText()
    assert kinds_shown(dialog)["orphan"] == {"drafts/sketch.jpg", name(11)}


def test_the_actor_list_marks_what_the_last_check_found_until_it_comes_back_clean(
    qtbot, world, open_window
):
    make_actor(world.catalog, world.store, ACTOR_ID, ACTOR, 3)
    make_actor(world.catalog, world.store, CLEAN_ID, CLEAN_ACTOR, 2)
    world.store.delete_keys([world.store.key_for(ACTOR, name(2))])  # dangling
    world.store.put_new(world.store.key_for(ACTOR, name(7)), jpeg_bytes(7), "image/jpeg")
    window = open_window(RecordingService(world.catalog, world.store))
    row = list_index(window, ACTOR_ID)
    assert window.integrity.delegate.mark_at(row) is None
    assert not badge_painted(window, ACTOR_ID, FOUND_COLOR)

    dialog = check(qtbot, window)
    mark = window.integrity.delegate.mark_at(row)
    at = window.integrity.controller.last_check(ACTOR_ID).checked_at.astimezone()
    assert mark is not None and mark.count == 2
    assert mark.text == f"2 findings at {at:%H:%M}: 1 orphan, 1 dangling"
    assert window.integrity.delegate.tooltip(row).splitlines() == [
        f"actor {ACTOR_ID}: 3 images",
        mark.text,
    ]
    qtbot.waitUntil(lambda: badge_painted(window, ACTOR_ID, FOUND_COLOR), timeout=10000)
    assert not badge_painted(window, CLEAN_ID, FOUND_COLOR)

    wait_repair(qtbot, window, dialog.fix_buttons[Fix.DROP_DANGLING])
    assert window.integrity.delegate.mark_at(row).text.startswith("1 finding at ")
    wait_repair(qtbot, window, dialog.fix_buttons[Fix.ADOPT_ORPHANS])
    assert (
        dialog.status_label.text() == "Clean: the manifest and S3 match (3 listed, 3 objects in S3)"
    )
    assert window.integrity.delegate.mark_at(row) is None
    qtbot.waitUntil(lambda: not badge_painted(window, ACTOR_ID, FOUND_COLOR), timeout=10000)
    assert set(listed(world)) == {name(0), name(1), name(7)}
    with qtbot.waitSignal(window.integrity.controller.checked, timeout=10_000):
        qtbot.mouseClick(dialog.again_button, Qt.MouseButton.LeftButton)
    assert dialog.status_label.text().startswith("Clean: ")  # the second check is clean
    assert not any(b.isVisibleTo(dialog) for b in dialog.fix_buttons.values())


def badge_painted(window, actor_id: str, color) -> bool:
    """Whether the row's right end, as painted, shows the badge's colour."""
    view = window.actor_list
    rect = view.visualRect(list_index(window, actor_id))
    image = view.viewport().grab().toImage()
    right = min(rect.right(), view.viewport().width() - 1)
    y = rect.center().y()
    return any(
        image.pixelColor(QPoint(x, y)).name() == color.name() for x in range(right - 30, right)
    )


class StopsHalfway(S3Store):
    """A listing whose second page fails: the objects of the first come, then an S3 error."""

    def iter_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        for number, obj in enumerate(super().iter_objects(prefix)):
            if number == 2:
                raise S3Error(prefix, "SlowDown", "Please reduce your request rate")
            yield obj


def test_an_incomplete_check_says_so_and_offers_no_fix(qtbot, world, open_window):
    make_actor(world.catalog, world.store, ACTOR_ID, ACTOR, 4)
    world.store.put_new(world.store.key_for(ACTOR, name(0) + ".x"), b"x", "image/jpeg")
    world.store.delete_keys([world.store.key_for(ACTOR, name(3))])
    store = StopsHalfway(world.client, BUCKET)
    window = open_window(RecordingService(world.catalog, store))
    dialog = check(qtbot, window)
    assert (
        dialog.status_label.text()
        == "Incomplete (4 listed, 2 objects in S3 before the listing stopped)"
    )
    note = dialog.note_label.text()
    assert "the listing stopped early" in note and "SlowDown" in note
    assert "no fix is offered" in note
    assert not any(b.isVisibleTo(dialog) for b in dialog.fix_buttons.values())
    assert "dangling" not in dialog.found_rows()  # cannot be told from half a listing
    mark = window.integrity.delegate.mark_at(list_index(window, ACTOR_ID))
    assert mark is not None and not mark.complete
    qtbot.waitUntil(lambda: badge_painted(window, ACTOR_ID, INCOMPLETE_COLOR), timeout=10000)


class ReadOnlyIntegrity(RecordingIntegrity):
    def check_writable(self) -> None:
        raise ReadOnlyCatalogError(f"this account can only read {BUCKET}: AccessDenied")


class ReadOnlyService(RecordingService):
    def integrity(self) -> RecordingIntegrity:
        return ReadOnlyIntegrity(TrainingDataService.integrity(self), self.threads, self.gate)


def test_a_read_only_account_gets_the_fixes_off_with_the_reason(qtbot, world, open_window):
    make_actor(world.catalog, world.store, ACTOR_ID, ACTOR, 3)
    world.store.delete_keys([world.store.key_for(ACTOR, name(2))])
    window = open_window(ReadOnlyService(world.catalog, world.store))
    dialog = check(qtbot, window)
    button = dialog.fix_buttons[Fix.DROP_DANGLING]
    assert button.isVisibleTo(dialog) and not button.isEnabled()
    reason = f"Read-only: this account can only read {BUCKET}: AccessDenied"
    assert button.toolTip() == reason
    assert dialog.note_label.text() == f"{reason}: the fixes are off."


def test_cancel_stops_the_listing_and_changes_nothing(qtbot, world, planted, open_window):
    service = RecordingService(world.catalog, world.store)
    window = open_window(service)
    service.gate.clear()
    window.window_actions.check_s3.trigger()
    dialog = window.integrity.check_dialog
    before = manifest_bytes(world), objects(world)
    with qtbot.waitSignal(window.integrity.controller.cancelled, timeout=10_000):
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
        assert dialog.cancel_button.text() == "Cancelling…"
        service.gate.set()
    assert dialog.status_label.text() == "Cancelled: nothing was changed"
    assert window.integrity.controller.last_check(ACTOR_ID) is None
    assert window.integrity.delegate.mark_at(list_index(window, ACTOR_ID)) is None
    assert (manifest_bytes(world), objects(world)) == before


def test_the_actor_menu_and_the_actor_lists_context_menu_offer_the_check(
    qtbot, world, planted, open_window
):
    window = open_window(RecordingService(world.catalog, world.store))
    actor_menu = next(m for m in window.menuBar().actions() if m.text() == "&Actor").menu()
    assert [a.objectName() for a in actor_menu.actions()] == [
        "actionCheckAgainstS3",
        "actionMigrate",
    ]
    assert window.actor_list.contextMenuPolicy() == Qt.ContextMenuPolicy.CustomContextMenu
    context = build_actor_context_menu(window, window.window_actions)
    assert [a.objectName() for a in context.actions() if not a.isSeparator()] == [
        "actionCheckAgainstS3",
        "actionMigrate",
        "actionRefresh",
    ]
    assert window.window_actions.check_s3.isEnabled()
    assert not window.window_actions.migrate.isEnabled()  # 0042 was not written before S3-only
