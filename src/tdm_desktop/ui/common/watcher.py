"""Notice when another process changes the current actor's manifest or prompt metadata.

Writers replace files atomically (temp file + ``os.replace``), which makes ``QFileSystemWatcher`` drop the
path; so the parent folders are watched too, paths are re-added after each event, and a change is only
reported when a file's (inode, size, mtime) actually moved. Events are debounced (~200 ms) into one
``files_changed`` signal.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal, Slot

log = logging.getLogger(__name__)

_Signature = tuple[int, int, int] | None


def _signature(path: Path) -> _Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class ActorFileWatcher(QObject):
    """Watches a few files; emits ``files_changed`` once per burst of real changes."""

    files_changed = Signal()

    def __init__(self, debounce_ms: int = 200, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._on_event)
        self._watcher.directoryChanged.connect(self._on_event)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._check)
        self._files: list[Path] = []
        self._signatures: dict[Path, _Signature] = {}

    def watch(self, paths: Sequence[Path]) -> None:
        """Watch exactly ``paths`` (files that may not exist yet), forgetting previous ones."""
        self.clear()
        self._files = [Path(p) for p in paths]
        self._signatures = {p: _signature(p) for p in self._files}
        self._rearm()

    def clear(self) -> None:
        self._timer.stop()
        for group in (self._watcher.files(), self._watcher.directories()):
            if group:
                self._watcher.removePaths(group)
        self._files = []
        self._signatures = {}

    def watched_files(self) -> list[Path]:
        return list(self._files)

    def remember_current_state(self) -> None:
        """Take the files as they are now as seen (after our own writes, if the caller wants)."""
        self._signatures = {p: _signature(p) for p in self._files}

    def _rearm(self) -> None:
        wanted = {str(p) for p in self._files if p.exists()}
        wanted |= {str(p.parent) for p in self._files if p.parent.is_dir()}
        present = set(self._watcher.files()) | set(self._watcher.directories())
        missing = sorted(wanted - present)
        if missing:
            self._watcher.addPaths(missing)

    @Slot(str)
    def _on_event(self, _path: str) -> None:
        self._timer.start()

    @Slot()
    def _check(self) -> None:
        self._rearm()
        current = {p: _signature(p) for p in self._files}
        changed = [p for p in self._files if current[p] != self._signatures.get(p)]
        self._signatures = current
        if changed:
            log.info("changed on disk: %s", ", ".join(str(p) for p in changed))
            self.files_changed.emit()
