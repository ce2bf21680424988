"""The thumbnail grid: a QListView in icon mode that asks the loader only for what is on screen.

Arrivals repaint the viewport only when the thumbnail is on screen, at most once per frame
(``FRAME_MS``); prefetched ones paint nothing. While the size changes (slider drag, Ctrl+wheel)
the delegate shows the nearest cached size scaled, and the loader is asked for the new size
only once it has settled for ``SETTLE_MS``. While the grid scrolls, the loader is asked at most
once per ``SCROLL_REQUEST_MS``, and while it flies (faster than ``FLYING_SCREENS_PER_S``, or
more than ``JUMP_SCREENS`` screens at once), only once it has stopped for ``SCROLL_SETTLE_MS``: a
scroll
bar dragged through 100,000 images passes a new screen every frame, and asking for each one would
keep the URL signer, the fetches and the decodes busy with screens already gone, competing with
the paint for the CPU and the GIL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Protocol

from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QSize,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QKeyEvent, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from tdm_desktop.ui.grid.delegate import ThumbnailDelegate, request_size, tile_size
from tdm_desktop.ui.grid.model import ImageGridModel

MIN_THUMBNAIL = 64
MAX_THUMBNAIL = 512
DEFAULT_THUMBNAIL = 160
ZOOM_STEPS = (64, 80, 96, 128, 160, 192, 224, 256, 320, 384, 448, 512)
PREFETCH_SCREENS = 2
SPACING = 4
FRAME_MS = 16  # at most one repaint per frame for arriving thumbnails
SETTLE_MS = 120  # a new thumbnail size is decoded once it has not changed for this long
SCROLL_REQUEST_MS = 48  # while scrolling, the loader is asked at most this often
FLYING_SCREENS_PER_S = 30  # a scroll this fast flies past rows nobody waits to see
JUMP_SCREENS = 2  # a scroll this far at once may be the first move of a fast one
SCROLL_SETTLE_MS = 80  # a flying scroll asks once it has not moved for this long
_REQUEST_EVENT = QEvent.Type(QEvent.registerEventType())


class Loader(Protocol):
    """What the view needs from a ThumbnailLoader (a fake with these members works in tests)."""

    thumbnail_ready: Signal
    thumbnail_failed: Signal

    def request(self, keys: list[str], size: int, prefetch: list[str] = ...) -> None: ...

    def retry(self, keys: list[str]) -> None: ...

    def error(self, key: str) -> str | None: ...


def clamp_thumbnail(px: int) -> int:
    return max(MIN_THUMBNAIL, min(MAX_THUMBNAIL, int(px)))


class ThumbnailGridView(QListView):
    """Icon-mode grid of uniform tiles; zooms with Ctrl+wheel and Ctrl+= / Ctrl+-; R retries."""

    thumbnail_size_changed = Signal(int)
    current_image_changed = Signal(QModelIndex)
    """The current index moved, or its row's data changed (whatever model the view shows: it
    outlives a model swap)."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        thumbnail_size: int = DEFAULT_THUMBNAIL,
        settle_ms: int = SETTLE_MS,
        frame_ms: int = FRAME_MS,
    ) -> None:
        super().__init__(parent)
        self._loader: Loader | None = None
        self._thumbnail = clamp_thumbnail(thumbnail_size)
        self._visible_keys: set[str] = set()
        self._repaint_due = False
        self._last_request: tuple[int, int, int, int, int] | None = None  # what was asked last
        self._asked_at = -1.0  # time.monotonic() of the last request sent to the loader
        self._scrolled = (0.0, 0)  # time.monotonic() and position of the last scroll
        self._request_posted = False
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(500)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionRectVisible(True)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSpacing(SPACING)
        self.setMouseTracking(True)
        self._request_timer = QTimer(self)
        self._request_timer.setSingleShot(True)
        self._request_timer.setInterval(0)
        self._request_timer.timeout.connect(self.request_visible)
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(settle_ms)
        self._settle_timer.timeout.connect(self.request_visible)
        self._frame_timer = QTimer(self)  # running = a repaint happened less than a frame ago
        self._frame_timer.setSingleShot(True)
        self._frame_timer.setInterval(frame_ms)
        self._frame_timer.timeout.connect(self._end_frame)
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self._apply_size()

    # -- wiring ---------------------------------------------------------------------------------

    def attach_loader(self, loader: Loader) -> None:
        """Use ``loader`` for thumbnails; installs a ThumbnailDelegate unless one is set already."""
        if self._loader is not None:
            self._loader.thumbnail_ready.disconnect(self._on_thumbnail_ready)
            self._loader.thumbnail_failed.disconnect(self._on_thumbnail_failed)
        self._loader = loader
        self._last_request = None
        loader.thumbnail_ready.connect(self._on_thumbnail_ready)
        loader.thumbnail_failed.connect(self._on_thumbnail_failed)
        if not isinstance(self.itemDelegate(), ThumbnailDelegate):
            self.setItemDelegate(ThumbnailDelegate(loader, self))
        self.schedule_request()

    def loader(self) -> Loader | None:
        return self._loader

    def setModel(self, model: QAbstractItemModel | None) -> None:
        old = self.model()
        if old is not None:
            for signal in self._model_signals(old):
                signal.disconnect(self._model_changed)
        if old is not None:
            old.modelReset.disconnect(self._request_now)
        super().setModel(model)
        if model is not None:
            for signal in self._model_signals(model):
                signal.connect(self._model_changed)
            model.modelReset.connect(self._request_now)  # a new actor: visible rows first, now
        self.schedule_request()

    @staticmethod
    def _model_signals(model: QAbstractItemModel) -> list:
        return [
            model.modelReset,
            model.rowsInserted,
            model.rowsRemoved,
            model.layoutChanged,
            model.rowsMoved,
            model.dataChanged,
        ]

    # -- size -----------------------------------------------------------------------------------

    def thumbnail_size(self) -> int:
        return self._thumbnail

    def set_thumbnail_size(self, px: int) -> None:
        """Resize thumbnails live (clamped to 64..512), keeping the current image in view."""
        px = clamp_thumbnail(px)
        if px == self._thumbnail:
            return
        self._thumbnail = px
        self._apply_size()
        current = self.currentIndex()
        if current.isValid():
            self.scrollTo(current, QAbstractItemView.ScrollHint.EnsureVisible)
        self.thumbnail_size_changed.emit(px)
        self._settle_timer.start()  # stand-ins until the size settles, then one request

    def is_settling(self) -> bool:
        """True while a size change waits to settle before new thumbnails are requested."""
        return self._settle_timer.isActive()

    @Slot()
    def zoom_in(self) -> None:
        self.set_thumbnail_size(next((s for s in ZOOM_STEPS if s > self._thumbnail), MAX_THUMBNAIL))

    @Slot()
    def zoom_out(self) -> None:
        smaller = [s for s in ZOOM_STEPS if s < self._thumbnail]
        self.set_thumbnail_size(smaller[-1] if smaller else MIN_THUMBNAIL)

    def _apply_size(self) -> None:
        self.setIconSize(QSize(self._thumbnail, self._thumbnail))
        tile = tile_size(self._thumbnail, self.fontMetrics().height())
        self.setGridSize(tile + QSize(SPACING, SPACING))

    # -- asking the loader ----------------------------------------------------------------------

    @Slot()
    def schedule_request(self) -> None:
        """Ask the loader for the visible rows soon (many triggers coalesce into one request)."""
        self._request_timer.start(0)

    @Slot()
    def _on_scrolled(self) -> None:
        """Ask for the rows scrolled to, but not more often than every ``SCROLL_REQUEST_MS`` (the
        timer, once due, asks for wherever the grid is then); flying, once it stops."""
        now, value = time.monotonic(), self.verticalScrollBar().value()
        then, before = self._scrolled
        self._scrolled = (now, value)
        screens = abs(value - before) / max(1, self.viewport().height())
        if screens > JUMP_SCREENS or screens / max(0.004, now - then) > FLYING_SCREENS_PER_S:
            self._request_timer.start(SCROLL_SETTLE_MS)  # again at each move: once it stops
            return
        if self._request_timer.isActive():
            return
        wait_ms = (self._asked_at - time.monotonic()) * 1000 + SCROLL_REQUEST_MS
        self._request_timer.start(max(0, round(wait_ms)))

    @Slot()
    def _model_changed(self) -> None:
        self._last_request = None  # rows may hold other images now: ask again
        self.schedule_request()

    @Slot()
    def _request_now(self) -> None:
        """A new model: ask as soon as the code filling it has returned, before timers run.

        Not synchronously: slots still reacting to the same reset (the window telling the fetch
        which keys are listed) must run first. A high-priority posted event is handled ahead of
        the normal ones still queued (paint requests, queued signals) in most cases.
        """
        self._last_request = None
        if not self._request_posted:
            self._request_posted = True
            QCoreApplication.postEvent(
                self, QEvent(_REQUEST_EVENT), Qt.EventPriority.HighEventPriority.value
            )

    def customEvent(self, event: QEvent) -> None:
        if event.type() != _REQUEST_EVENT:
            super().customEvent(event)
            return
        self._request_posted = False
        self._request_timer.stop()
        self.request_visible()

    @Slot()
    def request_visible(self) -> None:
        """Ask the loader for visible rows top-to-bottom, then a prefetch band around them."""
        model = self.model()
        if self._loader is None or model is None or self._settle_timer.isActive():
            return
        visible = self.visible_rows()
        size = request_size(self._thumbnail, self.devicePixelRatioF())
        asked = (
            (visible[0], visible[-1], model.rowCount(), size, PREFETCH_SCREENS) if visible else None
        )
        if asked is not None and asked == self._last_request:
            return  # the same rows of an unchanged model: the loader has this queue already
        self._last_request = asked
        self._asked_at = time.monotonic()
        keys = self._keys(model, visible)
        self._visible_keys = set(keys)
        prefetch = self._keys(model, self._prefetch_rows(visible, model.rowCount()))
        self._loader.request([k for k in keys if k], size, [k for k in prefetch if k])

    def visible_rows(self) -> list[int]:
        """Rows whose tile is at least partly inside the viewport, top-to-bottom, left-to-right."""
        model = self.model()
        if model is None or model.rowCount() == 0:
            return []
        grid = self.gridSize()
        step_x, step_y = max(8, grid.width() // 2), max(8, grid.height() // 2)
        width, height = self.viewport().width(), self.viewport().height()
        xs = [*range(1, width, step_x), width - 2]
        ys = [*range(1, height, step_y), height - 2]
        # tiles are in row order, left to right and down: the first line of probes (half a tile
        # apart) that meets tiles holds the first visible row, the last such line the last one
        first = self._row_on_line(ys, xs, min)
        if first is None:
            return []
        last = self._row_on_line(reversed(ys), xs, max)
        return list(range(first, (first if last is None else last) + 1))

    def _row_on_line(
        self, ys: Iterable[int], xs: list[int], pick: Callable[[list[int]], int]
    ) -> int | None:
        for y in ys:
            rows = [index.row() for x in xs if (index := self.indexAt(QPoint(x, y))).isValid()]
            if rows:
                return pick(rows)
        return None

    @staticmethod
    def _prefetch_rows(visible: list[int], row_count: int) -> list[int]:
        """Rows just outside the screen, nearest first, alternating below and above."""
        if not visible:
            return []
        band = PREFETCH_SCREENS * len(visible)
        below = range(visible[-1] + 1, min(row_count, visible[-1] + 1 + band))
        above = range(visible[0] - 1, max(-1, visible[0] - 1 - band), -1)
        rows: list[int] = []
        for pair in zip(below, above, strict=False):
            rows.extend(pair)
        rows.extend(below[len(above) :] if len(below) > len(above) else above[len(below) :])
        return rows

    @staticmethod
    def _keys(model: QAbstractItemModel, rows: list[int]) -> list[str]:
        if isinstance(model, ImageGridModel):  # no QModelIndex (no calls into Qt) per row
            return model.keys_at(rows)
        return [model.index(row, 0).data(ImageGridModel.KeyRole) or "" for row in rows]

    def currentChanged(
        self,
        current: QModelIndex | QPersistentModelIndex,
        previous: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().currentChanged(current, previous)
        self.current_image_changed.emit(QModelIndex(current))

    def dataChanged(
        self,
        top_left: QModelIndex | QPersistentModelIndex,
        bottom_right: QModelIndex | QPersistentModelIndex,
        roles: list[int] | None = None,
    ) -> None:
        super().dataChanged(top_left, bottom_right, roles or [])
        current = self.currentIndex()
        if current.isValid() and top_left.row() <= current.row() <= bottom_right.row():
            self.current_image_changed.emit(QModelIndex(current))

    # -- events ---------------------------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.schedule_request()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            delta = event.angleDelta().y()
            if delta > 0:
                self.zoom_in()
            elif delta < 0:
                self.zoom_out()
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if ctrl and key in (Qt.Key.Key_Equal, Qt.Key.Key_Plus):
            self.zoom_in()
        elif ctrl and key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_out()
        elif key == Qt.Key.Key_R and not (mods & ~Qt.KeyboardModifier.KeypadModifier):
            self.retry_selected()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    @Slot()
    def retry_selected(self) -> None:
        """Reload the selected (or current) thumbnails that failed."""
        if self._loader is None or self.model() is None:
            return
        indexes = self.selectedIndexes() or [self.currentIndex()]
        keys = [index.data(ImageGridModel.KeyRole) for index in indexes]
        failed = [k for k in keys if k and self._loader.error(k)]
        if failed:
            self._loader.retry(failed)

    @Slot(str)
    def _on_thumbnail_ready(self, key: str) -> None:
        if key in self._visible_keys:
            self._repaint_soon()

    @Slot(str, str)
    def _on_thumbnail_failed(self, key: str, _reason: str) -> None:
        if key in self._visible_keys:
            self._repaint_soon()

    def _repaint_soon(self) -> None:
        """Repaint now if the last arrival repaint was a frame ago, else once at the frame's end."""
        if self._frame_timer.isActive():
            self._repaint_due = True
            return
        self.viewport().update()
        self._frame_timer.start()

    @Slot()
    def _end_frame(self) -> None:
        if self._repaint_due:
            self._repaint_due = False
            self.viewport().update()
            self._frame_timer.start()
