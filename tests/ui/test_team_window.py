"""Curators in a team on one S3 catalog (moto): what others change shows in the window within the
check interval, named with who did it; undo leaves what others changed since; a read-only account
is told once and writes nothing; a hidden or minimised window stops asking S3."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QSettings, Qt

from tdm_desktop.cli import main
from tdm_desktop.core.curators import CuratorChoice
from tdm_desktop.core.documents import S3Documents
from tdm_desktop.core.layout import manifest_name, prompt_metadata_name
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.training_data import TrainingDataService
from tests.catalogs import BUCKET, CATALOG_PREFIX, CATALOG_URL, deny_puts, raw_bytes
from tests.factories import jpeg_bytes, make_actor
from tests.ui.conftest import grid_focus, local_transport, wait_idle

ACTOR_ID, ACTOR = "0107", "0107_japanese_25_female"
POLL_MS = 100  # the default is 5 s
NOW = datetime(2025, 10, 17, 16, 30, tzinfo=UTC)


@pytest.fixture
def s3_catalog(s3_client):
    return S3Documents(s3_client, BUCKET, CATALOG_PREFIX)


@pytest.fixture
def names(s3_catalog, store):
    return make_actor(s3_catalog, store, ACTOR_ID, ACTOR, 6)


@pytest.fixture
def open_as(make_window, s3_catalog, store, names, tmp_path):
    """A window of ``curator`` on the S3 catalog, with settings of its own, polling fast."""

    def open_window(curator: str, **options):
        service = TrainingDataService(s3_catalog, store, curator=curator)
        settings = QSettings(str(tmp_path / f"{curator}.ini"), QSettings.Format.IniFormat)
        window = make_window(service_=service, settings_=settings, **options)
        window.session.watcher.set_poll_interval(POLL_MS)
        return window

    return open_window


def status(window) -> str:
    return window.statusBar().currentMessage()


def stored_images(s3_catalog) -> dict:
    data = raw_bytes(s3_catalog, prompt_metadata_name(ACTOR))
    return json.loads(data)["images"] if data else {}


def test_the_window_shows_a_flag_made_by_the_cli_within_the_interval(
    qtbot, open_as, names, monkeypatch, capsys
):
    window = open_as("alice")
    window.selection.select_filename(names[4])
    monkeypatch.setenv("TDM_CURATOR", "bob")

    code = main(["--data-dir", CATALOG_URL, "mark", ACTOR_ID, names[1], names[2], "--bad"])

    assert code == 0, capsys.readouterr().err
    qtbot.waitUntil(lambda: "2 images flagged bad by bob" in status(window), timeout=5000)
    assert window.flag_counts_label.text() == "good 4 · bad 2"
    assert window.model.index(1).data(window.model.GoodRole) is False  # the ✗ badge
    tooltip = window.model.index(2).data(Qt.ItemDataRole.ToolTipRole)
    assert tooltip.splitlines()[1] == "bad · bob · just now"
    assert window.selection.current_filename() == names[4]  # the place is kept


def test_added_and_deleted_images_are_said_and_the_place_and_scroll_kept(
    qtbot, open_as, names, s3_catalog, store
):
    window = open_as("alice")
    window.resize(520, 420)  # a grid that scrolls
    window.selection.select_filename(names[3])
    bar = window.grid.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=10000)
    bar.setValue(bar.maximum() // 2 or 1)
    scroll = bar.value()
    assert scroll > 0
    manifest = TrainingDataManifest.for_actor(s3_catalog, ACTOR_ID)
    for index in (10, 11):
        filename = f"{ACTOR}_{index}.jpg"
        key = store.key_for(ACTOR, filename)
        store.put_new(key, jpeg_bytes(index), "image/jpeg")
        manifest.add_image(filename, store.aws_url_for(key), 0.01)
    manifest.remove_image(names[5])

    qtbot.waitUntil(lambda: "2 images added; 1 image deleted" in status(window), timeout=5000)
    assert window.header.image_count_label.text() == "7 images in S3 · 0 reviewed"
    assert window.selection.current_filename() == names[3]
    assert window.grid.verticalScrollBar().value() == scroll
    log = window.log_dock.view.toPlainText()
    assert f"{ACTOR}: 2 images added; 1 image deleted" in log


def test_the_open_preview_shows_another_curators_flag_of_its_image(
    qtbot, open_as, names, s3_catalog, store
):
    window = open_as("alice")
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    preview = window.preview_presenter.dialog
    assert preview.info_text().startswith(f"{names[0]} · unreviewed · ")

    TrainingDataService(s3_catalog, store, curator="bob").mark(ACTOR_ID, [names[0]], good=False)

    qtbot.waitUntil(
        lambda: preview.info_text().startswith(f"{names[0]} · ✗ bad · bob · just now"),
        timeout=5000,
    )


def test_two_windows_as_two_curators_see_each_others_flags(qtbot, open_as, names, s3_catalog):
    alice = open_as("alice")
    bob = open_as("bob")
    assert alice.curator_label.text() == "Curator: alice"
    assert bob.curator_label.text() == "Curator: bob"

    alice.activateWindow()
    qtbot.waitUntil(alice.isActiveWindow, timeout=10000)
    grid_focus(qtbot, alice)
    qtbot.keyClick(alice.grid, Qt.Key.Key_B)
    wait_idle(qtbot, alice)
    assert stored_images(s3_catalog)[names[0]]["reviewed_by"] == "alice"

    qtbot.waitUntil(lambda: "1 image flagged bad by alice" in status(bob), timeout=5000)
    assert not bob.model.image_at(0).good
    assert bob.model.image_at(0).review.by == "alice"
    assert alice.model.image_at(0).review.by == "alice"  # alice's own flag, as recorded


def test_undo_leaves_an_image_another_curator_changed_since_and_says_so(
    qtbot, open_as, names, s3_catalog, store
):
    alice = open_as("alice")
    grid_focus(qtbot, alice)
    alice.grid.selectAll()
    qtbot.keyClick(alice.grid, Qt.Key.Key_B)  # all 6 bad, by alice
    wait_idle(qtbot, alice)
    bob = TrainingDataService(s3_catalog, store, curator="bob")
    bob.mark(ACTOR_ID, [names[1], names[2]], good=True)

    qtbot.keyClick(alice.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, alice)

    assert "2 images were changed by bob since; not undone" in status(alice)
    images = stored_images(s3_catalog)
    assert set(images) == {names[1], names[2]}  # the others are unreviewed again, not "good"
    assert all(images[n]["reviewed_by"] == "bob" and images[n]["good"] for n in names[1:3])
    assert [alice.model.image_at(row).review.decided for row in range(6)] == [
        False,
        True,
        True,
        False,
        False,
        False,
    ]
    assert alice.model.image_at(1).review.by == "bob"
    assert "2 images were changed by bob since; not undone" in alice.log_dock.view.toPlainText()

    bob.mark(ACTOR_ID, [names[0]], good=True)  # now redo meets another change of bob's
    qtbot.keyClick(
        alice.grid,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    wait_idle(qtbot, alice)
    assert "3 images were changed by bob since; not redone" in status(alice)
    images = stored_images(s3_catalog)
    assert [images[n]["good"] for n in names] == [True, True, True, False, False, False]
    assert [images[n]["reviewed_by"] for n in names[3:]] == ["alice"] * 3


def test_a_read_only_account_is_told_once_and_writes_nothing(
    qtbot, open_as, names, s3_client, s3_catalog, dialogs
):
    deny_puts(s3_client)
    manifest_before = raw_bytes(s3_catalog, manifest_name(ACTOR_ID))
    window = open_as("alice")

    qtbot.waitUntil(window.access_label.isVisible, timeout=10000)
    assert window.error_text().startswith(
        f"Read-only: this account can only read {CATALOG_URL}: AccessDenied"
    )
    assert "flags, captions, generation and delete are off" in window.error_text()
    grid_focus(qtbot, window)
    for key in (Qt.Key.Key_B, Qt.Key.Key_G, Qt.Key.Key_T, Qt.Key.Key_Delete):
        qtbot.keyClick(window.grid, key)
    window.window_actions.delete_all.trigger()
    window.window_actions.generate_single.trigger()
    wait_idle(qtbot, window)

    assert window.model.good_bad_counts() == (6, 0)  # nothing shown as flagged
    assert window.selection.current_filename() == names[0]  # and nothing advanced
    assert window.controller.undo_stack.count() == 0  # nothing queued for later
    assert window.generation_presenter.generate_single_dialog is None
    assert dialogs.delete_questions == [] and dialogs.delete_all_questions == []
    assert raw_bytes(s3_catalog, prompt_metadata_name(ACTOR)) is None
    assert raw_bytes(s3_catalog, manifest_name(ACTOR_ID)) == manifest_before
    log = window.log_dock.view.toPlainText()
    assert log.count("this account can only read") == 1  # said once


def test_an_account_that_loses_write_access_meanwhile_is_told_at_its_first_write(
    qtbot, open_as, names, s3_client, s3_catalog
):
    window = open_as("alice")
    assert not window.access_label.isVisible()
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_G)  # written: on the undo stack
    wait_idle(qtbot, window)
    deny_puts(s3_client)  # the policy changed after the actor opened
    qtbot.keyClick(window.grid, Qt.Key.Key_B)
    wait_idle(qtbot, window)

    assert window.access_label.isVisible()
    assert window.error_text().startswith(f"Read-only: this account can only read {CATALOG_URL}")
    assert window.model.good_bad_counts() == (6, 0)  # the flag shown at once is taken back
    assert window.controller.undo_stack.count() == 0  # nothing left that could not be undone
    assert list(stored_images(s3_catalog)) == [names[0]]  # only the G before
    qtbot.keyClick(window.grid, Qt.Key.Key_B)  # from now on nothing is shown or queued
    assert window.model.good_bad_counts() == (6, 0) and not window.controller.is_busy()
    assert window.log_dock.view.toPlainText().count("this account can only read") == 1


def test_polling_pauses_while_the_window_is_minimised_and_catches_up_after(
    qtbot, open_as, names, s3_catalog, store
):
    window = open_as("alice")
    assert window.session.watcher.is_polling()
    window.showMinimized()
    qtbot.waitUntil(lambda: not window.session.watcher.is_polling(), timeout=10000)
    polls = window.session.watcher.polls
    TrainingDataService(s3_catalog, store, curator="bob").mark(ACTOR_ID, [names[0]], good=False)
    qtbot.wait(5 * POLL_MS)
    assert window.session.watcher.polls == polls  # no GET while minimised
    assert window.model.image_at(0).good

    window.showNormal()
    qtbot.waitUntil(lambda: not window.model.image_at(0).good, timeout=5000)
    assert window.session.watcher.is_polling()
    assert "1 image flagged bad by bob" in status(window)


def test_a_hidden_window_stops_polling(qtbot, open_as):
    window = open_as("alice")
    window.hide()
    assert not window.session.watcher.is_polling()
    window.show()
    assert window.session.watcher.is_polling()


def test_the_tooltip_counts_time_from_the_injected_clock(qtbot, open_as, names, s3_catalog, store):
    TrainingDataService(
        s3_catalog, store, curator="bob", clock=lambda: datetime(2025, 10, 17, 16, 25, tzinfo=UTC)
    ).mark(ACTOR_ID, [names[0]], good=False)
    window = open_as("alice", clock=lambda: NOW)
    tooltip = window.model.index(0).data(Qt.ItemDataRole.ToolTipRole)
    assert tooltip.splitlines()[1] == "bad · bob · 5 min ago"
    assert window.model.index(1).data(Qt.ItemDataRole.ToolTipRole).splitlines()[1] == "unreviewed"


def test_run_windows_opens_a_window_per_curator_side_by_side_with_own_settings(
    qtbot, s3_catalog, store, names, tmp_path
):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from tdm_desktop.core.data_dirs import DataDirChoice
    from tdm_desktop.ui.app import WindowPlan, run_windows
    from tdm_desktop.ui.main_window import MainWindow

    def open_at(location: str) -> TrainingDataService:
        assert location == CATALOG_URL
        return TrainingDataService(s3_catalog, store)

    plans = [
        WindowPlan(
            open_at,
            data_dir=DataDirChoice(CATALOG_URL, "the demo"),
            settings_file=tmp_path / f"{name}.ini",
            environ={},
            curator_fallback=CuratorChoice(name, "the demo"),
            curator_in_title=True,
        )
        for name in ("alice", "bob")
    ]
    seen: list[tuple[str, str, int]] = []

    def close_when_open():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        shown = [w for w in windows if w.isVisible() and w.session.actor_id == ACTOR_ID]
        if len(shown) == 2:
            for window in sorted(shown, key=lambda w: w.geometry().x()):
                seen.append((window.windowTitle(), window.curator_label.text(), window.x()))
                window.close()
        else:
            QTimer.singleShot(50, close_when_open)

    QTimer.singleShot(0, close_when_open)
    guard = QTimer(singleShot=True, interval=10_000)
    guard.timeout.connect(QApplication.quit)
    guard.start()
    code = run_windows(plans, actor_id=ACTOR_ID, transport_factory=local_transport)
    guard.stop()

    assert code == 0
    assert [(title, label) for title, label, _x in seen] == [
        (f"{ACTOR} — alice — Training Data Manager", "Curator: alice"),
        (f"{ACTOR} — bob — Training Data Manager", "Curator: bob"),
    ]
    assert seen[0][2] < seen[1][2]  # side by side
    for name in ("alice", "bob"):
        saved = QSettings(str(tmp_path / f"{name}.ini"), QSettings.Format.IniFormat)
        assert saved.value("session/lastActor") == ACTOR_ID and saved.contains("window/geometry")


def test_a_data_dir_saved_in_settings_opens_in_a_window_in_the_old_ones_place(
    qtbot, s3_catalog, store, names, tmp_path
):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from tdm_desktop.core.data_dirs import DataDirChoice
    from tdm_desktop.ui.app import WindowPlan, run_windows
    from tdm_desktop.ui.main_window import MainWindow
    from tdm_desktop.ui.settings.model import AppSettings

    other = "s3://story-boards-assets/other-catalog"
    opened: list[str] = []

    def open_at(location: str) -> TrainingDataService:
        opened.append(location)
        prefix = location.removeprefix("s3://story-boards-assets/")
        return TrainingDataService(S3Documents(store.client, BUCKET, prefix), store)

    plan = WindowPlan(
        open_at,
        data_dir=DataDirChoice(CATALOG_URL, "--data-dir"),
        settings_file=tmp_path / "alice.ini",
        environ={},
    )
    seen: list[tuple[str, object, int]] = []

    def windows() -> list[MainWindow]:
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        return [w for w in found if w.isVisible()]

    def step():
        shown = windows()
        if not seen and len(shown) == 1 and shown[0].session.actor_id == ACTOR_ID:
            seen.append(("first", shown[0].settings_presenter.data_dir, len(shown)))
            shown[0].settings_presenter.apply(AppSettings(data_dir=other))
        elif (
            len(seen) == 1
            and len(shown) == 1
            and shown[0].settings_presenter.data_dir != (seen[0][1])
        ):
            seen.append(("then", shown[0].settings_presenter.data_dir, len(shown)))
            shown[0].close()
            return
        QTimer.singleShot(50, step)

    QTimer.singleShot(0, step)
    guard = QTimer(singleShot=True, interval=10_000)
    guard.timeout.connect(QApplication.quit)
    guard.start()
    code = run_windows([plan], transport_factory=local_transport)
    guard.stop()

    assert code == 0
    assert opened == [CATALOG_URL, other]
    assert seen == [
        ("first", DataDirChoice(CATALOG_URL, "--data-dir"), 1),
        ("then", DataDirChoice(other, "Settings"), 1),
    ]
    saved = QSettings(str(tmp_path / "alice.ini"), QSettings.Format.IniFormat)
    assert saved.value("catalog/dataDir") == other
