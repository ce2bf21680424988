"""Deleting from the window: S3 and the manifest lose the image, undo brings both back, Delete All
reports what it could not delete."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QProgressDialog

from tdm_desktop.core.errors import ManifestError
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.training_data import TrainingDataService
from tests.conftest import BUCKET
from tests.factories import deny_delete, jpeg_bytes
from tests.ui.conftest import ACTOR_A, grid_focus, wait_idle

ACTOR_ID, NAME, COUNT = ACTOR_A


def s3_key(filename: str) -> str:
    return f"system_actors/training_data/{NAME}/{filename}"


def in_s3(s3_client, filename: str) -> bool:
    listed = s3_client.list_objects_v2(Bucket=BUCKET, Prefix=s3_key(filename))
    return listed.get("KeyCount", 0) > 0


def listed(data_dir) -> list[str]:
    manifest = TrainingDataManifest.for_actor(data_dir, ACTOR_ID).load()
    return [entry.filename for entry in manifest.get_all_images()]


def deny_delete_of(s3_client, filename: str) -> None:
    deny_delete(s3_client, BUCKET, s3_key(filename))


def test_delete_key_removes_from_s3_and_manifest_and_undo_restores(
    qtbot, window, dialogs, s3_client, data_dir, actors
):
    names = actors[ACTOR_ID]
    victim = names[1]
    window.selection.select_filename(victim)
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Delete)
    wait_idle(qtbot, window)

    assert dialogs.delete_questions == [([victim], NAME)]
    assert not in_s3(s3_client, victim)
    assert victim not in listed(data_dir)
    assert window.model.row_of(victim) == -1
    assert window.header.image_count_label.text() == f"{COUNT - 1} images in S3 · 0 reviewed"
    assert window.selection.current_filename() == names[2]
    assert window.controller.undo_stack.undoText() == "Delete (1 image)"

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    body = s3_client.get_object(Bucket=BUCKET, Key=s3_key(victim))["Body"].read()
    assert body == jpeg_bytes(1)
    assert victim in listed(data_dir)
    assert window.model.row_of(victim) >= 0
    assert window.header.image_count_label.text() == f"{COUNT} images in S3 · 0 reviewed"

    window.controller.undo_stack.redo()  # and once more, from the kept bytes
    wait_idle(qtbot, window)
    assert not in_s3(s3_client, victim)
    assert victim not in listed(data_dir)


def test_undo_brings_back_a_bad_flag_too(qtbot, window, s3_client, data_dir, actors):
    victims = actors[ACTOR_ID][:2]
    window.controller.mark(victims, False)
    sel = window.grid.selectionModel()
    sel.clearSelection()
    for name in victims:
        index = window.rows.view_index(window.model.row_of(name))
        sel.select(index, QItemSelectionModel.SelectionFlag.Select)
    window.curation.delete_selected()
    wait_idle(qtbot, window)
    assert [in_s3(s3_client, n) for n in victims] == [False, False]
    window.controller.undo_stack.undo()
    wait_idle(qtbot, window)
    assert [in_s3(s3_client, n) for n in victims] == [True, True]
    restored = [window.model.image_at(window.model.row_of(n)) for n in victims]
    assert [image.good for image in restored] == [False, False]


def test_declining_the_question_deletes_nothing(qtbot, window, dialogs, s3_client, data_dir):
    dialogs.answer = False
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Delete)
    wait_idle(qtbot, window)
    assert len(dialogs.delete_questions) == 1
    assert len(listed(data_dir)) == COUNT
    assert in_s3(s3_client, f"{NAME}_0.jpg")
    assert window.controller.undo_stack.count() == 0


def test_delete_all_reports_the_key_s3_refused_and_keeps_it_listed(
    qtbot, window, dialogs, s3_client, data_dir, actors
):
    names = actors[ACTOR_ID]
    kept = names[3]
    deny_delete_of(s3_client, kept)
    with qtbot.waitSignal(window.controller.delete_all_finished, timeout=10000):
        window.findChild(type(window.window_actions.delete_all), "actionDeleteAll").trigger()
        assert window.findChild(QProgressDialog, "deleteAllProgress") is not None

    assert dialogs.delete_all_questions == [(NAME, COUNT)]
    assert listed(data_dir) == [kept]
    assert [n for n in names if in_s3(s3_client, n)] == [kept]
    assert window.selection.visible_filenames() == [kept]
    assert window.header.image_count_label.text() == "1 images in S3 · 0 reviewed"
    assert len(dialogs.reports) == 1
    title, problems = dialogs.reports[0]
    assert title == "Delete All"
    assert list(problems) == [kept]
    assert "AccessDenied" in problems[kept]


def test_delete_failure_of_one_image_is_reported_image_by_image(
    qtbot, window, dialogs, s3_client, data_dir, actors
):
    names = actors[ACTOR_ID]
    deny_delete_of(s3_client, names[0])
    window.grid.selectAll()
    window.curation.delete_selected()
    wait_idle(qtbot, window)
    assert listed(data_dir) == [names[0]]
    assert list(dialogs.reports[0][1]) == [names[0]]
    assert window.selection.visible_filenames() == [names[0]]


def test_the_delete_question_can_stop_asking_for_the_session(qtbot):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from tdm_desktop.ui.curation.dialogs import SessionDeleteConfirmer

    asked = []

    def answer_yes_and_stop_asking():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_yes_and_stop_asking)
            return
        asked.append(box.text())
        box.checkBox().setChecked(True)
        box.button(QMessageBox.StandardButton.Yes).click()

    confirm = SessionDeleteConfirmer()
    QTimer.singleShot(0, answer_yes_and_stop_asking)
    assert confirm([f"{NAME}_1.jpg", f"{NAME}_2.jpg"], NAME)
    assert asked == [f"Delete 2 images of {NAME} from S3 and the manifest?"]
    guard = QTimer(singleShot=True, interval=3000)  # a box here would block: reject it
    guard.timeout.connect(lambda: QApplication.activeModalWidget().reject())
    guard.start()
    assert confirm([f"{NAME}_3.jpg"], NAME)  # no box this time
    guard.stop()
    assert len(asked) == 1


def centre_rgb(pixmap) -> tuple[int, int, int]:
    color = pixmap.toImage().pixelColor(pixmap.width() // 2, pixmap.height() // 2)
    return color.red(), color.green(), color.blue()


def near(rgb: tuple[int, int, int], seed: int) -> bool:
    """The colour ``jpeg_bytes(seed)`` was painted with, give or take JPEG and scaling."""
    expected = ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256)
    return all(abs(a - b) < 16 for a, b in zip(rgb, expected, strict=True))


def test_a_reused_key_shows_the_new_picture_not_the_cached_one(
    qtbot, window, data_dir, store, actors
):
    last = actors[ACTOR_ID][-1]  # the highest n: ✨ would take this name again
    key, old_seed, new_seed = s3_key(last), COUNT - 1, 99
    loader, size = window.loader, window.grid.thumbnail_size()
    qtbot.waitUntil(lambda: loader.pixmap(key, size) is not None, timeout=5000)
    assert near(centre_rgb(loader.pixmap(key, size)), old_seed)
    assert loader.compressed_bytes(key) == jpeg_bytes(old_seed)
    entry = TrainingDataManifest.for_actor(data_dir, ACTOR_ID).load().get_image(last)
    window.controller.delete([last])
    wait_idle(qtbot, window)

    store.put_new(key, jpeg_bytes(new_seed), "image/jpeg")  # same key, another picture
    TrainingDataManifest.for_actor(data_dir, ACTOR_ID).load().add_entry(entry)
    with qtbot.waitSignal(window.refreshed, timeout=5000):
        window.session.reload_actor()
    assert window.model.row_of(last) == COUNT - 1

    assert loader.compressed_bytes(key) in (None, jpeg_bytes(new_seed))  # never the old bytes
    pixmap = loader.pixmap(key, size)
    assert pixmap is None or not near(centre_rgb(pixmap), old_seed)
    qtbot.waitUntil(lambda: loader.compressed_bytes(key) == jpeg_bytes(new_seed), timeout=5000)
    qtbot.waitUntil(lambda: loader.pixmap(key, size) is not None, timeout=5000)
    assert near(centre_rgb(loader.pixmap(key, size)), new_seed)


def test_undo_of_a_delete_brings_back_the_generation_record_and_the_place(
    qtbot, window, data_dir, actors
):
    import json

    from tdm_desktop.core.prompt_metadata import PromptMetadata

    names = actors[ACTOR_ID]
    victim = names[2]
    PromptMetadata.for_actor(data_dir, NAME).record_generation(
        victim,
        prompt="a portrait in soft light",
        seed=1234,
        generator="a1111",
        negative_prompt="blurry",
        generated_at="2025-10-17T15:57:00",
    )
    window.controller.mark([victim], False)
    wait_idle(qtbot, window)
    path = data_dir / "actors" / NAME / "prompt_metadata.json"
    before = json.loads(path.read_text(encoding="utf-8"))["images"][victim]
    assert before["seed"] == 1234 and before["good"] is False

    window.selection.select_filename(victim)
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Delete)
    wait_idle(qtbot, window)
    assert victim not in json.loads(path.read_text(encoding="utf-8"))["images"]

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert json.loads(path.read_text(encoding="utf-8"))["images"][victim] == before
    assert listed(data_dir) == names
    assert window.model.row_of(victim) == 2


def test_undo_of_a_delete_of_several_puts_each_back_at_its_place(qtbot, window, data_dir, actors):
    names = actors[ACTOR_ID]
    window.controller.delete([names[1], names[4], names[5]])
    wait_idle(qtbot, window)
    assert listed(data_dir) == [names[0], names[2], names[3], names[6]]
    window.controller.undo_stack.undo()
    wait_idle(qtbot, window)
    assert listed(data_dir) == names
    assert [image.filename for image in window.model.images()] == names


class _BrokenDeleteService(TrainingDataService):
    """Deleting fails as a whole (as with a manifest made invalid by hand meanwhile)."""

    def delete_all(self, actor_id):
        raise ManifestError(self.manifest_path(actor_id), "training_data must be an array")

    def delete_images(self, actor_id, filenames):
        raise ManifestError(self.manifest_path(actor_id), "training_data must be an array")


def test_a_failed_delete_all_closes_its_progress_and_reports_once(
    qtbot, make_window, data_dir, store, dialogs
):
    window = make_window(service_=_BrokenDeleteService(data_dir, store))
    errors: list[str] = []
    window.controller.error_reported.connect(errors.append)
    window.curation.delete_all()
    assert window.findChild(QProgressDialog, "deleteAllProgress") is not None
    wait_idle(qtbot, window)

    def progress_gone() -> bool:
        progress = window.findChild(QProgressDialog, "deleteAllProgress")
        return progress is None or not progress.isVisible()

    qtbot.waitUntil(progress_gone, timeout=10000)
    assert len(errors) == 1 and "training_data must be an array" in errors[0]
    assert "training_data must be an array" in window.error_text()
    assert dialogs.reports == []
    assert "Deleting" not in window.statusBar().currentMessage()
    assert window.model.rowCount() == COUNT


def test_a_failed_delete_clears_the_deleting_status_and_reports_once(
    qtbot, make_window, data_dir, store, dialogs
):
    window = make_window(service_=_BrokenDeleteService(data_dir, store))
    errors: list[str] = []
    window.controller.error_reported.connect(errors.append)
    window.selection.select_filename(f"{NAME}_1.jpg")
    window.curation.delete_selected()
    assert window.statusBar().currentMessage().startswith("Deleting")
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: "Deleting" not in window.statusBar().currentMessage(), timeout=10000)
    assert len(errors) == 1
    assert dialogs.reports == []
    assert window.selection.current_filename() == f"{NAME}_1.jpg"  # nothing was deleted: stay
