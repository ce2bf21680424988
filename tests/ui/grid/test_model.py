"""ImageGridModel and FlagFilterProxy: what the grid shows and keeps across a refresh."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel, QPersistentModelIndex, Qt

from tdm_desktop.core.training_data import TrainingImage
from tdm_desktop.ui.grid.filter import FlagFilterProxy
from tdm_desktop.ui.grid.model import ImageGridModel
from tests.factories import training_image

ACTOR = "0042_european_30_male"
PREFIX = f"system_actors/training_data/{ACTOR}/"


def image(n: int, good: bool = True, foreign: bool = False) -> TrainingImage:
    return training_image(n, good=good, foreign=foreign)


def names(model) -> list[str]:
    return [model.index(row, 0).data() for row in range(model.rowCount())]


def test_roles_expose_image_key_flag_and_foreign_error(qtbot):
    model = ImageGridModel()
    model.set_images([image(0), image(1, good=False), image(2, foreign=True)])

    first, bad, foreign = (model.index(row, 0) for row in range(3))
    assert first.data() == f"{ACTOR}_0.jpg"
    assert first.data(ImageGridModel.ImageRole) == image(0)
    assert first.data(ImageGridModel.KeyRole) == PREFIX + f"{ACTOR}_0.jpg"
    assert first.data(ImageGridModel.GoodRole) is True
    assert first.data(ImageGridModel.ErrorRole) is None
    assert bad.data(ImageGridModel.GoodRole) is False
    assert foreign.data(ImageGridModel.KeyRole) == ""
    assert foreign.data(ImageGridModel.ErrorRole) == (
        "foreign URL: bucket 'someone-else' is not the configured bucket"
    )
    assert model.good_bad_counts() == (2, 1)
    assert model.row_of(f"{ACTOR}_2.jpg") == 2 and model.row_of("nope.jpg") == -1
    assert model.image_at(5) is None


def test_set_good_changes_flags_counts_and_emits(qtbot):
    model = ImageGridModel()
    model.set_images([image(n) for n in range(4)])
    counts: list[tuple[int, int]] = []
    model.counts_changed.connect(lambda good, bad: counts.append((good, bad)))

    with qtbot.waitSignal(model.dataChanged):
        model.set_good({f"{ACTOR}_1.jpg": False, f"{ACTOR}_3.jpg": False, "unknown.jpg": False})

    assert model.index(1, 0).data(ImageGridModel.GoodRole) is False
    assert model.image_at(3).good is False
    assert counts == [(2, 2)]


def test_update_images_keeps_selection_and_current_on_refresh(qtbot):
    model = ImageGridModel()
    model.set_images([image(n) for n in range(6)])
    selection = QItemSelectionModel(model)
    flags = QItemSelectionModel.SelectionFlag
    selection.setCurrentIndex(model.index(3, 0), flags.ClearAndSelect)
    selection.select(model.index(4, 0), flags.Select)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))

    # another process removed _0 and _2, added _7 (middle) and _6 (end), flagged _4 bad
    refreshed = [image(1), image(7), image(3), image(4, good=False), image(5), image(6)]
    model.update_images(refreshed)

    assert resets == []
    assert names(model) == [im.filename for im in refreshed]
    assert selection.currentIndex().data() == f"{ACTOR}_3.jpg"
    selected = sorted(index.data() for index in selection.selectedIndexes())
    assert selected == [f"{ACTOR}_3.jpg", f"{ACTOR}_4.jpg"]
    assert model.index(3, 0).data(ImageGridModel.GoodRole) is False
    assert model.good_bad_counts() == (5, 1)


def test_update_images_follows_a_reorder(qtbot):
    model = ImageGridModel()
    model.set_images([image(n) for n in range(4)])
    current = QPersistentModelIndex(model.index(1, 0))

    model.update_images([image(3), image(2), image(1), image(0)])

    assert names(model) == [f"{ACTOR}_{n}.jpg" for n in (3, 2, 1, 0)]
    assert current.row() == 2 and current.data() == f"{ACTOR}_1.jpg"
    assert model.row_of(f"{ACTOR}_1.jpg") == 2


def test_update_to_empty_and_back(qtbot):
    model = ImageGridModel()
    model.set_images([image(0)])
    model.update_images([])
    assert model.rowCount() == 0
    model.update_images([image(1), image(2)])
    assert names(model) == [f"{ACTOR}_1.jpg", f"{ACTOR}_2.jpg"]


def test_filter_proxy_shows_only_bad_and_follows_flag_changes(qtbot):
    model = ImageGridModel()
    model.set_images([image(0), image(1, good=False), image(2), image(3, good=False)])
    proxy = FlagFilterProxy()
    proxy.setSourceModel(model)

    proxy.set_flag_filter("bad")
    assert names(proxy) == [f"{ACTOR}_1.jpg", f"{ACTOR}_3.jpg"]

    model.set_good({f"{ACTOR}_0.jpg": False, f"{ACTOR}_3.jpg": True})
    assert names(proxy) == [f"{ACTOR}_0.jpg", f"{ACTOR}_1.jpg"]

    proxy.set_flag_filter("good")  # decided good; 2 is unreviewed
    assert names(proxy) == [f"{ACTOR}_3.jpg"]
    proxy.set_flag_filter("unreviewed")
    assert names(proxy) == [f"{ACTOR}_2.jpg"]
    proxy.set_flag_filter("all")
    assert proxy.rowCount() == 4
    assert proxy.index(0, 0).data(ImageGridModel.KeyRole).startswith(PREFIX)


def test_filter_proxy_rejects_an_unknown_filter(qtbot):
    proxy = FlagFilterProxy()
    with pytest.raises(ValueError, match="flag filter 'maybe'"):
        proxy.set_flag_filter("maybe")
    assert proxy.flag_filter() == "all"


def test_a_changed_entry_or_a_gone_row_names_its_key_for_the_thumbnail_cache(qtbot):
    import dataclasses

    model = ImageGridModel()
    images = [dataclasses.replace(image(n), entry=("entry", n)) for n in range(3)]
    model.set_images(images)
    replaced: list[list[str]] = []
    model.images_replaced.connect(replaced.append)

    model.update_images([*images[:2], dataclasses.replace(images[2], good=False)])
    assert replaced == []  # a flag changes no picture

    regenerated = dataclasses.replace(images[2], entry=("entry", 2, "regenerated"))
    model.update_images([images[0], regenerated])
    assert replaced == [[images[1].location.key, images[2].location.key]]


def test_the_review_role_and_tooltip_say_who_decided_and_when(qtbot):
    from datetime import UTC, datetime

    from tdm_desktop.core.prompt_metadata import UNREVIEWED, Review

    now = datetime(2025, 10, 17, 16, 35, tzinfo=UTC)
    model = ImageGridModel(clock=lambda: now)
    bad = Review("bad", "alice", "2025-10-17T16:30:00.000000")
    model.set_images([image(0), training_image(1, review=bad)])

    unreviewed, decided = model.index(0, 0), model.index(1, 0)
    assert unreviewed.data(ImageGridModel.ReviewRole) == UNREVIEWED
    assert decided.data(ImageGridModel.ReviewRole) == bad
    assert decided.data(Qt.ItemDataRole.ToolTipRole).splitlines()[:2] == [
        f"{ACTOR}_1.jpg",
        "bad · alice · 5 min ago",
    ]
    assert unreviewed.data(Qt.ItemDataRole.ToolTipRole).splitlines()[1] == "unreviewed"


def test_set_reviews_changes_review_flag_and_counts(qtbot):
    from tdm_desktop.core.prompt_metadata import UNREVIEWED, Review

    model = ImageGridModel()
    model.set_images([image(0), image(1, good=False)])
    counts: list[tuple[int, int]] = []
    model.counts_changed.connect(lambda good, bad: counts.append((good, bad)))
    by_bob = Review("bad", "bob", "2025-10-17T16:30:00.000000")

    with qtbot.waitSignal(model.dataChanged) as changed:
        model.set_reviews({f"{ACTOR}_0.jpg": by_bob, f"{ACTOR}_1.jpg": UNREVIEWED, "x.jpg": by_bob})

    assert ImageGridModel.ReviewRole in changed.args[2]
    assert model.image_at(0).review == by_bob and model.image_at(0).good is False
    assert model.image_at(1).review == UNREVIEWED and model.image_at(1).good is True
    assert counts == [(1, 1)]
