"""The bytes kept so that a delete can be undone, within a budget (Settings… › Undo memory).

Undoing a delete uploads the image again, so every delete keeps a copy of each image's bytes in
memory (never on disk) for as long as its command is on an undo stack. ``UndoMemory`` counts
them across every actor's stack and, when a new delete's copies take the total over the budget,
drops the oldest delete's copies first (``DeleteCommand.drop_copies``): that delete then reads
"…, no copy kept" in the Edit menu and its undo says it cannot bring the images back, instead of
failing later. A single delete larger than the whole budget keeps no copy at all (the question
before it says so).
"""

from __future__ import annotations

from typing import Protocol

import shiboken6

from tdm_desktop.ui.settings.model import DEFAULT_UNDO_MEMORY_MIB

MIB = 1024 * 1024


class KeepsCopies(Protocol):
    """A command holding copies for its undo (``DeleteCommand``)."""

    def copies_bytes(self) -> int: ...

    def drop_copies(self) -> None: ...


class UndoMemory:
    """Copies kept for undo, at most ``budget_bytes`` in all; the oldest delete's go first."""

    def __init__(self, budget_bytes: int = DEFAULT_UNDO_MEMORY_MIB * MIB) -> None:
        self._budget = max(0, budget_bytes)
        self._kept: list[KeepsCopies] = []  # oldest first

    def budget_bytes(self) -> int:
        return self._budget

    def set_budget(self, budget_bytes: int) -> None:
        """A new budget; copies beyond it are dropped at once, oldest first."""
        self._budget = max(0, budget_bytes)
        self._fit()

    def fits(self, size_bytes: int) -> bool:
        """Whether a delete of ``size_bytes`` can keep its copies at all (never with a budget
        of 0)."""
        return self._budget > 0 and size_bytes <= self._budget

    def keep(self, command: KeepsCopies) -> None:
        """``command`` holds copies now (the newest); older copies go while over the budget."""
        self._kept.append(command)
        self._fit()

    def total_bytes(self) -> int:
        self._prune()
        return sum(command.copies_bytes() for command in self._kept)

    def _fit(self) -> None:
        self._prune()
        total = sum(command.copies_bytes() for command in self._kept)
        while self._kept and total > self._budget:
            oldest = self._kept.pop(0)
            total -= oldest.copies_bytes()
            oldest.drop_copies()

    def _prune(self) -> None:
        """Forget commands their stack has deleted (a new command replaced them after an undo, or
        the history was cleared): their copies go with them."""
        self._kept = [c for c in self._kept if _alive(c) and c.copies_bytes() > 0]


def _alive(command: KeepsCopies) -> bool:
    return not isinstance(command, shiboken6.Shiboken.Object) or shiboken6.isValid(command)
