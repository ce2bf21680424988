"""The benchmark's data: synthetic 1024×1024 JPEGs on the bundled local S3, and their manifest.

Everything lives under ``platformdirs.user_cache_dir("tdm-desktop")/bench`` and is reused between
runs: the local S3's own data (``s3/``), the data dir with the manifests (``data/``). Only objects
that are missing are generated and uploaded. Images are deterministic from their index, so a
missing one is redrawn exactly.

A run with more images than ``--sample`` real objects lists manifest rows over the sample: row ``i``
names ``bench_{i}.jpg`` and the loader's fetch reads object ``bench_{i % sample}.jpg`` (see
``sample_key``). That keeps 100,000-image runs to a few hundred MB of S3 data.
"""

from __future__ import annotations

import contextlib
import io
import logging
import random
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from PIL import Image, ImageDraw

from tdm_desktop.core.errors import ObjectExistsError
from tdm_desktop.core.jsonfile import atomic_write_bytes, dump_json
from tdm_desktop.core.s3_store import S3Store

log = logging.getLogger("bench.dataset")

BENCH_ACTOR_ID = "0901"
BENCH_ACTOR_NAME = "0901_bench_grid"
IDLE_ACTOR_ID = "0001"  # opened first, so selecting the bench actor is a user's click
IDLE_ACTOR_NAME = "0001_bench_idle"
IMAGE_PX = 1024
MIN_BYTES, MAX_BYTES = 150 * 1024, 400 * 1024
MODIFIED = "2026-01-01T00:00:00.000000"


@dataclass(frozen=True)
class BenchLayout:
    """Where the benchmark keeps its reusable state."""

    root: Path

    @property
    def s3_dir(self) -> Path:
        return self.root / "s3"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"


def default_layout() -> BenchLayout:
    return BenchLayout(Path(platformdirs.user_cache_dir("tdm-desktop")) / "bench")


def filename(index: int) -> str:
    return f"bench_{index:06d}.jpg"


def object_key(index: int) -> str:
    return f"system_actors/training_data/{BENCH_ACTOR_NAME}/{filename(index)}"


def sample_key(key: str, sample: int) -> str:
    """The real object behind manifest row ``key`` when only ``sample`` objects exist."""
    prefix, name = key.rsplit("/", 1)
    index = int(name.removeprefix("bench_").removesuffix(".jpg"))
    return f"{prefix}/{filename(index % sample)}"


def draw_image(index: int) -> bytes:
    """A deterministic 1024×1024 JPEG of 150–400 KB: shapes and colours vary with ``index``."""
    rng = random.Random(index)
    sigma = rng.uniform(12, 55)
    for _attempt in range(6):
        data = _render(random.Random(index), sigma)
        if len(data) < MIN_BYTES:
            sigma *= 1.35
        elif len(data) > MAX_BYTES:
            sigma *= 0.75
        else:
            return data
    return data


def _render(rng: random.Random, sigma: float) -> bytes:
    def colour() -> tuple[int, int, int]:
        return (rng.randrange(256), rng.randrange(256), rng.randrange(256))

    image = Image.new("RGB", (IMAGE_PX, IMAGE_PX), colour())
    pen = ImageDraw.Draw(image)
    for _ in range(rng.randint(20, 70)):
        x0, y0 = rng.randrange(IMAGE_PX), rng.randrange(IMAGE_PX)
        box = (x0, y0, x0 + rng.randrange(20, 500), y0 + rng.randrange(20, 500))
        kind = rng.random()
        if kind < 0.4:
            pen.ellipse(box, fill=colour())
        elif kind < 0.8:
            pen.rectangle(box, fill=colour())
        else:
            pen.line(box, fill=colour(), width=rng.randint(2, 30))
    noise = Image.effect_noise((IMAGE_PX, IMAGE_PX), sigma).convert("RGB")
    image = Image.blend(image, noise, 0.25)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def upload_missing(store: S3Store, count: int, workers: int = 2) -> int:
    """Make sure objects ``0 .. count-1`` exist; draw and upload the missing ones. Returns how many."""
    prefix = f"system_actors/training_data/{BENCH_ACTOR_NAME}/"
    present = set(store.list_keys(prefix))
    missing = [i for i in range(count) if object_key(i) not in present]
    if not missing:
        return 0
    log.info("drawing and uploading %d missing benchmark images", len(missing))
    with (
        ProcessPoolExecutor(max_workers=workers) as drawers,
        ThreadPoolExecutor(max_workers=8) as uploaders,
    ):
        uploads = [
            uploaders.submit(_put, store, object_key(i), data)
            for i, data in zip(missing, drawers.map(draw_image, missing, chunksize=8), strict=True)
        ]
        for done, future in enumerate(uploads, start=1):
            future.result()
            if done % 200 == 0:
                log.info("uploaded %d / %d", done, len(missing))
    return len(missing)


def _put(store: S3Store, key: str, data: bytes) -> None:
    with contextlib.suppress(ObjectExistsError):  # a run that was interrupted uploaded it
        store.put_new(key, data, "image/jpeg")


def write_manifests(layout: BenchLayout, store: S3Store, rows: int, sizes: Iterable[int]) -> None:
    """The bench actor's manifest with ``rows`` rows (production-style URLs), and an empty idle actor;
    no flags.

    Written in one go in the seed's structure (``add_image`` per row would rewrite the file
    ``rows`` times). ``sizes`` gives each real object's size in bytes, cycled over the rows.
    """
    sizes = list(sizes) or [250 * 1024]
    items = [
        {
            "filename": filename(i),
            "s3_url": store.aws_url_for(object_key(i)),
            "size_mb": round(sizes[i % len(sizes)] / 1024 / 1024, 2),
            "modified_date": MODIFIED,
        }
        for i in range(rows)
    ]
    _write_manifest(layout, BENCH_ACTOR_ID, BENCH_ACTOR_NAME, items)
    _write_manifest(layout, IDLE_ACTOR_ID, IDLE_ACTOR_NAME, [])
    for name in (BENCH_ACTOR_NAME, IDLE_ACTOR_NAME):
        (layout.data_dir / "actors" / name).mkdir(parents=True, exist_ok=True)
    reset_flags(layout)


def reset_flags(layout: BenchLayout) -> None:
    """Forget the flags an app run's keys phase wrote: the next run starts unreviewed."""
    for name in (BENCH_ACTOR_NAME, IDLE_ACTOR_NAME):
        (layout.data_dir / "actors" / name / "prompt_metadata.json").unlink(missing_ok=True)


def _write_manifest(layout: BenchLayout, actor_id: str, name: str, items: list[dict]) -> None:
    path = layout.data_dir / "actor_manifests" / f"{actor_id}_manifest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "character_id": actor_id,
        "character_name": name,
        "training_data": items,
        "training_data_updated": MODIFIED,
        "statistics": {
            "training_images_count": len(items),
            "training_data_size_mb": round(sum(item["size_mb"] for item in items), 2),
        },
    }
    atomic_write_bytes(path, dump_json(document))
