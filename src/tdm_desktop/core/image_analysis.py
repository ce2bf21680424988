"""Quality checks and near-duplicate hashes for an actor's images, from one small decode each.

``analyze_pixels(image)`` is the whole per-image cost once pixels exist (the window's decode
workers call it with the grayscale copy they make anyway); ``analyze_bytes`` decodes first (the
CLI). ``ImageAnalysisService.analyze_actor`` fetches every image of an actor through the
configured S3 client, in a few threads, and analyses each: ``tdm-desktop check`` and
``tdm-desktop duplicates`` print what it returns.

An image that cannot be decoded is a finding (``not_an_image``), never an exception; one that
cannot be fetched (or has a foreign URL, which is never fetched) has ``fetch_error`` set.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tdm_desktop.core.errors import TdmError, one_line
from tdm_desktop.core.near_duplicates import (
    DEFAULT_THRESHOLD,
    DuplicateGroup,
    group_near_duplicates,
    perceptual_hash,
)
from tdm_desktop.core.pixels import AnalysisImage, NotAnImageError, decode_for_analysis
from tdm_desktop.core.quality import (
    NOT_AN_IMAGE,
    QualityFinding,
    QualityMeasures,
    QualityThresholds,
    measure_quality,
    quality_findings,
)
from tdm_desktop.core.training_data import ActorTrainingData, TrainingDataService, TrainingImage

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 8


@dataclass(frozen=True)
class ImageAnalysis:
    """What the checks found out about one image. Exactly one of: ``measures`` and ``phash``
    (decoded), ``not_an_image`` (fetched, not decodable: why), ``fetch_error`` (not fetched)."""

    filename: str
    measures: QualityMeasures | None = None
    phash: int | None = None
    not_an_image: str | None = None
    fetch_error: str | None = None

    def findings(self, thresholds: QualityThresholds | None = None) -> list[QualityFinding]:
        """The failed checks; an undecodable image has the one finding ``not_an_image``."""
        if self.not_an_image is not None:
            return [QualityFinding(NOT_AN_IMAGE, 0, 0)]
        if self.measures is None:
            return []
        return quality_findings(self.measures, thresholds)

    def problems(self, thresholds: QualityThresholds | None = None) -> list[str]:
        """One line per finding, as a tooltip or the CLI shows them."""
        if self.not_an_image is not None:
            return [f"not an image: {self.not_an_image}"]
        return [finding.message for finding in self.findings(thresholds)]


def analyze_pixels(filename: str, image: AnalysisImage) -> ImageAnalysis:
    """Measures and hash from pixels already decoded (no fetch, no decode)."""
    return ImageAnalysis(filename, measures=measure_quality(image), phash=perceptual_hash(image))


def analyze_bytes(filename: str, data: bytes) -> ImageAnalysis:
    """Decode (small) and analyse; undecodable bytes give ``not_an_image``, never an error."""
    try:
        image = decode_for_analysis(data)
    except NotAnImageError as err:
        return ImageAnalysis(filename, not_an_image=str(err))
    return analyze_pixels(filename, image)


@dataclass(frozen=True)
class ActorAnalysis:
    actor: ActorTrainingData
    images: tuple[ImageAnalysis, ...]  # manifest order

    @property
    def fetch_errors(self) -> dict[str, str]:
        return {a.filename: a.fetch_error for a in self.images if a.fetch_error is not None}

    def duplicate_groups(self, threshold: int = DEFAULT_THRESHOLD) -> list[DuplicateGroup]:
        hashes = [(a.filename, a.phash) for a in self.images if a.phash is not None]
        return group_near_duplicates(hashes, threshold)


ProgressCallback = Callable[[int, int, ImageAnalysis], None]  # (done, total, last)


class ImageAnalysisService:
    """Fetches and analyses an actor's images, ``workers`` at a time."""

    def __init__(self, service: TrainingDataService, workers: int = DEFAULT_WORKERS) -> None:
        if workers < 1:
            raise ValueError(f"workers {workers}: must be 1 or more")
        self._service = service
        self._workers = workers

    def analyze_actor(
        self, actor_id: str, on_progress: ProgressCallback | None = None
    ) -> ActorAnalysis:
        actor = self._service.load_actor(actor_id)
        total = len(actor.images)
        done = 0
        lock = threading.Lock()

        def analyse(image: TrainingImage) -> ImageAnalysis:
            nonlocal done
            result = self._analyse_one(image)
            with lock:
                done += 1
                if on_progress is not None:
                    on_progress(done, total, result)
            return result

        with ThreadPoolExecutor(self._workers, thread_name_prefix="tdm-analyse") as pool:
            results = tuple(pool.map(analyse, actor.images))
        log.info("[S3-ONLY] Checked %d images of %s", total, actor.actor_name)
        return ActorAnalysis(actor, results)

    def _analyse_one(self, image: TrainingImage) -> ImageAnalysis:
        try:
            data = self._service.fetch_image_bytes(image)
        except TdmError as err:
            return ImageAnalysis(image.filename, fetch_error=one_line(err))
        return analyze_bytes(image.filename, data)
