"""Where the current image goes after a decision: the next *unreviewed* image in the order the
grid shows (its filter and sort), wrapping around to the top; None when none is left.

The scan starts after the image just decided and stops at the first unreviewed one, so a key
usually looks at one or two rows, whatever the actor's size.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import TrainingImage
    from tdm_desktop.ui.grid.model import ImageGridModel
    from tdm_desktop.ui.grid.selection import GridSelection

NONE_LEFT = "No unreviewed image left in this view: every image here is decided"


def next_unreviewed(
    images: Sequence[TrainingImage],
    after: int,
    skip: Collection[str] = (),
    *,
    others_unreviewed: int | None = None,
) -> str | None:
    """The first unreviewed image after row ``after`` (-1: from the top) of ``images`` (the
    grid's order, read lazily), wrapping; images in ``skip`` (just decided) do not count. None
    when every other is decided. ``others_unreviewed``: how many of the actor's images outside
    ``skip`` are unreviewed, when known: 0 answers None without a scan."""
    if others_unreviewed == 0:
        return None
    count = len(images)
    for step in range(1, count + 1):
        image = images[(after + step) % count]
        if not image.review.decided and image.good and image.filename not in skip:
            return image.filename
    return None


def next_unreviewed_shown(
    selection: GridSelection, model: ImageGridModel, after: int, skip: Collection[str] = ()
) -> str | None:
    """``next_unreviewed`` over what the grid shows, after its row ``after``; when the model
    counts no unreviewed image besides ``skip``, None without a scan (O(len(skip)))."""
    rows = (model.image_at(model.row_of(name)) for name in skip)
    undecided_skipped = sum(1 for image in rows if image is not None and not image.review.decided)
    others = model.rowCount() - model.reviewed_count() - undecided_skipped
    return next_unreviewed(selection.view_images(), after, skip, others_unreviewed=others)
