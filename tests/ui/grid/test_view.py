"""ThumbnailGridView (+ delegate): zoom, what it asks the loader for, and what a tile shows."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QEvent,
    QIODevice,
    QObject,
    QPoint,
    QPointF,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from tdm_desktop.core.errors import S3Error
from tdm_desktop.core.training_data import TrainingImage
from tdm_desktop.ui.grid.delegate import ThumbnailDelegate
from tdm_desktop.ui.grid.filter import FlagFilterProxy
from tdm_desktop.ui.grid.model import ImageGridModel
from tdm_desktop.ui.grid.view import ThumbnailGridView
from tdm_desktop.ui.thumbnails.loader import ThumbnailLoader
from tests.factories import training_image

PREFIX = "system_actors/training_data/0042_european_30_male/"


def image(n: int, good: bool = True, foreign: bool = False) -> TrainingImage:
    return training_image(n, good=good, foreign=foreign)


class RecordingLoader(QObject):
    """Records what the view asks for; has nothing cached."""

    thumbnail_ready = Signal(str)
    thumbnail_failed = Signal(str, str)

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[list[str], int, list[str]]] = []
        self.retried: list[list[str]] = []
        self.errors: dict[str, str] = {}

    def request(self, keys, size, prefetch=()):
        self.requests.append((list(keys), size, list(prefetch)))

    def pixmap(self, key, size):
        return None

    def error(self, key):
        return self.errors.get(key)

    def retry(self, keys):
        self.retried.append(list(keys))


def make_view(qtbot, images, loader, *, size: int = 128, width: int = 800, height: int = 600):
    view = ThumbnailGridView(thumbnail_size=size)
    model = ImageGridModel(view)  # owned by the view, as in the window
    model.set_images(images)
    view.setObjectName("thumbnailGrid")
    qtbot.addWidget(view)
    view.setModel(model)
    view.attach_loader(loader)
    view.resize(width, height)
    view.show()
    qtbot.waitExposed(view)
    return view, model


def wheel(view, delta: int, modifiers=Qt.KeyboardModifier.ControlModifier) -> None:
    pos = QPointF(50, 50)
    event = QWheelEvent(
        pos,
        QPointF(view.viewport().mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        modifiers,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), event)


def test_set_thumbnail_size_changes_icon_and_grid_size(qtbot):
    view, _ = make_view(qtbot, [image(n) for n in range(10)], RecordingLoader())
    emitted: list[int] = []
    view.thumbnail_size_changed.connect(emitted.append)
    grid_before = view.gridSize()

    view.set_thumbnail_size(256)

    assert view.iconSize().width() == 256 and view.thumbnail_size() == 256
    assert view.gridSize().width() > grid_before.width() and view.gridSize().width() > 256
    view.set_thumbnail_size(10_000)
    view.set_thumbnail_size(1)
    assert emitted == [256, 512, 64]
    assert view.iconSize().width() == 64


def test_ctrl_wheel_and_ctrl_plus_minus_zoom(qtbot):
    view, _ = make_view(qtbot, [image(n) for n in range(10)], RecordingLoader())
    wheel(view, 120)
    assert view.thumbnail_size() == 160
    wheel(view, -120)
    wheel(view, -120)
    assert view.thumbnail_size() == 96
    wheel(view, 120, Qt.KeyboardModifier.NoModifier)  # a plain wheel scrolls, it does not zoom
    assert view.thumbnail_size() == 96

    qtbot.keyClick(view, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert view.thumbnail_size() == 128
    qtbot.keyClick(view, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert view.thumbnail_size() == 96


def test_loader_is_asked_for_visible_rows_and_a_band_only(qtbot):
    loader = RecordingLoader()
    images = [image(n) for n in range(2000)]
    view, _ = make_view(qtbot, images, loader)
    qtbot.waitUntil(lambda: bool(loader.requests), timeout=10000)

    keys, size, prefetch = loader.requests[-1]
    assert size == 128
    assert 0 < len(keys) < 60
    assert keys == [images[n].location.key for n in range(len(keys))]  # top-left first, in order
    assert 0 < len(prefetch) <= 2 * len(keys) + len(keys) and len(keys) + len(prefetch) < 200
    assert not set(keys) & set(prefetch)

    def at_bottom() -> bool:  # the batched layout grows the scroll range as it goes
        view.scrollToBottom()
        return bool(loader.requests) and images[-1].location.key in loader.requests[-1][0]

    loader.requests.clear()
    qtbot.waitUntil(at_bottom, timeout=10000)
    keys, _, prefetch = loader.requests[-1]
    assert images[0].location.key not in keys + prefetch
    assert len(keys) + len(prefetch) < 200


def test_size_change_keeps_the_current_image_in_view(qtbot):
    loader = RecordingLoader()
    view, model = make_view(qtbot, [image(n) for n in range(500)], loader, size=64)
    view.setCurrentIndex(model.index(300, 0))
    view.scrollTo(model.index(300, 0))

    view.set_thumbnail_size(384)

    key = model.index(300, 0).data(ImageGridModel.KeyRole)
    qtbot.waitUntil(lambda: bool(loader.requests) and key in loader.requests[-1][0], timeout=10000)
    assert view.viewport().rect().intersects(view.visualRect(model.index(300, 0)))
    assert loader.requests[-1][1] == 384


def test_filtering_asks_for_the_rows_now_shown(qtbot):
    loader = RecordingLoader()
    images = [image(n, good=n % 10 != 0) for n in range(300)]
    model = ImageGridModel()
    model.set_images(images)
    proxy = FlagFilterProxy()
    proxy.setSourceModel(model)
    view = ThumbnailGridView(thumbnail_size=128)
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.attach_loader(loader)
    view.resize(800, 600)
    view.show()
    qtbot.waitExposed(view)

    loader.requests.clear()
    proxy.set_flag_filter("bad")
    qtbot.waitUntil(lambda: bool(loader.requests), timeout=10000)
    keys, _, _ = loader.requests[-1]
    assert keys[:3] == [images[n].location.key for n in (0, 10, 20)]


def test_r_retries_failed_selected_thumbnails(qtbot):
    loader = RecordingLoader()
    images = [image(n) for n in range(5)]
    view, model = make_view(qtbot, images, loader)
    loader.errors[images[1].location.key] = "forbidden"
    view.setCurrentIndex(model.index(1, 0))
    view.selectionModel().select(model.index(2, 0), view.selectionModel().SelectionFlag.Select)

    qtbot.keyClick(view, Qt.Key.Key_R)

    assert loader.retried == [[images[1].location.key]]


def jpeg(color: str) -> bytes:
    img = QImage(200, 200, QImage.Format.Format_RGB32)
    img.fill(QColor(color))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buffer, "JPEG", 95)
    return bytes(data.data())


@pytest.fixture
def real_loader(qtbot):
    blue = jpeg("#0000ff")

    def fetch(key: str) -> bytes:
        if key.endswith("_2.jpg"):
            raise S3Error(key, "AccessDenied", "Access Denied")
        return blue

    loader = ThumbnailLoader(fetch, max_workers=2)
    yield loader
    loader.shutdown()


def test_tiles_show_thumbnail_bad_marking_and_error(qtbot, real_loader):
    images = [image(0), image(1, good=False), image(2)]
    view, model = make_view(qtbot, images, real_loader, size=128, width=700, height=400)
    assert isinstance(view.itemDelegate(), ThumbnailDelegate)
    keys = [im.location.key for im in images]
    qtbot.waitUntil(
        lambda: (
            real_loader.is_cached(keys[0], 128)
            and real_loader.is_cached(keys[1], 128)
            and real_loader.error(keys[2]) == "forbidden"
        ),
        timeout=5000,
    )
    view.clearSelection()
    view.setCurrentIndex(model.index(2, 0))  # focus frame away from the tiles we inspect
    shot = view.viewport().grab().toImage()

    def pixel(row: int, dx: float, dy: float) -> QColor:
        rect = view.visualRect(model.index(row, 0))
        x, y = rect.left() + rect.width() * dx, rect.top() + rect.height() * dy
        return shot.pixelColor(int(x), int(y))

    good_centre, bad_centre = pixel(0, 0.5, 0.45), pixel(1, 0.5, 0.45)
    assert good_centre.blue() > 200 and good_centre.red() < 60  # the S3 image, full strength
    assert bad_centre.red() > good_centre.red() + 60  # bad: dimmed (faded into the background)
    rect = view.visualRect(model.index(1, 0))
    border = shot.pixelColor(rect.left() + 3, rect.center().y())
    assert border.red() > 150 and border.blue() < 100  # bad: red border
    error_centre = pixel(2, 0.5, 0.2)
    assert error_centre.blue() < 100  # the error tile, not a thumbnail


def test_loader_on_real_fetch_stays_off_the_gui_thread_while_the_view_paints(qtbot):
    seen: set[int] = set()
    data = jpeg("#00ff00")

    def fetch(key: str) -> bytes:
        seen.add(threading.get_ident())
        return data

    loader = ThumbnailLoader(fetch, max_workers=2)
    try:
        images = [image(n) for n in range(30)]
        view, _ = make_view(qtbot, images, loader)  # qtbot holds widgets only weakly
        qtbot.waitUntil(lambda: loader.is_cached(images[0].location.key, 128), timeout=5000)
        assert seen and threading.get_ident() not in seen
        assert view.model().rowCount() == 30
    finally:
        loader.shutdown()


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, _watched, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def test_visible_arrivals_repaint_at_most_once_a_frame_and_prefetched_ones_never(qtbot):
    loader = RecordingLoader()
    images = [image(n) for n in range(400)]
    view, _ = make_view(qtbot, images, loader)
    qtbot.waitUntil(lambda: bool(loader.requests), timeout=10000)
    visible, _, prefetch = loader.requests[-1]
    counter = PaintCounter()
    view.viewport().installEventFilter(counter)
    qtbot.wait(50)
    counter.paints = 0

    for key in prefetch:  # off screen: nothing to repaint
        loader.thumbnail_ready.emit(key)
        QApplication.processEvents()
    assert counter.paints == 0

    for key in visible * 3:  # a burst of arrivals, each followed by an event-loop turn
        loader.thumbnail_ready.emit(key)
        QApplication.processEvents()
    loader.thumbnail_failed.emit(visible[0], "forbidden")
    QApplication.processEvents()
    qtbot.waitUntil(lambda: counter.paints >= 2, timeout=10000)  # the first now, the rest batched
    qtbot.wait(100)
    assert len(visible) * 3 > 40
    assert 2 <= counter.paints <= 6


def test_size_changes_ask_for_thumbnails_once_the_size_settles(qtbot):
    loader = RecordingLoader()
    view, _ = make_view(qtbot, [image(n) for n in range(300)], loader)
    qtbot.waitUntil(lambda: bool(loader.requests), timeout=10000)
    loader.requests.clear()

    for px in range(136, 257, 8):  # a slider drag: one step per event-loop turn
        view.set_thumbnail_size(px)
        view.verticalScrollBar().setValue(px)  # scrolling meanwhile does not ask either
        QApplication.processEvents()
    assert view.is_settling()
    assert loader.requests == []

    qtbot.waitUntil(lambda: bool(loader.requests), timeout=10000)
    assert not view.is_settling()
    assert {size for _, size, _ in loader.requests} == {256}


def test_a_new_model_is_requested_before_the_first_paint(qtbot):
    loader = RecordingLoader()
    view, model = make_view(qtbot, [], loader)
    qtbot.wait(20)
    loader.requests.clear()
    counter = PaintCounter()
    view.viewport().installEventFilter(counter)
    paints_when_asked: list[int] = []
    loader.request = lambda *args: paints_when_asked.append(counter.paints)
    images = [image(n) for n in range(50)]

    model.set_images(images)
    assert paints_when_asked == []  # not yet: slots still reacting to the reset run first
    qtbot.waitUntil(lambda: counter.paints > 0, timeout=10000)

    assert paints_when_asked[:1] == [0]  # asked before the grid was first painted


class OneSizeLoader(RecordingLoader):
    """Has ``pixmap`` cached at exactly ``size``; any other size gets it as a stand-in."""

    def __init__(self, pixmap, size: int) -> None:
        super().__init__()
        self._pixmap, self._size = pixmap, size

    def pixmap(self, key, size):
        return self._pixmap

    def is_cached(self, key, size):
        return size == self._size


def checkerboard(side: int):
    from PySide6.QtGui import QPixmap

    img = QImage(side, side, QImage.Format.Format_RGB32)
    for y in range(side):
        for x in range(side):
            img.setPixelColor(x, y, QColor("#000000") if (x + y) % 2 else QColor("#ffffff"))
    return QPixmap.fromImage(img)


def test_an_exact_size_thumbnail_is_drawn_pixel_for_pixel_and_a_stand_in_is_scaled(qtbot):
    board = checkerboard(96)
    loader = OneSizeLoader(board, 96)
    view, model = make_view(qtbot, [image(0), image(1)], loader, size=96, width=500, height=300)
    view.setCurrentIndex(model.index(1, 0))
    shot = view.viewport().grab().toImage()
    rect = view.visualRect(model.index(0, 0))
    below_badge = 40  # the good/bad badge covers the top-right corner
    crop = shot.copy(rect.left() + 6, rect.top() + 6 + below_badge, 96, 96 - below_badge)
    expected = board.toImage().copy(0, below_badge, 96, 96 - below_badge)
    assert crop == expected.convertToFormat(crop.format())  # 1:1, on whole pixels

    view.set_thumbnail_size(192)  # the 96 px one stands in, scaled up smoothly
    qtbot.waitUntil(lambda: view.visualRect(model.index(0, 0)).width() > 192, timeout=10000)
    shot = view.viewport().grab().toImage()
    rect = view.visualRect(model.index(0, 0))
    centre = shot.pixelColor(rect.left() + 6 + 96, rect.top() + 6 + 96)
    assert 40 < centre.red() < 215  # blended, not a hard black or white checker pixel


def scrolling_view(qtbot, count: int):
    """A view of ``count`` images, laid out to the end, back at the top, its first request done
    and forgotten."""
    loader = RecordingLoader()
    images = [image(n) for n in range(count)]
    view, _ = make_view(qtbot, images, loader)

    def at_bottom() -> bool:  # the batched layout grows the scroll range as it goes
        view.scrollToBottom()
        return bool(view.visible_rows()) and view.visible_rows()[-1] == len(images) - 1

    qtbot.waitUntil(at_bottom, timeout=5000)
    view.verticalScrollBar().setValue(0)
    qtbot.waitUntil(lambda: bool(loader.requests), timeout=10000)
    qtbot.wait(200)
    loader.requests.clear()
    return view, loader, images


def test_a_scroll_flying_through_the_rows_asks_only_where_it_stops(qtbot):
    view, loader, images = scrolling_view(qtbot, 5000)
    bar = view.verticalScrollBar()
    screen = view.viewport().height()

    for step in range(1, 30):  # a scroll bar dragged fast: 5 screens a frame
        bar.setValue(step * 5 * screen)
        qtbot.wait(16)
    assert loader.requests == []  # nothing for the screens flown past

    qtbot.waitUntil(lambda: bool(loader.requests), timeout=10000)
    assert len(loader.requests) == 1
    keys, _, prefetch = loader.requests[0]
    shown = [images[row].location.key for row in view.visible_rows()]
    assert keys == shown  # the screen where it stopped, and its band
    assert prefetch and not set(keys) & set(prefetch)


def test_a_slow_scroll_is_asked_for_as_it_goes_a_few_times_a_second(qtbot):
    view, loader, images = scrolling_view(qtbot, 5000)
    bar = view.verticalScrollBar()

    for step in range(1, 41):  # a wheel: 30 px a frame for 40 frames
        bar.setValue(step * 30)
        qtbot.wait(16)
    qtbot.wait(100)
    assert 3 <= len(loader.requests) <= 20  # while it moves, not once per frame
    last_keys = loader.requests[-1][0]
    assert last_keys == [images[row].location.key for row in view.visible_rows()]
