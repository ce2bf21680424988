"""The orders a curator can sort an actor's images in, as plain key functions.

``sort_key(order, image, facts)`` returns a tuple; comparing two tuples is the order (a
``QSortFilterProxyModel.lessThan`` compares them, ``sorted`` uses them directly). Every key
ends with the manifest index, so ties keep the manifest order and each order is total.

``facts`` is what analysis has found so far (``ReviewFacts``: quality measures and findings,
the near-duplicate group). Images not analysed yet sort after the analysed ones in the orders
that need analysis (blur, problems), in manifest order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from tdm_desktop.core.training_data import TrainingImage

_DIGITS = re.compile(r"(\d+)")


class SortOrder(StrEnum):
    MANIFEST = "manifest"  # the default
    NEWEST = "newest"  # modified_date, newest first
    FILENAME = "filename"  # natural: ..._2.jpg before ..._10.jpg
    BLUR = "blur"  # blurriest first (lowest sharpness)
    PROBLEMS = "problems"  # images with quality findings first, most findings first
    DUPLICATES = "duplicates"  # near-duplicate groups together, by group number


@dataclass(frozen=True)
class ReviewFacts:
    """What is known about one image beyond the manifest (None: not analysed yet)."""

    sharpness: float | None = None
    problem_count: int | None = None
    duplicate_group: int | None = None


_UNKNOWN = ReviewFacts()


def sort_key(order: SortOrder, image: TrainingImage, facts: ReviewFacts | None = None) -> tuple:
    facts = facts or _UNKNOWN
    index = image.index
    if order is SortOrder.MANIFEST:
        return (index,)
    if order is SortOrder.NEWEST:
        stamp = _timestamp(image.modified_date)
        return (stamp is None, -(stamp or 0.0), index)
    if order is SortOrder.FILENAME:
        return (_natural(image.filename), index)
    if order is SortOrder.BLUR:
        return (facts.sharpness is None, facts.sharpness or 0.0, index)
    if order is SortOrder.PROBLEMS:
        count = facts.problem_count
        return (count is None, -(count or 0), index)
    if order is SortOrder.DUPLICATES:
        group = facts.duplicate_group
        return (group is None, group or 0, index)
    raise ValueError(f"unknown sort order {order!r}")


def sorted_images(
    images: Sequence[TrainingImage],
    order: SortOrder,
    facts: Mapping[str, ReviewFacts] | None = None,
) -> list[TrainingImage]:
    known = facts or {}
    return sorted(images, key=lambda image: sort_key(order, image, known.get(image.filename)))


def _natural(name: str) -> tuple:
    """``img_10.jpg`` -> ("img_", 10, ".jpg"): numbers compare as numbers, text without case."""
    parts = _DIGITS.split(name.casefold())
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in parts)


def _timestamp(text: str) -> float | None:
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()  # manifests: UTC
