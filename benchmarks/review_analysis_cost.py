"""What the quality checks and the near-duplicate hash cost per image, next to a decode alone.

One 1024×1024 JPEG of 200-300 KB (the demo's placeholder picture at quality 92), each step
timed ``--repeat`` times in this one process, the steps taking turns (CPU time of the thread,
the figure that bounds a decode worker, and wall time; ms per image):

- ``qt_thumbnail_160``: what the window's decode workers do today (``decode_image`` at the
  default 160 px thumbnail; ``QImageReader.setScaledSize``, a DCT-scaled JPEG decode);
- ``qt_decode_256``: the same decode at the analysis size (256 px), what a worker would do to
  get pixels for the checks;
- ``qt_gray_array``: that QImage to a grayscale numpy array;
- ``qt_scale_256_to_160``: that QImage scaled (smooth) to the 160 px tile;
- ``measure``, ``hash``: ``measure_quality`` and ``perceptual_hash`` on the 256 px array;
- ``pillow_draft_decode``: the CLI's ``decode_for_analysis`` (Pillow draft mode, grayscale);
- ``pillow_full_decode``: a full-size RGB decode, for scale.

Then the ratios that matter for the window (CPU time): the checks + hash against the thumbnail
decode.
Run: ``.venv/bin/python benchmarks/review_analysis_cost.py [--repeat 300]``; the last line is
one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from tdm_desktop.core.generator import GenerationRequest
from tdm_desktop.core.near_duplicates import perceptual_hash
from tdm_desktop.core.pixels import analysis_image, decode_for_analysis
from tdm_desktop.core.quality import measure_quality
from tdm_desktop.generators.placeholder import PlaceholderGenerator
from tdm_desktop.ui.common.images import decode_image


def sample_jpeg() -> bytes:
    result = PlaceholderGenerator(quality=92).generate(
        GenerationRequest(prompt="portrait photo of a 30 year old european man", seed=7)
    )
    return result.image_bytes


def gray_array(image: QImage) -> np.ndarray:
    gray = image.convertToFormat(QImage.Format.Format_Grayscale8)
    rows = np.frombuffer(gray.constBits(), dtype=np.uint8).reshape(
        gray.height(), gray.bytesPerLine()
    )
    return rows[:, : gray.width()].copy()


def timed(steps: dict[str, Callable[[], object]], repeat: int) -> dict[str, dict[str, float]]:
    """Each step's CPU time (this thread's: what a decode worker spends) and wall time per call.
    The steps take turns, so a busy machine slows them alike and their ratios stay honest."""
    for step in steps.values():
        step()  # warm up (imports, caches)
    cpu: dict[str, list[float]] = {name: [] for name in steps}
    wall: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeat):
        for name, step in steps.items():
            start_cpu, start_wall = time.thread_time(), time.perf_counter()
            step()
            cpu[name].append((time.thread_time() - start_cpu) * 1000)
            wall[name].append((time.perf_counter() - start_wall) * 1000)
    return {
        name: {
            "cpu_median_ms": round(statistics.median(cpu[name]), 3),
            "wall_median_ms": round(statistics.median(wall[name]), 3),
            "wall_p90_ms": round(sorted(wall[name])[int(repeat * 0.9) - 1], 3),
        }
        for name in steps
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    data = sample_jpeg()
    qimage = decode_image(data, 256)
    gray = gray_array(qimage)
    pixels = analysis_image(gray, 1024, 1024)

    steps = {
        "qt_thumbnail_160": lambda: decode_image(data, 160),
        "qt_decode_256": lambda: decode_image(data, 256),
        "qt_gray_array": lambda: gray_array(qimage),
        "qt_scale_256_to_160": lambda: qimage.scaled(
            160, 160, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
        ),
        "measure": lambda: measure_quality(pixels),
        "hash": lambda: perceptual_hash(pixels),
        "analysis_from_qt_pixels": lambda: (
            measure_quality(p := analysis_image(gray_array(qimage), 1024, 1024)),
            perceptual_hash(p),
        ),
        "pillow_draft_decode": lambda: decode_for_analysis(data),
        "pillow_full_decode": lambda: Image.open(io.BytesIO(data)).convert("RGB"),
    }
    figures: dict[str, object] = {
        "jpeg_kb": round(len(data) / 1024, 1),
        "size": "1024x1024",
        "repeat": args.repeat,
    }
    for name, result in timed(steps, args.repeat).items():
        figures[name] = result
        print(f"{name}: {result}", file=sys.stderr)

    def median(name: str) -> float:
        return figures[name]["cpu_median_ms"]  # type: ignore[index]

    analysis = median("analysis_from_qt_pixels")
    figures["analysis_vs_thumbnail_decode"] = round(analysis / median("qt_thumbnail_160"), 3)
    figures["decode_256_analyse_scale_vs_thumbnail_decode"] = round(
        (median("qt_decode_256") + analysis + median("qt_scale_256_to_160"))
        / median("qt_thumbnail_160"),
        3,
    )
    figures["cli_per_image_ms"] = round(
        median("pillow_draft_decode") + median("measure") + median("hash"), 3
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
