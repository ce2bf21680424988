"""The training-data service: the seed's API response, flags, delete and restore, on moto S3."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from tdm_desktop.core.documents import LocalDocuments, S3Documents
from tdm_desktop.core.errors import (
    ActorNotFoundError,
    ForeignImageError,
    ImageNotInManifestError,
    InvalidNameError,
    ManifestError,
    ReadOnlyCatalogError,
)
from tdm_desktop.core.layout import manifest_name, prompt_metadata_name
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.prompt_metadata import UNREVIEWED, Review
from tdm_desktop.core.training_data import TrainingDataService
from tests.catalogs import (
    CATALOG_PREFIX,
    CATALOG_URL,
    deny_puts,
    put_raw,
    raw_bytes,
    stored_identity,
)
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


MANIFEST = manifest_name("0042")
METADATA = prompt_metadata_name(ACTOR)


@pytest.fixture
def service(catalog, store):
    """The service on a folder data dir and on an S3 one (the same tests run on both)."""
    return TrainingDataService(catalog, store, curator="alice", clock=fixed_clock)


def fixed_clock():
    return datetime(2026, 1, 2, 3, 4, 5, 600000, tzinfo=UTC)


NOW = "2026-01-02T03:04:05.600000"


@pytest.fixture
def seed_data_dir(catalog):
    put_raw(catalog, MANIFEST, (FIXTURES / "seed_manifest.json").read_bytes())
    return catalog


def metadata_json(catalog) -> dict:
    return json.loads(raw_bytes(catalog, METADATA))


def manifest_json(catalog) -> dict:
    return json.loads(raw_bytes(catalog, MANIFEST))


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
        f"[S3-ONLY] Loading manifest from {seed_data_dir.url(MANIFEST)}",
        "[S3-ONLY] Found 1 images in manifest",
        "[S3-ONLY] Returning 1 S3 images",
    ]


def test_unknown_actor_and_bad_id_are_clear_errors(catalog, service):
    with pytest.raises(
        ActorNotFoundError, match=r"actor 0007: no manifest at .*0007_manifest\.json"
    ):
        service.get_training_data("7")
    with pytest.raises(InvalidNameError, match="actor ID"):
        service.get_training_data("../0042")


def test_mark_bad_writes_prompt_metadata_and_shows_in_the_response(catalog, store, service):
    names = make_actor(catalog, store, count=3)

    previous = service.mark("0042", [names[1]], good=False)

    assert previous == {names[1]: True}
    assert metadata_json(catalog)["images"][names[1]] == {
        "good": False,
        "reviewed_by": "alice",
        "reviewed_at": NOW,
    }
    goods = [img["good"] for img in service.get_training_data("0042")["training_images"]]
    assert goods == [True, False, True]


def test_mark_refuses_a_file_not_in_the_manifest_and_writes_nothing(catalog, store, service):
    make_actor(catalog, store, count=1)
    with pytest.raises(ImageNotInManifestError, match=r"not in the manifest: nope\.jpg"):
        service.mark("0042", ["nope.jpg"], good=False)
    assert raw_bytes(catalog, METADATA) is None


def test_delete_removes_from_s3_then_the_manifest(catalog, store, service, s3_client):
    names = make_actor(catalog, store, count=3)
    service.mark("0042", [names[0]], good=False)

    outcome = service.delete_images("0042", [names[0]])

    assert outcome.deleted == [names[0]] and outcome.complete
    keys = store.list_keys(f"system_actors/training_data/{ACTOR}/")
    assert sorted(k.rsplit("/", 1)[1] for k in keys) == names[1:]
    manifest = TrainingDataManifest.for_actor(catalog, "0042")
    manifest.load()
    assert [e.filename for e in manifest.get_all_images()] == names[1:]
    assert manifest_json(catalog)["statistics"]["training_images_count"] == 2
    assert names[0] not in metadata_json(catalog).get("images", {})


def test_delete_with_one_key_denied_keeps_exactly_what_remains(catalog, store, service, s3_client):
    names = make_actor(catalog, store, count=4)
    denied_key = store.key_for(ACTOR, names[2])
    deny_delete(s3_client, BUCKET, denied_key)

    outcome = service.delete_all("0042")

    assert sorted(outcome.deleted) == sorted([names[0], names[1], names[3]])
    assert list(outcome.failed) == [names[2]] and "AccessDenied" in outcome.failed[names[2]]
    assert store.list_keys(f"system_actors/training_data/{ACTOR}/") == [denied_key]
    manifest = TrainingDataManifest.for_actor(catalog, "0042")
    manifest.load()
    assert [e.filename for e in manifest.get_all_images()] == [names[2]]


def test_a_foreign_url_is_refused_never_fetched_nor_deleted(catalog, store, service, s3_client):
    make_actor(catalog, store, count=1)
    s3_client.create_bucket(Bucket="someone-elses-bucket")
    foreign_key = f"system_actors/training_data/{ACTOR}/{ACTOR}_9.jpg"
    s3_client.put_object(Bucket="someone-elses-bucket", Key=foreign_key, Body=b"theirs")
    manifest = TrainingDataManifest.for_actor(catalog, "0042")
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


def test_fetch_image_bytes_reads_through_the_configured_client(catalog, store, service):
    make_actor(catalog, store, count=2)
    images = service.load_actor("0042").images
    assert service.fetch_image_bytes(images[1]) == jpeg_bytes(1)


def test_restore_after_delete_brings_back_object_listing_and_flag(catalog, store, service):
    names = make_actor(catalog, store, count=2)
    service.mark("0042", [names[1]], good=False)
    image = service.load_actor("0042").images[1]
    original = service.fetch_image_bytes(image)
    service.delete_images("0042", [names[1]])

    service.restore_image("0042", image.entry, original, good=image.good)

    restored = service.load_actor("0042").images
    assert [i.filename for i in restored] == names
    assert restored[1].good is False
    assert store.get_bytes(store.key_for(ACTOR, names[1])) == original


def test_a_broken_manifest_is_one_clear_error_and_is_not_touched(catalog, service):
    put_raw(catalog, MANIFEST, b'{"character_id": "0042", "character_name": ')
    before = stored_identity(catalog, MANIFEST)
    with pytest.raises(ManifestError) as caught:
        service.get_training_data("0042")
    assert str(caught.value).startswith(catalog.url(MANIFEST) + ": ")
    with pytest.raises(ManifestError):
        service.mark("0042", ["x.jpg"], good=False)
    assert stored_identity(catalog, MANIFEST) == before


def test_restore_writes_back_the_generation_record_at_the_old_place(catalog, store, service):
    from tdm_desktop.core.prompt_metadata import PromptMetadata

    names = make_actor(catalog, store, count=3)
    metadata = PromptMetadata.for_actor(catalog, ACTOR)
    metadata.record_generation(
        names[1], prompt="p", seed=7, generator="a1111", generated_at="2025-10-17T15:57:00"
    )
    record = metadata.load().generation(names[1])
    image = service.load_actor("0042").images[1]
    original = service.fetch_image_bytes(image)
    service.delete_images("0042", [names[1]])

    service.restore_image("0042", image.entry, original, good=True, index=1, generation=record)

    assert [i.filename for i in service.load_actor("0042").images] == names
    entry = metadata_json(catalog)["images"][names[1]]
    assert entry == {**record, "good": True}
    assert entry["seed"] == 7 and entry["prompt"] == "p"


def test_set_flags_with_known_filenames_does_not_read_the_manifest_again(catalog, store, service):
    names = make_actor(catalog, store, count=2)
    service.load_actor("0042")
    put_raw(catalog, MANIFEST, b'{"character_id": "0042", "character_name": ')  # a read fails

    service.set_flags("0042", {names[1]: False}, known_filenames=names)
    assert metadata_json(catalog)["images"][names[1]]["good"] is False

    with pytest.raises(ImageNotInManifestError, match=r"nope\.jpg"):
        service.set_flags("0042", {"nope.jpg": False, names[0]: False}, known_filenames=names)
    assert names[0] not in metadata_json(catalog)["images"]


def test_a_manifest_broken_during_the_delete_is_reported_and_not_overwritten(
    catalog, store, service, s3_client
):
    """Another program breaks the manifest while S3 deletes: the object is gone, the manifest
    cannot be rewritten and is left as it is; the outcome names the image in that state."""
    names = make_actor(catalog, store, count=2)

    def break_manifest(**_):
        put_raw(catalog, MANIFEST, b'{"broken": ')

    s3_client.meta.events.register("before-call.s3.DeleteObjects", break_manifest)
    outcome = service.delete_images("0042", [names[0]])

    assert outcome.deleted == [] and not outcome.complete
    assert list(outcome.unlisted_failed) == [names[0]]
    assert "deleted from S3, but the manifest still lists it" in outcome.unlisted_failed[names[0]]
    assert "0042_manifest.json" in outcome.unlisted_failed[names[0]]
    assert raw_bytes(catalog, MANIFEST) == b'{"broken": '
    assert store.list_keys(f"system_actors/training_data/{ACTOR}/") == [
        store.key_for(ACTOR, names[1])
    ]


# -- who and when, undo in a team, read-only curators ------------------------------------------


def test_each_image_says_who_decided_what_and_when(catalog, store, service):
    names = make_actor(catalog, store, count=4)
    put_raw(catalog, METADATA, json.dumps({"images": {names[3]: {"good": False}}}).encode())
    service.mark("0042", [names[0]], good=True)
    service.mark("0042", [names[1]], good=False)

    images = service.load_actor("0042").images

    assert [image.review for image in images] == [
        Review("good", "alice", NOW),
        Review("bad", "alice", NOW),
        UNREVIEWED,  # never looked at: good in the design's API
        Review("bad"),  # a bad flag from before reviews were recorded
    ]
    assert [image.good for image in images] == [True, False, True, False]
    assert service.reviews("0042") == {
        names[0]: Review("good", "alice", NOW),
        names[1]: Review("bad", "alice", NOW),
        names[3]: Review("bad"),
    }


def test_the_api_response_keeps_the_designs_shape_with_reviews_recorded(seed_data_dir, service):
    service.mark("0042", ["0042_european_30_male_0.jpg"], good=False)
    response = service.get_training_data("0042")
    assert list(response) == SEED_RESPONSE_KEYS
    image = response["training_images"][0]
    assert list(image) == ["index", "filename", "s3_url", "size_mb", "modified_date", "good"]
    assert image["good"] is False


def test_undo_in_a_team_leaves_what_another_curator_changed_since(catalog, store, service):
    names = make_actor(catalog, store, count=3)
    bob = TrainingDataService(catalog, store, curator="bob")
    changes = service.flag("0042", dict.fromkeys(names, False))
    bob.mark("0042", [names[1]], good=True)

    outcome = service.undo_flags("0042", changes)

    assert outcome.undone == [names[0], names[2]]
    assert list(outcome.left_alone) == [names[1]]
    assert outcome.left_alone[names[1]].by == "bob"
    assert outcome.left_alone[names[1]].decision == "good"
    images = metadata_json(catalog)["images"]
    assert list(images) == [names[1]] and images[names[1]]["reviewed_by"] == "bob"
    assert [i.review.decided for i in service.load_actor("0042").images] == [False, True, False]


def test_redo_in_a_team_leaves_what_another_curator_changed_after_the_undo(catalog, store, service):
    names = make_actor(catalog, store, count=2)
    bob = TrainingDataService(catalog, store, curator="bob")
    changes = service.flag("0042", dict.fromkeys(names, False))
    service.undo_flags("0042", changes)
    bob.mark("0042", [names[0]], good=True)

    outcome = service.redo_flags("0042", changes)

    assert outcome.undone == [names[1]] and outcome.left_alone[names[0]].by == "bob"
    images = metadata_json(catalog)["images"]
    assert images[names[0]]["reviewed_by"] == "bob" and images[names[0]]["good"] is True
    assert images[names[1]]["reviewed_by"] == "alice" and images[names[1]]["good"] is False


def test_the_curator_can_change_and_a_bad_name_is_refused(catalog, store, service):
    names = make_actor(catalog, store, count=1)
    service.curator = "carol"
    service.mark("0042", names, good=False)
    assert metadata_json(catalog)["images"][names[0]]["reviewed_by"] == "carol"
    with pytest.raises(InvalidNameError):
        service.curator = "a\nb"
    assert service.curator == "carol"


def test_a_flag_already_decided_that_way_is_not_in_the_changes(catalog, store, service):
    names = make_actor(catalog, store, count=2)
    service.mark("0042", [names[0]], good=False)
    changes = service.flag("0042", dict.fromkeys(names, False))
    assert [change.filename for change in changes] == [names[1]]
    assert changes[0].before == {} and changes[0].after_review == Review("bad", "alice", NOW)


def test_a_read_only_curator_gets_one_clear_error_and_nothing_changes(s3_client, store):
    catalog = S3Documents(s3_client, BUCKET, CATALOG_PREFIX)
    names = make_actor(catalog, store, count=2)
    manifest_before = raw_bytes(catalog, MANIFEST)
    deny_puts(s3_client)
    service = TrainingDataService(catalog, store, curator="alice")

    for attempt in (
        lambda: service.mark("0042", [names[0]], good=False),
        lambda: service.delete_images("0042", [names[0]]),
        lambda: service.delete_all("0042"),
    ):
        with pytest.raises(ReadOnlyCatalogError) as caught:
            attempt()
        assert str(caught.value).startswith(f"this account can only read {CATALOG_URL}: ")

    assert raw_bytes(catalog, MANIFEST) == manifest_before
    assert raw_bytes(catalog, METADATA) is None
    assert sorted(store.list_keys(f"system_actors/training_data/{ACTOR}/")) == sorted(
        store.key_for(ACTOR, name) for name in names
    )  # nothing deleted from S3 either


def test_the_s3_only_lines_name_the_s3_location_they_read(s3_client, store, caplog):
    catalog = S3Documents(s3_client, BUCKET, CATALOG_PREFIX)
    names = make_actor(catalog, store, count=1)
    service = TrainingDataService(catalog, store, curator="alice")
    caplog.set_level(logging.INFO, logger="tdm_desktop")
    service.load_actor("0042")
    service.mark("0042", names, good=False)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("[S3-ONLY]")]
    assert f"[S3-ONLY] Loading manifest from {CATALOG_URL}/{MANIFEST}" in lines
    assert any(line.endswith(f"as alice in {CATALOG_URL}/{METADATA}") for line in lines)


def test_the_base_image_is_a_document_of_the_catalog(catalog, store, service):
    make_actor(catalog, store, count=1)
    assert service.load_actor("0042").base_image is None
    name = f"actors/{ACTOR}/base_image/{ACTOR}_base.png"
    put_raw(catalog, name, b"\x89PNG fake")
    base = service.load_actor("0042").base_image
    assert base is not None and base.read() == b"\x89PNG fake"
    assert base.url == catalog.url(name) and base.name == f"{ACTOR}_base.png"


def test_watch_actor_follows_files_locally_and_polls_s3(catalog, store, service, s3_client):
    names = make_actor(catalog, store, count=2)
    service.load_actor("0042")
    watch = service.watch_actor("0042", ACTOR)
    assert bool(watch.local_files) == isinstance(catalog, LocalDocuments)
    seen = watch.state()
    assert watch.state() == seen  # nothing changed
    sent = count_s3_requests(s3_client)
    TrainingDataService(catalog, store, curator="bob").mark("0042", [names[0]], good=False)
    del sent[:]
    assert watch.state() != seen
    if not isinstance(catalog, LocalDocuments):  # two conditional GETs, nothing else
        assert sent == ["GetObject", "GetObject"]


def test_the_flag_log_lines_count_in_words(catalog, store, service, caplog):
    names = make_actor(catalog, store, count=3)
    caplog.set_level(logging.INFO, logger="tdm_desktop")
    one = service.flag("0042", {names[0]: False})
    service.flag("0042", {names[1]: True, names[2]: False})
    service.undo_flags("0042", one)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("[S3-ONLY] ")]
    said = [line.split(" in ")[0] for line in lines if " of 0042_" in line]
    actor = service.load_actor("0042").actor_name
    assert said == [
        f"[S3-ONLY] Flagged 1 image of {actor} (0 good, 1 bad) as alice",
        f"[S3-ONLY] Flagged 2 images of {actor} (1 good, 1 bad) as alice",
        f"[S3-ONLY] Undid 1 flag of {actor}",
    ]
