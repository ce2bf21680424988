"""The audit / repair / migrate scenarios, run on moto (tests/unit) and on SeaweedFS
(tests/integration) alike: each tier imports the ``test_*`` functions below and gives them its
``world`` fixture (an S3 reachable over HTTP, so a real killed process can use it too).

Each scenario runs on a folder data dir and on an ``s3://`` one (the catalog under
``s3://story-boards-assets/catalog``, on the same S3): ``World.catalog`` is its document store.

The planted actor: six listed images, of which two lost their objects (dangling), one has a wrong
``size_mb``, one has the same bytes as another (duplicate), plus a foreign entry; in S3, an object
another tool wrote, an object a generation left when it was SIGKILLed between its upload and its
manifest write, and an object at a nested key the app never writes (orphans); in the prompt
metadata, an entry for an image nobody lists (stale).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tdm_desktop.cli import main
from tdm_desktop.core.documents import DocumentStore, LocalDocuments
from tdm_desktop.core.layout import manifest_name, prompt_metadata_name
from tdm_desktop.core.manifest import TrainingDataManifest, size_mb
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.s3_store import S3Store
from tdm_desktop.core.upload_journal import UploadJournal, journal_name
from tests.catalogs import put_raw, raw_bytes
from tests.factories import jpeg_bytes, make_actor
from tests.killed_generation import PROMPT as KILLED_PROMPT

REPO = Path(__file__).resolve().parents[1]
ACTOR_ID = "0042"
ACTOR = "0042_european_30_male"
PREFIX = f"system_actors/training_data/{ACTOR}/"
OTHER_ACTOR_KEY = (
    "system_actors/training_data/0107_japanese_25_female/0107_japanese_25_female_0.jpg"
)
NESTED_KEY = PREFIX + "drafts/sketch.jpg"
AWS = "https://story-boards-assets.s3.amazonaws.com/"


def name(n: int) -> str:
    return f"{ACTOR}_{n}.jpg"


@dataclass
class World:
    """A catalog (a folder or an S3 prefix) and an S3 endpoint reachable over HTTP (moto server
    or SeaweedFS)."""

    catalog: DocumentStore
    store: S3Store
    client: Any
    endpoint: str
    env: dict[str, str]  # credentials and endpoint, for a subprocess
    scratch: Path  # a folder of the test's own

    @property
    def data_dir(self) -> str:
        """What ``--data-dir`` takes: the folder's path or the ``s3://`` URL."""
        return self.catalog.location

    def cli(self, *argv: str, capsys: Any) -> tuple[int, str, str]:
        code = main(["--data-dir", self.data_dir, "--endpoint-url", self.endpoint, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    def subprocess_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TDM_"))}
        env.update(self.env, PYTHONPATH=f"{REPO / 'src'}{os.pathsep}{REPO}")
        return env


# -- state ------------------------------------------------------------------------------------


MANIFEST = manifest_name(ACTOR_ID)
SYNC_ERA_COPY = MANIFEST + ".sync-era"


def manifest_bytes(world: World) -> bytes | None:
    return raw_bytes(world.catalog, MANIFEST)


def listed(world: World) -> dict[str, dict]:
    document = json.loads(manifest_bytes(world) or b"")
    return {item["filename"]: item for item in document["training_data"]}


def objects(world: World) -> dict[str, str]:
    """Every image object in the bucket (not the catalog's documents): key -> ETag."""
    return {o.key: o.etag for o in world.store.list_objects("system_actors/")}


def snapshot(world: World) -> tuple:
    """Everything a repair could change: the three documents' bytes and the images."""
    names = [MANIFEST, prompt_metadata_name(ACTOR), journal_name(ACTOR)]
    return (*(raw_bytes(world.catalog, n) for n in names), objects(world))


def remove_raw(world: World, name: str) -> None:
    if isinstance(world.catalog, LocalDocuments):
        (world.catalog.root / name).unlink(missing_ok=True)
    else:
        world.client.delete_object(Bucket=world.store.bucket, Key=f"catalog/{name}")


def kill_generation_after_upload(world: World) -> str:
    """Run a real generation in its own process, SIGKILL it between its upload and its manifest
    write, and return the key it uploaded."""
    marker = world.scratch / "uploaded-key"
    marker.unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.killed_generation", world.data_dir, ACTOR_ID, marker],
        env=world.subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() or not marker.read_text():
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the generation never uploaded"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        process.stderr.close()
    return marker.read_text()


def plant(world: World) -> dict[str, set[str]]:
    """The planted actor (see the module docstring); returns the expected findings by kind."""
    expected = plant_drift(world)
    killed_key = kill_generation_after_upload(world)
    assert killed_key == world.store.key_for(ACTOR, name(6))
    expected["orphan"].add(name(6))
    return expected


def plant_drift(world: World) -> dict[str, set[str]]:
    """The planted actor without the killed generation's orphan (no process of its own needed:
    ``world.catalog`` and ``world.store`` are all it uses); the expected findings by kind."""
    store, data_dir = world.store, world.catalog
    make_actor(data_dir, store, count=5)
    manifest = TrainingDataManifest.for_actor(data_dir, ACTOR_ID)
    duplicate = jpeg_bytes(4)  # the same bytes as image 4
    store.put_new(store.key_for(ACTOR, name(5)), duplicate, "image/jpeg")
    manifest.add_image(name(5), AWS + PREFIX + name(5), size_mb(len(duplicate)))
    manifest.add_image(
        "elsewhere.jpg", "https://someone-else.s3.amazonaws.com/" + PREFIX + "elsewhere.jpg", 0.2
    )
    document = json.loads(manifest_bytes(world) or b"")
    document["training_data"][1]["size_mb"] = 2.5  # image 1: a wrong size
    put_raw(world.catalog, MANIFEST, json.dumps(document, indent=2).encode())
    store.delete_keys([store.key_for(ACTOR, name(2)), store.key_for(ACTOR, name(3))])
    store.put_new(store.key_for(ACTOR, name(10)), jpeg_bytes(10), "image/jpeg")  # another tool
    store.put_new(NESTED_KEY, jpeg_bytes(11), "image/jpeg")
    store.put_new(OTHER_ACTOR_KEY, jpeg_bytes(12), "image/jpeg")
    metadata = PromptMetadata.for_actor(data_dir, ACTOR)
    metadata.set_flags({name(0): False})
    metadata.record_generation(name(40), prompt="an image deleted by another tool")
    return {
        "orphan": {name(10), "drafts/sketch.jpg"},
        "dangling": {name(2), name(3)},
        "size-mismatch": {name(1)},
        "duplicate": {name(5)},
        "foreign": {"elsewhere.jpg"},
        "stale-metadata": {name(40)},
    }


def audited(world: World, capsys: Any) -> tuple[int, dict[str, set[str]], dict]:
    code, out, _err = world.cli("audit", ACTOR_ID, "--json", capsys=capsys)
    (report,) = json.loads(out)
    kinds: dict[str, set[str]] = {}
    for finding in report["findings"]:
        kinds.setdefault(finding["kind"], set()).add(finding["filename"])
    return code, kinds, report


# -- audit and repair -------------------------------------------------------------------------


def test_audit_finds_exactly_what_was_planted(world, capsys):
    expected = plant(world)
    code, kinds, report = audited(world, capsys)
    assert code == 1
    assert kinds == expected
    assert report["complete"] is True and report["error"] is None
    code, out, _err = world.cli("audit", "42", capsys=capsys)
    assert code == 1
    assert f"{name(6)}: in S3" in out and "left by a generation that was interrupted" in out
    assert "tdm-desktop repair 0042 --drop-dangling" in out


def test_each_repair_flag_fixes_exactly_its_kind_and_a_second_run_changes_nothing(world, capsys):
    expected = plant(world)
    in_s3_before = objects(world)
    for flag, kind in (
        ("--drop-dangling", "dangling"),
        ("--fix-sizes", "size-mismatch"),
        ("--forget-stale", "stale-metadata"),
        ("--adopt-orphans", "orphan"),
    ):
        code, out, _err = world.cli("repair", ACTOR_ID, flag, capsys=capsys)
        assert code == 0, out
        if kind == "orphan":
            expected[kind] = {"drafts/sketch.jpg"}  # a name the app never writes: left alone
        else:
            del expected[kind]
        assert audited(world, capsys)[1] == expected, flag
        before = snapshot(world)
        code, out, _err = world.cli("repair", ACTOR_ID, flag, capsys=capsys)
        assert code == 0 and "nothing to repair" in out, flag
        assert snapshot(world) == before, flag
    assert objects(world) == in_s3_before  # only the manifest and the metadata changed
    entries = listed(world)
    assert name(2) not in entries and name(3) not in entries
    assert entries[name(1)]["size_mb"] == size_mb(len(jpeg_bytes(1)))
    assert entries[name(10)]["s3_url"] == AWS + PREFIX + name(10)
    assert entries[name(10)]["size_mb"] == size_mb(len(jpeg_bytes(10)))
    assert entries[name(6)]["s3_url"] == AWS + PREFIX + name(6)
    metadata = PromptMetadata.for_actor(world.catalog, ACTOR)
    assert metadata.generation(name(6))["prompt"] == KILLED_PROMPT
    assert metadata.generation(name(40)) is None
    assert metadata.is_good(name(0)) is False  # a listed image's flag is kept
    assert UploadJournal.for_actor(world.catalog, ACTOR).pending() == {}
    assert entries["elsewhere.jpg"]["s3_url"].startswith("https://someone-else.")


def test_delete_orphans_deletes_only_the_actors_orphans_from_s3(world, capsys):
    plant(world)
    before = snapshot(world)
    code, _out, err = world.cli("repair", ACTOR_ID, "--delete-orphans", capsys=capsys)
    assert code == 2 and "add --yes" in err
    assert snapshot(world) == before
    code, out, _err = world.cli("repair", ACTOR_ID, "--delete-orphans", "--yes", capsys=capsys)
    assert code == 0, out
    in_s3 = objects(world)
    assert PREFIX + name(6) not in in_s3 and PREFIX + name(10) not in in_s3
    assert NESTED_KEY in in_s3 and OTHER_ACTOR_KEY in in_s3
    assert set(before[3]) - set(in_s3) == {PREFIX + name(6), PREFIX + name(10)}
    assert manifest_bytes(world) == before[0]  # nothing listed changed
    assert UploadJournal.for_actor(world.catalog, ACTOR).pending() == {}
    after = snapshot(world)
    code, out, _err = world.cli("repair", ACTOR_ID, "--delete-orphans", "--yes", capsys=capsys)
    assert code == 0 and "nothing to repair" in out
    assert snapshot(world) == after


def test_a_dry_run_prints_each_change_and_changes_nothing(world, capsys):
    plant(world)
    before = snapshot(world)
    code, out, _err = world.cli("repair", ACTOR_ID, capsys=capsys)
    assert code == 0
    for line in (
        f"--drop-dangling: would stop listing {name(2)}",
        f"--fix-sizes: would record {name(1)}'s size",
        f"--adopt-orphans: would list {name(10)}",
        f"--delete-orphans --yes: would delete s3 object {PREFIX + name(6)}",
        f"--forget-stale: would forget {name(40)}'s prompt metadata",
        "left alone  duplicate",
        "left alone  foreign elsewhere.jpg",
        "left alone  orphan drafts/sketch.jpg",
    ):
        assert line in out, line
    assert snapshot(world) == before


def test_the_next_generate_lists_what_a_killed_generation_uploaded(world, capsys):
    make_actor(world.catalog, world.store, count=2)
    key = kill_generation_after_upload(world)
    assert key == PREFIX + name(2) and name(2) not in listed(world)
    assert UploadJournal.for_actor(world.catalog, ACTOR).pending()[name(2)].key == key
    code, kinds, _report = audited(world, capsys)
    assert code == 1 and kinds == {"orphan": {name(2)}}

    code, out, _err = world.cli("generate", ACTOR_ID, "--prompt", "the next run", capsys=capsys)
    assert code == 0, out
    assert list(listed(world)) == [name(0), name(1), name(2), name(3)]
    metadata = PromptMetadata.for_actor(world.catalog, ACTOR)
    assert metadata.generation(name(2))["prompt"] == KILLED_PROMPT
    assert metadata.generation(name(3))["prompt"] == "the next run"
    assert UploadJournal.for_actor(world.catalog, ACTOR).pending() == {}
    assert audited(world, capsys)[:2] == (0, {})


# -- migration --------------------------------------------------------------------------------

SYNCED_AT = "2025-09-01T10:00:00.000000"


def sync_era_entry(n: int, status: str, *, url: bool = True, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"filename": name(n)}
    if url:
        entry["s3_url"] = AWS + PREFIX + name(n)
    entry.update(
        size_mb=size_mb(len(jpeg_bytes(n))),
        modified_date=SYNCED_AT,
        local_path=f"data/actors/{ACTOR}/training_data/{name(n)}",
        local_exists=status != "s3_only",
        status=status,
        md5="0" * 32,
        **extra,
    )
    return entry


def write_sync_era(world: World, entries: list[dict], **top: Any) -> bytes:
    document = {
        "character_id": ACTOR_ID,
        "character_name": ACTOR,
        "training_data": entries,
        "training_data_updated": SYNCED_AT,
        "statistics": {"training_images_count": len(entries), "training_data_size_mb": 1.0},
        **top,
    }
    raw = json.dumps(document, indent=4).encode()
    put_raw(world.catalog, MANIFEST, raw)
    return raw


def upload(world: World, *numbers: int) -> None:
    for n in numbers:
        world.store.put_new(world.store.key_for(ACTOR, name(n)), jpeg_bytes(n), "image/jpeg")


def sync_era_shapes() -> dict[str, tuple[list[dict], dict, set[int]]]:
    """Each shape: the entries, the top-level sync keys, the images whose objects exist."""
    return {
        "all synced": (
            [sync_era_entry(n, "synced", sync_status="synced", s3_md5="1" * 32) for n in range(3)],
            {"sync_status": "synced", "synced_count": 3},
            {0, 1, 2},
        ),
        "local_only without s3_url": (
            [
                sync_era_entry(0, "synced"),
                sync_era_entry(1, "local_only", url=False, local_md5="2" * 32),
                sync_era_entry(2, "local_only", url=False),
                sync_era_entry(3, "synced", notes="kept as is"),
            ],
            {"local_only_count": 2, "synced_count": 2},
            {0, 2, 3},  # image 1 stayed local only: its file is gone
        ),
        "out_of_sync": (
            [sync_era_entry(0, "out_of_sync", s3_md5="3" * 32), sync_era_entry(1, "synced")],
            {"out_of_sync_count": 1},
            {1},
        ),
        "top-level counts only": (
            [
                {
                    k: v
                    for k, v in sync_era_entry(n, "x").items()
                    if k in ("filename", "s3_url", "size_mb", "modified_date")
                }
                for n in range(2)
            ],
            {
                "synced_count": 2,
                "local_only_count": 0,
                "s3_only_count": 0,
                "out_of_sync_count": 0,
                "owner": "kept as is",
            },
            {0, 1},
        ),
    }


def check_migration_of_every_shape(world: World, capsys: Any) -> None:
    for shape, (entries, top, existing) in sync_era_shapes().items():
        for key in list(objects(world)):
            world.store.delete_keys([key])
        upload(world, *existing)
        raw = write_sync_era(world, entries, **top)
        remove_raw(world, SYNC_ERA_COPY)

        code, out, _err = world.cli("migrate", ACTOR_ID, "--dry-run", capsys=capsys)
        assert code == 0, (shape, out)
        assert manifest_bytes(world) == raw, shape
        assert raw_bytes(world.catalog, SYNC_ERA_COPY) is None, shape

        code, out, _err = world.cli("migrate", ACTOR_ID, capsys=capsys)
        assert code == 0, (shape, out)
        kept = {name(n) for n in existing}
        dropped = {e["filename"] for e in entries} - kept
        for gone in dropped:
            assert f"dropped  {gone}: no object in S3" in out, shape
        assert raw_bytes(world.catalog, SYNC_ERA_COPY) == raw, shape
        document = json.loads(manifest_bytes(world) or b"")
        assert [i["filename"] for i in document["training_data"]] == [
            e["filename"] for e in entries if e["filename"] in kept
        ], shape
        for item in document["training_data"]:
            assert set(item) <= {"filename", "s3_url", "size_mb", "modified_date", "notes"}
            assert item["s3_url"] == AWS + PREFIX + item["filename"]
        assert not set(document) & {"sync_status", "synced_count", "local_only_count"}
        assert document.get("owner") == top.get("owner")
        assert document["statistics"] == {
            "training_images_count": len(kept),
            "training_data_size_mb": round(sum(size_mb(len(jpeg_bytes(n))) for n in existing), 2),
        }
        migrated = manifest_bytes(world)
        code, out, _err = world.cli("migrate", ACTOR_ID, capsys=capsys)
        assert code == 0 and "nothing to do" in out, shape
        assert manifest_bytes(world) == migrated
        assert raw_bytes(world.catalog, SYNC_ERA_COPY) == raw
        code, kinds, _report = audited(world, capsys)
        assert (code, kinds) == (0, {}), shape


def test_migrate_keeps_exactly_the_entries_whose_objects_exist(world, capsys):
    check_migration_of_every_shape(world, capsys)


def test_actors_and_training_data_say_to_migrate_a_sync_era_manifest(world, capsys):
    entries, top, existing = sync_era_shapes()["local_only without s3_url"]
    upload(world, *existing)
    raw = write_sync_era(world, entries, **top)
    url = world.catalog.url(MANIFEST)
    message = f"{url}: written before the S3-only change: run tdm-desktop migrate 0042"
    code, out, _err = world.cli("actors", "--json", capsys=capsys)
    assert code == 1 and json.loads(out)[0]["problem"] == message
    code, _out, err = world.cli("training-data", "42", capsys=capsys)
    assert code == 2 and err.strip().endswith(message)
    code, _out, err = world.cli("audit", "42", capsys=capsys)
    assert code == 2 and err.strip().endswith(message)
    assert manifest_bytes(world) == raw


def test_a_sync_era_manifest_invalid_otherwise_is_the_validation_error_and_nothing_written(
    world, capsys
):
    entries = [sync_era_entry(0, "synced"), sync_era_entry(1, "local_only", url=False)]
    entries[0]["size_mb"] = "big"
    upload(world, 0)
    raw = write_sync_era(world, entries, synced_count=1)
    code, _out, err = world.cli("migrate", ACTOR_ID, capsys=capsys)
    assert code == 2
    assert err.strip().endswith('training_data[0].size_mb must be a number, got "big"')
    assert manifest_bytes(world) == raw
    assert raw_bytes(world.catalog, SYNC_ERA_COPY) is None


ALL_SCENARIOS: list[Callable[..., None]] = [
    test_audit_finds_exactly_what_was_planted,
    test_each_repair_flag_fixes_exactly_its_kind_and_a_second_run_changes_nothing,
    test_delete_orphans_deletes_only_the_actors_orphans_from_s3,
    test_a_dry_run_prints_each_change_and_changes_nothing,
    test_the_next_generate_lists_what_a_killed_generation_uploaded,
    test_migrate_keeps_exactly_the_entries_whose_objects_exist,
    test_actors_and_training_data_say_to_migrate_a_sync_era_manifest,
    test_a_sync_era_manifest_invalid_otherwise_is_the_validation_error_and_nothing_written,
]
