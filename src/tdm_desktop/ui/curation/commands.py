"""The undo commands of curation: one ``QUndoCommand`` per user action, named the way the Edit
menu reads it ("Mark Bad (3 images)"). They only ask the controller to write; the controller
shows the change and runs the write in the background."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtGui import QUndoCommand

from tdm_desktop.core.manifest import ManifestEntry
from tdm_desktop.core.prompt_metadata import FlagChange, Review
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


@dataclass
class FlagRecord:
    """What a flag command's first write changed, per image (its decision before and after, as
    recorded), for the compare-and-set undo and redo. Filled on the write queue by that write;
    None until then, and for good when it failed. Read only by the jobs queued after it."""

    changes: list[FlagChange] | None = None


class CurationWrites(Protocol):
    """What the commands ask of the ``CurationController``."""

    def write_flags(
        self,
        actor_id: str,
        flags: Mapping[str, bool],
        record: FlagRecord,
        *,
        command: QUndoCommand | None = None,
    ) -> None: ...

    def take_back_flags(
        self,
        actor_id: str,
        record: FlagRecord,
        shown: Mapping[str, Review],
        *,
        redo: bool,
    ) -> None: ...

    def run_delete_again(self, actor_id: str, filenames: list[str]) -> None: ...

    def run_restore(
        self, actor_id: str, filenames: list[str], kept: dict[str, DeletedImage]
    ) -> None: ...

    def report_no_copy(self, text: str) -> None: ...


class CaptionWrites(Protocol):
    """What the caption commands ask of the ``CaptionController``."""

    def write_caption(
        self,
        actor_id: str,
        actor_name: str,
        filename: str,
        caption: str | None,
        *,
        command: QUndoCommand | None = None,
    ) -> None: ...

    def write_trigger_word(
        self,
        actor_id: str,
        actor_name: str,
        word: str | None,
        *,
        command: QUndoCommand | None = None,
    ) -> None: ...


class CaptionCommand(QUndoCommand):
    """Edit Caption: store ``new`` (None: back to the generation prompt); undo stores ``old``."""

    def __init__(
        self,
        writes: CaptionWrites,
        actor_id: str,
        actor_name: str,
        filename: str,
        new: str | None,
        old: str | None,
    ) -> None:
        super().__init__(f"Edit Caption ({filename})")
        self._writes = writes
        self._where = (actor_id, actor_name, filename)
        self._new, self._old = new, old

    def redo(self) -> None:
        self._writes.write_caption(*self._where, self._new, command=self)

    def undo(self) -> None:
        self._writes.write_caption(*self._where, self._old)


class TriggerWordCommand(QUndoCommand):
    """Set Trigger Word: store ``new`` (None: the actor name); undo stores ``old``."""

    def __init__(
        self,
        writes: CaptionWrites,
        actor_id: str,
        actor_name: str,
        new: str | None,
        old: str | None,
    ) -> None:
        super().__init__(f"Set Trigger Word ({new or actor_name})")
        self._writes = writes
        self._where = (actor_id, actor_name)
        self._new, self._old = new, old

    def redo(self) -> None:
        self._writes.write_trigger_word(*self._where, self._new, command=self)

    def undo(self) -> None:
        self._writes.write_trigger_word(*self._where, self._old)


class FlagCommand(QUndoCommand):
    """Mark Good / Mark Bad / Toggle Flag on some images.

    The first redo decides them (as this curator, now) and records what each image was before.
    Undo puts exactly that back (an image that was unreviewed is unreviewed again) and a later redo
    makes the same decisions again, each only where the image is still as this curator left it:
    images someone else changed since are left alone and named. All show at once and write in the
    background; a first redo whose write fails is dropped from the stack (nothing changed)."""

    def __init__(
        self,
        writes: CurationWrites,
        actor_id: str,
        new_flags: dict[str, bool],
        shown_before: dict[str, Review],
        shown_after: dict[str, Review],
        text: str,
    ) -> None:
        super().__init__(text)
        self._writes = writes
        self._actor_id = actor_id
        self._new = dict(new_flags)
        self._before = dict(shown_before)
        self._after = dict(shown_after)
        self.record = FlagRecord()
        self._done_once = False

    def redo(self) -> None:
        if not self._done_once:
            self._done_once = True
            self._writes.write_flags(self._actor_id, self._new, self.record, command=self)
        else:
            self._writes.take_back_flags(self._actor_id, self.record, self._after, redo=True)

    def undo(self) -> None:
        self._writes.take_back_flags(self._actor_id, self.record, self._before, redo=False)


NO_COPY = "no copy kept"
"""Said after a delete's name once its copies are gone: "Delete (3 images), no copy kept"."""


class DeleteCommand(QUndoCommand):
    """A finished delete. Its first redo is the delete that already ran; undo re-uploads the bytes.

    ``copies=False``: the delete kept no copy (it was larger than the undo memory). Once its
    copies are gone (``drop_copies``: the undo memory's budget, ``undo_memory.py``) its text says
    so ("Delete (3 images), no copy kept", shown by the Edit menu) and its undo reports that it
    cannot bring the images back, then leaves the stack."""

    def __init__(
        self,
        writes: CurationWrites,
        actor_id: str,
        filenames: list[str],
        kept: dict[str, DeletedImage],
        *,
        copies: bool = True,
    ) -> None:
        self._name = command_text("Delete", len(filenames))
        super().__init__(self._name if copies else f"{self._name}, {NO_COPY}")
        self._writes = writes
        self._actor_id = actor_id
        self._filenames = list(filenames)
        self._kept = dict(kept) if copies else {}
        self._has_copies = copies
        self._already_done = True

    def has_copies(self) -> bool:
        return self._has_copies

    def copies_bytes(self) -> int:
        return sum(len(copy.data) for copy in self._kept.values())

    def drop_copies(self) -> None:
        """Let the copies go (the undo memory needs the room); the text says so from now on."""
        self._kept = {}
        self._has_copies = False
        self.setText(f"{self._name}, {NO_COPY}")

    def redo(self) -> None:
        if self._already_done:
            self._already_done = False
            return
        restorable = [f for f in self._filenames if f in self._kept]
        self._writes.run_delete_again(self._actor_id, restorable)

    def undo(self) -> None:
        if not self._has_copies:
            self.setObsolete(True)  # Qt takes it off the stack: there is nothing to redo either
            self._writes.report_no_copy(self._name)
            return
        self._writes.run_restore(self._actor_id, self._filenames, self._kept)
