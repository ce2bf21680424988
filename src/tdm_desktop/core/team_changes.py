"""What others changed in an actor, and what an undo left alone, in the curator's words.

``changes_between(old, new)`` compares two reads of an actor's images (what the window shows and
what it just read) and says "3 images flagged bad by alice; 2 images added; 1 image deleted".
``left_alone_text`` says why an undo or redo did not touch some images: "2 images were changed by
alice since; not undone". Both are plain functions of plain values, testable without a window.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tdm_desktop.core.prompt_metadata import Review
from tdm_desktop.core.training_data import TrainingImage

SOMEONE = "someone else"  # a decision recorded without a curator's name


def images_count(count: int) -> str:
    """``"1 image"``, ``"3 images"``."""
    return f"{count} image" if count == 1 else f"{count} images"


@dataclass(frozen=True)
class ActorChanges:
    """How an actor's images changed between two reads: decisions by (decision, curator) with
    their counts, images back to unreviewed, added, deleted, and listed again with another entry
    (another URL or size)."""

    decided: Mapping[tuple[str, str | None], int] = field(default_factory=dict)
    unreviewed: int = 0
    added: int = 0
    deleted: int = 0
    replaced: int = 0

    def __bool__(self) -> bool:
        return bool(self.decided or self.unreviewed or self.added or self.deleted or self.replaced)

    def phrases(self) -> list[str]:
        """``["3 images flagged bad by alice", "2 images added", "1 image deleted"]``."""
        said = []
        for (decision, by), count in sorted(self.decided.items(), key=_decided_order):
            who = f" by {by}" if by else ""
            said.append(f"{images_count(count)} flagged {decision}{who}")
        if self.unreviewed:
            said.append(f"{images_count(self.unreviewed)} back to unreviewed")
        if self.added:
            said.append(f"{images_count(self.added)} added")
        if self.deleted:
            said.append(f"{images_count(self.deleted)} deleted")
        if self.replaced:
            said.append(f"{images_count(self.replaced)} replaced")
        return said

    def summary(self) -> str:
        """One line: ``"3 images flagged bad by alice; 2 images added"`` ("" when nothing)."""
        return "; ".join(self.phrases())


def changes_between(old: Sequence[TrainingImage], new: Sequence[TrainingImage]) -> ActorChanges:
    """What changed from ``old`` to ``new`` (two reads of one actor), matched by filename."""
    before = {image.filename: image for image in old}
    after = {image.filename: image for image in new}
    decided: Counter[tuple[str, str | None]] = Counter()
    unreviewed = replaced = 0
    for name, image in after.items():
        was = before.get(name)
        if was is None:
            continue
        if was.entry != image.entry:
            replaced += 1
        review = image.review
        if was.review == review:
            continue
        if review.decision is None:
            unreviewed += 1
        else:
            decided[(review.decision, review.by)] += 1
    return ActorChanges(
        decided=dict(decided),
        unreviewed=unreviewed,
        added=sum(1 for name in after if name not in before),
        deleted=sum(1 for name in before if name not in after),
        replaced=replaced,
    )


def left_alone_text(left_alone: Mapping[str, Review], *, verb: str = "undone") -> str | None:
    """``"2 images were changed by alice since; not undone"`` (None when none was left alone).
    ``left_alone``: each image with its decision now (``FlagUndo.left_alone``)."""
    if not left_alone:
        return None
    count = len(left_alone)
    curators = sorted({review.by or SOMEONE for review in left_alone.values()}, key=_someone_last)
    who = curators[0] if len(curators) == 1 else f"{', '.join(curators[:-1])} and {curators[-1]}"
    were = "was" if count == 1 else "were"
    return f"{images_count(count)} {were} changed by {who} since; not {verb}"


def _decided_order(item: tuple[tuple[str, str | None], int]) -> tuple[int, str, str]:
    (decision, by), count = item
    return (-count, decision, by or "")


def _someone_last(name: str) -> tuple[bool, str]:
    return (name == SOMEONE, name)
