"""The limit: a plain thread pool doing the app's GET and scaled decode, no window, no queue.

Run by ``grid_load.py`` in its own process (so RSS and the GIL are its own). Each worker calls
``S3Store.get_bytes`` then ``decode_image`` (``QImageReader.setScaledSize``) at the grid's
default request size. Images per second over all N, for each worker count; the best is the limit.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QGuiApplication

from bench_common import emit, store_from_env
from bench_dataset import object_key
from tdm_desktop.ui.common.images import decode_image


def measure(images: int, sample: int, workers: int, size: int) -> dict[str, float]:
    store = store_from_env(workers)
    keys = [object_key(i % sample) for i in range(images)]

    def one(key: str) -> int:
        return decode_image(store.get_bytes(key), size).width()

    store.get_bytes(keys[0])  # connect and sign once outside the clock
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        decoded = sum(1 for width in pool.map(one, keys) if width > 0)
    seconds = time.perf_counter() - began
    return {"workers": workers, "decoded": decoded, "seconds": seconds, "ips": decoded / seconds}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, required=True)
    parser.add_argument("--sample", type=int, required=True)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--workers", default="4,8,16")
    args = parser.parse_args()
    _app = QGuiApplication([])  # image plugins (JPEG) are found through the application
    runs = [measure(args.images, args.sample, int(w), args.size) for w in args.workers.split(",")]
    best = max(runs, key=lambda run: run["ips"])
    emit({"limit_ips": best["ips"], "limit_workers": best["workers"], "runs": runs})


if __name__ == "__main__":
    main()
