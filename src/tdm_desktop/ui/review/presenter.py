"""The review's progress in the window and ``U``: the header's "· 18 reviewed", each actor's
progress in the actor list, and a jump to the next unreviewed image in the grid's order."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QObject, Signal

from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.grid.selection import GridSelection
from tdm_desktop.ui.review.advance import NONE_LEFT, next_unreviewed_after
from tdm_desktop.ui.review.progress import ActorProgressController, ReviewSource, ReviewTally


class ProgressShown(Protocol):
    """Where the open actor's progress is shown (``ActorHeaderWidget``)."""

    def set_reviewed_count(self, reviewed: int) -> None: ...


class ActorRows(Protocol):
    """The actor list (``ActorListWidget``)."""

    def actor_ids(self) -> list[str]: ...

    def update_reviewed(self, actor_id: str, reviewed: int) -> None: ...


class OpenActorId(Protocol):
    @property
    def actor_id(self) -> str | None: ...


class ReviewPresenter(QObject):
    """``status_message(text, ms)`` for the status bar."""

    status_message = Signal(str, int)

    def __init__(
        self,
        service: ReviewSource,
        model: ImageGridModel,
        selection: GridSelection,
        header: ProgressShown,
        actor_rows: ActorRows,
        actor: OpenActorId,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._selection = selection
        self._header = header
        self._rows = actor_rows
        self._actor = actor
        self.tally = ReviewTally(model, self)
        self.actor_progress = ActorProgressController(service, self)
        self.tally.changed.connect(self._on_tally)
        self.actor_progress.progress_read.connect(self._on_actor_progress)

    def jump_to_unreviewed(self) -> None:
        """``U``: the next unreviewed image after the current one (wrapping)."""
        images = self._selection.visible_images()
        target = next_unreviewed_after(images, self._selection.current_filename())
        if target is None:
            self.status_message.emit(NONE_LEFT, 5000)
        else:
            self._selection.select_filename(target)

    def actors_listed(self) -> None:
        """A new listing: read every actor's progress in the background."""
        self.actor_progress.read(self._rows.actor_ids())

    def _on_tally(self, reviewed: int, _total: int) -> None:
        self._header.set_reviewed_count(reviewed)
        if self._actor.actor_id is not None:
            self._rows.update_reviewed(self._actor.actor_id, reviewed)

    def _on_actor_progress(self, actor_id: str, reviewed: int) -> None:
        if actor_id != self._actor.actor_id:  # the open actor's count is the live one
            self._rows.update_reviewed(actor_id, reviewed)
