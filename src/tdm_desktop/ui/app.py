"""Start the GUI: check that a window can be shown, create the QApplication and the main window.

Qt aborts the whole process when its platform plugin cannot start; ``check_display()`` catches the
usual causes first and raises a ``TdmError`` with one line saying what to do, which the CLI prints.

``run_windows`` opens one window per ``WindowPlan`` (the demo opens one per curator, each with its
own settings file); each opens its data dir through the plan's ``open_catalog``, so a data dir
saved in Settings opens at once, in a new window in the old one's place.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import gc
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tdm_desktop.core.curators import CuratorChoice, os_user_choice
from tdm_desktop.core.data_dirs import FROM_SETTINGS, DataDirChoice, choose_data_dir
from tdm_desktop.core.errors import TdmError

if TYPE_CHECKING:  # Qt is imported only once a display is known to work
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QWidget

    from tdm_desktop.ui.generation.factory import GeneratorFactory
    from tdm_desktop.ui.main_window import MainWindow, TransportFactory
    from tdm_desktop.ui.services import WindowService

OpenCatalog = Callable[[str], "WindowService"]
"""``location -> a service on it``: a data dir (a folder or ``s3://bucket/prefix``) opened with the
app's S3 client and curator."""


@dataclass(frozen=True)
class WindowPlan:
    """One window of ``run_windows``.

    ``data_dir``: given on the command line, by ``TDM_DATA_DIR`` or by the demo (None: the one
    saved in Settings, else ``./data``). ``settings_file``: a settings file of its own (INI), so
    windows side by side do not share geometry or curator (None: the app's settings).
    ``environ``: where ``TDM_CURATOR`` is read (None: the process environment).
    ``curator_fallback``: the curator when neither ``TDM_CURATOR`` nor Settings names one (None:
    the OS user name). ``curator_in_title``: the title names the curator (windows side by side).
    """

    open_catalog: OpenCatalog
    data_dir: DataDirChoice | None = None
    settings_file: Path | None = None
    environ: Mapping[str, str] | None = None
    curator_fallback: CuratorChoice | None = None
    curator_in_title: bool = False


log = logging.getLogger(__name__)

GC_GEN0_THRESHOLD = 10_000  # Python's default 700 runs a young collection every few botocore calls

ORG_NAME = "tdm-desktop"

# library name for ctypes.util.find_library -> the Debian/Ubuntu package that provides it
XCB_LIBRARIES: dict[str, str] = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xcb-image": "libxcb-image0",
    "xcb-render-util": "libxcb-render-util0",
    "xcb-shape": "libxcb-shape0",
    "xkbcommon-x11": "libxkbcommon-x11-0",
}


class DisplayError(TdmError):
    """No window can be shown here (no display, or Qt's platform plugin lacks system libraries)."""


def check_display(
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
    find_library: Callable[[str], str | None] = ctypes.util.find_library,
) -> None:
    """Raise ``DisplayError`` (one clear line) when Qt could not open a window here."""
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return
    qpa = env.get("QT_QPA_PLATFORM", "")
    has_x11, has_wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    if not qpa and not has_x11 and not has_wayland:
        raise DisplayError(
            "no display: set DISPLAY, or run under xvfb-run, e.g. `xvfb-run tdm-desktop demo`"
        )
    uses_xcb = qpa.split(":")[0] == "xcb" or (not qpa and has_x11 and not has_wayland)
    if uses_xcb:
        missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if not find_library(lib)]
        if missing:
            raise DisplayError(
                "Qt's xcb platform plugin cannot load its system libraries: install them with "
                f"`sudo apt-get install {' '.join(missing)}`"
            )


def run_gui(
    service: WindowService,
    *,
    actor_id: str | None = None,
    settings: QSettings | None = None,
    argv: Sequence[str] | None = None,
    generator_factory: GeneratorFactory | None = None,
    transport_factory: TransportFactory | None = None,
) -> int:
    """Show the main window on ``service`` (on ``actor_id`` if given) and run the event loop;
    returns its exit code. A data dir saved in Settings opens at the next start.

    ✨ / 🎨 generate through ``service`` with the generator ``generator_factory(AppSettings)``
    returns (default: the one the Settings choose, ``TDM_GENERATOR`` when nothing is saved).
    Thumbnails come by the transport the configuration chooses, or ``transport_factory``'s.
    """
    app = _application(argv)
    from PySide6.QtCore import QSettings

    from tdm_desktop.ui.main_window import MainWindow

    window = MainWindow(
        service,
        settings=settings if settings is not None else QSettings(),
        generator_factory=generator_factory,
        transport_factory=transport_factory,
    )
    return _run(app, [window], actor_id, lambda: [window])


def run_windows(
    plans: Sequence[WindowPlan],
    *,
    actor_id: str | None = None,
    argv: Sequence[str] | None = None,
    generator_factory: GeneratorFactory | None = None,
    transport_factory: TransportFactory | None = None,
) -> int:
    """Show one window per plan (side by side when there are several and nothing is saved of
    their places), each on its data dir; runs the event loop until the last one closes."""
    app = _application(argv)
    windows = _Windows(generator_factory, transport_factory)
    for index, plan in enumerate(plans):
        windows.open(plan, place=(index, len(plans)) if len(plans) > 1 else None)
    return _run(app, windows.shown, actor_id, lambda: windows.made)


class _Windows:
    """The windows of ``run_windows``; a data dir saved in Settings replaces its window by one
    on the new data dir (same settings, same place)."""

    def __init__(
        self,
        generator_factory: GeneratorFactory | None,
        transport_factory: TransportFactory | None = None,
    ) -> None:
        self._generator_factory = generator_factory
        self._transport_factory = transport_factory
        self.shown: list[MainWindow] = []
        self.made: list[MainWindow] = []  # every window, also those replaced by another

    def open(self, plan: WindowPlan, *, place: tuple[int, int] | None = None) -> MainWindow:
        from PySide6.QtCore import QSettings

        if plan.settings_file is not None:
            settings = QSettings(str(plan.settings_file), QSettings.Format.IniFormat)
        else:
            settings = QSettings()
        saved = str(settings.value("catalog/dataDir", "") or "")
        choice = choose_data_dir(plan.data_dir, saved)
        window = self._window(plan, settings, choice, plan.open_catalog(choice.location))
        if place is not None and not settings.contains("window/geometry"):
            _side_by_side(window, *place)
        return window

    def _window(
        self,
        plan: WindowPlan,
        settings: QSettings,
        choice: DataDirChoice,
        service: WindowService,
    ) -> MainWindow:
        from tdm_desktop.ui.main_window import MainWindow

        holder: list[MainWindow] = []
        window = MainWindow(
            service,
            settings=settings,
            generator_factory=self._generator_factory,
            transport_factory=self._transport_factory,
            data_dir=choice,
            open_data_dir=lambda location: self._reopen(holder[0], plan, settings, location),
            environ=plan.environ,
            curator_fallback=plan.curator_fallback or os_user_choice(),
            curator_in_title=plan.curator_in_title,
        )
        holder.append(window)
        self.shown.append(window)
        self.made.append(window)
        return window

    def _reopen(
        self, old: MainWindow, plan: WindowPlan, settings: QSettings, location: str
    ) -> None:
        try:
            service = plan.open_catalog(location)
        except TdmError as err:
            old.show_error(f"Could not open the data dir {location}: {err}")
            return
        log.info("opening the data dir %s", location)
        old.save_settings()
        new = self._window(plan, settings, DataDirChoice(location, FROM_SETTINGS), service)
        new.setGeometry(old.geometry())
        new.show()
        old.close()
        self.shown.remove(old)


FRAME_ALLOWANCE = 40  # the window manager's title bar and borders, not known before showing


def _side_by_side(window: QWidget, index: int, count: int) -> None:
    """Place ``window`` (frame included) in the ``index``-th of ``count`` columns of the screen."""
    screen = window.screen().availableGeometry()
    width = screen.width() // count
    window.move(screen.x() + index * width, screen.y())  # the frame's corner
    window.resize(width - FRAME_ALLOWANCE // 4, screen.height() - FRAME_ALLOWANCE)


def _application(argv: Sequence[str] | None):
    """The QApplication (made once, after the display check), named as the app."""
    check_display()
    from PySide6.QtWidgets import QApplication

    from tdm_desktop.ui.actions import load_icon
    from tdm_desktop.ui.main_window import APP_ICON, APP_TITLE

    app = QApplication.instance()
    if app is None:
        app = QApplication(
            list(argv) if argv is not None else [sys.argv[0] if sys.argv else APP_TITLE]
        )
    QApplication.setApplicationName(APP_TITLE)
    QApplication.setApplicationDisplayName(APP_TITLE)
    QApplication.setOrganizationName(ORG_NAME)
    QApplication.setOrganizationDomain("tdm-desktop.local")
    app.setWindowIcon(load_icon(APP_ICON))
    return app


def _run(
    app,
    windows: Sequence[MainWindow],
    actor_id: str | None,
    made: Callable[[], Sequence[MainWindow]],
) -> int:
    """Show ``windows`` and run the event loop; 1 when a window closed before our writes
    landed (each window logged which), else the loop's exit code."""
    for window in windows:
        if actor_id is not None:
            window.session.open_actor(actor_id)
        window.show()
    tune_gc()
    tune_switch_interval()
    log.info("%s shown", "window" if len(windows) == 1 else f"{len(windows)} windows")
    with _quit_on_ctrl_c(windows):
        code = int(app.exec())
    if any(window.close_report for window in made()):
        return code or 1
    return code


SWITCH_INTERVAL_S = 0.001
"""The interpreter's switch interval in the window (``tune_switch_interval``)."""


def tune_gc(gen0_threshold: int = GC_GEN0_THRESHOLD) -> None:
    """Once start-up is done: move what exists to the permanent generation, collect less often.

    The objects of start-up (Qt bindings, boto3's service models...) are never garbage; frozen,
    a full collection no longer walks them, which shortens the pauses the GUI thread sees.
    """
    gc.collect()
    gc.freeze()
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0_threshold, gen1, gen2)
    log.debug("gc: froze %d objects; thresholds %s", gc.get_freeze_count(), gc.get_threshold())


def tune_switch_interval(seconds: float = SWITCH_INTERVAL_S) -> None:
    """How long a thread running Python may keep the interpreter lock while another waits for
    it (Python's default: 5 ms).

    Every time the GUI thread enters Python (a key, a paint, a slot) while a worker runs Python
    (a flag write parsing and writing ``prompt_metadata.json``, a reload, analysis), it waits for
    the worker to let go: up to the whole interval, and a key enters Python several times before
    its tile is painted. With 1 ms, a key waits about 1 ms each time instead of 5; the workers
    only hand over more often when the GUI thread asks.
    """
    sys.setswitchinterval(seconds)


@contextlib.contextmanager
def _quit_on_ctrl_c(windows: Sequence[QWidget]) -> Iterator[None]:
    """Ctrl+C in the terminal closes the windows (saving their settings) instead of being
    ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from PySide6.QtCore import QTimer

    ticker = QTimer()
    ticker.timeout.connect(lambda: None)  # lets Python run its signal handlers
    ticker.start(250)
    previous = signal.signal(signal.SIGINT, lambda *_: [w.close() for w in list(windows)])
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        ticker.stop()
