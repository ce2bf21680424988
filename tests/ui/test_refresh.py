"""Another process changes the files: F5 and the file watcher show it, keeping the curator's place."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt

from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tests.factories import jpeg_bytes
from tests.ui.conftest import ACTOR_A, grid_focus

ACTOR_ID, NAME, COUNT = ACTOR_A


def add_image_elsewhere(data_dir, store, index: int) -> str:
    """What another process (the CLI, a generator) does: upload, then list in the manifest."""
    filename = f"{NAME}_{index}.jpg"
    key = store.key_for(NAME, filename)
    store.put_new(key, jpeg_bytes(index), "image/jpeg")
    TrainingDataManifest.for_actor(data_dir, ACTOR_ID).add_image(
        filename, store.aws_url_for(key), 0.01
    )
    return filename


def select(window, names) -> None:
    sel = window.grid.selectionModel()
    sel.clearSelection()
    for name in names:
        index = window.rows.view_index(window.model.row_of(name))
        sel.select(index, QItemSelectionModel.SelectionFlag.Select)
    sel.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)


def test_f5_shows_a_new_image_and_keeps_the_selection(qtbot, window, data_dir, store, actors):
    names = actors[ACTOR_ID]
    select(window, [names[2], names[4]])
    added = add_image_elsewhere(data_dir, store, 50)
    window.session.watcher.clear()  # only F5 here

    grid_focus(qtbot, window)
    with qtbot.waitSignal(window.refreshed, timeout=5000):
        qtbot.keyClick(window.grid, Qt.Key.Key_F5)
    assert window.selection.visible_filenames() == [*names, added]
    assert window.header.image_count_label.text() == f"{COUNT + 1} images in S3 · 0 reviewed"
    assert window.selection.selected_filenames() == [names[2], names[4]]
    assert window.selection.current_filename() == names[4]


def test_the_watcher_picks_up_a_removed_image_and_a_flag(qtbot, window, data_dir, actors):
    names = actors[ACTOR_ID]
    select(window, [names[3]])
    TrainingDataManifest.for_actor(data_dir, ACTOR_ID).remove_image(names[0])
    PromptMetadata.for_actor(data_dir, NAME).set_flags({names[3]: False})

    qtbot.waitUntil(lambda: window.model.row_of(names[0]) == -1, timeout=5000)
    qtbot.waitUntil(
        lambda: window.flag_counts_label.text() == f"good {COUNT - 2} · bad 1", timeout=5000
    )
    assert window.selection.selected_filenames() == [names[3]]
    assert window.selection.current_filename() == names[3]
    assert not window.model.image_at(window.model.row_of(names[3])).good


def test_a_manifest_broken_by_another_process_is_reported_not_fatal(qtbot, window, data_dir):
    path = data_dir / "actor_manifests" / f"{ACTOR_ID}_manifest.json"
    good_text = path.read_text(encoding="utf-8")
    path.write_text("{ not json", encoding="utf-8")
    qtbot.waitUntil(lambda: "Could not reload actor 0042" in window.error_text(), timeout=5000)
    assert window.model.rowCount() == COUNT  # what was shown stays shown

    path.write_text(good_text, encoding="utf-8")
    qtbot.waitUntil(lambda: window.error_text() == "", timeout=5000)
    assert window.model.rowCount() == COUNT
