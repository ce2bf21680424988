"""Near-duplicates and quality problems in the window, found from the thumbnails' bytes (each image
fetched once): the "≈ 2" and "!" marks and what they say, the Problems and Near-duplicates filters
(group by group), the sorts, C on a grouped image, and the training resolution setting."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QStyleOptionViewItem

from tdm_desktop.core.training_data import TrainingDataService
from tdm_desktop.ui.grid.delegate import duplicate_rect, problem_rect
from tdm_desktop.ui.review.advance import NONE_LEFT
from tdm_desktop.ui.settings.model import KEY_RESOLUTION, load_settings
from tests.images import blurred, jpeg, picture, upload_actor
from tests.ui.conftest import grid_focus, wait_idle

ACTOR_ID, NAME = "0061", "0061_greek_33_male"


def n(index: int) -> str:
    return f"{NAME}_{index}.jpg"


class CountingService(TrainingDataService):
    """Counts every image fetch (the thumbnails' GETs)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fetches: Counter[str] = Counter()
        self._lock = threading.Lock()

    def fetch_image_bytes(self, image):
        with self._lock:
            self.fetches[image.filename] += 1
        return super().fetch_image_bytes(image)


@pytest.fixture
def review_actor(data_dir, store):
    """0–3 distinct pictures, 4 blurred, 5 too small (200 px), 6 a re-encode of 3, 7 of 1."""
    images = {n(i): jpeg(picture(100 + i)) for i in range(4)}
    images[n(4)] = jpeg(blurred(picture(104), 6))
    images[n(5)] = jpeg(picture(105, (200, 200)))
    images[n(6)] = jpeg(picture(103), quality=55)
    images[n(7)] = jpeg(picture(101), quality=55)
    return upload_actor(data_dir, store, images, ACTOR_ID, NAME)


@pytest.fixture
def review_window(qtbot, data_dir, store, review_actor, settings, make_window):
    settings.setValue(KEY_RESOLUTION, 256)  # the 512 px pictures are big enough
    service = CountingService(data_dir, store)
    window = make_window(service_=service)
    window.resize(1200, 900)
    with qtbot.waitSignal(window.actor_opened, timeout=10000):
        window.session.open_actor(ACTOR_ID)
    analysis = window.review.analysis
    qtbot.waitUntil(lambda: analysis.analysed_count() == 8 and analysis.is_settled(), timeout=20000)
    return window, service


def choose(combo, text: str) -> None:
    combo.setCurrentIndex(combo.findText(text))
    assert combo.currentText() == text


def test_marks_say_which_check_and_which_group_and_each_image_is_fetched_once(qtbot, review_window):
    window, service = review_window
    analysis = window.review.analysis
    assert analysis.duplicate_groups() == [(n(1), n(7)), (n(3), n(6))]
    assert analysis.problems(n(4))[0].startswith("blurry: sharpness ")
    assert analysis.problems(n(5)) == ["too small: short side 200 px < 256"]
    assert [name for name in map(n, range(8)) if analysis.problems(name)] == [n(4), n(5)]
    ours = {name: count for name, count in service.fetches.items() if name.startswith(NAME)}
    assert ours == {n(i): 1 for i in range(8)}  # one GET each: the thumbnail's, no extra one

    def tooltip_at(name: str, corner) -> str | None:
        index = window.rows.view_index(window.model.row_of(name))
        option = QStyleOptionViewItem()
        window.grid.initViewItemOption(option)
        option.rect = window.grid.visualRect(index)
        px = option.decorationSize.width()
        thumb = QRect(option.rect.left() + 6, option.rect.top() + 6, px, px)
        return window.delegate.mark_tooltip(option, index, corner(thumb, option).center())

    def problem(thumb, _option) -> QRect:
        return problem_rect(thumb)

    def group(thumb, option) -> QRect:
        return duplicate_rect(thumb, option.fontMetrics, 2)

    assert tooltip_at(n(5), problem) == "too small: short side 200 px < 256"
    assert tooltip_at(n(7), group) == "Near-duplicates: group 1, 2 images alike"
    assert tooltip_at(n(0), problem) is None and tooltip_at(n(0), group) is None

    # The keyboard's way: the current image's marks in the status bar.
    window.selection.select_filename(n(5))
    assert window.statusBar().currentMessage() == f"{n(5)}: too small: short side 200 px < 256"
    window.selection.select_filename(n(6))
    assert window.statusBar().currentMessage() == (
        f"{n(6)}: near-duplicates: group 2, 2 images alike (C compares)"
    )

    # An image without marks: the status bar no longer says the one before's.
    window.selection.select_filename(n(0))
    assert window.statusBar().currentMessage() == ""
    window.selection.select_filename(n(6))

    # Its flag landing changes its row: the marks are not said again over another message.
    window.statusBar().showMessage(NONE_LEFT, 5000)
    assert window.controller.mark([n(6)], True)
    wait_idle(qtbot, window)
    assert window.model.image_at(window.model.row_of(n(6))).good is True
    assert window.statusBar().currentMessage() == NONE_LEFT

    # A lower training resolution: the 200 px image is no longer too small.
    values = load_settings(window._settings)
    window.settings_presenter.apply(type(values)(**{**values.__dict__, "training_resolution": 128}))
    assert analysis.problems(n(5)) == []


def test_problems_and_near_duplicate_filters_and_the_sorts(qtbot, review_window):
    window, _service = review_window
    shown = window.selection.visible_filenames
    window.findChild(QAction, "actionShowProblems").trigger()  # View → Show → Problems
    assert window.flag_filter.currentText() == "Problems"
    assert shown() == [n(4), n(5)]
    assert window.statusBar().currentMessage() == (
        "Problems: 2 images flagged by the quality checks, among the 8 of 8 images checked so far"
    )
    choose(window.flag_filter, "Near-duplicates")
    assert shown() == [n(1), n(7), n(3), n(6)]  # group by group
    assert window.statusBar().currentMessage().startswith("Near-duplicates: 2 groups, 4 images")
    choose(window.flag_filter, "All")
    assert shown() == [n(i) for i in range(8)]

    assert window.findChild(QAction, "actionShowAll").isChecked()
    choose(window.sort_order, "Problems first")
    assert shown()[:2] == [n(4), n(5)]
    choose(window.sort_order, "Blurriest first")
    assert shown()[0] == n(4)
    choose(window.sort_order, "Near-duplicates together")
    assert shown()[:4] == [n(1), n(7), n(3), n(6)]
    choose(window.sort_order, "Manifest order")
    assert shown() == [n(i) for i in range(8)]


def test_c_on_an_image_of_a_group_compares_the_group(qtbot, review_window):
    window, _service = review_window
    choose(window.flag_filter, "Near-duplicates")
    grid_focus(qtbot, window)
    window.selection.select_filename(n(6))
    qtbot.keyClick(window.grid, Qt.Key.Key_C)
    presenter = window.compare_presenter
    assert presenter.is_open()
    assert presenter.controller.filenames == [n(3), n(6)]
    assert presenter.controller.focused_filename() == n(6)


def test_an_image_that_does_not_decode_is_a_problem_not_a_crash(
    qtbot, data_dir, store, settings, make_window
):
    other_id, other = "0062", "0062_greek_40_female"
    good, broken = f"{other}_0.jpg", f"{other}_1.jpg"
    upload_actor(
        data_dir, store, {good: jpeg(picture(120)), broken: b"not an image"}, other_id, other
    )
    settings.setValue(KEY_RESOLUTION, 256)
    window = make_window()
    with qtbot.waitSignal(window.actor_opened, timeout=10000):
        window.session.open_actor(other_id)
    analysis = window.review.analysis
    qtbot.waitUntil(lambda: analysis.analysed_count() == 2 and analysis.is_settled(), timeout=20000)

    assert analysis.problems(broken) == ["not an image: its bytes do not decode as an image"]
    assert analysis.problems(good) == []
    choose(window.flag_filter, "Problems")
    assert window.selection.visible_filenames() == [broken]
    assert window.statusBar().currentMessage() == (
        "Problems: 1 image flagged by the quality checks, among the 2 of 2 images checked so far"
    )
