"""The curator's decisions (flag, delete, delete all), as undoable commands, without any window.

``CurationController`` writes through the ``TrainingDataService`` and keeps the ``ImageGridModel`` (the
source model, never a filter proxy) in step. Each user action is one ``QUndoCommand`` on the current
actor's ``QUndoStack`` (one stack per actor in a ``QUndoGroup``), named the way the Edit menu reads it:
"Mark Bad (3 images)". The model shows a flag at once; every write (flags, delete, undo of a delete,
delete all) runs on one one-thread ``JobRunner``, so the GUI thread never waits on the files and
writes land in the order they were asked (an undo never overtakes the write it undoes).

Flag keys pressed while their writes wait become one write: each write re-reads and re-renders
the whole prompt_metadata.json (and checks the entries that changed), a few hundred ms on a
100,000-entry actor, so one per key would queue up on a big actor. A flag write that has not started yet, and is the last write asked,
takes in the flag writes of its actor asked after it (``_FlagBatch``): the keys of the start
delay and every key pressed while the write before it runs. They are applied in the order asked,
each as its own write would have (``TrainingDataService.flag_each``); each still has its own
undo command and its own record of what it changed. A write of another kind (delete, caption,
undo or redo of flags, which are compare-and-set on the record of an earlier write) is never
merged and closes the batch before it, so nothing overtakes anything. A merged write that fails
fails each of its parts (their rows go back, their commands are dropped) and is reported once.

In a team, undo and redo of a flag are compare-and-set (``TrainingDataService.undo_flags`` /
``redo_flags``): they touch only images still as this curator left them; the others keep what
someone else decided since, and ``left_alone_reported`` names who ("2 images were changed by
alice since; not undone"). While the account may only read (``CatalogAccess``), nothing is shown
as changed and nothing is queued.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance
from PySide6.QtGui import QUndoCommand, QUndoGroup, QUndoStack

from tdm_desktop.core.errors import ReadOnlyCatalogError, S3Error, TdmError
from tdm_desktop.core.manifest import ManifestEntry
from tdm_desktop.core.prompt_metadata import FlagChange, FlagUndo, PromptMetadata, Review
from tdm_desktop.core.team_changes import left_alone_text
from tdm_desktop.core.threads import map_unordered
from tdm_desktop.core.timestamps import Clock, manifest_now
from tdm_desktop.core.training_data import ActorTrainingData, DeleteOutcome, TrainingImage
from tdm_desktop.ui.common.access import CatalogAccess
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.messages import failure_text, images_phrase
from tdm_desktop.ui.curation.commands import (
    DeleteCommand,
    DeletedImage,
    FlagCommand,
    FlagRecord,
    command_text,
)
from tdm_desktop.ui.curation.undo_memory import MIB, UndoMemory
from tdm_desktop.ui.grid.model import ImageGridModel

log = logging.getLogger(__name__)

ConfirmDelete = Callable[[Sequence[str], str, bool], bool]
"""``(filenames, actor_name, undoable) -> go ahead?``; ``undoable`` is False when the images are
more than the undo memory holds (no copy is kept: the delete cannot be undone)."""
ConfirmDeleteAll = Callable[[str, int], bool]
"""``(actor_name, image_count) -> go ahead?``"""

_R = TypeVar("_R")
NAMED_IMAGES = 5  # images named in the report of a write that did not land
COPY_FETCHES = 8  # GETs at once for the copies a delete keeps for undo
_DECISION = {True: "good", False: "bad", None: "unreviewed"}
WRITE_START_MS = 40
"""A write starts on the write queue this long after it was asked (writes asked meanwhile start
with it, in order). The key that asked has its tile repainted by then: a write parses and
renders ``prompt_metadata.json`` in Python, and while it runs, the GUI thread waits for the
interpreter lock each time it enters Python."""


class CurationService(Protocol):
    """What curation asks of the service layer (``TrainingDataService``)."""

    curator: str | None
    """Whose decisions the flags record (shown at once, before the write records it)."""

    def load_actor(self, actor_id: str) -> ActorTrainingData: ...

    def flag_each(
        self,
        actor_id: str,
        flag_sets: Sequence[Mapping[str, bool]],
        known_filenames: Collection[str] | None = None,
    ) -> list[list[FlagChange]]: ...

    def undo_flags(self, actor_id: str, changes: Iterable[FlagChange]) -> FlagUndo: ...

    def redo_flags(self, actor_id: str, changes: Iterable[FlagChange]) -> FlagUndo: ...

    def fetch_image_bytes(self, image: TrainingImage) -> bytes: ...

    def prompt_metadata(self, actor_name: str) -> PromptMetadata: ...

    def delete_images(self, actor_id: str, filenames: Iterable[str]) -> DeleteOutcome: ...

    def delete_all(self, actor_id: str) -> DeleteOutcome: ...

    def restore_image(
        self,
        actor_id: str,
        entry: ManifestEntry,
        data: bytes,
        good: bool,
        index: int | None = None,
        generation: Mapping[str, Any] | None = None,
    ) -> None: ...


def delete_problems(outcome: DeleteOutcome) -> dict[str, str]:
    """The images a delete left listed, each with why: failed in S3, refused (foreign), or gone
    from S3 while the manifest could not drop them."""
    return {**outcome.failed, **outcome.refused, **outcome.unlisted_failed}


@dataclass
class _PendingFlag:
    """One image's decision while writes of it are queued: how many, and the one last known to be
    stored."""

    writes: int
    saved: Review


@dataclass(frozen=True)
class _FlagPart:
    """One flag write asked (a flag command's first redo): its flags, the flagged names the model
    lists, the record its changes go to, and what runs on the GUI thread once it is stored (with
    its changes) or failed, and to drop its command after a failure."""

    flags: dict[str, bool]
    known: frozenset[str] | None
    record: FlagRecord
    stored: Callable[[list[FlagChange]], None]
    failed: Callable[[], None]
    drop: Callable[[], None]


class _FlagBatch:
    """Flag writes of one actor that become one write of prompt_metadata.json.

    A batch is one job on the write queue. Until that job starts it takes more flag writes of its
    actor (``add``), as long as it is the last write asked: the keys pressed during the start
    delay, and those pressed while the write before it runs, however long that takes. The job's
    first step (``take``, on the queue's thread) closes it; flags asked from then on go to a new
    batch, after it. A write of another kind asked after a batch closes it too, so no flag
    overtakes a delete, a caption or an undo. The parts are applied in the order asked, each as
    its own write would have (``TrainingDataService.flag_each``)."""

    def __init__(self, actor_id: str) -> None:
        self.actor_id = actor_id
        self.job_id: int | None = None
        self._parts: list[_FlagPart] = []
        self._taken = False
        self._lock = threading.Lock()

    def add(self, part: _FlagPart) -> bool:
        """Take ``part`` in; False once the write has started (it cannot take more)."""
        with self._lock:
            if self._taken:
                return False
            self._parts.append(part)
            return True

    def take(self) -> list[_FlagPart]:
        """The parts to write now; none is added afterwards."""
        with self._lock:
            self._taken = True
            return list(self._parts)

    def parts(self) -> list[_FlagPart]:
        with self._lock:
            return list(self._parts)

    def finish(self) -> list[_FlagPart]:
        """The parts, for their callbacks; the batch lets go of them (and of their commands)."""
        with self._lock:
            self._taken = True
            parts, self._parts = self._parts, []
            return parts

    def flags(self) -> dict[str, bool]:
        """Every image's decision, the last asked winning."""
        merged: dict[str, bool] = {}
        for part in self.parts():
            merged.update(part.flags)
        return merged

    def started(self, job_id: int) -> None:
        self.job_id = job_id


@dataclass(frozen=True)
class _FlagsStored:
    """What a flag write found stored afterwards: the decisions it knows of now, and the images it
    left alone because someone else changed them since (undo / redo)."""

    saved: dict[str, Review]
    left_alone: dict[str, Review]


class CurationController(QObject):
    """Flag, delete and delete-all for the actor shown in ``model``; one undo stack per actor."""

    error_reported = Signal(str)
    """One clear line for the banner and the log: every failed job of ours is reported here."""
    delete_started = Signal(int)
    delete_finished = Signal(object)
    """The ``DeleteOutcome`` of a delete (or of its redo)."""
    delete_failed = Signal()
    """A delete job failed as a whole (reported through ``error_reported``)."""
    delete_all_started = Signal(str, int)
    delete_all_finished = Signal(object)
    """The ``DeleteOutcome`` of Delete All."""
    delete_all_failed = Signal()
    restore_finished = Signal(list)
    """The filenames an undo of a delete brought back (a failure is reported per image)."""
    busy_changed = Signal(bool)
    files_written = Signal()
    """Our own write reached the files (a file watcher may take their state as seen)."""
    left_alone_reported = Signal(str)
    """An undo / redo left images alone that others changed since: "2 images were changed by
    alice since; not undone" (for the status bar and the log)."""

    def __init__(
        self,
        service: CurationService,
        model: ImageGridModel,
        *,
        jobs: JobRunner | None = None,
        confirm_delete: ConfirmDelete | None = None,
        confirm_delete_all: ConfirmDeleteAll | None = None,
        undo_group: QUndoGroup | None = None,
        access: CatalogAccess | None = None,
        clock: Clock | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._model = model
        self.access = access if access is not None else CatalogAccess(self)
        self.access.read_only_changed.connect(self._on_read_only_changed)
        self._clock = clock
        self._jobs = jobs if jobs is not None else JobRunner(max_threads=1, parent=self)
        self._confirm_delete = confirm_delete or (lambda _names, _actor, _undoable: True)
        self._confirm_delete_all = confirm_delete_all or (lambda _actor, _count: True)
        self.undo_group = undo_group if undo_group is not None else QUndoGroup(self)
        self._stacks: dict[str, QUndoStack] = {}
        self._actor_id: str | None = None
        self._actor_name = ""
        self._busy = 0
        self._pending_flags: dict[tuple[str, str], _PendingFlag] = {}
        self._closed = False
        self._unstarted: list[Callable[[], None]] = []  # asked, not on the write queue yet
        self._open_flags: _FlagBatch | None = None  # the last write asked, while it takes more
        self._start_timer = QTimer(self)
        self._start_timer.setSingleShot(True)
        self._start_timer.setInterval(WRITE_START_MS)
        self._start_timer.timeout.connect(self._start_asked)
        self.undo_memory = UndoMemory()
        """The copies kept for undoing deletes, within a budget (``set_undo_memory``)."""
        self.write_serial = 0
        """Bumped on every write of ours, so a reload started before it can be told stale."""

    # -- the current actor ---------------------------------------------------------------------

    @property
    def actor_id(self) -> str | None:
        return self._actor_id

    @property
    def actor_name(self) -> str:
        return self._actor_name

    def set_actor(self, actor_id: str | None, actor_name: str = "") -> None:
        """The model now shows this actor; its undo stack becomes the active one."""
        self._actor_id = actor_id
        self._actor_name = actor_name
        if actor_id is None:
            self.undo_group.setActiveStack(None)
            return
        stack = self._stacks.get(actor_id)
        if stack is None:
            stack = QUndoStack(self.undo_group)
            self._stacks[actor_id] = stack
        self.undo_group.setActiveStack(stack)

    def set_undo_memory(self, budget_bytes: int) -> None:
        """At most ``budget_bytes`` of copies kept for undoing deletes (Settings…); older
        deletes' copies go at once when over it (their undo then says so)."""
        self.undo_memory.set_budget(budget_bytes)
        self._refresh_undo_text()

    def _refresh_undo_text(self) -> None:
        """The Edit menu reads a command's text when the stack moves; a text changed in place
        (a delete's copies let go) is announced here."""
        stack = self.undo_stack
        if stack is not None:
            stack.undoTextChanged.emit(stack.undoText())
            stack.redoTextChanged.emit(stack.redoText())

    def report_no_copy(self, text: str) -> None:
        """Undo reached a delete that kept no copy of its images."""
        mib = self.undo_memory.budget_bytes() // MIB
        self._report(
            f"Cannot undo {text}: no copy of its images was kept (the undo memory holds "
            f"{mib} MiB; Settings… can raise it)"
        )

    def _on_read_only_changed(self, reason: str) -> None:
        """An account that may only read can undo nothing it did before: the history goes, so
        Undo never offers what cannot be written."""
        if reason:
            for stack in self._stacks.values():
                stack.clear()

    @property
    def undo_stack(self) -> QUndoStack | None:
        return self.undo_group.activeStack()

    def is_busy(self) -> bool:
        """Whether a write of ours (flags, delete, restore) is queued or running: when not,
        everything asked is on disk (or was reported as failed)."""
        return self._busy > 0

    def wait_for_jobs(self, msecs: int = -1) -> bool:
        self._start_asked()
        return self._jobs.wait_for_done(msecs)

    # -- flags ---------------------------------------------------------------------------------

    def mark(self, filenames: Sequence[str], good: bool) -> bool:
        """Mark Good / Mark Bad; returns whether it was done: shown in the model, on the undo
        stack and queued for writing (a failed write is reported and undone later)."""
        images = self._images(filenames)
        new = {img.filename: good for img in images}
        return self._push_flags(new, images, "Mark Good" if good else "Mark Bad")

    def toggle(self, filenames: Sequence[str]) -> bool:
        images = self._images(filenames)
        new = {img.filename: not img.good for img in images}
        return self._push_flags(new, images, "Toggle Flag")

    def _push_flags(self, new: dict[str, bool], images: list[TrainingImage], action: str) -> bool:
        stack = self.undo_stack
        if not new or stack is None or self._actor_id is None:
            return False
        if not self.access.allows_writes():
            return False
        before = {img.filename: img.review for img in images}
        after = {img.filename: self._decided(img, new[img.filename]) for img in images}
        text = command_text(action, len(new))
        command = FlagCommand(self, self._actor_id, new, before, after, text)
        stack.push(command)  # runs redo(), which shows the flags and queues their write
        return True

    def _decided(self, image: TrainingImage, good: bool) -> Review:
        """How ``image`` will read once decided ``good``: as it is when already decided so (the
        record is kept), else decided by this curator now."""
        review = image.review
        if review.decided and review.good == good:
            return review
        curator = self._service.curator
        return Review("good" if good else "bad", curator, manifest_now(self._clock))

    def write_flags(
        self,
        actor_id: str,
        flags: Mapping[str, bool],
        record: FlagRecord,
        *,
        command: QUndoCommand | None = None,
    ) -> None:
        """Decide ``flags``: shown in the model at once (if it shows ``actor_id``), written through
        the service in the background after every write asked before (in one write with the
        flags asked just before and after it, see the module); ``record`` gets what each image
        was before. If the write fails, the error is reported once, the rows go back to what is
        stored and ``command`` (the redo that asked for it) is dropped from its undo stack."""
        flags = dict(flags)
        shown = actor_id == self._actor_id
        # The flagged names the model lists, taken here (the job reads them on another thread):
        # the service then checks the flags against them instead of re-reading the manifest.
        # O(flags), not O(rows): a key on a 100,000-image actor copies no list of names.
        known = frozenset(n for n in flags if self._model.row_of(n) >= 0) if shown else None
        display = {}
        for name, good in flags.items():
            image = self._model.image_at(self._model.row_of(name)) if shown else None
            if image is not None:
                display[name] = self._decided(image, good)
        names = list(flags)
        self._note_pending(actor_id, names, display)

        def stored(changes: list[FlagChange]) -> None:
            self._flags_settled(actor_id, names, {c.filename: c.after_review for c in changes})

        def failed() -> None:
            self._flags_settled(actor_id, names, {})

        def drop() -> None:
            if command is not None:
                self.drop_command(actor_id, command)

        self.write_serial += 1
        self._ask_flags(actor_id, _FlagPart(flags, known, record, stored, failed, drop))

    def _ask_flags(self, actor_id: str, part: _FlagPart) -> None:
        """Queue ``part``: merged into the last write asked when that is a flag write of the
        same actor that has not started yet, else a new write (see ``_FlagBatch``)."""
        batch = self._open_flags
        joins = batch is not None and batch.actor_id == actor_id and not self._closed
        if batch is not None and joins and batch.add(part):
            if batch.job_id is not None:  # on the write queue already: named anew
                self._jobs.rename(batch.job_id, self._flags_what(batch))
            return
        batch = _FlagBatch(actor_id)
        batch.add(part)
        service = self._service

        def work() -> list[list[FlagChange]]:
            parts = batch.take()  # from here on, flags asked go to a write after this one
            known = _known_names(parts)
            each = service.flag_each(actor_id, [p.flags for p in parts], known_filenames=known)
            for p, changes in zip(parts, each, strict=True):
                p.record.changes = changes
            return each

        def done(each: list[list[FlagChange]]) -> None:
            self._forget_batch(batch)
            for p, changes in zip(batch.finish(), each, strict=True):
                p.stored(changes)

        def failed() -> None:
            self._forget_batch(batch)
            parts = batch.finish()
            for p in parts:
                p.failed()
            for p in reversed(parts):  # the newest first: each is on top of its stack then
                p.drop()

        self._start_job(
            work,
            done,
            failed,
            context=lambda: self._flags_context(batch),
            what=lambda: self._flags_what(batch),
            started=batch.started,
        )
        if not self._closed:
            self._open_flags = batch  # after _start_job, which closes the one before

    def _forget_batch(self, batch: _FlagBatch) -> None:
        if self._open_flags is batch:
            self._open_flags = None

    def _flags_what(self, batch: _FlagBatch) -> str:
        return f"the flags of {self._named(batch.actor_id, batch.flags())}"

    def _flags_context(self, batch: _FlagBatch) -> str:
        """The start of the one line that reports a failed flag write; a merged write names its
        images (several keys' worth)."""
        flags = batch.flags()
        if len(batch.parts()) == 1:
            return f"Could not save the flags of {images_phrase(len(flags))}"
        return f"Could not save the flags of {self._named(batch.actor_id, flags)}"

    def take_back_flags(
        self,
        actor_id: str,
        record: FlagRecord,
        shown: Mapping[str, Review],
        *,
        redo: bool,
    ) -> None:
        """Undo (``redo=False``) or redo what ``record``'s write changed, only where each image
        is still as this curator left it (compare-and-set in the service); ``shown``: what the
        rows will most likely read afterwards, shown at once. Images left alone get what is
        stored, and ``left_alone_reported`` names who changed them."""
        if not self.access.allows_writes():
            return
        service = self._service
        verb = "redone" if redo else "undone"

        def work() -> _FlagsStored:
            changes = record.changes or []  # None: the write to take back failed, nothing to do
            take_back = service.redo_flags if redo else service.undo_flags
            outcome = take_back(actor_id, changes) if changes else FlagUndo()
            by_name = {change.filename: change for change in changes}
            saved = {
                name: by_name[name].after_review if redo else by_name[name].before_review
                for name in outcome.undone
            }
            return _FlagsStored({**saved, **outcome.left_alone}, dict(outcome.left_alone))

        def stored(result: _FlagsStored) -> None:
            message = left_alone_text(result.left_alone, verb=verb)
            if message:
                self.left_alone_reported.emit(message)

        self._queue_flags(
            actor_id,
            list(shown),
            dict(shown) if actor_id == self._actor_id else {},
            work,
            then=stored,
            context=f"Could not {'redo' if redo else 'undo'} the flags of "
            f"{images_phrase(len(shown))}",
            what=f"the {'redo' if redo else 'undo'} of the flags of {self._named(actor_id, shown)}",
        )

    def _queue_flags(
        self,
        actor_id: str,
        names: list[str],
        display: dict[str, Review],
        work: Callable[[], _FlagsStored],
        *,
        then: Callable[[_FlagsStored], None] | None = None,
        on_failure: Callable[[], None] | None = None,
        context: str,
        what: str,
    ) -> None:
        """Show ``display`` now and run ``work`` on the write queue; once no write of an image
        is left, its row shows what is stored (after a failure: what it was)."""
        self._note_pending(actor_id, names, display)

        def done(result: _FlagsStored) -> None:
            self._flags_settled(actor_id, names, result.saved)
            if then is not None:
                then(result)

        def failed() -> None:
            self._flags_settled(actor_id, names, {})
            if on_failure is not None:
                on_failure()

        self.write_serial += 1
        self._start_job(work, done, failed, context=context, what=what)

    def _note_pending(self, actor_id: str, names: list[str], display: dict[str, Review]) -> None:
        """One more write of each of ``names`` is queued; ``display`` is shown now."""
        for name in names:
            pending = self._pending_flags.get((actor_id, name))
            if pending is None:
                row = self._model.row_of(name) if actor_id == self._actor_id else -1
                image = self._model.image_at(row)
                saved = image.review if image is not None else Review()
                pending = self._pending_flags[(actor_id, name)] = _PendingFlag(0, saved)
            pending.writes += 1
        if display:
            self._model.set_reviews(display)

    def _flags_settled(self, actor_id: str, names: list[str], saved: Mapping[str, Review]) -> None:
        """A flag write ended; ``saved``: the decisions it knows are stored now. Once no write of
        an image is left, its row shows the decision last known stored."""
        self.write_serial += 1
        settled: dict[str, Review] = {}
        for name in names:
            pending = self._pending_flags.get((actor_id, name))
            if pending is None:
                continue
            if name in saved:
                pending.saved = saved[name]
            pending.writes -= 1
            if pending.writes <= 0:
                del self._pending_flags[(actor_id, name)]
                settled[name] = pending.saved
        if settled and actor_id == self._actor_id:
            self._model.set_reviews(settled)  # after a success: what was recorded

    def push(self, command: QUndoCommand) -> bool:
        """Push ``command`` on the open actor's stack (its redo runs now); False with none open,
        or when this account may only read."""
        stack = self.undo_stack
        if stack is None or self._actor_id is None or not self.access.allows_writes():
            return False
        stack.push(command)
        return True

    def queue_write(
        self,
        work: Callable[[], _R],
        on_result: Callable[[_R], None],
        on_failure: Callable[[], None] | None = None,
        *,
        context: str = "",
    ) -> None:
        """Run ``work`` on the ordered write queue, after every write asked before it (and
        before every one asked after); a failure is reported once, then ``on_failure`` runs."""
        self.write_serial += 1
        self._start_job(work, on_result, on_failure, context=context)

    def drop_command(self, actor_id: str, command: QUndoCommand) -> None:
        """Take a command whose write failed off its undo stack, without running it."""
        if not shiboken6.isValid(command):
            return  # the stack already discarded it (a new command replaced the redo part)
        command.setObsolete(True)  # Qt drops an obsolete command, unrun, when undo/redo reach it
        stack = self._stacks.get(actor_id)
        if stack is None:
            return
        index = stack.index()
        if index > 0 and stack.command(index - 1) is command:
            stack.undo()  # drops it now
        elif index < stack.count() and stack.command(index) is command:
            stack.redo()

    # -- delete --------------------------------------------------------------------------------

    def delete(self, filenames: Sequence[str]) -> bool:
        """Ask, then delete in the background; returns whether a delete was started."""
        images = self._images(filenames)
        if not images or self._actor_id is None or not self.access.allows_writes():
            return False
        names = [img.filename for img in images]
        listed_bytes = sum(int(img.size_mb * MIB) for img in images if img.location is not None)
        undoable = self.undo_memory.fits(listed_bytes)
        if not self._confirm_delete(names, self._actor_name, undoable):
            return False
        actor_id, actor_name = self._actor_id, self._actor_name
        service = self._service
        rows = {name: self._model.row_of(name) for name in names}  # the manifest order

        def work() -> tuple[DeleteOutcome, dict[str, DeletedImage]]:
            kept: dict[str, DeletedImage] = {}
            not_kept: dict[str, str] = {}
            if undoable:
                metadata = service.prompt_metadata(actor_name)
                kept, not_kept = _keep_copies(service, images, metadata.generation, rows)
            to_delete = [n for n in names if n not in not_kept]
            outcome = service.delete_images(actor_id, to_delete) if to_delete else DeleteOutcome()
            return dataclasses.replace(outcome, failed={**not_kept, **outcome.failed}), kept

        self.write_serial += 1
        self._start_job(
            work,
            lambda r: self._delete_done(actor_id, r, copies=undoable),
            lambda: self.delete_failed.emit(),
            what=f"the delete of {self._named(actor_id, names)}",
        )
        self.delete_started.emit(len(names))
        return True

    def _delete_done(
        self,
        actor_id: str,
        payload: tuple[DeleteOutcome, dict[str, DeletedImage]],
        *,
        copies: bool,
    ) -> None:
        outcome, kept = payload
        self.write_serial += 1
        if outcome.deleted:
            self._remove_rows(actor_id, outcome.deleted)
            stack = self._stacks.get(actor_id)
            if stack is not None:
                kept = {f: kept[f] for f in outcome.deleted if f in kept}
                command = DeleteCommand(self, actor_id, outcome.deleted, kept, copies=copies)
                stack.push(command)
                if copies:
                    self.undo_memory.keep(command)  # the oldest copies go while over budget
        _log_not_deleted(outcome)
        self.delete_finished.emit(outcome)

    def run_restore(
        self, actor_id: str, filenames: list[str], kept: dict[str, DeletedImage]
    ) -> None:
        """Undo of a delete: re-upload the kept bytes, re-list the images, reload the actor."""
        service = self._service

        def work() -> tuple[list[str], dict[str, str], ActorTrainingData]:
            restored: list[str] = []
            failed: dict[str, str] = {}
            for filename in _by_old_place(filenames, kept):
                copy = kept.get(filename)
                if copy is None:
                    failed[filename] = "no copy was kept (it was already missing from S3)"
                    continue
                try:
                    service.restore_image(
                        actor_id,
                        copy.entry,
                        copy.data,
                        copy.good,
                        index=copy.index,
                        generation=copy.generation,
                    )
                    restored.append(filename)
                except TdmError as err:
                    failed[filename] = str(err)
            return restored, failed, service.load_actor(actor_id)

        self.write_serial += 1
        self._start_job(
            work,
            lambda r: self._restore_done(actor_id, *r),
            what=f"the undo of the delete of {self._named(actor_id, filenames)}",
        )

    def _restore_done(
        self,
        actor_id: str,
        restored: list[str],
        failed: dict[str, str],
        data: ActorTrainingData,
    ) -> None:
        self.write_serial += 1
        if actor_id == self._actor_id:
            self._model.update_images(data.images)
        for filename, reason in failed.items():
            self._report(f"Could not restore {filename}: {reason}")
        self.restore_finished.emit(restored)

    def run_delete_again(self, actor_id: str, filenames: list[str]) -> None:
        """Redo of a delete (after its undo): the bytes are still kept in the command."""
        service = self._service

        def work() -> tuple[DeleteOutcome, ActorTrainingData]:
            outcome = service.delete_images(actor_id, filenames) if filenames else DeleteOutcome()
            return outcome, service.load_actor(actor_id)

        self.write_serial += 1
        self._start_job(
            work,
            lambda r: self._reloaded_after(actor_id, *r, self.delete_finished),
            lambda: self.delete_failed.emit(),
            what=f"the redo of the delete of {self._named(actor_id, filenames)}",
        )

    def _reloaded_after(
        self,
        actor_id: str,
        outcome: DeleteOutcome,
        data: ActorTrainingData,
        finished: SignalInstance,
    ) -> None:
        """A delete that re-read the actor afterwards ended: show the actor as it is now."""
        self.write_serial += 1
        if actor_id == self._actor_id:
            self._model.update_images(data.images)
        _log_not_deleted(outcome)
        finished.emit(outcome)

    # -- delete all ----------------------------------------------------------------------------

    def delete_all(self) -> bool:
        """Ask with the actor's name and count, then delete every image in the background."""
        if self._actor_id is None or not self.access.allows_writes():
            return False
        count = self._model.rowCount()
        if not self._confirm_delete_all(self._actor_name, count):
            return False
        actor_id = self._actor_id
        service = self._service

        def work() -> tuple[DeleteOutcome, ActorTrainingData]:
            return service.delete_all(actor_id), service.load_actor(actor_id)

        self.write_serial += 1
        self.delete_all_started.emit(self._actor_name, count)
        self._start_job(
            work,
            lambda r: self._reloaded_after(actor_id, *r, self.delete_all_finished),
            lambda: self.delete_all_failed.emit(),
            what=f"Delete All of {self._actor_name or actor_id}",
        )
        return True

    # -- helpers -------------------------------------------------------------------------------

    def _images(self, filenames: Sequence[str]) -> list[TrainingImage]:
        images = []
        for name in dict.fromkeys(filenames):
            row = self._model.row_of(name)
            if row is not None and row >= 0:
                images.append(self._model.image_at(row))
        return images

    def _remove_rows(self, actor_id: str, filenames: Collection[str]) -> None:
        if actor_id != self._actor_id:
            return
        self._model.remove_filenames(filenames)

    def _start_job(
        self,
        work: Callable[[], _R],
        on_result: Callable[[_R], None],
        on_failure: Callable[[], None] | None = None,
        *,
        context: str | Callable[[], str] = "",
        what: str | Callable[[], str] = "",
        started: Callable[[int], None] | None = None,
    ) -> None:
        """Run ``work`` in the background; on an error it is reported once (after ``context``),
        then ``on_failure`` runs (so whatever the start showed can end). ``what`` names the
        write if the window closes before it lands (default: ``context``'s words); either may
        be a function, asked when the words are needed (a flag write that merges later keys).
        ``started`` gets the write queue's job id once the write is on it."""

        def context_text() -> str:
            return context() if callable(context) else context

        def what_text() -> str:
            named = what() if callable(what) else what
            return named or context_text().removeprefix("Could not ").strip() or "a write"

        if self._closed:  # asked while closing (nothing shows it now): said in the log
            log.error("Not saved, the window is closing: %s", what_text())
            return
        self._open_flags = None  # flags asked after this write are written after it
        self._set_busy(+1)

        # Not busy only once the result is shown: a reload that waits for our writes to land
        # (ActorSessionController) then reads after it, not before.
        def done(result: _R) -> None:
            try:
                self.files_written.emit()
                on_result(result)
            finally:
                self._set_busy(-1)

        def failed(error: BaseException) -> None:
            try:
                if isinstance(error, ReadOnlyCatalogError):  # said once, by the access gate
                    self.access.set_read_only(str(error))
                    self.access.allows_writes()
                else:
                    self._report(failure_text(error, context_text()))
                if on_failure is not None:
                    on_failure()
            finally:
                self._set_busy(-1)

        def start() -> None:
            job_id = self._jobs.run(work, on_result=done, on_error=failed, what=what_text())
            if started is not None:
                started(job_id)

        self._unstarted.append(start)
        if not self._start_timer.isActive():
            self._start_timer.start()

    def _start_asked(self) -> None:
        """Put the writes asked so far on the write queue, in the order they were asked."""
        self._start_timer.stop()
        asked, self._unstarted = self._unstarted, []
        for start in asked:
            start()

    def shutdown(self, deadline: float) -> list[str]:
        """The window closes: the writes queued get until ``deadline`` (``time.monotonic()``) to
        land; none starts afterwards. Those that end meanwhile are reported as always (a failure
        through ``error_reported``). What has not landed is never dropped silently: the lines
        returned (and logged as errors) name each write not started ("not saved") and the one
        still waiting for S3 ("maybe not saved": S3 may still take it, unseen)."""
        self._closed = True
        self._start_asked()  # queued like the others: they land by the deadline or are named
        unfinished = self._jobs.shutdown(deadline)
        lines = []
        if unfinished.not_started:
            lines.append(
                "Not saved, the window closed before S3 answered: "
                + "; ".join(unfinished.not_started)
            )
        if unfinished.running:
            lines.append(
                "Maybe not saved, S3 had not answered when the window closed: "
                + "; ".join(unfinished.running)
            )
        for line in lines:
            log.error("%s", line)
        return lines

    def _named(self, actor_id: str, images: Mapping[str, object] | Sequence[str]) -> str:
        """``"3 images of 0042_european_30_male (a.jpg bad, b.jpg bad, c.jpg good)"``: what a
        write is about, for a report if it does not land. Decisions are named when given (a
        mapping of filename to good or to a ``Review``); at most ``NAMED_IMAGES`` names."""
        actor = self._actor_name if actor_id == self._actor_id and self._actor_name else actor_id
        names = list(images)
        parts = []
        for name in names[:NAMED_IMAGES]:
            decision = images[name] if isinstance(images, Mapping) else None
            if isinstance(decision, Review):
                decision = decision.good if decision.decided else None
                parts.append(f"{name} {_DECISION[decision]}")
            elif isinstance(decision, bool):
                parts.append(f"{name} {_DECISION[decision]}")
            else:
                parts.append(name)
        more = f", and {len(names) - NAMED_IMAGES} more" if len(names) > NAMED_IMAGES else ""
        return f"{images_phrase(len(names))} of {actor} ({', '.join(parts)}{more})"

    def _set_busy(self, delta: int) -> None:
        was = self._busy > 0
        self._busy += delta
        if was != (self._busy > 0):
            self.busy_changed.emit(self._busy > 0)

    def _report(self, message: str) -> None:
        self.error_reported.emit(message)  # the window shows it and logs it


def _known_names(parts: Sequence[_FlagPart]) -> frozenset[str] | None:
    """The flagged names the model lists, for all of ``parts`` (None: one of them was asked for
    an actor not shown, so the service reads the manifest)."""
    if any(part.known is None for part in parts):
        return None
    return frozenset().union(*(part.known for part in parts if part.known is not None))


def _by_old_place(filenames: Sequence[str], kept: Mapping[str, DeletedImage]) -> list[str]:
    """Restore order: by old manifest place, so each insert at its old index lands right."""

    def place(name: str) -> int:
        copy = kept.get(name)
        return copy.index if copy is not None and copy.index is not None else sys.maxsize

    return sorted(filenames, key=place)


def _keep_copies(
    service: CurationService,
    images: list[TrainingImage],
    generation_of: Callable[[str], dict[str, Any] | None],
    rows: Mapping[str, int],
) -> tuple[dict[str, DeletedImage], dict[str, str]]:
    """Fetch each image's bytes (and note its generation record and manifest place) before
    deleting it, for undo: ``COPY_FETCHES`` GETs at once (far from S3 a GET is mostly waiting).
    An image whose bytes cannot be read (other than "already missing") is not deleted: without a
    copy the delete could not be undone."""

    def fetch(img: TrainingImage) -> tuple[TrainingImage, bytes | None, str | None]:
        try:
            return img, service.fetch_image_bytes(img), None
        except S3Error as err:
            if err.code == "NoSuchKey":
                return img, None, None
            return img, None, f"kept in S3: could not copy it for undo ({err.code})"
        except TdmError as err:
            return img, None, f"kept in S3: could not copy it for undo ({err})"

    fetchable = [img for img in images if img.location is not None]  # foreign: refused later
    fetched = {
        img.filename: (img, data, problem)
        for img, data, problem in map_unordered(fetch, fetchable, COPY_FETCHES, name="tdm-copy")
    }
    kept: dict[str, DeletedImage] = {}
    not_kept: dict[str, str] = {}
    for img in fetchable:  # in the order asked
        _img, data, problem = fetched[img.filename]
        if problem is not None:
            not_kept[img.filename] = problem
        elif data is not None:
            row = rows.get(img.filename, -1)
            kept[img.filename] = DeletedImage(
                img.entry, data, img.good, generation_of(img.filename), row if row >= 0 else None
            )
    return kept, not_kept


def _log_not_deleted(outcome: DeleteOutcome) -> None:
    for filename, reason in delete_problems(outcome).items():
        log.warning("not deleted: %s: %s", filename, reason)
