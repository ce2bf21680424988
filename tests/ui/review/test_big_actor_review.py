"""The review on a big actor: its progress, the unreviewed advance and analysis build only the rows
they touch (opening 100,000 images builds none before the first screen)."""

from __future__ import annotations

from tdm_desktop.core.prompt_metadata import Review
from tdm_desktop.ui.grid.filter import GridFilter
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.grid.selection import GridSelection
from tdm_desktop.ui.grid.view import ThumbnailGridView
from tdm_desktop.ui.review.advance import next_unreviewed_shown
from tdm_desktop.ui.review.analysis import AnalysisController
from tdm_desktop.ui.review.progress import ReviewTally
from tests.ui.grid.test_big_actor import PREFIX, Built, big_actor

ROWS = 100_000


def test_progress_advance_and_analysis_on_100000_images_build_only_what_they_touch(qtbot):
    built = Built()
    model = ImageGridModel()
    view = ThumbnailGridView()
    qtbot.addWidget(view)
    rows = GridFilter(view, model)
    selection = GridSelection(view, rows)
    tally = ReviewTally(model)
    shown: list[tuple[int, int]] = []
    tally.changed.connect(lambda reviewed, total: shown.append((reviewed, total)))
    analysis = AnalysisController(model)

    images = big_actor(ROWS, bad={4, 99_000}, built=built)
    model.set_images(images)
    assert shown[-1] == (2, ROWS)  # "100000 images in S3 · 2 reviewed", from the records
    assert analysis.wants(PREFIX + "img_050000.jpg")
    assert not analysis.wants("system_actors/training_data/other/img_050000.jpg")
    analysis.prune()
    assert built.count == 0

    # A decision moves to the next unreviewed image (4 was decided bad: skipped).
    selection.make_current_row(3)
    model.set_reviews({"img_000003.jpg": Review("good", "alice", "2026-01-01T00:00:00.000000")})
    assert next_unreviewed_shown(selection, model, 3, ["img_000003.jpg"]) == "img_000005.jpg"
    assert shown[-1] == (3, ROWS)
    assert built.count < 10

    # Every image decided: none left is known from the counts, without a scan.
    model.set_images(big_actor(ROWS, bad=set(range(ROWS)), built=built))
    assert shown[-1] == (ROWS, ROWS)
    before = built.count
    selection.make_current_row(10)
    assert next_unreviewed_shown(selection, model, 10, ["img_000010.jpg"]) is None
    assert built.count - before <= 2  # the decided image (and the current one), not 100,000
