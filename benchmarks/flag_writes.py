"""Flag keys vs writes of prompt_metadata.json on a big actor: how many document writes a curator's
keys cost, and how long after the last key its decision is stored.

A curator presses a flag key every ``--interval-ms`` (default 200 ms: 5 keys/s) on an actor with
``--entries`` decided images (default 10,000), through ``CurationController`` (the window's
curation, without the window) on an S3 catalog served by ``moto_server`` in its own process (so
the server does not share this process's interpreter lock). Each write of the document re-reads
and re-renders it whole and checks the entries that changed (benchmarks/document_write.py times
one write); the figures:

- ``keys`` pressed and ``metadata_puts``: PUTs of prompt_metadata.json (counted at the S3 client);
- ``last_key_to_stored_s``: from the last key until no write of ours is left (its decision is
  in S3), and ``first_key_to_stored_s``;
- ``put_ms_median``: the median time between two PUTs, while writes were queued.

The last line of stdout is one JSON object. The code measured is whichever ``tdm_desktop`` is
imported: to compare with an earlier commit, run this file with that commit's ``src`` first on
``PYTHONPATH``.

    python benchmarks/flag_writes.py [--entries 10000] [--keys 30] [--interval-ms 200]
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_common import emit  # noqa: E402
from bench_moto import free_port, start_moto, use_fake_aws  # noqa: E402

use_fake_aws()

BUCKET = "story-boards-assets"
ACTOR_ID, ACTOR = "0950", "0950_bench_flags"
CURATOR = "bench"
log = logging.getLogger("bench.flag_writes")


def seed_actor(documents, store, entries: int) -> list[str]:
    """A manifest of ``entries`` images and a prompt_metadata.json deciding each of them (made
    by the app's own code for two images, then widened to ``entries`` in the same shape)."""
    from tdm_desktop.core.layout import manifest_name, prompt_metadata_name
    from tdm_desktop.core.manifest import TrainingDataManifest
    from tdm_desktop.core.prompt_metadata import PromptMetadata

    names = [f"{ACTOR}_{i}.jpg" for i in range(entries)]
    manifest = TrainingDataManifest.for_actor(documents, ACTOR_ID)
    manifest.create(ACTOR_ID, ACTOR)
    manifest.add_image(names[0], store.aws_url_for(store.key_for(ACTOR, names[0])), 0.3)
    data = json.loads(documents.read(manifest_name(ACTOR_ID)).data)
    row = data["training_data"][0]
    data["training_data"] = [
        {**row, "filename": n, "s3_url": store.aws_url_for(store.key_for(ACTOR, n))} for n in names
    ]
    data["statistics"]["training_images_count"] = entries
    data["statistics"]["training_data_size_mb"] = round(0.3 * entries, 2)
    current = documents.read(manifest_name(ACTOR_ID))
    documents.write(manifest_name(ACTOR_ID), _dump(data), expected=current.version)

    metadata = PromptMetadata.for_actor(documents, ACTOR)
    metadata.set_flags({names[0]: True}, curator="earlier")
    doc = json.loads(documents.read(prompt_metadata_name(ACTOR)).data)
    entry = doc["images"][names[0]]
    doc["images"] = {n: {**entry, "good": i % 3 != 0} for i, n in enumerate(names)}
    current = documents.read(prompt_metadata_name(ACTOR))
    documents.write(prompt_metadata_name(ACTOR), _dump(doc), expected=current.version)
    return names


def _dump(data: dict) -> bytes:
    from tdm_desktop.core.jsonfile import dump_json

    return dump_json(data)


def run(args: argparse.Namespace) -> dict:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QGuiApplication

    import tdm_desktop
    from tdm_desktop.core.documents import S3Documents
    from tdm_desktop.core.s3_store import S3Store, make_s3_client
    from tdm_desktop.core.training_data import TrainingDataService
    from tdm_desktop.ui.curation.controller import CurationController
    from tdm_desktop.ui.grid.model import ImageGridModel

    app = QGuiApplication.instance() or QGuiApplication([])
    port = free_port()
    moto = start_moto(port)
    try:
        client = make_s3_client(region="us-east-1", endpoint_url=f"http://127.0.0.1:{port}")
        client.create_bucket(Bucket=BUCKET)
        store = S3Store(client, BUCKET)
        documents = S3Documents(client, BUCKET, "catalog")
        names = seed_actor(documents, store, args.entries)
        puts: list[float] = []

        def count_put(params, **_kwargs) -> None:
            if params.get("Key", "").endswith("/prompt_metadata.json"):
                puts.append(time.perf_counter())

        client.meta.events.register("provide-client-params.s3.PutObject", count_put)

        service = TrainingDataService(documents, store, curator=CURATOR)
        model = ImageGridModel()
        model.set_images(service.load_actor(ACTOR_ID).images)
        controller = CurationController(service, model)
        controller.set_actor(ACTOR_ID, ACTOR)
        puts.clear()
        keys: list[float] = []
        timer = QTimer()
        timer.setInterval(args.interval_ms)

        def key() -> None:
            i = len(keys)
            if i >= args.keys:
                timer.stop()
                return
            keys.append(time.perf_counter())
            controller.mark([names[3 * i]], True)  # decided bad before: a change each time

        timer.timeout.connect(key)
        timer.start()
        key()
        deadline = time.monotonic() + args.timeout_s
        while (len(keys) < args.keys or controller.is_busy()) and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.002)
        stored = time.perf_counter()
        busy = controller.is_busy()
        gaps = [(b - a) * 1000 for a, b in itertools.pairwise(puts)]
        stored_doc = json.loads(documents.read(f"actors/{ACTOR}/prompt_metadata.json").data)
        decided = [n for n in names[: 3 * args.keys : 3] if stored_doc["images"][n]["good"]]
        return {
            "benchmark": "flag_writes",
            "code": str(Path(tdm_desktop.__file__).resolve().parents[1]),
            "entries": args.entries,
            "keys": len(keys),
            "interval_ms": args.interval_ms,
            "metadata_puts": len(puts),
            "decisions_stored": len(decided),
            "last_key_to_stored_s": round(stored - keys[-1], 3),
            "first_key_to_stored_s": round(stored - keys[0], 3),
            "put_ms_median": round(statistics.median(gaps), 1) if gaps else None,
            "timed_out": busy,
        }
    finally:
        moto.terminate()
        moto.wait(10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=30)
    parser.add_argument("--interval-ms", type=int, default=200)
    parser.add_argument("--timeout-s", type=float, default=600)
    args = parser.parse_args()
    if args.keys * 3 > args.entries:
        parser.error("--keys: at most a third of --entries")
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    result = run(args)
    sys.stderr.write(
        f"{result['keys']} keys -> {result['metadata_puts']} writes of prompt_metadata.json; "
        f"last decision stored {result['last_key_to_stored_s']} s after the last key\n"
    )
    emit(result)
    return 1 if result["timed_out"] else 0


if __name__ == "__main__":
    sys.exit(main())
