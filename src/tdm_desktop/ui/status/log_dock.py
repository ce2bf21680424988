"""The Log dock: the app's log records (``tdm_desktop.*``, INFO and up) shown in the window."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDockWidget, QPlainTextEdit, QWidget

MAX_LINES = 5000


class _LogBridge(QObject):
    line_logged = Signal(str)


class QtLogHandler(logging.Handler):
    """Forwards log records to the GUI thread through a queued signal (safe from any thread)."""

    def __init__(self, level: int = logging.INFO) -> None:
        super().__init__(level)
        self.bridge = _LogBridge()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))

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

        self.handler = QtLogHandler()
        self.handler.bridge.line_logged.connect(self.view.appendPlainText)
        self._logger = logging.getLogger(logger_name)
        if self._logger.getEffectiveLevel() > logging.INFO:
            self._logger.setLevel(logging.INFO)
        self._logger.addHandler(self.handler)

    def detach(self) -> None:
        self._logger.removeHandler(self.handler)
