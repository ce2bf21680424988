"""A big actor: the grid builds only the rows it touches, and a key costs what it acts on.

The rows come from an ``ActorImages`` whose row builder counts its calls: what a curator sees
(flags shown, current image moved, counts) is checked together with how many rows were built.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QListView

from tdm_desktop.core.actor_images import ActorImages
from tdm_desktop.core.s3_urls import S3Location
from tdm_desktop.core.training_data import _training_image
from tdm_desktop.ui.grid.filter import FlagFilterProxy, GridFilter
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.grid.selection import GridSelection
from tdm_desktop.ui.grid.view import ThumbnailGridView

BUCKET = "story-boards-assets"
PREFIX = "system_actors/training_data/0042_big/"
URL = f"https://{BUCKET}.s3.amazonaws.com/{PREFIX}"


@dataclass
class Built:
    count: int = 0


def big_actor(rows: int, bad: set[int] = frozenset(), built: Built | None = None) -> ActorImages:
    """``rows`` images; ``bad`` rows decided bad. ``built`` counts the rows built."""
    counter = built if built is not None else Built()
    items = [
        {
            "filename": f"img_{i:06d}.jpg",
            "s3_url": f"{URL}img_{i:06d}.jpg",
            "size_mb": 0.25,
            "modified_date": "2026-01-01T00:00:00.000000",
        }
        for i in range(rows)
    ]
    records = {f"img_{i:06d}.jpg": {"good": False} for i in bad}

    def make(index, entry, location, reason, record):
        counter.count += 1
        return _training_image(index, entry, location, reason, record)

    def locate(entry):
        return S3Location(BUCKET, PREFIX + entry.filename), None

    return ActorImages(
        items, records, make, locate, bucket=BUCKET, key_prefix=PREFIX, canonical=(URL,)
    )


def test_showing_a_big_actor_builds_no_row_and_counts_from_the_decisions(qtbot):
    built = Built()
    model = ImageGridModel()
    model.set_images(big_actor(100_000, bad={3, 99_999}, built=built))

    assert model.rowCount() == 100_000
    assert model.good_bad_counts() == (99_998, 2)
    assert model.row_of("img_050000.jpg") == 50_000
    assert model.is_listed(PREFIX + "img_050000.jpg")
    assert not model.is_listed(PREFIX + "img_100000.jpg")
    assert not model.is_listed("system_actors/training_data/other/img_000001.jpg")
    assert built.count == 0
    assert model.index(3, 0).data(ImageGridModel.GoodRole) is False
    assert built.count == 1


def test_a_flag_key_on_a_big_actor_builds_only_the_rows_it_acts_on(qtbot):
    built = Built()
    model = ImageGridModel()
    view = ThumbnailGridView()
    view.resize(800, 600)
    qtbot.addWidget(view)
    rows = GridFilter(view, model)
    selection = GridSelection(view, rows)
    model.set_images(big_actor(100_000, built=built))
    view.show()
    qtbot.waitExposed(view)
    selection.make_current_row(70_000)
    qtbot.wait(50)  # the view lays out and paints the rows around the current one
    before = built.count
    assert before < 200  # what is on screen, not the 100,000 rows

    def mark_bad(names: list[str]) -> bool:
        model.set_good(dict.fromkeys(names, False))
        return True

    selection.act_and_advance(mark_bad)

    assert selection.current_filename() == "img_070001.jpg"
    assert model.image_at(70_000).good is False
    assert model.good_bad_counts() == (99_999, 1)
    assert built.count - before < 10  # the acted-on row and its neighbour, not 100,000


def test_the_grid_shows_the_model_itself_until_a_filter_is_on(qtbot):
    model = ImageGridModel()
    view = QListView()
    qtbot.addWidget(view)
    rows = GridFilter(view, model)
    selection = GridSelection(view, rows)
    model.set_images(big_actor(10, bad={2, 7}))
    switched: list[bool] = []
    rows.view_model_changed.connect(lambda: switched.append(True))
    assert view.model() is model and rows.proxy() is None

    rows.set_flag_filter("bad")
    assert isinstance(view.model(), FlagFilterProxy) and switched == [True]
    assert [selection.view_images()[i].filename for i in range(2)] == [
        "img_000002.jpg",
        "img_000007.jpg",
    ]
    assert rows.to_source_row(1) == 7 and rows.to_view_row(7) == 1 and rows.to_view_row(3) == -1
    assert selection.select_filename("img_000007.jpg")
    assert selection.current_filename() == "img_000007.jpg"
    assert not selection.select_filename("img_000003.jpg")  # filtered out

    rows.set_flag_filter("unreviewed")  # nobody decided the 8 others (Good: decided good)
    assert len(selection.view_images()) == 8 and switched == [True]  # the proxy stays, refiltered
    rows.set_flag_filter("all")
    assert view.model() is model and rows.proxy() is None and switched == [True, True]
    assert rows.to_source_row(3) == 3

    rows.set_sort_order("filename")  # a sort wants the proxy too; manifest order does not
    assert isinstance(view.model(), FlagFilterProxy) and switched == [True, True, True]
    rows.set_sort_order("manifest")
    assert view.model() is model and rows.proxy() is None


def test_a_reread_of_the_same_rows_changes_only_what_changed(qtbot):
    built = Built()
    model = ImageGridModel()
    model.set_images(big_actor(50_000, built=built))
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda first, last, *_: changed.append((first.row(), last.row())))
    model.set_good({"img_000010.jpg": False})  # shown, written; the next read has it
    changed.clear()

    model.update_images(big_actor(50_000, bad={10, 20}, built=built))

    assert changed == [(20, 20)]  # row 10 showed that decision already
    assert model.good_bad_counts() == (49_998, 2)
    assert built.count < 10


def test_removing_rows_keeps_the_others_and_their_order(qtbot):
    model = ImageGridModel()
    model.set_images(big_actor(1000, bad={5}))
    replaced: list[list[str]] = []
    model.images_replaced.connect(replaced.append)

    model.remove_filenames(["img_000005.jpg", "img_000500.jpg", "nope.jpg"])

    assert model.rowCount() == 998
    assert model.filenames()[4:6] == ["img_000004.jpg", "img_000006.jpg"]
    assert model.row_of("img_000999.jpg") == 997 and model.row_of("img_000500.jpg") == -1
    assert model.good_bad_counts() == (998, 0)
    assert replaced == [[PREFIX + "img_000005.jpg", PREFIX + "img_000500.jpg"]]
