"""✨ / 🎨 in the window: when the actions are enabled, the prompt dialog, the busy and progress
dialogs, and what happens when an image lands. The work itself runs in ``GenerationController``."""

from __future__ import annotations

import logging
from typing import Protocol

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QProgressDialog, QWidget

from tdm_desktop.core.errors import TdmError
from tdm_desktop.core.generation import GeneratedImage, GenerationReport
from tdm_desktop.core.generator import Generator
from tdm_desktop.ui.common.access import CatalogAccess
from tdm_desktop.ui.common.images import NotAnImageError, decode_fitted
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.messages import failure_text
from tdm_desktop.ui.generation.controller import (
    ALL_TITLE,
    SINGLE_TITLE,
    GenerationController,
    GenerationWork,
)
from tdm_desktop.ui.generation.dialogs import (
    BASE_PREVIEW,
    GenerateAllProgressDialog,
    GenerateSingleDialog,
    GenerationQuestions,
    message_box_questions,
)
from tdm_desktop.ui.generation.factory import GeneratorFactory, make_generator
from tdm_desktop.ui.settings.model import load_settings

log = logging.getLogger(__name__)


class GenerationSource(Protocol):
    """What ✨ / 🎨 ask of the service layer (``TrainingDataService``)."""

    def generation(self, generator: Generator) -> GenerationWork: ...

    def base_image_bytes(self, actor_name: str) -> bytes | None: ...


class OpenActor(Protocol):
    """Which actor is open (``ActorSessionController``)."""

    @property
    def actor_id(self) -> str | None: ...
    @property
    def actor_name(self) -> str: ...


class GenerationPresenter(QObject):
    """Drives ``actionGenerateSingle`` / ``actionGenerateAll`` for the open actor.

    ``status_message(text, timeout_ms)`` for the status bar, ``error_reported(message)`` for the
    banner, ``landed(actor_id, select)`` when the grid should re-read the actor (``select``: a
    filename to make current, or None).
    """

    status_message = Signal(str, int)
    error_reported = Signal(str)
    landed = Signal(str, object)

    def __init__(
        self,
        window: QWidget,
        service: GenerationSource,
        settings: QSettings,
        actor: OpenActor,
        single_action: QAction,
        all_action: QAction,
        *,
        generator_factory: GeneratorFactory | None = None,
        questions: GenerationQuestions | None = None,
        access: CatalogAccess | None = None,
    ) -> None:
        """``access``: whether this account may write (a read-only one generates nothing)."""
        super().__init__(window)
        self._access = access if access is not None else CatalogAccess(self)
        self._window = window
        self._service = service
        self._settings = settings
        self._actor = actor
        self._single_action = single_action
        self._all_action = all_action
        self._generator_factory = generator_factory or make_generator
        self._questions = questions or message_box_questions(window)
        self.generation = GenerationController(parent=window)
        self._prepare = JobRunner(max_threads=1, parent=self)  # reads files before a dialog
        self.generate_single_dialog: GenerateSingleDialog | None = None
        self.generate_all_progress: GenerateAllProgressDialog | None = None
        self._busy_dialog: QProgressDialog | None = None

        single_action.triggered.connect(lambda _checked=False: self.generate_single())
        all_action.triggered.connect(lambda _checked=False: self.generate_all())
        self.generation.busy_changed.connect(self._on_busy)
        self.generation.single_finished.connect(self._on_single_generated)
        self.generation.image_landed.connect(self._on_image_landed)
        self.generation.all_finished.connect(self._on_all_generated)
        self.generation.generation_failed.connect(self._on_generation_failed)
        self.update_actions()

    # -- the actions -----------------------------------------------------------------------------

    def update_actions(self) -> None:
        """Enabled while an actor is open and no generation runs; the tooltip says which."""
        busy = self.generation.is_busy()
        for action, tip in (
            (self._single_action, "one image from a prompt"),
            (self._all_action, "an image for every prompt"),
        ):
            action.setEnabled(self._actor.actor_id is not None and not busy)
            note = "a generation is running" if busy else tip
            action.setToolTip(f"{action.text()}: {note}")
            action.setStatusTip(action.toolTip())

    # -- starting --------------------------------------------------------------------------------

    def _generation_service(self) -> GenerationWork | None:
        """Generation for the window's actors with the generator the settings choose (built
        afresh, so a settings change counts from the next run)."""
        try:
            generator = self._generator_factory(load_settings(self._settings))
        except (TdmError, ValueError) as err:
            self._questions.show_error("Generator", failure_text(err))
            return None
        return self._service.generation(generator)

    def _ready(self) -> tuple[str, str, GenerationWork] | None:
        """The open actor and a generation service for it, unless none is open, a generation
        already runs, the account may only read (said once), or the generator cannot be made
        (said in a dialog)."""
        actor_id, actor_name = self._actor.actor_id, self._actor.actor_name
        if actor_id is None or actor_name is None or self.generation.is_busy():
            return None
        if not self._access.allows_writes():
            return None
        service = self._generation_service()
        if service is None:
            return None
        return actor_id, actor_name, service

    def generate_single(self) -> None:
        """✨: read the prompts and the base image in the background, then ask for a prompt, seed
        and negative prompt, then generate in the background."""
        ready = self._ready()
        if ready is None:
            return
        actor_id, actor_name, service = ready

        read_base_image = self._service.base_image_bytes

        def prepare() -> tuple[list[str], bool, QImage | None]:
            try:
                prompts = service.actor_prompts(actor_id)
            except TdmError as err:  # the dialog still lets the curator write a prompt
                log.warning("prompts of %s: %s", actor_name, err)
                prompts = []
            try:
                data = read_base_image(actor_name)
            except TdmError as err:  # generating will say so; the dialog cannot show it
                log.warning("base image of %s: %s", actor_name, err)
                return prompts, True, None
            if data is None:
                return prompts, False, None
            try:
                return prompts, True, decode_fitted(data, BASE_PREVIEW)
            except NotAnImageError:
                return prompts, True, None

        self._prepare.run(
            prepare,
            on_result=lambda got: self._open_single_dialog(actor_id, actor_name, service, *got),
            on_error=lambda err: self._questions.show_error(SINGLE_TITLE, failure_text(err)),
        )

    def _open_single_dialog(
        self,
        actor_id: str,
        actor_name: str,
        service: GenerationWork,
        prompts: list[str],
        has_base_image: bool,
        preview: QImage | None,
    ) -> None:
        if self._actor.actor_id != actor_id or self.generation.is_busy():
            return  # the curator moved on while the files were read
        dialog = GenerateSingleDialog(
            actor_name,
            prompts,
            service.generator.display_name,
            parent=self._window,
            has_base_image=has_base_image,
            base_preview=preview,
        )
        self.generate_single_dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def accepted() -> None:
            self.generate_single_dialog = None
            if self._actor.actor_id != actor_id:
                return
            request = dialog.request()
            if self.generation.generate_single(service, actor_id, request):
                self._show_busy(actor_name, service.generator)

        dialog.accepted.connect(accepted)
        dialog.rejected.connect(lambda: setattr(self, "generate_single_dialog", None))
        dialog.open()

    def generate_all(self) -> None:
        """🎨: confirm, then one image per prompt in the background with a progress dialog."""
        ready = self._ready()
        if ready is None:
            return
        actor_id, actor_name, service = ready
        self._prepare.run(
            lambda: service.actor_prompts(actor_id),
            on_result=lambda prompts: self._confirm_all(actor_id, actor_name, service, prompts),
            on_error=lambda err: self._questions.show_error(ALL_TITLE, failure_text(err)),
        )

    def _confirm_all(
        self, actor_id: str, actor_name: str, service: GenerationWork, prompts: list[str]
    ) -> None:
        if self._actor.actor_id != actor_id or self.generation.is_busy():
            return  # the curator moved on while the files were read
        name = service.generator.display_name
        if not prompts:
            self._questions.show_error(ALL_TITLE, f"{actor_name} has no prompts")
            return
        if not self._questions.confirm_all(actor_name, len(prompts), name):
            return
        if not self.generation.generate_all(service, actor_id, prompts):
            return
        progress = GenerateAllProgressDialog(
            self.generation, actor_name, name, len(prompts), parent=self._window
        )
        progress.destroyed.connect(lambda *_: setattr(self, "generate_all_progress", None))
        self.generate_all_progress = progress
        progress.show()
        self.status_message.emit(f"Generating {len(prompts)} images for {actor_name}…", 0)

    # -- the busy dialog of ✨ -------------------------------------------------------------------

    def _show_busy(self, actor_name: str, generator: Generator) -> None:
        busy = QProgressDialog(
            f"Generating an image for {actor_name} with {generator.display_name}…",
            "",
            0,
            0,
            self._window,
        )
        busy.setObjectName("generateSingleProgress")
        busy.setCancelButton(None)
        busy.setWindowTitle(SINGLE_TITLE)
        busy.setWindowModality(Qt.WindowModality.WindowModal)
        busy.setMinimumDuration(0)
        busy.show()
        self._busy_dialog = busy
        self.status_message.emit(f"Generating an image for {actor_name}…", 0)

    def _close_busy(self) -> None:
        if self._busy_dialog is not None:
            self._busy_dialog.close()
            self._busy_dialog.deleteLater()
            self._busy_dialog = None

    def _on_busy(self, busy: bool) -> None:
        self.update_actions()
        if not busy:
            self._close_busy()

    # -- results ---------------------------------------------------------------------------------

    def _on_single_generated(self, actor_id: str, image: GeneratedImage) -> None:
        self.status_message.emit(
            f"Generated {image.filename} (seed {image.seed}, {image.size_mb:.2f} MB)", 8000
        )
        self.landed.emit(actor_id, image.filename)
        if image.metadata_error:
            self.error_reported.emit(image.metadata_error)

    def _on_image_landed(self, actor_id: str, image: GeneratedImage) -> None:
        self.landed.emit(actor_id, None)

    def _on_all_generated(self, actor_id: str, report: GenerationReport) -> None:
        self.status_message.emit(report.summary(), 10_000)
        self.landed.emit(actor_id, None)
        actor = self._actor
        actor_name = actor.actor_name if actor_id == actor.actor_id else f"actor {actor_id}"
        self._questions.show_report(actor_name, report)

    def _on_generation_failed(self, title: str, message: str) -> None:
        """The curator waits for this: a box says why (and the log keeps it)."""
        log.warning("%s failed: %s", title, message)
        self.status_message.emit("", 0)  # the "Generating…" line ends
        self._questions.show_error(title, message)
