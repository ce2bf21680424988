"""The caption field under the preview: the image's caption (its generation prompt until a curator
edits it), kept as typed, line breaks included.

An edit counts when the field is left (a click elsewhere, ``Ctrl+Enter``, another image, closing
the preview); ``Esc`` in the field puts back what it showed and leaves it. "Use prompt" drops a
curator's caption, so the caption follows the generation prompt again. While the field has the
keyboard, letters are text: the flag keys do not fire.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from tdm_desktop.core.captions import ImageCaption

FROM_PROMPT = "from the generation prompt"
EDITED = "edited"
NO_CAPTION = "none yet: export uses the trigger word alone"


class _CaptionEdit(QPlainTextEdit):
    """``left`` when the keyboard leaves it, ``finished`` on Ctrl+Enter, ``reverted`` on Esc."""

    left = Signal()
    finished = Signal()
    reverted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, control = event.key(), event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if key == Qt.Key.Key_Escape:
            self.reverted.emit()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and control:
            self.finished.emit()
        else:
            super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.left.emit()


class CaptionEditWidget(QWidget):
    """``edited(filename, text, before)`` when the curator changed the caption; ``text`` None
    for "Use prompt". ``done_editing()`` when the keyboard should go back to the preview."""

    edited = Signal(str, object, object)
    done_editing = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("captionEditor")
        self._filename: str | None = None
        self._caption: ImageCaption | None = None
        self._committing = False

        title = QLabel("Caption")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.state_label = QLabel()
        self.state_label.setObjectName("captionState")
        self.state_label.setEnabled(False)
        self.use_prompt_button = QPushButton("Use prompt")
        self.use_prompt_button.setObjectName("useCaptionPromptButton")
        self.use_prompt_button.setToolTip("Drop this caption: the generation prompt is the caption")
        self.use_prompt_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.use_prompt_button.clicked.connect(self._use_prompt)
        self.edit = _CaptionEdit()
        self.edit.setObjectName("captionEdit")
        self.edit.setTabChangesFocus(True)
        # Only a click puts the keyboard here: the preview opens with it, so G / B flag at once.
        self.edit.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.edit.setPlaceholderText("No caption")
        self.edit.setToolTip("Edit, then click elsewhere or press Ctrl+Enter · Esc puts it back")
        lines = self.edit.fontMetrics().lineSpacing()
        self.edit.setFixedHeight(lines * 3 + 12)
        self.edit.left.connect(self._commit)
        self.edit.finished.connect(self._finish)
        self.edit.reverted.connect(self._revert)

        top = QHBoxLayout()
        top.addWidget(title)
        top.addWidget(self.state_label, 1)
        top.addWidget(self.use_prompt_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.edit)
        self.show_loading(None)

    @property
    def filename(self) -> str | None:
        return self._filename

    def text(self) -> str:
        return self.edit.toPlainText()

    def state_text(self) -> str:
        return self.state_label.text()

    def show_loading(self, filename: str | None) -> None:
        """Another image: its caption is being read (an edit of the one before is committed)."""
        self._commit()
        self._filename, self._caption = filename, None
        self.edit.blockSignals(True)
        self.edit.setPlainText("")
        self.edit.blockSignals(False)
        self.edit.setReadOnly(True)
        self.state_label.setText("" if filename is None else "reading…")
        self.use_prompt_button.setEnabled(False)

    def show_caption(self, filename: str, caption: ImageCaption) -> None:
        """``filename``'s caption as stored now (a read, an edit, an undo); ignored for another
        image, and while the curator is typing in it (their text wins until they leave)."""
        if filename != self._filename:
            return
        if self.edit.hasFocus() and self._caption is not None and self.text() != self._caption.text:
            self._caption = caption
            return
        self._caption = caption
        self.edit.setPlainText(caption.text)
        self.edit.setReadOnly(False)
        if caption.custom:
            self.state_label.setText(EDITED)
        else:
            self.state_label.setText(FROM_PROMPT if caption.text else NO_CAPTION)
        self.use_prompt_button.setEnabled(caption.custom)

    def commit(self) -> None:
        """Count what is typed now (the preview closes or moves on)."""
        self._commit()

    def _commit(self) -> None:
        if self._committing or self._filename is None or self._caption is None:
            return
        self._committing = True
        try:
            text, before = self.text(), self._caption
            if text != before.text:
                self._caption = ImageCaption(text, text)  # what is stored once it is written
                self.edited.emit(self._filename, text, before)
        finally:
            self._committing = False

    def _finish(self) -> None:
        self._commit()
        self.done_editing.emit()

    def _revert(self) -> None:
        if self._caption is not None:
            self.edit.setPlainText(self._caption.text)
        self.done_editing.emit()

    def _use_prompt(self) -> None:
        if self._filename is not None and self._caption is not None and self._caption.custom:
            self.use_prompt_button.setEnabled(False)
            self.edited.emit(self._filename, None, self._caption)
