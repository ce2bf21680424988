"""The review in the window: the header's "· 18 reviewed", each actor's progress in the actor
list, ``U`` (a jump to the next unreviewed image in the grid's order), and what analysis finds
(near-duplicate and quality marks on the tiles, the filters and sorts that use them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QModelIndex, QObject, Signal

from tdm_desktop.core.quality import QualityThresholds
from tdm_desktop.ui.common.messages import images_phrase
from tdm_desktop.ui.grid.delegate import ThumbnailDelegate
from tdm_desktop.ui.grid.filter import GridFilter
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.grid.selection import GridSelection
from tdm_desktop.ui.grid.view import ThumbnailGridView
from tdm_desktop.ui.review.advance import NONE_LEFT, next_unreviewed_shown
from tdm_desktop.ui.review.analysis import AnalysisController
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
        selection: GridSelection,
        header: ProgressShown,
        actor_rows: ActorRows,
        actor: OpenActorId,
        *,
        analysis: AnalysisController,
        rows: GridFilter,
        delegate: ThumbnailDelegate,
        view: ThumbnailGridView,
        status_text: Callable[[], str] = str,
        parent: QObject | None = None,
    ) -> None:
        """``analysis``: the thumbnail loader's analysis hook; ``rows``: what the grid shows of
        the model (its filter and sort read what analysis found); ``status_text``: what the
        status bar says now (marks found late never talk over another message)."""
        super().__init__(parent)
        self._status_text = status_text
        self._marks_said: tuple[str, str] | None = None  # (filename, text) said last
        self._model = model = rows.model
        self._selection = selection
        self._header = header
        self._rows = actor_rows
        self._actor = actor
        self._grid_rows = rows
        self._view = view
        self.tally = ReviewTally(model, self)
        self.actor_progress = ActorProgressController(service, self)
        self.analysis = analysis
        self.tally.changed.connect(self._on_tally)
        self.actor_progress.progress_read.connect(self._on_actor_progress)
        rows.set_facts(analysis)
        delegate.set_marks(analysis)
        analysis.changed.connect(self._on_analysis)
        model.modelReset.connect(analysis.clear)  # another actor
        view.current_image_changed.connect(self._on_current_changed)  # outlives a model swap
        view.verticalScrollBar().valueChanged.connect(lambda _v: analysis.hold())
        model.images_replaced.connect(analysis.forget)

    # -- analysis ------------------------------------------------------------------------------

    def rows_changed(self) -> None:
        self.analysis.prune()

    def set_thresholds(self, duplicate_bits: int, training_resolution: int) -> None:
        thresholds = QualityThresholds(training_resolution=training_resolution)
        self.analysis.set_thresholds(thresholds, duplicate_bits)

    def group_of(self, filename: str) -> tuple[str, ...]:
        """The near-duplicate group ``filename`` is in, in manifest order (empty: none)."""
        for group in self.analysis.duplicate_groups():
            if filename in group:
                return group
        return ()

    def analysis_summary(self) -> str | None:
        """What the Problems / Near-duplicates filter shows, and of how many images checked."""
        checked = self.analysis.analysed_count()
        of = f"among the {checked} of {self._model.rowCount()} images checked so far"
        wanted = self._grid_rows.flag_filter()
        if wanted == "duplicates":
            groups = self.analysis.duplicate_groups()
            count = sum(len(group) for group in groups)
            return (
                f"Near-duplicates: {len(groups)} group{'' if len(groups) == 1 else 's'}, "
                f"{images_phrase(count)}, {of} · C compares a group"
            )
        if wanted == "problems":
            flagged = self.analysis.problem_count()
            return f"Problems: {images_phrase(flagged)} flagged by the quality checks, {of}"
        return None

    def filter_changed(self) -> None:
        summary = self.analysis_summary()
        if summary:
            self.status_message.emit(summary, 10_000)

    def marks_text(self, filename: str) -> str | None:
        """What analysis found about ``filename``, in one line (None: nothing)."""
        parts = list(self.analysis.problems(filename))
        group = self.analysis.duplicate_group(filename)
        if group is not None:
            parts.append(f"near-duplicates: group {group[0]}, {group[1]} images alike (C compares)")
        return f"{filename}: {' · '.join(parts)}" if parts else None

    def _on_current_changed(self, current: QModelIndex) -> None:
        """The keyboard's way to read a tile's marks: the status bar says them when an image
        becomes current (and the marks of the image before, still shown, go when this one has
        none). When the same image's row changes (its thumbnail or its flag landed),
        only marks not said yet are said, and only if the status bar says nothing else: a flag
        landing must not replace "No unreviewed image left…" with the marks said before."""
        self.analysis.hold()
        image = current.data(ImageGridModel.ImageRole) if current.isValid() else None
        if image is None:
            self._marks_said = None
            return
        text = self.marks_text(image.filename)
        said = self._marks_said
        if said is not None and said[0] == image.filename:
            if text is None or text == said[1] or self._status_text() not in ("", said[1]):
                return
        elif text is None:
            if said is not None and said[1] and self._status_text() == said[1]:
                self.status_message.emit("", 0)  # the last image's marks: not this one's
            self._marks_said = (image.filename, "")
            return
        self._marks_said = (image.filename, text)
        self.status_message.emit(text, 5000)

    def _on_analysis(self) -> None:
        self._grid_rows.facts_changed()
        self._view.viewport().update()

    def jump_to_unreviewed(self) -> None:
        """``U``: the next unreviewed image after the current one (wrapping)."""
        selection = self._selection
        after = selection.row_of(selection.current_filename())
        target = next_unreviewed_shown(selection, self._model, after)
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
