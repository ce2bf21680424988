"""Thumbnail decode: ``simplejpeg`` (libjpeg-turbo with SIMD, DCT scaling) against ``QImageReader``.

The app's two JPEG paths of ``ui/common/images.py``, each as the loader's workers call it:
``decode_with_qt`` (``QImageReader.setScaledSize``, which lets Qt's bundled libjpeg scale in the
DCT) and ``decode_jpeg`` (``simplejpeg.decode_jpeg(min_width=, min_height=)``, the largest DCT
scale still at least the size, then ``QImage.scaled`` smooth to the exact size and the EXIF
turn), both giving the ``QImage`` the loader hands to the GUI thread. On the benchmark's own
1024×1024 JPEGs (``bench_dataset.draw_image``, kept to 200–300 KB), at the sizes the slider
offers (64–512 px; 160 is the default) and at full size (``full``: the preview).

Figures, per decoder and size: ms per image on one thread (median of the images' best-of-3, the
decoders taking turns on each image), and images/s on 1 and 2 threads over the whole set (a
thread pool, like the loader's workers). Whether a decoder releases the GIL: the main thread
sleeps 1 ms again and again while one worker decodes nonstop; the median delay past 1 ms is
about half a decode if the decode holds the GIL, about nothing if it releases it (next to the
same figure for work known to release it, sha256, and known to hold it, a Python loop). The two
outputs are compared too (mean absolute difference per channel, 0–255).

    python benchmarks/decode.py [--images 24] [--sizes 64,96,128,160,256,384,512]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from PySide6.QtGui import QGuiApplication, QImage

from bench_common import emit, wake_delay_ms
from bench_dataset import draw_image
from tdm_desktop.ui.common.images import decode_jpeg, decode_with_qt

try:
    import simplejpeg
except ImportError:  # a platform without its wheel: only Qt is measured
    simplejpeg = None

Decoder = Callable[[bytes, int | None], QImage]
MIN_BYTES, MAX_BYTES = 200 * 1024, 300 * 1024


def simplejpeg_decode(data: bytes, size: int | None) -> QImage:
    """The app's own simplejpeg path (``decode_jpeg``: DCT scale, smooth fit, EXIF turn)."""
    image = decode_jpeg(data, size)
    if image is None:
        raise ValueError("simplejpeg refused a benchmark JPEG")
    return image


DECODERS: dict[str, Decoder] = {"qimagereader": decode_with_qt}
if simplejpeg is not None:
    DECODERS["simplejpeg"] = simplejpeg_decode


def sample_images(count: int) -> list[bytes]:
    """``count`` of the benchmark's JPEGs of 200–300 KB (drawn deterministically)."""
    images: list[bytes] = []
    index = 0
    while len(images) < count and index < count * 20:
        data = draw_image(index)
        if MIN_BYTES <= len(data) <= MAX_BYTES:
            images.append(data)
        index += 1
    return images


def paired_ms(images: list[bytes], size: int | None) -> dict[str, float]:
    """Per decoder, the median over the images of each one's best of 3 decodes, in ms.

    The decoders take turns on each image, so a busy neighbour on the machine slows them alike.
    """
    best: dict[str, list[float]] = {name: [] for name in DECODERS}
    for data in images:
        times: dict[str, list[float]] = {name: [] for name in DECODERS}
        for _ in range(3):
            for name, decode in DECODERS.items():
                began = time.perf_counter()
                decode(data, size)
                times[name].append(time.perf_counter() - began)
        for name in DECODERS:
            best[name].append(min(times[name]))
    return {name: statistics.median(values) * 1000 for name, values in best.items()}


def throughput(
    decode: Decoder, images: list[bytes], size: int | None, threads: int, rounds: int
) -> float:
    """Images per second decoding ``rounds`` passes over ``images`` on ``threads`` threads."""
    work = images * rounds
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(lambda d: decode(d, size), images[:threads]))  # warm the threads
        began = time.perf_counter()
        list(pool.map(lambda d: decode(d, size), work))
        seconds = time.perf_counter() - began
    return len(work) / seconds


def _hash_nonstop(data: bytes, _size: int) -> object:
    return hashlib.sha256(data * 4).digest()  # hashlib releases the GIL on large inputs


def _python_nonstop(data: bytes, _size: int) -> object:
    return sum(data[:20_000])  # holds the GIL, yielding it at Python's switch interval (5 ms)


# Two references for the GIL test on a busy machine, where another process may take the second
# core: work that releases the GIL and work that holds it.
GIL_REFERENCES: dict[str, Decoder] = {
    "reference_releases_gil": _hash_nonstop,
    "reference_holds_gil": _python_nonstop,
}


def mean_abs_difference(a: QImage, b: QImage) -> float | None:
    """Mean absolute difference per channel (0–255) of two images of the same size."""
    if a.size() != b.size():
        return None
    a = a.convertToFormat(QImage.Format.Format_RGB888)
    b = b.convertToFormat(QImage.Format.Format_RGB888)
    pa, pb = bytes(a.constBits()), bytes(b.constBits())
    return sum(abs(x - y) for x, y in zip(pa, pb, strict=True)) / len(pa)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=24, help="JPEGs of 200–300 KB (24)")
    parser.add_argument("--sizes", default="64,96,128,160,256,384,512,full")
    parser.add_argument("--rounds", type=int, default=4, help="passes over the set per throughput")
    args = parser.parse_args(argv)
    _app = QGuiApplication([sys.argv[0]])  # Qt's image plugins are found through the application
    sizes = [None if s == "full" else int(s) for s in args.sizes.split(",")]
    images = sample_images(args.images)
    figures: dict[str, dict[str, dict[str, float]]] = {name: {} for name in DECODERS}
    for size in sizes:
        ms = paired_ms(images, size)
        for name, decode in DECODERS.items():
            ips1 = throughput(decode, images, size, 1, args.rounds)
            ips2 = throughput(decode, images, size, 2, args.rounds)
            figures[name][str(size or "full")] = {
                "ms_per_image": round(ms[name], 3),
                "ips_1_thread": round(ips1, 1),
                "ips_2_threads": round(ips2, 1),
                "scaling_2_threads": round(ips2 / ips1, 2),
            }
            label = str(size or "full")
            print(f"{name:>12} {label:>4} px: {figures[name][label]}", file=sys.stderr)
    result: dict[str, object] = {
        "images": len(images),
        "mean_kb": round(sum(map(len, images)) / len(images) / 1024, 1),
        "source_px": 1024,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "simplejpeg": getattr(simplejpeg, "__version__", None),
        "decoders": figures,
        "gil_wake_delay_ms": {
            "nothing": round(wake_delay_ms(None), 3),
            **{
                name: round(wake_delay_ms(lambda d=decode: [d(x, 160) for x in images]), 3)
                for name, decode in {**DECODERS, **GIL_REFERENCES}.items()
            },
        },
    }
    if simplejpeg is not None:
        result["speedup"] = {
            size: round(
                figures["qimagereader"][size]["ms_per_image"]
                / figures["simplejpeg"][size]["ms_per_image"],
                2,
            )
            for size in figures["qimagereader"]
        }
        result["mean_abs_difference_160"] = round(
            statistics.mean(
                mean_abs_difference(decode_with_qt(d, 160), simplejpeg_decode(d, 160)) or 0
                for d in images[:4]
            ),
            2,
        )
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
