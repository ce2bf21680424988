"""The undo commands of curation: one ``QUndoCommand`` per user action, named the way the Edit
menu reads it ("Mark Bad (3 images)"). They only ask the controller to write; the controller
shows the change and runs the write in the background."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtGui import QUndoCommand

from tdm_desktop.core.manifest import ManifestEntry
from tdm_desktop.ui.common.messages import images_phrase


def command_text(action: str, count: int) -> str:
    """``command_text("Mark Bad", 3) == "Mark Bad (3 images)"``."""
    return f"{action} ({images_phrase(count)})"


@dataclass(frozen=True)
class DeletedImage:
    """What undo needs to bring an image back: its manifest row, its bytes, its flag, its record
    in prompt_metadata.json (how it was generated) and its place in the manifest."""

    entry: ManifestEntry
    data: bytes
    good: bool
    generation: dict[str, Any] | None = None
    index: int | None = None


class CurationWrites(Protocol):
    """What the commands ask of the ``CurationController``."""

    def write_flags(
        self,
        actor_id: str,
        flags: Mapping[str, bool],
        before: Mapping[str, bool],
        *,
        command: QUndoCommand | None = None,
    ) -> None: ...

    def run_delete_again(self, actor_id: str, filenames: list[str]) -> None: ...

    def run_restore(
        self, actor_id: str, filenames: list[str], kept: dict[str, DeletedImage]
    ) -> None: ...


class FlagCommand(QUndoCommand):
    """Mark Good / Mark Bad / Toggle Flag on some images; undo writes the previous flags back.

    Both show at once and write in the background. A redo whose write fails is dropped from the
    stack (its images never changed on disk); after a failed undo the command stays redoable, and
    redoing it rewrites the flags that are still on disk."""

    def __init__(
        self,
        writes: CurationWrites,
        actor_id: str,
        new_flags: dict[str, bool],
        old_flags: dict[str, bool],
        text: str,
    ) -> None:
        super().__init__(text)
        self._writes = writes
        self._actor_id = actor_id
        self._new = dict(new_flags)
        self._old = dict(old_flags)

    def redo(self) -> None:
        self._writes.write_flags(self._actor_id, self._new, self._old, command=self)

    def undo(self) -> None:
        self._writes.write_flags(self._actor_id, self._old, self._new)


class DeleteCommand(QUndoCommand):
    """A finished delete. Its first redo is the delete that already ran; undo re-uploads the bytes."""

    def __init__(
        self,
        writes: CurationWrites,
        actor_id: str,
        filenames: list[str],
        kept: dict[str, DeletedImage],
    ) -> None:
        super().__init__(command_text("Delete", len(filenames)))
        self._writes = writes
        self._actor_id = actor_id
        self._filenames = list(filenames)
        self._kept = dict(kept)
        self._already_done = True

    def redo(self) -> None:
        if self._already_done:
            self._already_done = False
            return
        restorable = [f for f in self._filenames if f in self._kept]
        self._writes.run_delete_again(self._actor_id, restorable)

    def undo(self) -> None:
        self._writes.run_restore(self._actor_id, self._filenames, self._kept)
