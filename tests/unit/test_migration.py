"""Migration of sync-era manifests: the pure transformation, the kept original, and what is never
written (beyond the shared scenarios on moto and SeaweedFS)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tdm_desktop.cli import main
from tdm_desktop.core.actors import ActorCatalog
from tdm_desktop.core.documents import DocumentStore, LocalDocuments
from tdm_desktop.core.errors import (
    ForeignImageError,
    ManifestError,
    SyncEraManifestError,
    TdmError,
)
from tdm_desktop.core.layout import manifest_name
from tdm_desktop.core.migration import MigrationService, migrate_document
from tdm_desktop.core.s3_store import ObjectInfo, S3Store
from tdm_desktop.core.s3_urls import S3Location
from tdm_desktop.core.sync_era import ENTRY_KEYS, TOP_LEVEL_KEYS
from tests.catalogs import BUCKET, put_raw, raw_bytes
from tests.factories import jpeg_bytes

ACTOR = "0042_european_30_male"
PREFIX = f"system_actors/training_data/{ACTOR}/"
AWS = "https://story-boards-assets.s3.amazonaws.com/"
WHEN = datetime(2025, 9, 1, 10, 0, tzinfo=UTC)
NAME = "actor_manifests/0042_manifest.json"
URL = f"data/{NAME}"


def name(n: int) -> str:
    return f"{ACTOR}_{n}.jpg"


def locate(url: str) -> S3Location:
    if not url.startswith(AWS + PREFIX):
        raise ForeignImageError(url, "another bucket")
    return S3Location("story-boards-assets", url.removeprefix(AWS))


def migrate(raw: dict, existing: dict[int, int]):
    objects = {
        PREFIX + name(n): ObjectInfo(PREFIX + name(n), size, "e", WHEN)
        for n, size in existing.items()
    }
    return migrate_document(
        URL,
        NAME,
        raw,
        locate,
        lambda filename: PREFIX + filename,
        lambda key: AWS + key,
        objects,
        clock=lambda: datetime(2025, 10, 1, tzinfo=UTC),
    )


def sync_era(*entries: dict, **top) -> dict:
    return {
        "character_id": "0042",
        "character_name": ACTOR,
        "sync_status": "out_of_sync",
        "training_data": list(entries),
        "training_data_updated": "2025-09-01T10:00:00.000000",
        "statistics": {
            "training_images_count": len(entries),
            "training_data_size_mb": 9.0,
            "synced_count": 1,
            "local_only_count": 1,
        },
        **top,
    }


def test_an_entry_without_size_or_date_gets_them_from_s3_and_keys_come_in_the_seeds_order():
    raw = sync_era({"status": "local_only", "filename": name(0), "local_path": "x/y.jpg"})
    migration = migrate(raw, {0: 2 * 1024 * 1024})
    assert migration.document == {
        "character_id": "0042",
        "character_name": ACTOR,
        "training_data": [
            {
                "filename": name(0),
                "s3_url": AWS + PREFIX + name(0),
                "size_mb": 2.0,
                "modified_date": "2025-09-01T10:00:00.000000",
            }
        ],
        "training_data_updated": "2025-10-01T00:00:00.000000",
        "statistics": {"training_images_count": 1, "training_data_size_mb": 2.0},
    }
    assert migration.given_url == [name(0)] and migration.dropped == []
    assert migration.sync_keys == [
        "local_only_count",
        "local_path",
        "status",
        "sync_status",
        "synced_count",
    ]


def test_unknown_keys_stay_and_a_foreign_entry_is_kept_unchecked():
    foreign = {
        "filename": "elsewhere.jpg",
        "s3_url": "https://someone-else.s3.amazonaws.com/x/elsewhere.jpg",
        "size_mb": 0.1,
        "modified_date": "2025-09-01T10:00:00.000000",
        "status": "synced",
        "caption": "a caption",
    }
    raw = sync_era(foreign, owner={"team": "casting"})
    migration = migrate(raw, {})
    assert migration.foreign == ["elsewhere.jpg"] and migration.kept == ["elsewhere.jpg"]
    (item,) = migration.document["training_data"]
    assert item == {k: v for k, v in foreign.items() if k != "status"}
    assert migration.document["owner"] == {"team": "casting"}
    assert list(migration.document)[-1] == "owner"


def test_every_documented_sync_key_is_dropped():
    entry = {
        "filename": name(0),
        "s3_url": AWS + PREFIX + name(0),
        "size_mb": 0.5,
        "modified_date": "2025-09-01T10:00:00.000000",
    }
    raw = sync_era(entry | dict.fromkeys(ENTRY_KEYS, "x"), **dict.fromkeys(TOP_LEVEL_KEYS, 1))
    document = migrate(raw, {0: 512 * 1024}).document
    assert document["training_data"] == [entry]
    assert not set(document) & TOP_LEVEL_KEYS
    assert not set(document["statistics"]) & TOP_LEVEL_KEYS
    docs = (Path(__file__).resolve().parents[2] / "docs" / "MIGRATION.md").read_text()
    for key in ENTRY_KEYS | TOP_LEVEL_KEYS:
        assert f"`{key}`" in docs, key


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ({"character_id": 42}, 'character_id must be a string of digits like "0042", got 42'),
        ({"training_data": "none"}, 'training_data must be an array, got "none"'),
        ({"character_name": "../x"}, "character_name must be a valid actor name"),
    ],
)
def test_a_sync_era_manifest_invalid_otherwise_raises_the_validation_error(broken, problem):
    raw = sync_era({"filename": name(0), "status": "local_only"}) | broken
    with pytest.raises(ManifestError) as caught:
        migrate(raw, {0: 10})
    assert problem in caught.value.problem


def test_an_entry_to_drop_is_still_checked_and_named_by_its_place_in_the_file():
    good = {
        "filename": name(0),
        "s3_url": AWS + PREFIX + name(0),
        "size_mb": 0.1,
        "modified_date": "2025-09-01T10:00:00.000000",
    }
    bad = {"filename": name(1), "status": "local_only", "size_mb": -1}
    with pytest.raises(ManifestError) as caught:
        migrate(sync_era(good, bad), {0: 10})
    assert caught.value.problem == "training_data[1].size_mb must be a number >= 0, got -1"


# -- the command and the kept original ----------------------------------------------------------


@pytest.fixture
def run_on(catalog, s3_client, capsys):
    """Run the CLI in-process on ``catalog`` (a folder or an S3 prefix, on moto)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--data-dir", catalog.location, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def write(catalog: DocumentStore, document: dict, actor_id: str = "0042") -> bytes:
    raw = json.dumps(document).encode()
    put_raw(catalog, manifest_name(actor_id), raw)
    return raw


COPY = NAME + ".sync-era"


def test_a_different_sync_era_copy_is_never_overwritten(run_on, catalog, store):
    store.put_new(store.key_for(ACTOR, name(0)), jpeg_bytes(0), "image/jpeg")
    entry = {
        "filename": name(0),
        "status": "local_only",
        "size_mb": 0.1,
        "modified_date": "2025-09-01T10:00:00.000000",
    }
    raw = write(catalog, sync_era(entry))
    put_raw(catalog, COPY, b"an older original")
    code, _out, err = run_on("migrate", "42")
    assert code == 1 and "already holds another sync-era manifest" in err
    assert raw_bytes(catalog, NAME) == raw and raw_bytes(catalog, COPY) == b"an older original"
    put_raw(catalog, COPY, raw)  # the same bytes: an earlier run stopped after keeping them
    code, out, _err = run_on("migrate", "42")
    assert code == 0 and f"the original is kept as {catalog.url(COPY)}" in out
    assert raw_bytes(catalog, COPY) == raw
    assert ActorCatalog(catalog).manifest("42").get_all_images()[0].filename == name(0)


def test_migrate_all_migrates_sync_era_manifests_and_leaves_the_others(run_on, catalog, store):
    from tests.factories import make_actor

    make_actor(catalog, store, "0107", "0107_japanese_25_female", count=1)
    current = raw_bytes(catalog, manifest_name("0107"))
    store.put_new(store.key_for(ACTOR, name(0)), jpeg_bytes(0), "image/jpeg")
    entries = [{"filename": name(n), "status": "local_only"} for n in (0, 1)]
    raw = write(catalog, sync_era(*entries))
    with pytest.raises(SyncEraManifestError):
        ActorCatalog(catalog).manifest("0042")
    code, out, _err = run_on("migrate", "--all", "--dry-run")
    assert code == 0
    assert "0042  would keep 1 entries, would drop 1 with no object in S3" in out
    assert "0107  already in the design's structure: nothing to do" in out
    assert raw_bytes(catalog, NAME) == raw
    code, out, _err = run_on("migrate", "--all")
    assert code == 0 and f"dropped  {name(1)}: no object in S3" in out
    assert raw_bytes(catalog, manifest_name("0107")) == current
    assert [e.filename for e in ActorCatalog(catalog).manifest("42").get_all_images()] == [name(0)]


def test_a_manifest_changed_while_it_is_migrated_is_not_overwritten(catalog, store):
    """Another curator writes the manifest between migrate's read and its write: the write is
    refused (compare-and-swap), the other curator's bytes stay, migrate says to run again."""
    store.put_new(store.key_for(ACTOR, name(0)), jpeg_bytes(0), "image/jpeg")
    write(catalog, sync_era({"filename": name(0), "status": "local_only"}))
    theirs = json.dumps(sync_era({"filename": name(0), "status": "local_only", "by": "bob"}))

    class OtherCuratorDuringListing(S3Store):
        def iter_objects(self, prefix: str):
            yield from super().iter_objects(prefix)
            put_raw(catalog, NAME, theirs.encode())

    racing = OtherCuratorDuringListing(store.client, BUCKET)
    with pytest.raises(TdmError, match="changed while it was being migrated; nothing written"):
        MigrationService(ActorCatalog(catalog), racing).migrate("42")
    assert raw_bytes(catalog, NAME) == theirs.encode()


def test_a_listing_that_fails_writes_nothing(data_dir, aws_env, capsys):
    catalog = LocalDocuments(data_dir)
    raw = write(catalog, sync_era({"filename": name(0), "status": "local_only"}))
    code = main(
        ["--data-dir", str(data_dir), "--endpoint-url", "http://127.0.0.1:9", "migrate", "42"]
    )
    _out, err = capsys.readouterr()
    assert code == 1 and "EndpointUnreachable" in err and "nothing written" in err
    assert raw_bytes(catalog, NAME) == raw and raw_bytes(catalog, COPY) is None


def test_a_valid_manifest_with_leftover_sync_keys_still_loads_and_migrate_cleans_it(
    run_on, catalog, store
):
    store.put_new(store.key_for(ACTOR, name(0)), jpeg_bytes(0), "image/jpeg")
    entry = {
        "filename": name(0),
        "s3_url": AWS + PREFIX + name(0),
        "size_mb": 0.0,
        "modified_date": "2025-09-01T10:00:00.000000",
        "status": "synced",
    }
    raw = write(catalog, sync_era(entry))
    assert ActorCatalog(catalog).manifest("42").get_all_images()[0].extra == {"status": "synced"}
    code, _out, _err = run_on("migrate", "42")
    assert code == 0
    assert "status" not in json.loads(raw_bytes(catalog, NAME) or b"")["training_data"][0]
    assert raw_bytes(catalog, COPY) == raw
