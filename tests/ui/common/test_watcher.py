"""The document watcher: a change made elsewhere reloads the actor, our own writes do not; documents
with no local file (a catalog in S3) are polled, their state read off the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Sequence
from pathlib import Path

from tdm_desktop.ui.common.watcher import DocumentWatcher


class RemoteDocuments:
    """Documents that live elsewhere: no local file, a version the test moves on."""

    def __init__(self) -> None:
        self.version = 1
        self.threads: list[int] = []

    @property
    def local_files(self) -> Sequence[Path]:
        return ()

    def state(self) -> Hashable:
        self.threads.append(threading.get_ident())
        return self.version


def test_documents_with_no_local_file_are_polled_off_the_gui_thread(qtbot):
    documents = RemoteDocuments()
    watcher = DocumentWatcher(poll_ms=30)
    watcher.watch(documents, documents.state())
    with qtbot.assertNotEmitted(watcher.documents_changed, wait=200):
        pass  # polled, unchanged: nothing to reload
    assert len(documents.threads) > 2

    documents.version = 2  # another curator saved
    with qtbot.waitSignal(watcher.documents_changed, timeout=10000):
        pass
    assert threading.get_ident() not in documents.threads[1:]
    with qtbot.assertNotEmitted(watcher.documents_changed, wait=200):
        pass  # reported once, not on every poll
    watcher.clear()


def test_our_own_change_taken_as_seen_is_not_reported(qtbot):
    documents = RemoteDocuments()
    watcher = DocumentWatcher(poll_ms=30)
    watcher.watch(documents, documents.state())
    documents.version = 2  # our write
    watcher.remember_current_state()
    with qtbot.assertNotEmitted(watcher.documents_changed, wait=300):
        pass
    watcher.clear()


def test_a_cleared_watcher_reports_nothing(qtbot):
    documents = RemoteDocuments()
    watcher = DocumentWatcher(poll_ms=30)
    watcher.watch(documents, documents.state())
    watcher.clear()
    documents.version = 2
    with qtbot.assertNotEmitted(watcher.documents_changed, wait=200):
        pass
