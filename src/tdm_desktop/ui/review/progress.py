"""How far the review is: "24 images in S3 · 18 reviewed" for the open actor, and each actor's
progress in the actor list.

``ReviewTally`` follows the grid's model, which keeps its count of decided rows the way it keeps
the flag counts (from the records on a reset, by the rows a change touches), so a flag key costs
the rows it changed and opening 100,000 images builds none. ``ActorProgressController``
reads every listed actor's decisions in the background (one job, one actor after the other) for
the actor list.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import QObject, Signal

from tdm_desktop.core.prompt_metadata import Review
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.grid.model import ImageGridModel

log = logging.getLogger(__name__)


class ReviewTally(QObject):
    """``changed(reviewed, total)`` whenever the model's count of decided images changed."""

    changed = Signal(int, int)

    def __init__(self, model: ImageGridModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._shown: tuple[int, int] | None = None
        model.counts_changed.connect(self._recount)

    @property
    def reviewed(self) -> int:
        return self._model.reviewed_count()

    def _recount(self, *_args: object) -> None:
        counts = (self._model.reviewed_count(), self._model.rowCount())
        if counts != self._shown:
            self._shown = counts
            self.changed.emit(*counts)


class ReviewSource(Protocol):
    """Each actor's decisions (``TrainingDataService``)."""

    def reviews(self, actor_id: str) -> dict[str, Review]: ...


class ActorProgressController(QObject):
    """``progress_read(actor_id, reviewed)`` for each actor of a listing, read in the background;
    a newer listing drops what an older one still reads."""

    progress_read = Signal(str, int)

    def __init__(self, service: ReviewSource, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._jobs = JobRunner(max_threads=1, parent=self)
        self._serial = 0

    def read(self, actor_ids: Sequence[str]) -> None:
        self._serial += 1
        serial, service = self._serial, self._service
        for actor_id in actor_ids:

            def work(actor_id: str = actor_id, serial: int = serial) -> int | None:
                if serial != self._serial:
                    return None  # a newer listing came: skip the read
                return len(service.reviews(actor_id))

            self._jobs.run(
                work,
                on_result=lambda count, a=actor_id, s=serial: self._read(s, a, count),
                on_error=lambda error, a=actor_id: log.debug("review progress of %s: %s", a, error),
            )

    def _read(self, serial: int, actor_id: str, count: int | None) -> None:
        if serial == self._serial and count is not None:
            self.progress_read.emit(actor_id, count)

    def wait_for_jobs(self, msecs: int = -1) -> bool:
        return self._jobs.wait_for_done(msecs)
