"""The Log dock: the app's log records (``tdm_desktop.*``, INFO and up) shown in the window.

Several windows in one process (``demo --curators 2``) each show the app's records, except those
a window logged about itself (``extra=for_window(window)``), which only its own dock shows.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDockWidget, QPlainTextEdit, QWidget

MAX_LINES = 5000
WINDOW_ATTRIBUTE = "tdm_window"


def for_window(window: object) -> dict[str, object]:
    """``log.info(..., extra=for_window(self))``: shown only in ``window``'s own log dock."""
    return {WINDOW_ATTRIBUTE: window}


class _LogBridge(QObject):
    line_logged = Signal(str)


class QtLogHandler(logging.Handler):
    """Forwards log records to the GUI thread through a queued signal (safe from any thread)."""

    def __init__(self, level: int = logging.INFO, window: object = None) -> None:
        super().__init__(level)
        self._window = window
        self.bridge = _LogBridge()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))

    def filter(self, record: logging.LogRecord) -> bool:
        owner = getattr(record, WINDOW_ATTRIBUTE, None)
        return (owner is None or owner is self._window) and bool(super().filter(record))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.bridge.line_logged.emit(self.format(record))
        except RuntimeError:  # the window is gone
            pass
        except Exception:
            self.handleError(record)


class LogDock(QDockWidget):
    """``logDock``: a read-only ``logView`` of the app's log records. ``detach()`` stops the
    forwarding (on close)."""

    def __init__(self, parent: QWidget | None = None, logger_name: str = "tdm_desktop") -> None:
        super().__init__("Log", parent)
        self.setObjectName("logDock")
        self.view = QPlainTextEdit()
        self.view.setObjectName("logView")
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(MAX_LINES)
        self.setWidget(self.view)

        self.handler = QtLogHandler(window=parent)
        self.handler.bridge.line_logged.connect(self.view.appendPlainText)
        self._logger = logging.getLogger(logger_name)
        if self._logger.getEffectiveLevel() > logging.INFO:
            self._logger.setLevel(logging.INFO)
        self._logger.addHandler(self.handler)

    def detach(self) -> None:
        self._logger.removeHandler(self.handler)
