"""Background threads of the thumbnails (decode, GET, signing) yield the CPU to the GUI thread."""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

WORKER_NICENESS = 10
_state = threading.local()


def lower_thread_priority(niceness: int = WORKER_NICENESS) -> None:
    """Make this thread yield the CPU to the GUI thread (Linux: per-thread nice).

    On 2 cores, decodes, the S3 server and the GUI thread all want the CPU while a grid fills; at
    equal priority the GUI thread waits its turn and the event loop stalls. Qt's own
    ``QThread.setPriority`` does nothing for normal threads on Linux, so this uses setpriority on
    the thread id. Once per thread; silently skipped where unsupported.
    """
    if getattr(_state, "niced", False):
        return
    _state.niced = True
    if not hasattr(os, "setpriority") or not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, max(current, niceness))
    except OSError as err:
        log.debug("could not lower a thumbnail thread's priority: %s", err)
