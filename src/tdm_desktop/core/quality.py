"""Quality checks of a training image: blurry, too dark, too light, low information, odd aspect
ratio, smaller than the training resolution.

Two steps, so a threshold can change (a setting) without decoding anything again:

- ``measure_quality(image) -> QualityMeasures``: numbers from an ``AnalysisImage`` (the 256 px
  grayscale copy of ``core.pixels`` plus the original size), about 1 ms an image;
- ``quality_findings(measures, thresholds) -> list[QualityFinding]``: which checks fail, each with
  the measured value and the threshold it crossed.

What is measured (on the 256 px copy, so every image is measured at one scale):

| check | measure | flagged when (default) |
|---|---|---|
| ``blurry`` | variance of the 4-neighbour Laplacian (edge strength) | < 100 |
| ``too_dark`` | mean brightness, 0–255 | < 40 |
| ``too_light`` | mean brightness, 0–255 | > 215 |
| ``low_information`` | entropy of the brightness histogram, bits (0–8) | < 4.0 |
| ``odd_aspect`` | long side / short side of the original | > 2.0 |
| ``too_small`` | short side of the original, pixels | < the training resolution (1024) |

The defaults come from measurements on photographs and on the demo's images, and on blurred,
darkened, lightened and flattened copies of them; ``benchmarks/quality_thresholds.py`` prints
those figures (see docs/REVIEW.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tdm_desktop.core.pixels import AnalysisImage

BLURRY = "blurry"
TOO_DARK = "too_dark"
TOO_LIGHT = "too_light"
LOW_INFORMATION = "low_information"
ODD_ASPECT = "odd_aspect"
TOO_SMALL = "too_small"
NOT_AN_IMAGE = "not_an_image"

_LEVELS = np.arange(256)
CHECKS = (BLURRY, TOO_DARK, TOO_LIGHT, LOW_INFORMATION, ODD_ASPECT, TOO_SMALL)
DEFAULT_TRAINING_RESOLUTION = 1024


@dataclass(frozen=True)
class QualityThresholds:
    """Where each check starts to flag. ``training_resolution``: the short side a training image
    needs (kohya's ``resolution``; an image smaller than it is upscaled by the trainer)."""

    min_sharpness: float = 100.0
    min_brightness: float = 40.0
    max_brightness: float = 215.0
    min_entropy: float = 4.0
    max_aspect: float = 2.0
    training_resolution: int = DEFAULT_TRAINING_RESOLUTION


@dataclass(frozen=True)
class QualityMeasures:
    """The numbers the checks compare (see the module's table)."""

    width: int
    height: int
    sharpness: float  # variance of the Laplacian on the 256 px copy
    brightness: float  # mean, 0-255
    entropy: float  # bits, 0-8
    aspect: float  # long side / short side, >= 1

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)


@dataclass(frozen=True)
class QualityFinding:
    """One failed check: ``check`` (one of ``CHECKS``), the measured ``value`` and the
    ``threshold`` it is below (``blurry``, ``too_dark``, ``low_information``, ``too_small``) or
    above (``too_light``, ``odd_aspect``)."""

    check: str
    value: float
    threshold: float

    @property
    def message(self) -> str:
        """What a tooltip or the CLI says, e.g. ``blurry: sharpness 35 < 100``."""
        return _MESSAGES[self.check](self.value, self.threshold)


_MESSAGES = {
    BLURRY: lambda v, t: f"blurry: sharpness {v:.0f} < {t:.0f}",
    TOO_DARK: lambda v, t: f"too dark: brightness {v:.0f} < {t:.0f}",
    TOO_LIGHT: lambda v, t: f"too light: brightness {v:.0f} > {t:.0f}",
    LOW_INFORMATION: lambda v, t: f"low information: entropy {v:.1f} bits < {t:.1f}",
    ODD_ASPECT: lambda v, t: f"odd aspect ratio: {v:.2f}:1 > {t:.2f}:1",
    TOO_SMALL: lambda v, t: f"too small: short side {v:.0f} px < {t:.0f}",
}


def measure_quality(image: AnalysisImage) -> QualityMeasures:
    gray = image.gray
    if min(gray.shape) >= 3:
        g = gray.astype(np.int16)  # a Laplacian of uint8 values fits in int16 (±1020)
        laplacian = g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:] - 4 * g[1:-1, 1:-1]
        sharpness = float(laplacian.astype(np.float32).var())
    else:
        sharpness = 0.0
    counts = np.bincount(gray.ravel(), minlength=256)
    share = counts[counts > 0] / gray.size
    entropy = float(-(share * np.log2(share)).sum()) + 0.0  # + 0.0: no "-0.0" for a flat image
    width, height = image.width, image.height
    return QualityMeasures(
        width=width,
        height=height,
        sharpness=sharpness,
        brightness=float(counts @ _LEVELS) / gray.size,
        entropy=entropy,
        aspect=max(width, height) / min(width, height),
    )


def quality_findings(
    measures: QualityMeasures, thresholds: QualityThresholds | None = None
) -> list[QualityFinding]:
    """The checks ``measures`` fail, in the order of ``CHECKS``."""
    t = thresholds or QualityThresholds()
    findings = []
    if measures.sharpness < t.min_sharpness:
        findings.append(QualityFinding(BLURRY, measures.sharpness, t.min_sharpness))
    if measures.brightness < t.min_brightness:
        findings.append(QualityFinding(TOO_DARK, measures.brightness, t.min_brightness))
    if measures.brightness > t.max_brightness:
        findings.append(QualityFinding(TOO_LIGHT, measures.brightness, t.max_brightness))
    if measures.entropy < t.min_entropy:
        findings.append(QualityFinding(LOW_INFORMATION, measures.entropy, t.min_entropy))
    if measures.aspect > t.max_aspect:
        findings.append(QualityFinding(ODD_ASPECT, measures.aspect, t.max_aspect))
    if measures.short_side < t.training_resolution:
        findings.append(QualityFinding(TOO_SMALL, measures.short_side, t.training_resolution))
    return findings
