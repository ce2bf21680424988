"""Captions and the trigger word of the open actor, read in the background and changed as
undoable commands on the actor's undo stack, written on curation's ordered write queue (so an
undo never overtakes the edit it undoes). No widgets: the preview's caption field and the
header's trigger word field show what this reports.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from tdm_desktop.core.captions import ImageCaption, trigger_word_problem
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.messages import failure_text
from tdm_desktop.ui.curation.commands import CaptionCommand, TriggerWordCommand
from tdm_desktop.ui.curation.controller import CurationController

log = logging.getLogger(__name__)


class CaptionService(Protocol):
    """Where captions are kept (``TrainingDataService``)."""

    def prompt_metadata(self, actor_name: str) -> PromptMetadata: ...


class CaptionController(QObject):
    """``caption_shown(actor_id, filename, ImageCaption)`` after a read, an edit or its undo;
    ``trigger_word_shown(actor_id, word, stored)`` likewise (``stored`` False: the actor name);
    ``error_reported(message)`` for the banner."""

    caption_shown = Signal(str, str, object)
    trigger_word_shown = Signal(str, str, bool)
    error_reported = Signal(str)

    def __init__(
        self,
        service: CaptionService,
        curation: CurationController,
        *,
        reads: JobRunner | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._curation = curation
        self._reads = reads if reads is not None else JobRunner(max_threads=1, parent=self)
        self._writing: Counter[tuple[str, str]] = Counter()  # (actor_id, filename or "") queued
        self._trigger: dict[str, str | None] = {}  # actor_id -> stored trigger word, as known

    # -- reading -------------------------------------------------------------------------------

    def read_caption(self, filename: str) -> None:
        """Read ``filename``'s caption of the open actor; ``caption_shown`` brings it."""
        actor_id, actor_name = self._curation.actor_id, self._curation.actor_name
        if actor_id is None:
            return
        service = self._service

        def done(caption: ImageCaption) -> None:
            if not self._writing[(actor_id, filename)]:  # else the write brings the newer one
                self.caption_shown.emit(actor_id, filename, caption)

        self._reads.run(
            lambda: ImageCaption.read(service.prompt_metadata(actor_name), filename),
            on_result=done,
            on_error=lambda error: self._report(
                failure_text(error, f"Could not read the caption of {filename}")
            ),
        )

    def read_trigger_word(self) -> None:
        """Read the open actor's trigger word; ``trigger_word_shown`` brings it."""
        actor_id, actor_name = self._curation.actor_id, self._curation.actor_name
        if actor_id is None:
            return
        service = self._service

        def done(word: str | None) -> None:
            if not self._writing[(actor_id, "")]:
                self._trigger_known(actor_id, actor_name, word)

        self._reads.run(
            lambda: service.prompt_metadata(actor_name).trigger_word(),
            on_result=done,
            on_error=lambda error: self._report(
                failure_text(error, f"Could not read the trigger word of {actor_name}")
            ),
        )

    # -- editing (one undoable command each) ---------------------------------------------------

    def edit_caption(self, filename: str, text: str | None, before: ImageCaption) -> bool:
        """The curator typed ``text`` (None: back to the prompt) over ``before``; returns
        whether that is a change (then it is on the undo stack and queued for writing)."""
        actor_id, actor_name = self._curation.actor_id, self._curation.actor_name
        if actor_id is None or text == before.stored:
            return False
        if text is not None and before.stored is None and text == before.text:
            return False  # the prompt, untouched
        command = CaptionCommand(self, actor_id, actor_name, filename, text, before.stored)
        return self._curation.push(command)

    def edit_trigger_word(self, text: str) -> bool:
        """The curator typed ``text`` as the trigger word ("" or the actor name: back to the
        actor name). A word that cannot be one is reported and nothing changes."""
        actor_id, actor_name = self._curation.actor_id, self._curation.actor_name
        if actor_id is None:
            return False
        old = self._trigger.get(actor_id)
        word: str | None = text.strip()
        if word in ("", actor_name):
            word = None
        if word is not None and (problem := trigger_word_problem(word)):
            self._report(f"Trigger word {word!r}: {problem}")
            self._trigger_known(actor_id, actor_name, old)
            return False
        if word == old:
            self._trigger_known(actor_id, actor_name, old)
            return False
        return self._curation.push(TriggerWordCommand(self, actor_id, actor_name, word, old))

    # -- writing (the commands' redo / undo) ---------------------------------------------------

    def write_caption(
        self,
        actor_id: str,
        actor_name: str,
        filename: str,
        caption: str | None,
        *,
        command: QUndoCommand | None = None,
    ) -> None:
        key = (actor_id, filename)
        self._writing[key] += 1
        service = self._service

        def work() -> ImageCaption:
            metadata = service.prompt_metadata(actor_name)
            metadata.set_caption(filename, caption)
            return ImageCaption.read(metadata, filename)

        def done(shown: ImageCaption) -> None:
            self._writing[key] -= 1
            self.caption_shown.emit(actor_id, filename, shown)

        def failed() -> None:
            self._writing[key] -= 1
            if command is not None:
                self._curation.drop_command(actor_id, command)
            if actor_id == self._curation.actor_id:
                self.read_caption(filename)  # show what is on disk

        self._curation.queue_write(
            work, done, failed, context=f"Could not save the caption of {filename}"
        )

    def write_trigger_word(
        self,
        actor_id: str,
        actor_name: str,
        word: str | None,
        *,
        command: QUndoCommand | None = None,
    ) -> None:
        key = (actor_id, "")
        self._writing[key] += 1
        service = self._service

        def work() -> str | None:
            metadata = service.prompt_metadata(actor_name)
            metadata.set_trigger_word(word)
            return metadata.trigger_word()

        def done(stored: str | None) -> None:
            self._writing[key] -= 1
            self._trigger_known(actor_id, actor_name, stored)

        def failed() -> None:
            self._writing[key] -= 1
            if command is not None:
                self._curation.drop_command(actor_id, command)
            if actor_id == self._curation.actor_id:
                self.read_trigger_word()

        self._curation.queue_write(
            work, done, failed, context=f"Could not save the trigger word of {actor_name}"
        )

    def _trigger_known(self, actor_id: str, actor_name: str, stored: str | None) -> None:
        self._trigger[actor_id] = stored
        self.trigger_word_shown.emit(actor_id, stored or actor_name, stored is not None)

    def _report(self, message: str) -> None:
        log.warning("%s", message)
        self.error_reported.emit(message)

    def wait_for_reads(self, msecs: int = -1) -> bool:
        return self._reads.wait_for_done(msecs)
