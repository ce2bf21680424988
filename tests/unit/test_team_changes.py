"""What others changed in an actor, and what an undo left alone, in the curator's words."""

from __future__ import annotations

import dataclasses

from tdm_desktop.core.prompt_metadata import UNREVIEWED, Review
from tdm_desktop.core.team_changes import changes_between, left_alone_text
from tests.factories import training_image

AT = "2025-10-17T16:30:00.000000"


def test_nothing_changed_says_nothing():
    images = [training_image(n) for n in range(3)]
    changes = changes_between(images, list(images))
    assert not changes and changes.summary() == ""


def test_flags_by_curator_additions_and_deletions_are_counted():
    old = [training_image(n) for n in range(6)]
    by_alice = Review("bad", "alice", AT)
    new = [
        training_image(0, review=by_alice),
        training_image(1, review=by_alice),
        training_image(2, review=by_alice),
        training_image(3, review=Review("good", "bob", AT)),
        training_image(4),
        # 5 deleted
        training_image(7),
        training_image(8),
    ]
    changes = changes_between(old, new)
    assert changes.summary() == (
        "3 images flagged bad by alice; 1 image flagged good by bob; 2 images added; "
        "1 image deleted"
    )


def test_a_decision_taken_back_reads_as_unreviewed_and_a_new_entry_as_replaced():
    decided = training_image(0, review=Review("bad", "alice", AT))
    moved = training_image(1)
    resized = dataclasses.replace(moved, entry=dataclasses.replace(moved.entry, size_mb=9.0))
    changes = changes_between([decided, moved], [training_image(0), resized])
    assert changes.phrases() == ["1 image back to unreviewed", "1 image replaced"]
    assert training_image(0).review == UNREVIEWED


def test_an_anonymous_decision_names_nobody():
    changes = changes_between([training_image(0)], [training_image(0, review=Review("bad"))])
    assert changes.summary() == "1 image flagged bad"


def test_left_alone_names_the_curators_who_changed_the_images_since():
    bob = Review("good", "bob", AT)
    assert left_alone_text({}) is None
    assert left_alone_text({"a.jpg": bob}) == "1 image was changed by bob since; not undone"
    assert left_alone_text({"a.jpg": bob, "b.jpg": Review("bad", "alice", AT)}) == (
        "2 images were changed by alice and bob since; not undone"
    )
    assert left_alone_text(
        {"a.jpg": bob, "b.jpg": UNREVIEWED, "c.jpg": Review("bad", "carol", AT)}, verb="redone"
    ) == ("3 images were changed by bob, carol and someone else since; not redone")
