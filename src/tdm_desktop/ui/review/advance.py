"""Where the current image goes after a decision: the next *unreviewed* image in the order the
grid shows (its filter and sort), wrapping around to the top; None when none is left.

The scan starts after the image just decided and stops at the first unreviewed one, so a key
usually looks at one or two rows, whatever the actor's size.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import TrainingImage

NONE_LEFT = "No unreviewed image left in this view: every image here is decided"

ImageAt = Callable[[int], "TrainingImage | None"]
"""``row -> the image shown there`` (the grid's order)."""


def next_unreviewed(
    image_at: ImageAt, count: int, after: int, skip: Collection[str] = ()
) -> str | None:
    """The first unreviewed image after row ``after`` (-1: from the top) of ``count`` rows,
    wrapping; images in ``skip`` (just decided) do not count. None when every other is decided."""
    for step in range(1, count + 1):
        image = image_at((after + step) % count)
        if image is None:
            continue
        if not image.review.decided and image.good and image.filename not in skip:
            return image.filename
    return None
