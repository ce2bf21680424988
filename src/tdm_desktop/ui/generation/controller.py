"""Runs ✨ / 🎨 in the background: ``GenerationController`` drives the service layer's generation
on a one-thread ``JobRunner`` (never on the GUI thread) and reports on the GUI thread through
signals; the worker's ``on_progress`` crosses threads by emitting a queued signal. Cancel sets an
event that ``should_stop`` reads, so the image in flight finishes and nothing after it starts.

Closing the window (``shutdown``) does not wait for the image in flight (an AUTOMATIC1111 request
can take minutes and cannot be interrupted without it answering a half-made picture, which would
then be uploaded): nothing new starts, the job is left to end on its own (its daemon thread never
holds up the exit; nothing of it is shown), and the report says so. Nothing is lost that was
made: an image whose upload had begun has its intent in ``uploads_in_progress.json``, which the
next generation on the actor finishes (``core/interrupted.py``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QObject, Signal, Slot

from tdm_desktop.core.generation import GeneratedImage, GenerationReport, ProgressCallback
from tdm_desktop.core.generator import Generator
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.messages import failure_text

log = logging.getLogger(__name__)

SINGLE_TITLE = "✨ Generate Single Image"
ALL_TITLE = "🎨 Generate All Prompts"


class GenerationWork(Protocol):
    """One actor catalog's generation with one generator (``GenerationService``)."""

    @property
    def generator(self) -> Generator: ...

    def actor_prompts(self, actor_id: str) -> list[str]: ...

    def generate(
        self, actor_id: str, prompt: str, seed: int | None = None, negative_prompt: str = ""
    ) -> GeneratedImage: ...

    def generate_all(
        self,
        actor_id: str,
        prompts: Sequence[str],
        *,
        on_progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> GenerationReport: ...


@dataclass(frozen=True)
class SingleRequest:
    """What the ✨ dialog asks for. ``seed=None``: a random one."""

    prompt: str
    seed: int | None = None
    negative_prompt: str = ""


@dataclass(frozen=True)
class GenerationProgress:
    """Where a 🎨 run is: images done and failed of ``total``; the last file that landed."""

    done: int
    failed: int
    total: int
    last_filename: str | None = None

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed


class GenerationController(QObject):
    """Runs one generation at a time in the background; results come back as signals."""

    busy_changed = Signal(bool)
    single_finished = Signal(str, object)  # actor_id, GeneratedImage
    image_landed = Signal(str, object)  # actor_id, GeneratedImage (each 🎨 image as it lands)
    progress_changed = Signal(object)  # GenerationProgress
    all_finished = Signal(str, object)  # actor_id, GenerationReport
    generation_failed = Signal(str, str)  # title, one-line message
    _progress_reported = Signal(str, int, int, int, object)  # from the worker thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs = JobRunner(max_threads=1, parent=self)
        self._busy = False
        self._stop = threading.Event()
        self._progress_reported.connect(self._on_progress_reported)

    def is_busy(self) -> bool:
        return self._busy

    def wait_for_jobs(self, msecs: int = -1) -> bool:
        return self._jobs.wait_for_done(msecs)

    def shutdown(self, deadline: float) -> list[str]:
        """The window closes: no new image starts; a run still going at ``deadline``
        (``time.monotonic()``) is left to end unseen. Returns (and logs) what was abandoned."""
        self._stop.set()
        unfinished = self._jobs.shutdown(deadline)
        lines = [
            f"{what}: stopped when the window closed; the image being generated was abandoned "
            "(one whose upload had begun is listed by the next generation on the actor)"
            for what in unfinished.running
        ]
        for line in lines:
            log.warning("%s", line)
        return lines

    def generate_single(
        self, service: GenerationWork, actor_id: str, request: SingleRequest
    ) -> bool:
        """Start one image; False when a generation is already running."""
        if self._busy:
            return False
        self._set_busy(True)
        self._jobs.run(
            lambda: service.generate(
                actor_id, request.prompt, seed=request.seed, negative_prompt=request.negative_prompt
            ),
            on_result=lambda image: self._single_done(actor_id, image),
            on_error=lambda error: self._failed(SINGLE_TITLE, error),
            what=f"{SINGLE_TITLE} for {actor_id} ({request.prompt[:60]!r})",
        )
        return True

    def generate_all(self, service: GenerationWork, actor_id: str, prompts: Sequence[str]) -> bool:
        """Start one image per prompt; False when a generation is already running."""
        if self._busy:
            return False
        prompts = list(prompts)
        self._stop.clear()
        self._set_busy(True)
        emit = self._progress_reported.emit

        def progress(done: int, failed: int, total: int, last: GeneratedImage | None) -> None:
            emit(actor_id, done, failed, total, last)  # queued to the GUI thread

        self.progress_changed.emit(GenerationProgress(0, 0, len(prompts)))
        self._jobs.run(
            lambda: service.generate_all(
                actor_id, prompts, on_progress=progress, should_stop=self._stop.is_set
            ),
            on_result=lambda report: self._all_done(actor_id, report),
            on_error=lambda error: self._failed(ALL_TITLE, error),
            what=f"{ALL_TITLE} for {actor_id} ({len(prompts)} prompts)",
        )
        return True

    @Slot()
    def cancel(self) -> None:
        """🎨 Cancel: the image in flight finishes, no new one starts."""
        if self._busy and not self._stop.is_set():
            log.info("generation: stopping after the image in flight")
            self._stop.set()

    @Slot(str, int, int, int, object)
    def _on_progress_reported(
        self, actor_id: str, done: int, failed: int, total: int, last: object
    ) -> None:
        image = last if isinstance(last, GeneratedImage) else None
        if image is not None:
            self.image_landed.emit(actor_id, image)
        name = image.filename if image is not None else None
        self.progress_changed.emit(GenerationProgress(done, failed, total, name))

    def _single_done(self, actor_id: str, image: GeneratedImage) -> None:
        self._set_busy(False)
        self.single_finished.emit(actor_id, image)

    def _all_done(self, actor_id: str, report: GenerationReport) -> None:
        self._set_busy(False)
        self.all_finished.emit(actor_id, report)

    def _failed(self, title: str, error: BaseException) -> None:
        self._set_busy(False)
        self.generation_failed.emit(title, failure_text(error))

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
