"""Generate training images: generator -> JPEG -> S3 (never overwriting) -> manifest -> metadata.

Whoever's ``put_new`` (If-None-Match: *) succeeds owns a filename, so two windows or a window and
the CLI generating for one actor at once never overwrite each other: the loser takes the next n.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from tdm_desktop.core.actors import ActorCatalog, BaseImage
from tdm_desktop.core.documents import DocumentStore, open_documents
from tdm_desktop.core.errors import (
    BadInputError,
    DuplicateImageError,
    GeneratorError,
    ObjectExistsError,
    TdmError,
)
from tdm_desktop.core.generator import GenerationRequest, GenerationResult, Generator
from tdm_desktop.core.interrupted import Recovery, recover_interrupted
from tdm_desktop.core.manifest import TrainingDataManifest, size_mb
from tdm_desktop.core.names import check_actor_name, check_filename
from tdm_desktop.core.s3_store import TRAINING_DATA_PREFIX, S3Store
from tdm_desktop.core.timestamps import Clock, manifest_now, utc_now
from tdm_desktop.core.upload_journal import UploadIntent, UploadJournal, this_host

log = logging.getLogger(__name__)

JPEG_MIME = "image/jpeg"
JPEG_QUALITY = 92
MAX_NAME_ATTEMPTS = 25

ProgressCallback = Callable[[int, int, int, "GeneratedImage | None"], None]


@dataclass(frozen=True)
class GeneratedImage:
    """One image that is now in S3 and in the manifest.

    ``metadata_error`` is set when the prompt metadata could not be recorded (the image itself
    landed; with no metadata entry it counts as good).
    """

    filename: str
    s3_url: str
    size_mb: float
    seed: int
    prompt: str
    generator: str = ""
    metadata_error: str | None = None


@dataclass(frozen=True)
class GenerationReport:
    """What ``generate_all`` did: per prompt, generated, failed (with the message) or cancelled."""

    generated: list[GeneratedImage] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.generated) + len(self.failed) + len(self.cancelled)

    @property
    def ok(self) -> bool:
        """True when every prompt produced an image."""
        return not self.failed and not self.cancelled

    def summary(self) -> str:
        """One line for a status bar or the CLI: ``Generated 3 of 5 images (2 failed)``."""
        line = f"Generated {len(self.generated)} of {self.total} images"
        extra = [f"{len(self.failed)} failed"] if self.failed else []
        extra += [f"{len(self.cancelled)} cancelled"] if self.cancelled else []
        return f"{line} ({', '.join(extra)})" if extra else line


class GenerationService:
    """Generates images for an actor and records them; no Qt, safe to call from worker threads."""

    def __init__(
        self,
        data_dir: Path | str | DocumentStore,
        store: S3Store,
        generator: Generator,
        clock: Clock | None = None,
    ) -> None:
        self.documents = open_documents(data_dir, store.client)
        self.catalog = ActorCatalog(self.documents, clock=clock)
        self.store = store
        self.generator = generator
        self._clock = clock
        self._claim_lock = threading.Lock()
        self._claimed: set[tuple[str, str]] = set()

    # ---- names -------------------------------------------------------------------------------

    def actor_prompts(self, actor_id: str | int) -> list[str]:
        """The prompts "Generate All" uses: the actor's own list, else the default list."""
        actor_name = check_actor_name(self._manifest(actor_id).character_name)
        return self.catalog.prompt_metadata(actor_name).prompts()

    def base_image(self, actor_name: str) -> BaseImage | None:
        """The actor's base image (img2img), or None (txt2img)."""
        return self.catalog.base_image(actor_name)

    # ---- one image ---------------------------------------------------------------------------

    def generate(
        self, actor_id: str | int, prompt: str, seed: int | None = None, negative_prompt: str = ""
    ) -> GeneratedImage:
        """Generate one image from ``prompt``, upload it to a new key and record it.

        Raises ``GeneratorError`` (nothing uploaded), ``S3Error``, or the manifest's error (the
        uploaded object is deleted again, so a failure leaves nothing behind). First finishes
        what an interrupted generation on this actor left (``recover_interrupted``).
        """
        if not isinstance(prompt, str) or not prompt.strip():
            raise BadInputError("prompt is empty: give the text to generate an image from")
        self._recover_quietly(actor_id)
        return self._generate_one(actor_id, prompt, seed, negative_prompt)

    def _recover_quietly(self, actor_id: str | int) -> None:
        """``recover_interrupted``; a failure is logged (the generation then says what is wrong
        itself, if it cannot go on either)."""
        try:
            self.recover_interrupted(actor_id)
        except TdmError as exc:
            log.warning("[S3-ONLY] Interrupted generations not finished: %s", exc)

    def recover_interrupted(self, actor_id: str | int) -> Recovery:
        """List (with their prompts) the images a killed generation on this actor uploaded but
        did not list, and forget the uploads that never landed (``core/interrupted.py``)."""
        manifest = self._manifest(actor_id)
        actor_name = check_actor_name(manifest.character_name)
        return recover_interrupted(
            manifest,
            self.catalog.prompt_metadata(actor_name),
            UploadJournal.for_actor(self.documents, actor_name),
            self.store,
            (self._clock or utc_now)(),
            self.store.url_for,
        )

    def _generate_one(
        self, actor_id: str | int, prompt: str, seed: int | None, negative_prompt: str
    ) -> GeneratedImage:
        if not isinstance(prompt, str) or not prompt.strip():
            raise BadInputError("prompt is empty: give the text to generate an image from")
        manifest = self._manifest(actor_id)
        actor_name = check_actor_name(manifest.character_name)
        self.documents.check_writable()  # a read-only curator generates nothing
        request = GenerationRequest(
            prompt=prompt,
            negative_prompt=negative_prompt,
            seed=seed,
            base_image=self._read_base_image(actor_name),
        )
        mode = "from the base image" if request.base_image is not None else "from text"
        log.info(
            "[S3-ONLY] Generating image for actor %s with %s (%s): %s",
            manifest.character_id,
            self.generator.name,
            mode,
            prompt,
        )
        result = self.generator.generate(request)
        data = _as_jpeg(result, self.generator.name)
        made_from = {
            "prompt": prompt,
            "negative_prompt": negative_prompt,
            "seed": result.seed,
            "generator": self.generator.name,
        }
        filename, key = self._upload_and_record(manifest, actor_name, data, made_from)
        image = GeneratedImage(
            filename=filename,
            s3_url=self.store.url_for(key),
            size_mb=size_mb(len(data)),
            seed=result.seed,
            prompt=prompt,
            generator=self.generator.name,
            metadata_error=self._record_metadata(
                actor_name, filename, prompt, negative_prompt, result
            ),
        )
        log.info(
            "[S3-ONLY] Generated %s for actor %s (%.2f MB, seed %s): %s",
            filename,
            manifest.character_id,
            image.size_mb,
            image.seed,
            image.s3_url,
        )
        return image

    def _manifest(self, actor_id: str | int) -> TrainingDataManifest:
        return self.catalog.manifest(str(actor_id))

    def _read_base_image(self, actor_name: str) -> bytes | None:
        base = self.base_image(actor_name)
        if base is None:
            return None
        try:
            return base.read()
        except OSError as exc:
            raise GeneratorError(f"base image {base}: cannot be read: {exc.strerror}") from exc

    def _upload_and_record(
        self, manifest: TrainingDataManifest, actor_name: str, data: bytes, made_from: dict
    ) -> tuple[str, str]:
        """Claim the next free name by uploading with If-None-Match, then add it to the manifest.

        The intent to upload is recorded before each upload (``uploads_in_progress.json``) and
        ended on every way out but a kill, which leaves it for the next run to finish."""
        journal = UploadJournal.for_actor(self.documents, actor_name)
        # Re-read: a slow generator gives other windows time to add images.
        taken = {entry.filename for entry in manifest.load().get_all_images()}
        listed_s3 = False
        number = _next_number(actor_name, taken | self._claimed_names(actor_name))
        for _attempt in range(MAX_NAME_ATTEMPTS):
            filename = check_filename(f"{actor_name}_{number}.jpg")
            if filename in taken or not self._claim(actor_name, filename):
                number += 1
                continue
            key = self.store.key_for(actor_name, filename)
            intent = self._begin_upload(journal, filename, key, made_from)
            try:
                self.store.put_new(key, data, JPEG_MIME)
            except ObjectExistsError:
                self._end_upload(journal, intent)
                log.info("[S3-ONLY] %s already exists in S3; taking the next number", key)
                if not listed_s3:
                    # Objects the manifest does not list (e.g. left by another tool): skip them all.
                    listed_s3 = True
                    taken |= self._names_in_s3(actor_name)
                number = max(number + 1, _next_number(actor_name, taken))
                continue
            except BaseException:
                self._end_upload(journal, intent)
                raise
            finally:
                self._release(actor_name, filename)
            try:
                manifest.add_image(
                    filename,
                    self.store.url_for(key),
                    size_mb=size_mb(len(data)),
                    modified_date=manifest_now(self._clock),
                )
            except DuplicateImageError:
                # A stale entry for a name S3 did not have: ours must not stay behind it.
                self._delete_quietly(key)
                self._end_upload(journal, intent)
                taken.add(filename)
                number += 1
                continue
            except BaseException:
                self._delete_quietly(key)
                self._end_upload(journal, intent)
                raise
            return filename, key
        raise GeneratorError(
            f"actor {actor_name}: no free image name after {MAX_NAME_ATTEMPTS} attempts "
            f"(last tried {actor_name}_{number - 1}.jpg)"
        )

    def _begin_upload(
        self, journal: UploadJournal, filename: str, key: str, made_from: dict
    ) -> UploadIntent | None:
        """Record the intent to upload ``key``; a journal that cannot be written is logged and
        the generation goes on (it only loses the safety net for a kill)."""
        intent = UploadIntent(
            filename=filename,
            key=key,
            started_at=manifest_now(self._clock),
            host=this_host(),
            pid=os.getpid(),
            **made_from,
        )
        try:
            journal.begin(intent)
        except (TdmError, OSError) as exc:
            log.warning("[S3-ONLY] Upload of %s not recorded as in progress: %s", filename, exc)
            return None
        return intent

    def _end_upload(self, journal: UploadJournal, intent: UploadIntent | None) -> None:
        if intent is None:
            return
        try:
            journal.end([intent.filename])
        except (TdmError, OSError) as exc:
            log.warning("[S3-ONLY] %s still recorded as in progress: %s", intent.filename, exc)

    def _names_in_s3(self, actor_name: str) -> set[str]:
        prefix = f"{TRAINING_DATA_PREFIX}/{check_actor_name(actor_name)}/"
        return {key[len(prefix) :] for key in self.store.list_keys(prefix)}

    def _claim(self, actor_name: str, filename: str) -> bool:
        with self._claim_lock:
            if (actor_name, filename) in self._claimed:
                return False
            self._claimed.add((actor_name, filename))
            return True

    def _release(self, actor_name: str, filename: str) -> None:
        with self._claim_lock:
            self._claimed.discard((actor_name, filename))

    def _claimed_names(self, actor_name: str) -> set[str]:
        with self._claim_lock:
            return {name for actor, name in self._claimed if actor == actor_name}

    def _delete_quietly(self, key: str) -> None:
        try:
            report = self.store.delete_keys([key])
        except TdmError as exc:
            log.error("[S3-ONLY] Could not delete %s after a failed manifest update: %s", key, exc)
            return
        if key in report.failed:
            log.error(
                "[S3-ONLY] Could not delete %s after a failed manifest update: %s",
                key,
                report.failed[key],
            )
        else:
            log.info("[S3-ONLY] Deleted %s again: the manifest update failed", key)

    def _record_metadata(
        self,
        actor_name: str,
        filename: str,
        prompt: str,
        negative_prompt: str,
        result: GenerationResult,
    ) -> str | None:
        try:
            self.catalog.prompt_metadata(actor_name).record_generation(
                filename,
                prompt=prompt,
                seed=result.seed,
                generator=self.generator.name,
                negative_prompt=negative_prompt,
                generated_at=manifest_now(self._clock),
            )
        except TdmError as exc:
            # The intent stays: a later run records the prompt once the file can be written.
            log.warning("[S3-ONLY] %s is in S3 and the manifest, but %s", filename, exc)
            return str(exc)
        journal = UploadJournal.for_actor(self.documents, actor_name)
        try:
            journal.end([filename])
        except (TdmError, OSError) as exc:
            log.warning("[S3-ONLY] %s still recorded as in progress: %s", filename, exc)
        return None

    # ---- many images -------------------------------------------------------------------------

    def generate_all(
        self,
        actor_id: str | int,
        prompts: Sequence[str],
        seed: int | None = None,
        concurrency: int = 1,
        on_progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
        negative_prompt: str = "",
    ) -> GenerationReport:
        """One image per prompt. A failing prompt does not stop the others.

        ``should_stop()`` is checked before each new image (images in flight finish); prompts not
        started are reported as cancelled. ``on_progress(done, failed, total, last)`` is called
        from the worker thread after each image (``last`` is None when that prompt failed).
        """
        if concurrency < 1:
            raise BadInputError(f"concurrency {concurrency}: must be at least 1")
        prompts = list(prompts)
        if prompts:
            self._recover_quietly(actor_id)
        total = len(prompts)
        outcomes: list[GeneratedImage | str | None] = [None] * total
        lock = threading.Lock()
        stopped = threading.Event()
        counts = {"done": 0, "failed": 0}

        def run(index: int) -> None:
            if stopped.is_set() or (should_stop is not None and should_stop()):
                stopped.set()
                return
            prompt = prompts[index]
            last: GeneratedImage | None = None
            try:
                last = self._generate_one(actor_id, prompt, seed, negative_prompt)
                outcome: GeneratedImage | str = last
            except TdmError as exc:
                log.error("[S3-ONLY] Generation failed for prompt %r: %s", prompt, exc)
                outcome = str(exc)
            except Exception as exc:
                log.exception("[S3-ONLY] Generation failed for prompt %r", prompt)
                outcome = f"{type(exc).__name__}: {exc}"
            with lock:
                outcomes[index] = outcome
                counts["done" if last is not None else "failed"] += 1
                if on_progress is not None:
                    try:
                        on_progress(counts["done"], counts["failed"], total, last)
                    except Exception:
                        log.exception("generation progress callback failed")

        if concurrency == 1:
            for index in range(total):
                run(index)
        else:
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="tdm-gen") as pool:
                for future in [pool.submit(run, index) for index in range(total)]:
                    future.result()
        report = GenerationReport()
        for prompt, outcome in zip(prompts, outcomes, strict=True):
            if isinstance(outcome, GeneratedImage):
                report.generated.append(outcome)
            elif isinstance(outcome, str):
                report.failed.append((prompt, outcome))
            else:
                report.cancelled.append(prompt)
        log.info(
            "[S3-ONLY] Generated %d of %d images (%d failed, %d cancelled)",
            len(report.generated),
            total,
            len(report.failed),
            len(report.cancelled),
        )
        return report


def _next_number(actor_name: str, taken: Iterable[str]) -> int:
    pattern = re.compile(rf"{re.escape(actor_name)}_(\d+)\.(?:jpe?g|png)", re.IGNORECASE)
    numbers = [int(m.group(1)) for name in taken if (m := pattern.fullmatch(name))]
    return max(numbers) + 1 if numbers else 0


def _as_jpeg(result: GenerationResult, generator_name: str) -> bytes:
    """The generator's bytes if they are JPEG, else re-encoded to JPEG (alpha on white)."""
    data = result.image_bytes
    if result.mime == JPEG_MIME and data.startswith(b"\xff\xd8\xff"):
        return data
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
            else:
                flat = image.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise GeneratorError(
            f"generator {generator_name}: its {result.mime} answer is not a readable image"
        ) from exc
    out = io.BytesIO()
    flat.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
