"""What a window follows to notice that another process or curator changed an actor's documents.

The service hands out a ``DocumentWatch`` per open actor; the window never builds paths itself.
``local_files`` are files on this machine a file-system watcher can follow (empty when the
documents live elsewhere, e.g. in S3: the window then polls); ``state()`` is a cheap token of the
documents as they are now, compared with the last one to tell a real change from noise. It may
touch the disk or the network, so the window calls it off the GUI thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tdm_desktop.core.documents import DocumentStore


class DocumentWatch(Protocol):
    """An actor's documents, as a window follows them for changes made elsewhere."""

    @property
    def local_files(self) -> Sequence[Path]: ...

    def state(self) -> Hashable: ...


@dataclass(frozen=True)
class LocalFileWatch:
    """Documents that are files in a local data dir: their state is (inode, size, mtime) each,
    so an atomic replace (a new inode) counts as a change even at the same size and mtime."""

    files: tuple[Path, ...]

    @property
    def local_files(self) -> Sequence[Path]:
        return self.files

    def state(self) -> Hashable:
        return tuple(_signature(path) for path in self.files)


class PolledDocuments:
    """Documents with no local file (an S3 data dir): their state is the version of each, asked
    with a conditional read (``DocumentStore.poll``: a GET with If-None-Match, answered 304 while
    unchanged, so an unchanged document costs no download)."""

    def __init__(
        self,
        store: DocumentStore,
        names: Sequence[str],
        versions: Mapping[str, str | None] | None = None,
    ) -> None:
        """``versions``: the documents' versions as the caller last read them (each poll then
        asks "changed since?"); a document without one is read in full the first time."""
        self._store = store
        self.names = tuple(names)
        self._versions: dict[str, str | None] = dict(versions or {})
        self._lock = threading.Lock()

    @property
    def local_files(self) -> Sequence[Path]:
        return ()

    def state(self) -> Hashable:
        with self._lock:
            for name in self.names:
                if name not in self._versions:
                    self._versions[name] = self._store.read(name).version
                    continue
                changed = self._store.poll(name, self._versions[name])
                if changed is not None:
                    self._versions[name] = changed.version
            return tuple(self._versions[name] for name in self.names)


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
