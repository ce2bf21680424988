"""The training-data service: the seed's API response, flags, delete and restore, on moto S3."""

from __future__ import annotations

import json
import logging
import shutil

import pytest

from tdm_desktop.core.errors import (
    ActorNotFoundError,
    ForeignImageError,
    ImageNotInManifestError,
    InvalidNameError,
    ManifestError,
)
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.training_data import TrainingDataService
from tests.conftest import BUCKET, FIXTURES
from tests.factories import deny_delete, jpeg_bytes, make_actor

ACTOR = "0042_european_30_male"

# The seed's example response (seed/000_ee23752f3da36dad.txt, "GET /api/actors/:actorId/training-data").
SEED_RESPONSE_KEYS = [
    "actor_id",
    "actor_name",
    "training_images",
    "base_image_path",
    "total_count",
    "manifest_updated",
]
SEED_IMAGE = {
    "index": 0,
    "filename": "0042_european_30_male_0.jpg",
    "size_mb": 0.31,
    "modified_date": "2025-10-17T15:57:00.000Z",
    "good": True,
}


@pytest.fixture
def service(data_dir, store):
    return TrainingDataService(data_dir, store)


@pytest.fixture
def seed_data_dir(data_dir):
    shutil.copy(
        FIXTURES / "seed_manifest.json", data_dir / "actor_manifests" / "0042_manifest.json"
    )
    return data_dir


def count_s3_requests(client) -> list[str]:
    """Every request the client sends, by operation name."""
    sent: list[str] = []
    client.meta.events.register(
        "before-call.s3", lambda model, **_: sent.append(model.name), unique_id="count-requests"
    )
    return sent


def test_seed_example_gives_the_seeds_response_field_by_field(seed_data_dir, service):
    response = service.get_training_data("42")

    assert list(response) == SEED_RESPONSE_KEYS
    assert response["actor_id"] == 42 and isinstance(response["actor_id"], int)
    assert response["actor_name"] == ACTOR
    image = response["training_images"][0]
    assert list(image) == ["index", "filename", "s3_url", "size_mb", "modified_date", "good"]
    assert {k: v for k, v in image.items() if k != "s3_url"} == SEED_IMAGE
    assert image["s3_url"] == "https://story-boards-assets.s3.../0042_european_30_male_0.jpg"
    assert response["base_image_path"] == (
        "/data/actors/0042_european_30_male/base_image/0042_european_30_male_base.png"
    )
    # The seed's example lists 1 of its 17 images; total_count counts what is returned.
    assert response["total_count"] == len(response["training_images"]) == 1
    assert response["manifest_updated"] == "2025-10-17T16:30:00.000Z"


def test_get_training_data_logs_the_seeds_s3_only_lines(seed_data_dir, service, caplog):
    caplog.set_level(logging.INFO, logger="tdm_desktop")
    service.get_training_data("0042")
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("[S3-ONLY]")]
    assert lines == [
        "[S3-ONLY] Loading training data for actor 0042",
        f"[S3-ONLY] Loading manifest from {seed_data_dir / 'actor_manifests' / '0042_manifest.json'}",
        "[S3-ONLY] Found 1 images in manifest",
        "[S3-ONLY] Returning 1 S3 images",
    ]


def test_unknown_actor_and_bad_id_are_clear_errors(data_dir, service):
    with pytest.raises(
        ActorNotFoundError, match=r"actor 0007: no manifest at .*0007_manifest\.json"
    ):
        service.get_training_data("7")
    with pytest.raises(InvalidNameError, match="actor ID"):
        service.get_training_data("../0042")


def test_mark_bad_writes_prompt_metadata_and_shows_in_the_response(data_dir, store, service):
    names = make_actor(data_dir, store, count=3)

    previous = service.mark("0042", [names[1]], good=False)

    assert previous == {names[1]: True}
    on_disk = json.loads((data_dir / "actors" / ACTOR / "prompt_metadata.json").read_text())
    assert on_disk["images"][names[1]]["good"] is False
    goods = [img["good"] for img in service.get_training_data("0042")["training_images"]]
    assert goods == [True, False, True]


def test_mark_refuses_a_file_not_in_the_manifest_and_writes_nothing(data_dir, store, service):
    make_actor(data_dir, store, count=1)
    with pytest.raises(ImageNotInManifestError, match=r"not in the manifest: nope\.jpg"):
        service.mark("0042", ["nope.jpg"], good=False)
    assert not (data_dir / "actors" / ACTOR / "prompt_metadata.json").exists()


def test_delete_removes_from_s3_then_the_manifest(data_dir, store, service, s3_client):
    names = make_actor(data_dir, store, count=3)
    service.mark("0042", [names[0]], good=False)

    outcome = service.delete_images("0042", [names[0]])

    assert outcome.deleted == [names[0]] and outcome.complete
    keys = store.list_keys(f"system_actors/training_data/{ACTOR}/")
    assert sorted(k.rsplit("/", 1)[1] for k in keys) == names[1:]
    manifest = TrainingDataManifest.for_actor(data_dir, "0042")
    manifest.load()
    assert [e.filename for e in manifest.get_all_images()] == names[1:]
    assert json.loads(manifest.path.read_text())["statistics"]["training_images_count"] == 2
    metadata = json.loads((data_dir / "actors" / ACTOR / "prompt_metadata.json").read_text())
    assert names[0] not in metadata.get("images", {})


def test_delete_with_one_key_denied_keeps_exactly_what_remains(data_dir, store, service, s3_client):
    names = make_actor(data_dir, store, count=4)
    denied_key = store.key_for(ACTOR, names[2])
    deny_delete(s3_client, BUCKET, denied_key)

    outcome = service.delete_all("0042")

    assert sorted(outcome.deleted) == sorted([names[0], names[1], names[3]])
    assert list(outcome.failed) == [names[2]] and "AccessDenied" in outcome.failed[names[2]]
    assert store.list_keys(f"system_actors/training_data/{ACTOR}/") == [denied_key]
    manifest = TrainingDataManifest.for_actor(data_dir, "0042")
    manifest.load()
    assert [e.filename for e in manifest.get_all_images()] == [names[2]]


def test_a_foreign_url_is_refused_never_fetched_nor_deleted(data_dir, store, service, s3_client):
    make_actor(data_dir, store, count=1)
    s3_client.create_bucket(Bucket="someone-elses-bucket")
    foreign_key = f"system_actors/training_data/{ACTOR}/{ACTOR}_9.jpg"
    s3_client.put_object(Bucket="someone-elses-bucket", Key=foreign_key, Body=b"theirs")
    manifest = TrainingDataManifest.for_actor(data_dir, "0042")
    manifest.add_image(
        f"{ACTOR}_9.jpg", f"https://someone-elses-bucket.s3.amazonaws.com/{foreign_key}", 0.01
    )

    images = service.load_actor("0042").images
    foreign = images[1]
    assert images[0].location is not None and images[0].foreign_reason is None
    assert foreign.location is None and "someone-elses-bucket" in foreign.foreign_reason

    sent = count_s3_requests(s3_client)
    with pytest.raises(ForeignImageError):
        service.fetch_image_bytes(foreign)
    assert sent == []

    outcome = service.delete_images("0042", [f"{ACTOR}_9.jpg"])
    assert outcome.deleted == [] and list(outcome.refused) == [f"{ACTOR}_9.jpg"]
    body = s3_client.get_object(Bucket="someone-elses-bucket", Key=foreign_key)["Body"].read()
    assert body == b"theirs"
    manifest.load()
    assert len(manifest.get_all_images()) == 2


def test_fetch_image_bytes_reads_through_the_configured_client(data_dir, store, service):
    make_actor(data_dir, store, count=2)
    images = service.load_actor("0042").images
    assert service.fetch_image_bytes(images[1]) == jpeg_bytes(1)


def test_restore_after_delete_brings_back_object_listing_and_flag(data_dir, store, service):
    names = make_actor(data_dir, store, count=2)
    service.mark("0042", [names[1]], good=False)
    image = service.load_actor("0042").images[1]
    original = service.fetch_image_bytes(image)
    service.delete_images("0042", [names[1]])

    service.restore_image("0042", image.entry, original, good=image.good)

    restored = service.load_actor("0042").images
    assert [i.filename for i in restored] == names
    assert restored[1].good is False
    assert store.get_bytes(store.key_for(ACTOR, names[1])) == original


def test_a_broken_manifest_is_one_clear_error_and_is_not_touched(data_dir, service):
    path = data_dir / "actor_manifests" / "0042_manifest.json"
    path.write_text('{"character_id": "0042", "character_name": ')
    before = path.read_bytes()
    with pytest.raises(ManifestError, match=r"0042_manifest\.json"):
        service.get_training_data("0042")
    with pytest.raises(ManifestError):
        service.mark("0042", ["x.jpg"], good=False)
    assert path.read_bytes() == before


def test_restore_writes_back_the_generation_record_at_the_old_place(data_dir, store, service):
    from tdm_desktop.core.prompt_metadata import PromptMetadata

    names = make_actor(data_dir, store, count=3)
    metadata = PromptMetadata.for_actor(data_dir, ACTOR)
    metadata.record_generation(
        names[1], prompt="p", seed=7, generator="a1111", generated_at="2025-10-17T15:57:00"
    )
    record = metadata.load().generation(names[1])
    image = service.load_actor("0042").images[1]
    original = service.fetch_image_bytes(image)
    service.delete_images("0042", [names[1]])

    service.restore_image("0042", image.entry, original, good=True, index=1, generation=record)

    assert [i.filename for i in service.load_actor("0042").images] == names
    path = data_dir / "actors" / ACTOR / "prompt_metadata.json"
    entry = json.loads(path.read_text(encoding="utf-8"))["images"][names[1]]
    assert entry == {**record, "good": True}
    assert entry["seed"] == 7 and entry["prompt"] == "p"


def test_set_flags_with_known_filenames_does_not_read_the_manifest_again(data_dir, store, service):
    names = make_actor(data_dir, store, count=2)
    service.load_actor("0042")
    manifest = data_dir / "actor_manifests" / "0042_manifest.json"
    manifest.write_text('{"character_id": "0042", "character_name": ')  # a read would fail

    service.set_flags("0042", {names[1]: False}, known_filenames=names)
    path = data_dir / "actors" / ACTOR / "prompt_metadata.json"
    assert json.loads(path.read_text(encoding="utf-8"))["images"][names[1]]["good"] is False

    with pytest.raises(ImageNotInManifestError, match=r"nope\.jpg"):
        service.set_flags("0042", {"nope.jpg": False, names[0]: False}, known_filenames=names)
    assert names[0] not in json.loads(path.read_text(encoding="utf-8"))["images"]


def test_a_manifest_broken_during_the_delete_is_reported_and_not_overwritten(
    data_dir, store, service, s3_client
):
    """Another program breaks the manifest while S3 deletes: the object is gone, the manifest
    cannot be rewritten and is left as it is; the outcome names the image in that state."""
    names = make_actor(data_dir, store, count=2)
    path = data_dir / "actor_manifests" / "0042_manifest.json"

    def break_manifest(**_):
        path.write_text('{"broken": ')

    s3_client.meta.events.register("before-call.s3.DeleteObjects", break_manifest)
    outcome = service.delete_images("0042", [names[0]])

    assert outcome.deleted == [] and not outcome.complete
    assert list(outcome.unlisted_failed) == [names[0]]
    assert "deleted from S3, but the manifest still lists it" in outcome.unlisted_failed[names[0]]
    assert "0042_manifest.json" in outcome.unlisted_failed[names[0]]
    assert path.read_text() == '{"broken": '
    assert store.list_keys(f"system_actors/training_data/{ACTOR}/") == [
        store.key_for(ACTOR, names[1])
    ]
