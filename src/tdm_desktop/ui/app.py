"""Start the GUI: check that a window can be shown, create the QApplication and the main window.

Qt aborts the whole process when its platform plugin cannot start; ``check_display()`` catches the
usual causes first and raises a ``TdmError`` with one line saying what to do, which the CLI prints.
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
from typing import TYPE_CHECKING

from tdm_desktop.core.errors import TdmError

if TYPE_CHECKING:  # Qt is imported only once a display is known to work
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QWidget

    from tdm_desktop.ui.generation.factory import GeneratorFactory
    from tdm_desktop.ui.main_window import TransportFactory
    from tdm_desktop.ui.services import WindowService

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
    """Show the main window (on ``actor_id`` if given) and run the event loop; returns its exit code.

    ✨ / 🎨 generate through ``service`` with the generator ``generator_factory(AppSettings)``
    returns (default: the one the Settings choose, ``TDM_GENERATOR`` when nothing is saved).
    Thumbnails come by the transport the configuration chooses, or ``transport_factory``'s.
    """
    check_display()
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from tdm_desktop.ui.actions import load_icon
    from tdm_desktop.ui.main_window import APP_ICON, APP_TITLE, MainWindow

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
    window = MainWindow(
        service,
        settings=settings if settings is not None else QSettings(),
        generator_factory=generator_factory,
        transport_factory=transport_factory,
    )
    if actor_id is not None:
        window.session.open_actor(actor_id)
    window.show()
    tune_gc()
    log.info("window shown")
    with _quit_on_ctrl_c(window):
        return int(app.exec())


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


@contextlib.contextmanager
def _quit_on_ctrl_c(window: QWidget) -> Iterator[None]:
    """Ctrl+C in the terminal closes the window (saving its settings) instead of being ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    from PySide6.QtCore import QTimer

    ticker = QTimer()
    ticker.timeout.connect(lambda: None)  # lets Python run its signal handlers
    ticker.start(250)
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        ticker.stop()
