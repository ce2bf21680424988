"""The catalog's documents in a folder and in the local S3: the actor list, flag writes, writers
racing on one document.

Measures, for a folder data dir and for an S3 one (``s3://story-boards-assets/catalog`` on the
bundled SeaweedFS, in a temp dir):

- the actor list of N actors (default 10,000, 17 images each): time until every actor is known
  from the listing (what the window shows at once) and until every count is in
  (``ActorCatalog.scan``: a listing, then the manifests read a few at a time);
- flag-write latency: single-image ``set_flags`` as the window makes them, p50 / p99;
- W processes (default 4) flagging images of one actor at once, one write each: writes/s and
  the conflicts re-applied (S3: If-Match 412s; a folder: none, its writers take turns on the lock);
- what the window's check for others' changes costs (``watch_actor(...).state()``, the manifest
  and the prompt metadata of the 400-image actor): unchanged (S3: two GETs answered 304; a folder:
  two stats) and after another curator's flag (the prompt metadata read again), p50 / p99.

Prints one JSON object as the last line. Run: ``make bench-catalog`` or
``.venv/bin/python benchmarks/catalog.py [--actors 10000] [--only folder|s3]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import emit, percentile
from tdm_desktop.core.actors import ActorCatalog
from tdm_desktop.core.documents import DocumentStore, LocalDocuments, S3Documents
from tdm_desktop.core.jsonfile import dump_json
from tdm_desktop.core.layout import manifest_name
from tdm_desktop.core.s3_store import S3Store, make_s3_client
from tdm_desktop.core.training_data import TrainingDataService
from tdm_desktop.local_s3 import LocalS3, LocalS3Config

BUCKET = "story-boards-assets"
PREFIX = "catalog"
DATE = "2025-10-17T15:57:00.000000"
FLAG_ACTOR = "900000"  # outside the listed actors 0001..N
SPAWN = multiprocessing.get_context("spawn")


def actor_name(actor_id: str) -> str:
    return f"{actor_id}_bench_30_male"


def manifest_bytes(actor_id: str, images: int) -> bytes:
    name = actor_name(actor_id)
    base = f"https://{BUCKET}.s3.amazonaws.com/system_actors/training_data/{name}/"
    return dump_json(
        {
            "character_id": actor_id,
            "character_name": name,
            "training_data": [
                {
                    "filename": f"{name}_{n}.jpg",
                    "s3_url": f"{base}{name}_{n}.jpg",
                    "size_mb": 0.31,
                    "modified_date": DATE,
                }
                for n in range(images)
            ],
            "training_data_updated": DATE,
            "statistics": {
                "training_images_count": images,
                "training_data_size_mb": round(0.31 * images, 2),
            },
        }
    )


def seed(documents: DocumentStore, actors: int, images: int) -> float:
    """Write N actors' manifests (and the flag actor's) that are not there yet; seconds taken."""
    started = time.perf_counter()
    present = set(documents.names("actor_manifests"))
    ids = [f"{n:04d}" for n in range(1, actors + 1)] + [FLAG_ACTOR]
    todo = [i for i in ids if manifest_name(i) not in present]
    flag_images = 400

    def write(actor_id: str) -> None:
        count = flag_images if actor_id == FLAG_ACTOR else images
        data = manifest_bytes(actor_id, count)
        path = documents.local_path(manifest_name(actor_id))
        if path is None:
            documents.write(manifest_name(actor_id), data, expected=None)
        else:  # set-up only: no lock or fsync per file (what is measured reads them)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    with ThreadPoolExecutor(16 if documents.is_remote else 1) as pool:
        list(pool.map(write, todo))
    return time.perf_counter() - started


def actor_list(documents: DocumentStore, workers: int | None) -> dict:
    started = time.perf_counter()
    scan = ActorCatalog(documents).scan(workers=workers)
    names_s = time.perf_counter() - started
    counted = sum(1 for summary in scan.counts() if summary.problem is None)
    counts_s = time.perf_counter() - started
    assert counted == len(scan.actors), (counted, len(scan.actors))
    return {
        "actors": len(scan.actors),
        "names_shown_s": round(names_s, 3),
        "counts_done_s": round(counts_s, 3),
    }


def flag_latency(service: TrainingDataService, writes: int) -> dict:
    listed = [image.filename for image in service.load_actor(FLAG_ACTOR).images]
    latencies = []
    for n in range(writes):
        started = time.perf_counter()
        service.set_flags(FLAG_ACTOR, {listed[n % len(listed)]: n % 2 == 0}, listed)
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "flag_writes": writes,
        "flag_ms_p50": round(percentile(latencies, 50), 2),
        "flag_ms_p99": round(percentile(latencies, 99), 2),
    }


def poll_cost(service: TrainingDataService, polls: int) -> dict:
    """The window's check of the open actor's documents, unchanged and after a flag elsewhere."""
    data = service.load_actor(FLAG_ACTOR)
    listed = [image.filename for image in data.images]
    watch = service.watch_actor(data.actor_id, data.actor_name)
    watch.state()
    unchanged, changed = [], []
    for n in range(polls):
        started = time.perf_counter()
        watch.state()
        unchanged.append((time.perf_counter() - started) * 1000)
        service.set_flags(FLAG_ACTOR, {listed[n % len(listed)]: n % 2 == 0}, listed)
        started = time.perf_counter()
        watch.state()
        changed.append((time.perf_counter() - started) * 1000)
    return {
        "polls": polls,
        "poll_unchanged_ms_p50": round(percentile(unchanged, 50), 2),
        "poll_unchanged_ms_p99": round(percentile(unchanged, 99), 2),
        "poll_changed_ms_p50": round(percentile(changed, 50), 2),
        "poll_changed_ms_p99": round(percentile(changed, 99), 2),
    }


def _writer(
    where: str,
    keys: tuple[str, str, str] | None,
    worker: int,
    writes: int,
    start: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue,
) -> None:
    """One curator process: ``writes`` single-image flag writes on the flag actor."""
    documents: DocumentStore
    if keys is None:
        documents = LocalDocuments(where)
        store = S3Store(make_s3_client(region="us-east-1"), BUCKET)
    else:
        endpoint, access, secret = keys
        client = make_s3_client(
            endpoint_url=endpoint, access_key=access, secret_key=secret, region="us-east-1"
        )
        documents, store = S3Documents(client, BUCKET, PREFIX), S3Store(client, BUCKET)
    service = TrainingDataService(documents, store, curator=f"writer-{worker}")
    listed = [image.filename for image in service.load_actor(FLAG_ACTOR).images]
    mine = listed[worker::4]
    start.wait(60)
    began = time.perf_counter()
    for n in range(writes):
        service.set_flags(FLAG_ACTOR, {mine[n % len(mine)]: n % 2 == 1}, listed)
    elapsed = time.perf_counter() - began
    conflicts = documents.conflicts if isinstance(documents, S3Documents) else 0
    results.put((elapsed, conflicts))


def concurrent_writers(where: str, keys, writers: int, writes: int) -> dict:
    start = SPAWN.Barrier(writers + 1)
    results = SPAWN.Queue()
    processes = [
        SPAWN.Process(target=_writer, args=(where, keys, w, writes, start, results))
        for w in range(writers)
    ]
    for process in processes:
        process.start()
    start.wait(120)
    began = time.perf_counter()
    answers = [results.get(timeout=600) for _ in processes]
    wall = time.perf_counter() - began
    for process in processes:
        process.join(60)
    total = writers * writes
    return {
        "writers": writers,
        "writes": total,
        "writes_per_s": round(total / wall, 1),
        "conflicts": sum(conflicts for _elapsed, conflicts in answers),
        "conflicts_per_write": round(sum(c for _e, c in answers) / total, 3),
    }


def measure(label: str, documents: DocumentStore, store: S3Store, args, keys, where: str) -> dict:
    print(f"[{label}] seeding {args.actors} actors...", file=sys.stderr, flush=True)
    seeded_s = seed(documents, args.actors, args.images)
    print(f"[{label}] seeded in {seeded_s:.1f} s; listing...", file=sys.stderr, flush=True)
    result = {"seed_s": round(seeded_s, 1)}
    result |= actor_list(documents, args.workers)
    service = TrainingDataService(documents, store, curator="bench")
    result |= flag_latency(service, args.flags)
    result |= poll_cost(service, args.polls)
    print(f"[{label}] {args.writers} writers...", file=sys.stderr, flush=True)
    racing = concurrent_writers(where, keys, args.writers, args.writes)
    result |= {f"concurrent_{key}": value for key, value in racing.items()}
    print(f"[{label}] {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=17, help="images per actor")
    parser.add_argument("--flags", type=int, default=200, help="flag writes timed one by one")
    parser.add_argument("--polls", type=int, default=100, help="checks for others' changes")
    parser.add_argument("--writers", type=int, default=4, help="processes on one document")
    parser.add_argument("--writes", type=int, default=50, help="flag writes per writer")
    parser.add_argument("--workers", type=int, default=None, help="manifest readers (S3: 16)")
    parser.add_argument("--only", choices=["folder", "s3"], default=None)
    args = parser.parse_args()
    out: dict = {"actors": args.actors, "images_per_actor": args.images}
    with tempfile.TemporaryDirectory(prefix="tdm-catalog-bench-") as tmp:
        root = Path(tmp)
        if args.only in (None, "folder"):
            folder = LocalDocuments(root / "data")
            store = S3Store(make_s3_client(region="us-east-1"), BUCKET)  # no S3 request is made
            out["folder"] = measure("folder", folder, store, args, None, str(folder.root))
        if args.only in (None, "s3"):
            config = LocalS3Config(data_dir=root / "s3", port=0, bucket=BUCKET)
            with LocalS3(config, credentials_dir=root / "config") as server:
                client = make_s3_client(
                    endpoint_url=server.endpoint_url,
                    access_key=server.access_key,
                    secret_key=server.secret_key,
                    region="us-east-1",
                    max_pool_connections=32,
                )
                keys = (server.endpoint_url, server.access_key, server.secret_key)
                documents = S3Documents(client, BUCKET, PREFIX)
                store = S3Store(client, BUCKET)
                out["s3"] = measure("s3", documents, store, args, keys, str(documents.location))
    emit(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
