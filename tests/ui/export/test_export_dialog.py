"""File → Export good set… end to end on moto: the dialog's choices, the files a trainer reads in
the folder (and the objects under an s3:// prefix), the summary at the end, a re-run that skips
what is there, a refused destination, and Cancel."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from tdm_desktop.core.export import ExportReport
from tdm_desktop.core.export_layout import ExportFormat, ExportOptions
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.ui.export.controller import ExportController, ExportRequest
from tdm_desktop.ui.export.dialog import destination_problem
from tests.conftest import BUCKET
from tests.images import objects_under
from tests.ui.conftest import ACTOR_A, grid_focus, wait_idle

PROMPT = "portrait photo of a 30 year old european man"


def open_dialog(qtbot, window):
    window.findChild(QAction, "actionExport").trigger()
    qtbot.waitUntil(lambda: window.export_presenter.dialog is not None, timeout=10000)
    return window.export_presenter.dialog


def run_export(qtbot, window, dialog):
    presenter = window.export_presenter
    assert dialog.export_button.isEnabled(), dialog.problem_text()
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: presenter.summary is not None, timeout=20000)
    return presenter.summary


def test_export_good_set_writes_what_ai_toolkit_reads_and_a_rerun_skips_it(
    qtbot, tmp_path, data_dir, actors, window
):
    names = actors[ACTOR_A[0]]
    metadata = PromptMetadata.for_actor(data_dir, ACTOR_A[1])
    metadata.record_generation(names[0], prompt=PROMPT)
    metadata.set_caption(names[1], "[trigger] smiling\nat the beach")
    metadata.set_trigger_word("ohwx")
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Right)
    qtbot.keyClick(window.grid, Qt.Key.Key_Right)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)  # names[2] bad: not in the good set
    wait_idle(qtbot, window)

    dialog = open_dialog(qtbot, window)
    assert dialog.windowTitle() == "Export good set"
    assert "6 images not flagged bad, of 7" in dialog.findChild(QLabel, "exportAbout").text()
    assert dialog.problem_text() == "Export to: choose a folder, or type s3://bucket/prefix"
    assert not dialog.export_button.isEnabled()
    dialog.destination_edit.setText("relative/folder")
    assert "give the folder's full path" in dialog.problem_text()
    target = tmp_path / "set"
    dialog.destination_edit.setText(str(target))
    assert not dialog.kohya_box.isEnabled()  # ai-toolkit is the default format

    summary = run_export(qtbot, window, dialog)
    assert summary.windowTitle() == "Export finished"
    assert summary.text() == (
        f"exported 6 of 6 images to {target} (ai-toolkit): 6 new, 0 already there; 12 files written"
    )
    written = sorted(p.name for p in target.iterdir())
    good = [n for n in names if n != names[2]]
    assert written == sorted([*good, *(n.replace(".jpg", ".txt") for n in good)])
    assert (target / names[0].replace(".jpg", ".txt")).read_text() == f"ohwx, {PROMPT}"
    assert (target / names[1].replace(".jpg", ".txt")).read_text() == "ohwx smiling, at the beach"
    assert (target / names[3].replace(".jpg", ".txt")).read_text() == "ohwx"
    assert window.statusBar().currentMessage().startswith("Export finished: exported 6 of 6")
    summary.close()

    # The same export again: everything is there already, nothing is written.
    dialog = open_dialog(qtbot, window)
    assert dialog.destination_edit.text() == str(target)  # remembered
    summary = run_export(qtbot, window, dialog)
    assert summary.text().endswith("0 new, 6 already there; 0 files written")
    assert summary.informativeText().startswith("skipped 6 already there: ")


def test_export_to_an_s3_prefix_in_kohya_layout_with_a_toml(qtbot, s3_client, actors, window):
    names = actors[ACTOR_A[0]]
    dialog = open_dialog(qtbot, window)
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData("kohya"))
    assert dialog.kohya_box.isEnabled()
    assert dialog.class_edit.placeholderText() == "man"
    dialog.repeats_spin.setValue(4)
    dialog.toml_check.setChecked(True)
    dialog.include_all.setChecked(True)
    dialog.destination_edit.setText(f"s3://{BUCKET}/exports/0042")

    summary = run_export(qtbot, window, dialog)
    assert summary.windowTitle() == "Export finished"
    folder = f"4_{ACTOR_A[1]} man"
    objects = objects_under(s3_client, BUCKET, "exports/0042")
    expected = {f"{folder}/{n}" for n in names} | {f"{folder}/{n[:-4]}.txt" for n in names}
    assert set(objects) == expected | {"dataset.toml"}
    toml = objects["dataset.toml"].decode()
    assert f'image_dir = "{folder}"' in toml and "num_repeats = 4" in toml


def test_a_destination_with_other_content_is_refused_and_nothing_is_written(
    qtbot, tmp_path, actors, window
):
    target = tmp_path / "notes"
    target.mkdir()
    (target / "todo.md").write_text("mine")
    dialog = open_dialog(qtbot, window)
    dialog.destination_edit.setText(str(target))
    summary = run_export(qtbot, window, dialog)
    assert summary.windowTitle() == "Export failed"
    assert summary.text().startswith(f"export destination {target}: has other content (todo.md)")
    assert sorted(p.name for p in target.iterdir()) == ["todo.md"]
    assert window.export_presenter.progress is None


class _GatedExport:
    """An export that reports its first image, then waits until told to go on."""

    def __init__(self) -> None:
        self.go_on = threading.Event()
        self.asked_to_stop = False

    def export_training_set(self, actor_id, destination, options, *, on_progress=None,
                            should_stop=None, workers=8):  # fmt: skip
        report = ExportReport(destination, str(options.format), planned=3)
        on_progress(1, 3, "a.jpg")
        report.exported.append("a.jpg")
        self.go_on.wait(10)
        self.asked_to_stop = should_stop()
        report.cancelled += ["b.jpg", "c.jpg"]
        return report


def test_cancel_stops_an_export_and_the_report_says_what_was_not_started(qtbot):
    work = _GatedExport()
    controller = ExportController(work)
    request = ExportRequest("0042", "/tmp/x", ExportOptions(ExportFormat.AI_TOOLKIT))
    with qtbot.waitSignal(controller.progress_changed, timeout=5000) as progress:
        assert controller.start(request)
    assert progress.args == [1, 3, "a.jpg"]
    assert not controller.start(request)  # one at a time
    controller.cancel()
    assert controller.is_cancelling()
    with qtbot.waitSignal(controller.finished, timeout=5000) as finished:
        work.go_on.set()
    assert work.asked_to_stop
    assert finished.args[1].cancelled == ["b.jpg", "c.jpg"]
    assert not controller.is_busy()


def test_destination_problems():
    assert destination_problem("s3://bucket/prefix") is None
    assert destination_problem("/abs/path") is None
    assert destination_problem("  ") == "Export to: choose a folder, or type s3://bucket/prefix"
