"""Where the current image goes after a decision: the next *unreviewed* image in the order the
grid shows (its filter and sort), wrapping around to the top; None when none is left."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tdm_desktop.core.training_data import TrainingImage


def next_unreviewed(
    images: Sequence[TrainingImage], after: int, skip: Collection[str] = ()
) -> str | None:
    """The first unreviewed image after position ``after`` (-1: from the top), wrapping; images
    in ``skip`` (just decided) do not count. None when every other image is decided."""
    count = len(images)
    for step in range(1, count + 1):
        image = images[(after + step) % count]
        if not image.review.decided and image.good and image.filename not in skip:
            return image.filename
    return None


NONE_LEFT = "No unreviewed image left in this view: every image here is decided"


def next_unreviewed_after(
    images: Sequence[TrainingImage], filename: str | None, skip: Collection[str] = ()
) -> str | None:
    """``next_unreviewed`` after the image named ``filename`` (from the top when it is not
    shown)."""
    after = next((row for row, image in enumerate(images) if image.filename == filename), -1)
    return next_unreviewed(images, after, skip)
