"""Captions in the preview and the trigger word in the header: shown, edited as typed, undone and
redone, each on disk in prompt_metadata.json; letters typed there never flag an image."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tdm_desktop.core.prompt_metadata import PromptMetadata
from tests.ui.conftest import ACTOR_A, grid_focus, wait_idle

PROMPT = "portrait photo of a 30 year old european man, front view"


def metadata_on_disk(data_dir) -> dict:
    path = data_dir / "actors" / ACTOR_A[1] / "prompt_metadata.json"
    return json.loads(path.read_text()) if path.exists() else {}


def caption_on_disk(data_dir, filename: str) -> str | None:
    return metadata_on_disk(data_dir).get("images", {}).get(filename, {}).get("caption")


def open_preview(qtbot, window):
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    dialog = window.preview_presenter.dialog
    qtbot.waitUntil(dialog.has_picture, timeout=5000)
    dialog.activateWindow()
    dialog.setFocus()
    qtbot.waitUntil(dialog.hasFocus, timeout=10000)
    return dialog, window.preview_presenter.caption_editor


def type_into(qtbot, widget, text: str) -> None:
    """Type ``text`` key by key (a line break is Enter, as a curator would press it)."""
    for char in text:
        if char == "\n":
            qtbot.keyClick(widget, Qt.Key.Key_Return)
        else:
            qtbot.keyClicks(widget, char)


def test_a_caption_is_the_prompt_until_edited_and_the_edit_is_undoable(
    qtbot, data_dir, actors, window
):
    names = actors[ACTOR_A[0]]
    PromptMetadata.for_actor(data_dir, ACTOR_A[1]).record_generation(names[0], prompt=PROMPT)
    dialog, editor = open_preview(qtbot, window)
    qtbot.waitUntil(lambda: editor.text() == PROMPT, timeout=5000)
    assert editor.state_text() == "from the generation prompt"
    assert not editor.use_prompt_button.isEnabled()

    # Type a caption of two lines with [trigger] twice; letters typed here flag nothing.
    editor.edit.setFocus()
    qtbot.waitUntil(editor.edit.hasFocus, timeout=10000)
    editor.edit.selectAll()
    typed = "[trigger] smiling, gb\n[trigger] at the beach"
    type_into(qtbot, editor.edit, typed)
    assert editor.text() == typed
    assert dialog.image.filename == names[0]  # G and B were text, not flags
    qtbot.keyClick(editor.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert caption_on_disk(data_dir, names[0]) == typed  # kept exactly as typed
    assert metadata_on_disk(data_dir)["images"][names[0]]["prompt"] == PROMPT
    assert window.controller.undo_stack.undoText() == f"Edit Caption ({names[0]})"
    qtbot.waitUntil(lambda: editor.state_text() == "edited", timeout=10000)
    assert dialog.hasFocus()  # Ctrl+Enter gave the keyboard back to the preview
    assert all(entry.get("good", True) for entry in metadata_on_disk(data_dir)["images"].values())
    assert window.controller.undo_stack.count() == 1  # the caption only: nothing was flagged

    # Ctrl+Z from the preview: back to the prompt, on disk and in the field; Ctrl+Shift+Z again.
    qtbot.keyClick(dialog, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert caption_on_disk(data_dir, names[0]) is None
    qtbot.waitUntil(lambda: editor.text() == PROMPT, timeout=10000)
    shift_control = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(dialog, Qt.Key.Key_Z, shift_control)
    wait_idle(qtbot, window)
    assert caption_on_disk(data_dir, names[0]) == typed
    qtbot.waitUntil(lambda: editor.text() == typed, timeout=10000)

    # "Use prompt" drops the caption (undoable too).
    qtbot.waitUntil(editor.use_prompt_button.isEnabled, timeout=10000)
    qtbot.mouseClick(editor.use_prompt_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert caption_on_disk(data_dir, names[0]) is None
    qtbot.waitUntil(lambda: editor.text() == PROMPT, timeout=10000)


def test_the_preview_opens_with_the_keyboard_on_the_image_not_in_the_caption(
    qtbot, data_dir, actors, window
):
    names = actors[ACTOR_A[0]]
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Space)
    dialog = window.preview_presenter.dialog
    editor = window.preview_presenter.caption_editor
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog, timeout=10000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_B)  # where a key press goes
    wait_idle(qtbot, window)
    assert metadata_on_disk(data_dir)["images"][names[0]]["good"] is False
    assert editor.text() == "" and caption_on_disk(data_dir, names[0]) is None


def test_esc_in_the_caption_puts_it_back_and_moving_on_keeps_an_edit(
    qtbot, data_dir, actors, window
):
    names = actors[ACTOR_A[0]]
    dialog, editor = open_preview(qtbot, window)
    qtbot.waitUntil(lambda: editor.state_text().startswith("none yet"), timeout=5000)

    editor.edit.setFocus()
    qtbot.keyClicks(editor.edit, "abandoned")
    qtbot.keyClick(editor.edit, Qt.Key.Key_Escape)
    assert editor.text() == ""
    assert dialog.isVisible() and dialog.hasFocus()  # the first Esc leaves the field only

    editor.edit.setFocus()
    qtbot.keyClicks(editor.edit, "kept")
    dialog.setFocus()  # leaving the field counts
    qtbot.keyClick(dialog, Qt.Key.Key_Right)
    wait_idle(qtbot, window)
    assert dialog.image.filename == names[1]
    assert caption_on_disk(data_dir, names[0]) == "kept"
    assert caption_on_disk(data_dir, names[1]) is None


def test_the_trigger_word_is_edited_in_the_header_and_undone(qtbot, data_dir, actors, window):
    field = window.header.trigger_word_edit
    qtbot.waitUntil(field.isEnabled, timeout=10000)
    assert field.text() == "" and field.placeholderText() == ACTOR_A[1]

    field.setFocus()
    qtbot.keyClicks(field, "ohwx gb")  # letters in a text field never flag
    qtbot.keyClick(field, Qt.Key.Key_Return)
    wait_idle(qtbot, window)
    assert metadata_on_disk(data_dir)["trigger_word"] == "ohwx gb"
    assert window.grid.hasFocus()
    assert window.controller.undo_stack.undoText() == "Set Trigger Word (ohwx gb)"
    assert window.flag_counts_label.text() == f"good {ACTOR_A[2]} · bad 0"

    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert "trigger_word" not in metadata_on_disk(data_dir)
    qtbot.waitUntil(lambda: field.text() == "", timeout=10000)

    # A word that cannot name a kohya folder: one clear line, nothing written.
    field.setFocus()
    qtbot.keyClicks(field, "a/b")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    wait_idle(qtbot, window)
    assert "trigger_word" not in metadata_on_disk(data_dir)
    assert window.error_text() == (
        "Trigger word 'a/b': must not contain '/' or '\\' (it names the kohya folder)"
    )
    assert field.text() == ""
