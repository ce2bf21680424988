"""What a window follows to notice that another process or curator changed an actor's documents.

The service hands out a ``DocumentWatch`` per open actor; the window never builds paths itself.
``local_files`` are files on this machine a file-system watcher can follow (empty when the
documents live elsewhere, e.g. in S3: the window then polls); ``state()`` is a cheap token of the
documents as they are now, compared with the last one to tell a real change from noise. It may
touch the disk or the network, so the window calls it off the GUI thread.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


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


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)
