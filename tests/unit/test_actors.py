"""The actor list: from a listing of actor_manifests/, names at once, counts as manifests are read."""

from __future__ import annotations

import json
import threading

from tdm_desktop.core.actors import ActorCatalog, ActorSummary
from tdm_desktop.core.documents import S3Documents
from tdm_desktop.core.manifest import TrainingDataManifest
from tests.catalogs import BUCKET, CATALOG_PREFIX, put_raw

URL = "https://story-boards-assets.s3.amazonaws.com/system_actors/training_data/"


def add_actor(catalog, actor_id: str, count: int) -> str:
    name = f"{actor_id}_test_30_male"
    manifest = TrainingDataManifest.for_actor(catalog, actor_id).create(actor_id, name)
    for n in range(count):
        manifest.add_image(f"{name}_{n}.jpg", f"{URL}{name}/{name}_{n}.jpg", 0.1)
    return name


def test_list_actors_counts_and_names_the_broken_one(catalog):
    add_actor(catalog, "0042", 3)
    add_actor(catalog, "0007", 1)
    put_raw(catalog, "actor_manifests/0043_manifest.json", b"{ not json")
    put_raw(catalog, "actor_manifests/notes_manifest.json", b"{}")  # not an actor's
    put_raw(catalog, "actor_manifests/43_manifest.json", b"{}")  # not the canonical name

    actors = ActorCatalog(catalog).list_actors()

    assert [(a.actor_id, a.actor_name, a.image_count) for a in actors] == [
        ("0007", "0007_test_30_male", 1),
        ("0042", "0042_test_30_male", 3),
        ("0043", "", 0),
    ]
    assert actors[2].problem.startswith(catalog.url("actor_manifests/0043_manifest.json"))
    assert "invalid JSON" in actors[2].problem


def test_scan_gives_every_actor_at_once_then_the_counts_as_they_come(catalog):
    for n in range(1, 6):
        add_actor(catalog, f"{n:04d}", n)

    scan = ActorCatalog(catalog).scan(workers=3)

    assert scan.actors == [ActorSummary(f"{n:04d}", "", None) for n in range(1, 6)]
    assert not any(actor.counted for actor in scan.actors)
    counted = {summary.actor_id: summary for summary in scan.counts()}
    assert {i: s.image_count for i, s in counted.items()} == {f"{n:04d}": n for n in range(1, 6)}
    assert all(summary.counted for summary in counted.values())


def test_an_actor_removed_after_the_listing_is_listed_with_its_problem(catalog):
    add_actor(catalog, "0001", 1)
    scan = ActorCatalog(catalog).scan()
    if isinstance(catalog, S3Documents):
        catalog._client.delete_object(
            Bucket=BUCKET, Key=f"{CATALOG_PREFIX}/actor_manifests/0001_manifest.json"
        )
    else:
        (catalog.root / "actor_manifests" / "0001_manifest.json").unlink()
    (summary,) = list(scan.counts())
    assert "no manifest at" in summary.problem


def test_a_cancelled_scan_stops_reading(s3_client):
    catalog = S3Documents(s3_client, BUCKET, CATALOG_PREFIX, page_size=4)
    for n in range(1, 21):
        add_actor(catalog, f"{n:04d}", 0)
    reads = []
    lock = threading.Lock()

    def count_reads(**_):
        with lock:
            reads.append(1)

    s3_client.meta.events.register("before-call.s3.GetObject", count_reads)
    scan = ActorCatalog(catalog).scan(workers=2)
    assert len(scan.actors) == 20  # the listing followed its pages
    counts = scan.counts()
    next(counts)
    scan.cancel()
    rest = list(counts)
    assert rest == [] and len(reads) < 20


def test_an_empty_or_missing_data_dir_has_no_actors(catalog):
    assert ActorCatalog(catalog).list_actors() == []


def test_a_sync_era_manifest_is_listed_by_its_name_with_what_to_do(catalog):
    document = {
        "character_id": "0521",
        "character_name": "0521_nordic_28_female",
        "training_data": [{"filename": "0521_nordic_28_female_0.jpg", "status": "local_only"}],
        "training_data_updated": "2025-09-01T10:00:00.000000",
        "statistics": {"training_images_count": 1, "training_data_size_mb": 0.1},
        "synced_count": 0,
    }
    put_raw(catalog, "actor_manifests/0521_manifest.json", json.dumps(document).encode())
    (summary,) = ActorCatalog(catalog).list_actors()
    assert summary.sync_era and summary.actor_name == "0521_nordic_28_female"
    assert summary.problem == (
        f"{catalog.url('actor_manifests/0521_manifest.json')}: written before the S3-only "
        "change: run tdm-desktop migrate 0521"
    )
