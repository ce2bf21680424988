"""Whether this curator's account may change the open catalog, and saying so once when it may not.

The session asks when an actor opens (``TrainingDataService.check_writable``, off the GUI thread:
S3 answers without anything being written); a write refused with AccessDenied later (a policy
changed meanwhile) says the same. Every part that writes asks ``allows_writes()`` first: while the
account may only read, nothing is shown as changed, nothing is queued, and ``refused`` carries the
one line to show. It is logged once per read-only spell, however often a key is pressed.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

WHAT_IS_OFF = "flags, captions, generation and delete are off"


def read_only_text(reason: str) -> str:
    """``"Read-only: this account can only read s3://b/catalog: AccessDenied: … — flags, …"``."""
    return f"Read-only: {reason} — {WHAT_IS_OFF}"


class CatalogAccess(QObject):
    """Read-only or not, for the catalog the window shows.

    ``read_only_changed(reason)``: the reason line when the account may only read, "" when it may
    write again. ``refused(text)``: a write was asked while read-only (the line to show).
    """

    read_only_changed = Signal(str)
    refused = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._reason = ""
        self._told = False

    @property
    def read_only(self) -> bool:
        return bool(self._reason)

    @property
    def reason(self) -> str:
        """Why the account may only read (``ReadOnlyCatalogError``'s line), or ""."""
        return self._reason

    def set_read_only(self, reason: str | None) -> None:
        """What the last check said: the reason it may only read, or None (it may write)."""
        reason = reason or ""
        if reason == self._reason:
            return
        self._reason = reason
        self._told = False
        if reason:
            log.warning("%s", read_only_text(reason))
            self._told = True
        self.read_only_changed.emit(reason)

    def allows_writes(self) -> bool:
        """True when the account may write; else ``refused`` is emitted and nothing may change."""
        if not self._reason:
            return True
        text = read_only_text(self._reason)
        if not self._told:
            log.warning("%s", text)
            self._told = True
        self.refused.emit(text)
        return False
