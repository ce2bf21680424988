"""Space / Enter on the grid: the full-size preview of the current image, following the grid.

The preview carries the flag / delete / undo actions, so the same keys work there; its arrows move
the grid's current image, and the preview shows whatever becomes current.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QModelIndex, QObject, Qt, SignalInstance
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from tdm_desktop.core.captions import ImageCaption
from tdm_desktop.core.timestamps import Clock
from tdm_desktop.ui.common.full_image import FetchImage
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.grid.selection import GridSelection
from tdm_desktop.ui.grid.view import ThumbnailGridView
from tdm_desktop.ui.preview.caption import CaptionEditWidget
from tdm_desktop.ui.preview.dialog import PreviewDialog, ReadBaseImage

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import TrainingImage


class OpenActorName(Protocol):
    """The actor open in the grid (``CurationController``)."""

    @property
    def actor_id(self) -> str | None: ...

    @property
    def actor_name(self) -> str: ...


class CaptionEditing(Protocol):
    """Reading and editing captions of the open actor (``CaptionController``)."""

    @property
    def caption_shown(self) -> SignalInstance: ...

    def read_caption(self, filename: str) -> None: ...

    def edit_caption(self, filename: str, text: str | None, before: ImageCaption) -> bool: ...


class PreviewPresenter(QObject):
    """Opens / closes one ``PreviewDialog`` (a child of ``window``, made on first use).

    ``fetch``: full-size bytes (``FullImageSource``: the loader's copy, else a GET).
    """

    def __init__(
        self,
        window: QWidget,
        grid: ThumbnailGridView,
        selection: GridSelection,
        fetch: FetchImage,
        actions: Sequence[QAction],
        *,
        actor: OpenActorName | None = None,
        read_base_image: ReadBaseImage | None = None,
        captions: CaptionEditing | None = None,
        clock: Clock | None = None,
    ) -> None:
        """``clock``: now, for "5 min ago" (the system clock by default)."""
        super().__init__(window)
        self._clock = clock
        self._window = window
        self._grid = grid
        self._selection = selection
        self._fetch = fetch
        self._actions = list(actions)
        self._actor = actor
        self._read_base_image = read_base_image
        self._captions = captions
        self.dialog: PreviewDialog | None = None
        self.caption_editor: CaptionEditWidget | None = None
        # the current image moved, or its row changed (e.g. another curator's flag)
        grid.current_image_changed.connect(self._on_current_changed)
        if captions is not None:
            captions.caption_shown.connect(self._on_caption_shown)

    def toggle(self) -> None:
        """Show the current image; if the preview is open, close it."""
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.close()
            return
        index = self._grid.currentIndex()
        if not index.isValid():
            return
        self._selection.set_current(index)
        if self.dialog is None:
            self.dialog = self._make_dialog()
        if self.caption_editor is not None:
            self.caption_editor.show_loading(None)  # read it again: it may have changed since
        self._show(index.data(ImageGridModel.ImageRole))
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        self.dialog.setFocus(Qt.FocusReason.ActiveWindowFocusReason)  # the keys flag, not type

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()

    def _make_dialog(self) -> PreviewDialog:
        dialog = PreviewDialog(
            self._fetch, read_base_image=self._read_base_image, parent=self._window
        )
        dialog.addActions(self._actions)
        dialog.navigate_requested.connect(self._selection.step)
        if self._captions is not None:
            editor = self.caption_editor = CaptionEditWidget()
            dialog.add_below(editor)
            editor.edited.connect(self._captions.edit_caption)
            editor.done_editing.connect(lambda: dialog.setFocus(Qt.FocusReason.OtherFocusReason))
            dialog.finished.connect(lambda _result: editor.commit())
        return dialog

    def _show(self, image: TrainingImage | None) -> None:
        assert self.dialog is not None
        self.dialog.show_image(image, self._actor_name())
        editor, captions = self.caption_editor, self._captions
        if editor is None or captions is None:
            return
        name = image.filename if image is not None else None
        if name != editor.filename:
            editor.show_loading(name)
            if name is not None:
                captions.read_caption(name)

    def _on_caption_shown(self, actor_id: str, filename: str, caption: ImageCaption) -> None:
        editor, actor = self.caption_editor, self._actor
        if editor is not None and actor is not None and actor_id == actor.actor_id:
            editor.show_caption(filename, caption)

    def _actor_name(self) -> str:
        return self._actor.actor_name if self._actor is not None else ""

    def _on_current_changed(self, current: QModelIndex) -> None:
        if self.dialog is not None and self.dialog.isVisible():
            image = current.data(ImageGridModel.ImageRole) if current.isValid() else None
            self._show(image)
