"""The curator's decisions (flag, delete, delete all), as undoable commands, without any window.

``CurationController`` writes through the ``TrainingDataService`` and keeps the ``ImageGridModel`` (the
source model, never a filter proxy) in step. Each user action is one ``QUndoCommand`` on the current
actor's ``QUndoStack`` (one stack per actor in a ``QUndoGroup``), named the way the Edit menu reads it:
"Mark Bad (3 images)". The model shows a flag at once; every write (flags, delete, undo of a delete,
delete all) runs on one one-thread ``JobRunner``, so the GUI thread never waits on the files and
writes land in the order they were asked (an undo never overtakes the write it undoes).
"""

from __future__ import annotations

import dataclasses
import logging
import sys
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Signal, SignalInstance
from PySide6.QtGui import QUndoCommand, QUndoGroup, QUndoStack

from tdm_desktop.core.errors import S3Error, TdmError
from tdm_desktop.core.manifest import ManifestEntry
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.training_data import ActorTrainingData, DeleteOutcome, TrainingImage
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.messages import failure_text, images_phrase
from tdm_desktop.ui.curation.commands import DeleteCommand, DeletedImage, FlagCommand, command_text
from tdm_desktop.ui.grid.model import ImageGridModel

log = logging.getLogger(__name__)

ConfirmDelete = Callable[[Sequence[str], str], bool]
"""``(filenames, actor_name) -> go ahead?``"""
ConfirmDeleteAll = Callable[[str, int], bool]
"""``(actor_name, image_count) -> go ahead?``"""

_R = TypeVar("_R")


class CurationService(Protocol):
    """What curation asks of the service layer (``TrainingDataService``)."""

    def load_actor(self, actor_id: str) -> ActorTrainingData: ...

    def set_flags(
        self,
        actor_id: str,
        flags: Mapping[str, bool],
        known_filenames: Collection[str] | None = None,
    ) -> dict[str, bool]: ...

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
    """One image's flag while writes of it are queued: how many, and the flag last known on disk."""

    writes: int
    saved: bool


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

    def __init__(
        self,
        service: CurationService,
        model: ImageGridModel,
        *,
        jobs: JobRunner | None = None,
        confirm_delete: ConfirmDelete | None = None,
        confirm_delete_all: ConfirmDeleteAll | None = None,
        undo_group: QUndoGroup | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._model = model
        self._jobs = jobs if jobs is not None else JobRunner(max_threads=1, parent=self)
        self._confirm_delete = confirm_delete or (lambda _names, _actor: True)
        self._confirm_delete_all = confirm_delete_all or (lambda _actor, _count: True)
        self.undo_group = undo_group if undo_group is not None else QUndoGroup(self)
        self._stacks: dict[str, QUndoStack] = {}
        self._actor_id: str | None = None
        self._actor_name = ""
        self._busy = 0
        self._pending_flags: dict[tuple[str, str], _PendingFlag] = {}
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

    @property
    def undo_stack(self) -> QUndoStack | None:
        return self.undo_group.activeStack()

    def is_busy(self) -> bool:
        """Whether a write of ours (flags, delete, restore) is queued or running: when not,
        everything asked is on disk (or was reported as failed)."""
        return self._busy > 0

    def wait_for_jobs(self, msecs: int = -1) -> bool:
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
        old = {img.filename: img.good for img in images}
        command = FlagCommand(self, self._actor_id, new, old, command_text(action, len(new)))
        stack.push(command)  # runs redo(), which shows the flags and queues their write
        return True

    def write_flags(
        self,
        actor_id: str,
        flags: Mapping[str, bool],
        before: Mapping[str, bool],
        *,
        command: QUndoCommand | None = None,
    ) -> None:
        """Show ``flags`` in the model at once (if it shows ``actor_id``) and write them through
        the service in the background, after every write asked before. ``before``: the flags they
        replace. If the write fails, the error is reported once, the rows go back to the flags on
        disk and ``command`` (the redo that asked for it) is dropped from its undo stack."""
        flags = dict(flags)
        shown = actor_id == self._actor_id
        # The flagged names the model lists, taken here (the job reads them on another thread):
        # the service then checks the flags against them instead of re-reading the manifest.
        # O(flags), not O(rows): a key on a 100,000-image actor copies no list of names.
        known = frozenset(n for n in flags if self._model.row_of(n) >= 0) if shown else None
        for name in flags:
            pending = self._pending_flags.get((actor_id, name))
            if pending is None:
                image = self._model.image_at(self._model.row_of(name)) if shown else None
                saved = image.good if image is not None else before.get(name, True)
                pending = self._pending_flags[(actor_id, name)] = _PendingFlag(0, saved)
            pending.writes += 1
        if shown:
            self._model.set_good(flags)
        service = self._service

        def work() -> None:
            service.set_flags(actor_id, flags, known_filenames=known)

        self.write_serial += 1
        self._start_job(
            work,
            lambda _: self._flags_settled(actor_id, flags, written=True),
            lambda: self._flags_failed(actor_id, flags, command),
            context=f"Could not save the flags of {images_phrase(len(flags))}",
        )

    def _flags_failed(
        self, actor_id: str, flags: dict[str, bool], command: QUndoCommand | None
    ) -> None:
        self._flags_settled(actor_id, flags, written=False)
        if command is not None:
            self._drop_command(actor_id, command)

    def _flags_settled(self, actor_id: str, flags: dict[str, bool], *, written: bool) -> None:
        """A flag write ended. Once no write of an image is left, its row shows what is on disk:
        after a failure, the flag it had (unless a later write of it succeeded)."""
        self.write_serial += 1
        on_disk: dict[str, bool] = {}
        for name, good in flags.items():
            pending = self._pending_flags.get((actor_id, name))
            if pending is None:
                continue
            if written:
                pending.saved = good
            pending.writes -= 1
            if pending.writes <= 0:
                del self._pending_flags[(actor_id, name)]
                on_disk[name] = pending.saved
        if on_disk and actor_id == self._actor_id:
            self._model.set_good(on_disk)  # changes nothing after a success

    def _drop_command(self, actor_id: str, command: QUndoCommand) -> None:
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
        if not images or self._actor_id is None:
            return False
        names = [img.filename for img in images]
        if not self._confirm_delete(names, self._actor_name):
            return False
        actor_id, actor_name = self._actor_id, self._actor_name
        service = self._service
        rows = {name: self._model.row_of(name) for name in names}  # the manifest order

        def work() -> tuple[DeleteOutcome, dict[str, DeletedImage]]:
            metadata = service.prompt_metadata(actor_name)
            kept, not_kept = _keep_copies(service, images, metadata.generation, rows)
            to_delete = [n for n in names if n not in not_kept]
            outcome = service.delete_images(actor_id, to_delete) if to_delete else DeleteOutcome()
            return dataclasses.replace(outcome, failed={**not_kept, **outcome.failed}), kept

        self.write_serial += 1
        self._start_job(
            work,
            lambda r: self._delete_done(actor_id, r),
            lambda: self.delete_failed.emit(),
        )
        self.delete_started.emit(len(names))
        return True

    def _delete_done(
        self, actor_id: str, payload: tuple[DeleteOutcome, dict[str, DeletedImage]]
    ) -> None:
        outcome, kept = payload
        self.write_serial += 1
        if outcome.deleted:
            self._remove_rows(actor_id, outcome.deleted)
            stack = self._stacks.get(actor_id)
            if stack is not None:
                kept = {f: kept[f] for f in outcome.deleted if f in kept}
                stack.push(DeleteCommand(self, actor_id, outcome.deleted, kept))
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
        self._start_job(work, lambda r: self._restore_done(actor_id, *r))

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
        if self._actor_id is None:
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
        context: str = "",
    ) -> None:
        """Run ``work`` in the background; on an error it is reported once (after ``context``),
        then ``on_failure`` runs (so whatever the start showed can end)."""
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
                self._report(failure_text(error, context))
                if on_failure is not None:
                    on_failure()
            finally:
                self._set_busy(-1)

        self._jobs.run(work, on_result=done, on_error=failed)

    def _set_busy(self, delta: int) -> None:
        was = self._busy > 0
        self._busy += delta
        if was != (self._busy > 0):
            self.busy_changed.emit(self._busy > 0)

    def _report(self, message: str) -> None:
        self.error_reported.emit(message)  # the window shows it and logs it


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
    deleting it, for undo. An image whose bytes cannot be read (other than "already missing") is
    not deleted: without a copy the delete could not be undone."""
    kept: dict[str, DeletedImage] = {}
    not_kept: dict[str, str] = {}
    for img in images:
        if img.location is None:
            continue  # foreign: the service refuses it and says why
        try:
            data = service.fetch_image_bytes(img)
            row = rows.get(img.filename, -1)
            kept[img.filename] = DeletedImage(
                img.entry,
                data,
                img.good,
                generation_of(img.filename),
                row if row >= 0 else None,
            )
        except S3Error as err:
            if err.code != "NoSuchKey":
                not_kept[img.filename] = f"kept in S3: could not copy it for undo ({err.code})"
        except TdmError as err:
            not_kept[img.filename] = f"kept in S3: could not copy it for undo ({err})"
    return kept, not_kept


def _log_not_deleted(outcome: DeleteOutcome) -> None:
    for filename, reason in delete_problems(outcome).items():
        log.warning("not deleted: %s: %s", filename, reason)
