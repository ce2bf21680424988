"""The main window as a curator meets it: actors, the grid, the header, settings, errors, startup."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QListView, QSlider

from tdm_desktop.core.errors import TdmError
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.ui.app import check_display
from tests.ui.conftest import ACTOR_A, ACTOR_B, grid_focus, wait_idle


def test_opening_an_actor_shows_its_images_and_count(window, data_dir):
    manifest = TrainingDataManifest.for_actor(data_dir, ACTOR_A[0]).load()
    listed = [entry.filename for entry in manifest.get_all_images()]

    grid = window.findChild(QListView, "thumbnailGrid")
    assert grid.model().rowCount() == len(listed) == ACTOR_A[2]
    assert (
        window.findChild(QLabel, "imageCountLabel").text()
        == f"{len(listed)} images in S3 · 0 reviewed"
    )
    assert "Training Data Manager" in window.windowTitle()
    assert ACTOR_A[1] in window.windowTitle()
    assert window.selection.visible_filenames() == listed
    assert window.selection.current_filename() == listed[0]
    assert grid.hasFocus()


def test_actor_list_rows_and_search(qtbot, window):
    actor_list = window.findChild(QListView, "actorList")
    texts = [actor_list.model().index(r, 0).data() for r in range(actor_list.model().rowCount())]
    assert texts == [f"{ACTOR_A[1]} ({ACTOR_A[2]})", f"{ACTOR_B[1]} ({ACTOR_B[2]})"]

    qtbot.keyClicks(window.search_box, "asian")
    assert window.actor_list_widget.visible_row_texts() == [f"{ACTOR_B[1]} ({ACTOR_B[2]})"]


def test_choosing_another_actor_opens_it(qtbot, window):
    with qtbot.waitSignal(window.actor_opened, timeout=5000):
        window.actor_list_widget.select_actor(ACTOR_B[0])
    assert window.model.rowCount() == ACTOR_B[2]
    assert window.header.image_count_label.text() == f"{ACTOR_B[2]} images in S3 · 0 reviewed"
    assert ACTOR_B[1] in window.windowTitle()


def test_base_image_is_shown_in_the_header(qtbot, window):
    """The actor's own base image (the fixture's 32×32 orange PNG), fitted to the 64 px header;
    an actor without one says so."""
    label = window.header.base_image_label
    qtbot.waitUntil(lambda: not label.pixmap().isNull(), timeout=10000)
    image = label.pixmap().toImage()
    assert (image.width(), image.height()) == (64, 64)
    shown = image.pixelColor(32, 32)
    assert all(abs(a - b) <= 2 for a, b in zip(shown.getRgb()[:3], (200, 120, 40), strict=True))

    with qtbot.waitSignal(window.actor_opened, timeout=5000):
        window.session.open_actor(ACTOR_B[0])
    qtbot.waitUntil(lambda: label.text() == "no base\nimage", timeout=10000)
    assert label.pixmap().isNull()


def test_thumbnails_load_and_status_bar_counts(qtbot, window):
    total = ACTOR_A[2]
    qtbot.waitUntil(lambda: window.loaded_label.text() == f"Loaded {total} / {total}", timeout=5000)
    assert window.flag_counts_label.text() == f"good {total} · bad 0"


def test_slider_changes_the_icon_size(window):
    slider = window.findChild(QSlider, "gridSizeSlider")
    assert (slider.minimum(), slider.maximum()) == (64, 512)
    slider.setValue(256)
    assert window.grid.iconSize().width() == 256
    slider.setValue(96)
    assert window.grid.iconSize().width() == 96


def test_zoom_keys_move_the_slider(qtbot, window):
    start = window.size_slider.value()
    qtbot.keyClick(window.grid, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert window.size_slider.value() > start
    assert window.grid.iconSize().width() == window.size_slider.value()


def test_menus_list_every_action_with_its_shortcut(window):
    from PySide6.QtGui import QAction

    expected = {
        "actionMarkGood": ["G", "P"],
        "actionMarkBad": ["B", "X"],
        "actionToggleFlag": ["T"],
        "actionDelete": ["Del"],
        "actionUndo": ["Ctrl+Z"],
        "actionRefresh": ["F5"],
        "actionQuit": ["Ctrl+Q"],
    }
    in_menus = {a.objectName() for m in window.menuBar().actions() for a in m.menu().actions()}
    for name, keys in expected.items():
        action = window.findChild(QAction, name)
        assert action is not None, name
        assert name in in_menus, name
        assert [k.toString() for k in action.shortcuts()][: len(keys)] == keys
    redo = window.findChild(QAction, "actionRedo")
    assert redo.shortcuts()[0].toString() == "Ctrl+Shift+Z"
    preview = window.findChild(QAction, "actionPreview")
    assert preview.shortcuts()[0].toString() == "Space"
    assert window.findChild(QAction, "actionDeleteAll") is not None


def test_settings_keep_size_filter_and_last_actor(qtbot, make_window, settings):
    first = make_window()
    with qtbot.waitSignal(first.actor_opened, timeout=5000):
        first.actor_list_widget.select_actor(ACTOR_B[0])
    first.size_slider.setValue(300)
    flag_filter = first.findChild(QComboBox, "flagFilter")
    flag_filter.setCurrentIndex(flag_filter.findText("Bad"))
    sort_order = first.findChild(QComboBox, "sortOrder")
    sort_order.setCurrentIndex(sort_order.findText("Newest first"))
    first.close()

    second = make_window()
    assert second.session.actor_id == ACTOR_B[0]
    assert second.size_slider.value() == 300
    assert second.grid.iconSize().width() == 300
    assert second.flag_filter.currentText() == "Bad"
    assert second.sort_order.currentText() == "Newest first"
    assert second.rows.sort_order() == "newest" and second.rows.proxy() is not None


def test_broken_manifest_shows_a_message_and_the_other_actor_opens(qtbot, make_window, data_dir):
    broken = data_dir / "actor_manifests" / "0007_manifest.json"
    broken.write_text('{"character_id": "0007", "training_data": [', encoding="utf-8")
    window = make_window()

    assert window.actor_list_widget.actor_ids()[0] == "0007"
    row = window.actor_list.model().index(0, 0)
    assert row.data() == "0007 (broken manifest)"
    assert "0007_manifest.json" in row.data(Qt.ItemDataRole.ToolTipRole)
    assert window.session.actor_id == ACTOR_A[0]  # the first actor that can be opened
    assert window.error_text() == ""  # the broken one is only marked in the list, until chosen

    with qtbot.waitSignal(window.actor_failed, timeout=5000):
        window.actor_list_widget.select_actor("0007")
    assert "Could not open actor 0007" in window.error_text()
    assert "0007_manifest.json" in window.error_text()
    assert window.model.rowCount() == 0
    assert "Could not open actor 0007" in window.log_dock.view.toPlainText()

    with qtbot.waitSignal(window.actor_opened, timeout=5000):
        window.actor_list_widget.select_actor(ACTOR_B[0])
    assert window.error_text() == ""
    assert window.model.rowCount() == ACTOR_B[2]


def test_unreachable_endpoint_is_shown_on_the_tile_not_a_crash(qtbot, make_window, data_dir):
    from tdm_desktop.core.s3_store import S3Store, make_s3_client
    from tdm_desktop.core.training_data import TrainingDataService

    client = make_s3_client(endpoint_url="http://127.0.0.1:9", region="us-east-1")
    # retries would make this slow; one attempt is enough to see the failure
    client.meta.config.retries = {"max_attempts": 1, "mode": "standard"}
    offline = TrainingDataService(data_dir, S3Store(client, "story-boards-assets"))
    window = make_window(service_=offline)
    key = window.model.index(0, 0).data(window.model.KeyRole)
    qtbot.waitUntil(lambda: window.loader.error(key) is not None, timeout=15000)
    assert window.loader.error(key) == "unreachable"
    assert "failed" in window.loaded_label.text()
    qtbot.waitUntil(lambda: "S3 is unreachable at http://127.0.0.1:9" in window.error_text())
    assert "S3 is unreachable" in window.log_dock.view.toPlainText()


def test_arrows_in_the_actor_list_browse_and_enter_goes_to_the_grid(qtbot, window):
    window.actor_list.setFocus()
    qtbot.waitUntil(window.actor_list.hasFocus, timeout=10000)
    with qtbot.waitSignal(window.actor_opened, timeout=5000):
        qtbot.keyClick(window.actor_list, Qt.Key.Key_Down)
    assert window.session.actor_id == ACTOR_B[0]
    assert window.actor_list.hasFocus()
    qtbot.keyClick(window.actor_list, Qt.Key.Key_Return)
    assert window.grid.hasFocus()


def test_a_last_actor_that_is_gone_opens_the_first_one(make_window, settings):
    settings.setValue("session/lastActor", "0099")
    window = make_window()
    assert window.session.actor_id == ACTOR_A[0]
    assert window.error_text() == ""


def test_an_actor_asked_for_that_does_not_exist_is_said_clearly(qtbot, make_window):
    window = make_window(wait_open=False)
    with qtbot.waitSignal(window.actor_failed, timeout=5000):
        window.session.open_actor("99")
    assert "Could not open actor 0099" in window.error_text()


def test_the_log_dock_shows_the_s3_only_lines(qtbot, window):
    qtbot.waitUntil(lambda: "[S3-ONLY]" in window.log_dock.view.toPlainText(), timeout=10000)
    assert f"Loading training data for actor {ACTOR_A[0]}" in window.log_dock.view.toPlainText()


def test_check_display_without_any_display_says_what_to_do():
    with pytest.raises(TdmError) as caught:
        check_display(environ={}, platform="linux", find_library=lambda _name: "lib.so")
    message = str(caught.value)
    assert "no display" in message and "xvfb-run" in message and "\n" not in message


def test_check_display_names_missing_xcb_packages():
    have = {
        "xcb-icccm",
        "xcb-keysyms",
        "xcb-image",
        "xcb-render-util",
        "xcb-shape",
        "xkbcommon-x11",
    }
    with pytest.raises(TdmError) as caught:
        check_display(
            environ={"DISPLAY": ":0"},
            platform="linux",
            find_library=lambda name: "lib.so" if name in have else None,
        )
    assert "libxcb-cursor0" in str(caught.value)
    assert "apt-get install" in str(caught.value)


def test_check_display_accepts_offscreen_and_other_systems():
    check_display(environ={"QT_QPA_PLATFORM": "offscreen"}, platform="linux")
    check_display(environ={}, platform="win32")
    check_display(environ={"DISPLAY": ":0"}, platform="linux", find_library=lambda _n: "lib.so")


def test_opening_and_browsing_writes_nothing(qtbot, window, data_dir, store):
    """Opening actors, selecting, moving and previewing change no file and no object: checked
    once every thumbnail has loaded and all background work of the window has ended, so a
    write that happens later than the action (they all run in the background) is seen."""

    def files() -> dict[str, bytes]:
        return {
            str(p.relative_to(data_dir)): p.read_bytes() for p in data_dir.rglob("*") if p.is_file()
        }

    def objects() -> dict[str, bytes]:
        return {key: store.get_bytes(key) for key in store.list_keys("system_actors/")}

    def settled() -> None:
        rows = window.model.rowCount()
        qtbot.waitUntil(
            lambda: window.loaded_label.text() == f"Loaded {rows} / {rows}", timeout=5000
        )
        wait_idle(qtbot, window)
        qtbot.waitUntil(lambda: window.session.jobs.pending() == 0, timeout=5000)

    settled()
    files_before, objects_before = files(), objects()
    grid_focus(qtbot, window)
    window.grid.selectAll()
    qtbot.keyClick(window.grid, Qt.Key.Key_Right)
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)  # the full-size preview, then close it
    qtbot.waitUntil(lambda: window.preview_presenter.dialog is not None, timeout=10000)
    qtbot.waitUntil(window.preview_presenter.dialog.has_picture, timeout=5000)
    window.preview_presenter.close()
    with qtbot.waitSignal(window.actor_opened, timeout=5000):
        window.actor_list_widget.select_actor(ACTOR_B[0])
    with qtbot.waitSignal(window.actor_opened, timeout=5000):
        window.actor_list_widget.select_actor(ACTOR_A[0])
    settled()
    assert files() == files_before
    assert objects() == objects_before


def test_run_gui_opens_the_asked_actor_and_returns_the_exit_code(qtbot, service, settings):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from tdm_desktop.ui.app import SWITCH_INTERVAL_S, run_gui
    from tdm_desktop.ui.main_window import MainWindow
    from tests.ui.conftest import local_transport

    seen = []
    finished = []
    switch_interval = []

    def close_when_open():
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        shown = [w for w in windows if w.isVisible() and w.session.actor_id == ACTOR_B[0]]
        if shown:
            seen.append((shown[0].windowTitle(), shown[0].model.rowCount()))
            switch_interval.append(sys.getswitchinterval())
            shown[0].close()
        elif not finished:
            QTimer.singleShot(50, close_when_open)

    QTimer.singleShot(0, close_when_open)
    guard = QTimer(singleShot=True, interval=10_000)  # never hang the suite
    guard.timeout.connect(QApplication.quit)
    guard.start()
    before = sys.getswitchinterval()
    try:
        code = run_gui(service, actor_id="43", settings=settings, transport_factory=local_transport)
    finally:
        sys.setswitchinterval(before)
    guard.stop()
    finished.append(True)
    assert code == 0
    assert seen == [(f"{ACTOR_B[1]} — Training Data Manager", ACTOR_B[2])]
    # A worker running Python hands the interpreter lock to a waiting key within 1 ms, not 5.
    assert switch_interval == [SWITCH_INTERVAL_S]
    assert QApplication.applicationName() == "Training Data Manager"
    assert QApplication.organizationName() == "tdm-desktop"
    assert settings.value("session/lastActor") == ACTOR_B[0]
