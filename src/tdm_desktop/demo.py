"""``tdm-desktop demo``: the bundled local S3 with demo actors, seeded through the same core.

S3-only end to end: the images and the catalog (manifests, prompt metadata, base images) are in
the local S3, the catalog under ``s3://story-boards-assets/catalog``, and the window opens on it
the way it opens any ``s3://`` data dir. Demo images are drawn by the offline ``placeholder``
generator, uploaded through ``S3Store`` (never overwriting) and recorded through
``TrainingDataManifest`` with production-style URLs
(``https://story-boards-assets.s3.amazonaws.com/...``), which the store resolves to the local S3.
Running it again reuses what exists and only fills what is missing. What each image is (the
near-duplicate pairs, a blurred and a too-small image, captions, decisions) is in
``demo_content.py``; captions and decisions are recorded only for images listed now, so a
re-run never undoes what a curator did.

``--curators N`` opens N windows side by side, one per curator (alice, bob, ...), each with its own
settings file (geometry, curator name) under the demo's folder, on the same catalog: a flag in one
shows in the others within the check interval (5 s by default), named with who made it.

Two examples for ``tdm-desktop audit`` and ``migrate``: actor 0521's manifest is written in the
shape of the sync era (local paths, sync status, two entries whose images are gone), once and
never over a migrated one; 0388 has one object its manifest does not list (an orphan).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from tdm_desktop.core.curators import CURATOR_ENV, CuratorChoice
from tdm_desktop.core.data_dirs import DataDirChoice
from tdm_desktop.core.documents import (
    DocumentRef,
    DocumentStore,
    S3Prefix,
    open_documents,
    parse_data_dir,
)
from tdm_desktop.core.errors import DocumentExistsError, ManifestError, ObjectExistsError
from tdm_desktop.core.generator import GenerationRequest, Generator
from tdm_desktop.core.jsonfile import dump_json, parse_json_object
from tdm_desktop.core.layout import base_image_name, manifest_name
from tdm_desktop.core.manifest import TrainingDataManifest, size_mb
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.s3_store import S3Store
from tdm_desktop.core.s3_urls import DEFAULT_BUCKET
from tdm_desktop.core.sync_era import sync_era_keys
from tdm_desktop.core.timestamps import manifest_now
from tdm_desktop.demo_content import DemoImage, demo_image, render, trigger_word

if TYPE_CHECKING:
    from tdm_desktop.ui.app import OpenCatalog, WindowPlan

log = logging.getLogger(__name__)

CATALOG_PREFIX = "catalog"  # the demo catalog: s3://{bucket}/catalog in the local S3
DEMO_CURATOR = "demo"  # who the seeded bad flags say decided them
DEMO_CURATORS = ("alice", "bob", "carol", "dave", "erin", "frank")  # demo --curators N
FROM_DEMO = "the demo"


@dataclass(frozen=True)
class DemoActor:
    actor_id: str
    actor_name: str
    image_count: int


DEMO_ACTORS = (
    DemoActor("0042", "0042_european_30_male", 24),
    DemoActor("0107", "0107_japanese_25_female", 18),
    DemoActor("0213", "0213_african_40_male", 32),
    DemoActor("0388", "0388_latina_35_female", 14),
)


# Two actors that show `tdm-desktop audit` and `migrate` (docs/MIGRATION.md): one whose manifest
# was written before the S3-only change (two of its six entries have no object any more), and an
# object under 0388's prefix that its manifest does not list (an orphan, as a generation killed
# between its upload and its manifest write leaves).
SYNC_ERA_ACTOR = DemoActor("0521", "0521_nordic_28_female", 6)
SYNC_ERA_IN_S3 = (0, 1, 2, 3)
ORPHAN_ACTOR = DEMO_ACTORS[3]
ORPHAN_FILENAME = f"{ORPHAN_ACTOR.actor_name}_{ORPHAN_ACTOR.image_count}.jpg"


def demo_root() -> Path:
    return Path(platformdirs.user_data_dir("tdm-desktop")) / "demo"


def demo_catalog(bucket: str) -> S3Prefix:
    """Where the demo keeps its catalog in the local S3."""
    return S3Prefix(bucket, CATALOG_PREFIX)


def seed_demo(
    data_dir: Path | DocumentStore,
    store: S3Store,
    generator: Generator,
    actors: Sequence[DemoActor] = DEMO_ACTORS,
    workers: int = 2,
) -> int:
    """Create what is missing of the demo actors in ``data_dir`` (a folder or a store). Returns
    the number of images uploaded."""
    documents = open_documents(data_dir, store.client)
    uploaded = 0
    for actor in actors:
        uploaded += _seed_actor(documents, store, generator, actor, workers)
    if actors == DEMO_ACTORS:
        uploaded += _seed_orphan(documents, store, generator)
        uploaded += _seed_sync_era_actor(documents, store, generator)
    return uploaded


def _upload_missing(store: S3Store, generator: Generator, key: str, prompt: str, seed: int) -> int:
    result = generator.generate(GenerationRequest(prompt=prompt, seed=seed))
    try:
        store.put_new(key, result.image_bytes, "image/jpeg")
    except ObjectExistsError:
        return 0
    return 1


def _seed_orphan(documents: DocumentStore, store: S3Store, generator: Generator) -> int:
    """An object under 0388's prefix that its manifest does not list (put back, like every demo
    image, when it is neither listed nor in S3)."""
    manifest = TrainingDataManifest.for_actor(documents, ORPHAN_ACTOR.actor_id).load()
    if manifest.get_image(ORPHAN_FILENAME) is not None:
        return 0
    key = store.key_for(ORPHAN_ACTOR.actor_name, ORPHAN_FILENAME)
    if key in store.list_keys(key):
        return 0
    return _upload_missing(store, generator, key, "an image no manifest lists", 7000)


def _seed_sync_era_actor(documents: DocumentStore, store: S3Store, generator: Generator) -> int:
    """A manifest in the sync-era shape, written once (never over a migrated one)."""
    actor = SYNC_ERA_ACTOR
    ref = DocumentRef(documents, manifest_name(actor.actor_id))
    current = ref.read().data
    exists = current is not None
    if current is not None and not _still_sync_era(ref.url, current):
        return 0  # migrated (or replaced) by the curator: left alone
    prefix = store.actor_prefix(actor.actor_name)
    in_s3 = set(store.list_keys(prefix))
    names = [f"{actor.actor_name}_{index}.jpg" for index in range(actor.image_count)]
    uploaded = sum(
        _upload_missing(store, generator, prefix + names[i], f"sync-era image {i}", 8000 + i)
        for i in SYNC_ERA_IN_S3
        if prefix + names[i] not in in_s3
    )
    if not exists:
        sizes = {obj.key: size_mb(obj.size) for obj in store.list_objects(prefix)}
        entries = [
            _sync_era_entry(actor.actor_name, name, i, store.aws_url_for(prefix + name), sizes)
            for i, name in enumerate(names)
        ]
        document = {
            "character_id": actor.actor_id,
            "character_name": actor.actor_name,
            "training_data": entries,
            "training_data_updated": "2025-09-01T10:00:00.000000",
            "statistics": {
                "training_images_count": len(entries),
                "training_data_size_mb": round(sum(e["size_mb"] for e in entries), 2),
            },
            "sync_status": "out_of_sync",
            "synced_count": 3,
            "local_only_count": 2,
            "s3_only_count": 0,
            "out_of_sync_count": 1,
        }
        with contextlib.suppress(DocumentExistsError):  # another demo wrote it meanwhile
            ref.write(dump_json(document), expected=None)
    return uploaded


def _still_sync_era(url: str, data: bytes) -> bool:
    try:
        return bool(sync_era_keys(parse_json_object(url, data, ManifestError)))
    except ManifestError:
        return False


def _sync_era_entry(
    actor_name: str, filename: str, index: int, url: str, sizes: dict[str, float]
) -> dict:
    """Images 0-2 synced, 3 and 4 local only (no s3_url; 3 is in S3 all the same), 5 out of sync
    (its object is gone)."""
    status = {3: "local_only", 4: "local_only", 5: "out_of_sync"}.get(index, "synced")
    entry: dict = {"filename": filename}
    if status != "local_only":
        entry["s3_url"] = url
    entry |= {
        "size_mb": sizes.get(url.split(".amazonaws.com/", 1)[1], 0.18),
        "modified_date": "2025-09-01T10:00:00.000000",
        "local_path": f"data/actors/{actor_name}/training_data/{filename}",
        "local_exists": True,
        "status": status,
        "md5": f"{index:032x}",
    }
    return entry


def _seed_actor(
    documents: DocumentStore, store: S3Store, generator: Generator, actor: DemoActor, workers: int
) -> int:
    manifest = TrainingDataManifest.for_actor(documents, actor.actor_id)
    if not manifest.exists():
        with contextlib.suppress(ManifestError):  # another demo created it meanwhile
            manifest.create(actor.actor_id, actor.actor_name)
    manifest.load()
    metadata = PromptMetadata.for_actor(documents, actor.actor_name)
    prompts = metadata.prompts()
    _ensure_base_image(documents, generator, actor, prompts[0])

    listed = {entry.filename for entry in manifest.get_all_images()}
    prefix = store.key_for(actor.actor_name, "x")[:-1]
    in_s3 = set(store.list_keys(prefix))
    todo = [
        index
        for index in range(actor.image_count)
        if f"{actor.actor_name}_{index}.jpg" not in listed
        or store.key_for(actor.actor_name, f"{actor.actor_name}_{index}.jpg") not in in_s3
    ]
    if not todo:
        return 0
    log.info("[S3-ONLY] Seeding %d demo images for %s", len(todo), actor.actor_name)

    def make(index: int) -> tuple[DemoImage, int, bool]:
        image = demo_image(actor.actor_id, index)
        key = store.key_for(actor.actor_name, f"{actor.actor_name}_{index}.jpg")
        if key in in_s3:
            return image, store.head_size(key), False
        data = render(image, generator, prompts)
        try:
            store.put_new(key, data, "image/jpeg")
        except ObjectExistsError:
            return image, store.head_size(key), False
        return image, len(data), True

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(make, todo))

    uploaded = 0
    newly_listed = False
    for image, size, was_uploaded in results:
        filename = f"{actor.actor_name}_{image.index}.jpg"
        uploaded += was_uploaded
        if filename in listed:
            continue
        newly_listed = True
        key = store.key_for(actor.actor_name, filename)
        manifest.add_image(filename, store.aws_url_for(key), size_mb(size), manifest_now())
        _record(metadata, filename, image, generator.name, prompts)
    if newly_listed and not listed and (word := trigger_word(actor.actor_id)):
        metadata.set_trigger_word(word)  # a new demo actor: never over a curator's word
    return uploaded


def _record(
    metadata: PromptMetadata,
    filename: str,
    image: DemoImage,
    generator_name: str,
    prompts: Sequence[str],
) -> None:
    """A newly listed demo image's generation record, caption and decision (never over what a
    curator did since: only images listed now get them)."""
    metadata.record_generation(
        filename,
        prompt=image.prompt(prompts),
        seed=image.seed(),
        generator=generator_name,
        negative_prompt="",
        generated_at=manifest_now(),
    )
    if image.caption is not None:
        metadata.set_caption(filename, image.caption)
    if image.good is not None:
        metadata.set_flags({filename: image.good}, curator=DEMO_CURATOR)


def _ensure_base_image(
    documents: DocumentStore, generator: Generator, actor: DemoActor, prompt: str
) -> None:
    from PIL import Image

    name = base_image_name(actor.actor_name)
    if documents.read(name).exists:
        return
    result = generator.generate(
        GenerationRequest(prompt=f"reference: {prompt}", seed=1, width=512, height=512)
    )
    png = io.BytesIO()
    Image.open(io.BytesIO(result.image_bytes)).save(png, format="PNG")
    with contextlib.suppress(DocumentExistsError):  # another demo wrote it meanwhile
        documents.write(name, png.getvalue(), expected=None)


def run_demo(
    data_dir: Path | S3Prefix | None = None,
    port: int | None = None,
    bucket: str = DEFAULT_BUCKET,
    open_window: bool = True,
    curator: str | None = None,
    curators: int = 1,
) -> int:
    """Start the local S3, seed the demo actors, open the window (or ``curators`` windows, one
    per demo curator) or wait. Stops S3 on the way out. The catalog is ``s3://{bucket}/catalog``
    in the local S3 unless ``data_dir`` says otherwise (a folder, or another prefix)."""
    if not 1 <= curators <= len(DEMO_CURATORS):
        raise ValueError(f"curators: 1 to {len(DEMO_CURATORS)}, got {curators}")
    from tdm_desktop import local_s3
    from tdm_desktop.core.documents import LocalDocuments, S3Documents
    from tdm_desktop.core.s3_store import make_s3_client
    from tdm_desktop.core.training_data import TrainingDataService
    from tdm_desktop.generators import get_generator

    root = demo_root()
    where = data_dir if data_dir is not None else demo_catalog(bucket)
    config = local_s3.LocalS3Config(data_dir=root / "s3", bucket=bucket)
    if port is not None:
        config = local_s3.LocalS3Config(data_dir=root / "s3", bucket=bucket, port=port)
    if open_window:
        from tdm_desktop.ui.app import check_display

        check_display()  # fail in one line before minutes of seeding, not after
    with local_s3.LocalS3(config) as server:
        client = make_s3_client(
            endpoint_url=server.endpoint_url,
            access_key=server.access_key,
            secret_key=server.secret_key,
            region="us-east-1",
        )
        store = S3Store(client, bucket, aws_style_urls=True)
        print(f"Local S3 at {server.endpoint_url} (data in {config.data_dir})", flush=True)
        documents: DocumentStore = (
            LocalDocuments(where) if isinstance(where, Path) else S3Documents.at(client, where)
        )
        uploaded = seed_demo(documents, store, get_generator("placeholder"))
        print(f"Demo data dir: {documents.location} ({uploaded} new images uploaded)", flush=True)
        _print_cli_hint(server, documents.location)
        if not open_window:
            return _wait_for_interrupt()
        from tdm_desktop.ui.app import WindowPlan, run_windows

        def open_at(location: str) -> TrainingDataService:
            where = parse_data_dir(location)
            opened = (
                LocalDocuments(where) if isinstance(where, Path) else S3Documents.at(client, where)
            )
            return TrainingDataService(opened, store, curator=curator)

        given = DataDirChoice(documents.location, FROM_DEMO)
        plans = (
            curator_windows(open_at, given, curators)
            if curators > 1
            else [WindowPlan(open_at, data_dir=given)]
        )
        return run_windows(plans, actor_id=DEMO_ACTORS[0].actor_id)


def curator_windows(open_at: OpenCatalog, given: DataDirChoice, count: int) -> list[WindowPlan]:
    """One window per demo curator, each with a settings file of its own (geometry, curator
    name) under the demo's folder. ``TDM_CURATOR`` is left out: it would name them all alike."""
    from tdm_desktop.ui.app import WindowPlan

    if os.environ.get(CURATOR_ENV):
        print(f"{CURATOR_ENV} is not used with --curators: each window is a demo curator")
    environ = {k: v for k, v in os.environ.items() if k != CURATOR_ENV}
    names = DEMO_CURATORS[:count]
    print(f"Curators: {', '.join(names)} (one window each, side by side)", flush=True)
    folder = demo_root() / "curators"
    folder.mkdir(parents=True, exist_ok=True)
    return [
        WindowPlan(
            open_at,
            data_dir=given,
            settings_file=folder / f"{name}.ini",
            environ=environ,
            curator_fallback=CuratorChoice(name, FROM_DEMO),
            curator_in_title=True,
        )
        for name in names
    ]


def _print_cli_hint(server, data_dir: str) -> None:
    exports = " ".join(f"{name}={value}" for name, value in server.env().items())
    print("Use the CLI on the demo from another terminal while this one runs:", flush=True)
    print(f"  export {exports}", flush=True)
    print(f"  tdm-desktop --data-dir {data_dir} actors", flush=True)
    print(f"  tdm-desktop --data-dir {data_dir} training-data 0042", flush=True)
    print(f"  tdm-desktop --data-dir {data_dir} audit --all", flush=True)
    print(f"  tdm-desktop --data-dir {data_dir} migrate {SYNC_ERA_ACTOR.actor_id}", flush=True)


def _wait_for_interrupt() -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print("Serving; press Ctrl+C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    print("Stopping the local S3...", file=sys.stderr, flush=True)
    return 0
