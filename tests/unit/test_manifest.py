"""The actor manifest on disk: the seed's structure byte for byte, strict validation, safe changes.

Also the two timestamp forms the manifest and the API use.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from itertools import count

import pytest

from tdm_desktop.core.documents import DocumentRef, S3Documents
from tdm_desktop.core.errors import (
    BadInputError,
    DuplicateImageError,
    InvalidNameError,
    ManifestError,
)
from tdm_desktop.core.manifest import ManifestEntry, TrainingDataManifest
from tdm_desktop.core.timestamps import api_timestamp, manifest_now
from tests.catalogs import BUCKET, put_raw, raw_bytes, stored_identity
from tests.conftest import FIXTURES

SEED = (FIXTURES / "seed_manifest.json").read_bytes()
URL = "https://story-boards-assets.s3.amazonaws.com/system_actors/training_data/0042_european_30_male/"


def ticking_clock(start=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)):
    """A clock that moves one second per reading."""
    ticks = count()
    return lambda: start + timedelta(seconds=next(ticks))


@pytest.fixture
def seed(catalog):
    """The seed's manifest as a document of a folder data dir and of an S3 one."""
    ref = DocumentRef(catalog, "actor_manifests/0042_manifest.json")
    put_raw(catalog, ref.name, SEED)
    return ref


def stored(ref: DocumentRef) -> bytes | None:
    return raw_bytes(ref.store, ref.name)


def put(ref: DocumentRef, data: bytes) -> None:
    put_raw(ref.store, ref.name, data)


def on_disk(ref: DocumentRef):
    return json.loads(stored(ref))


# -- timestamps ----------------------------------------------------------------------------------


def test_manifest_now_is_naive_utc_with_microseconds():
    paris = timezone(timedelta(hours=2))
    moment = datetime(2025, 10, 17, 18, 30, 0, 5, tzinfo=paris)
    assert manifest_now(lambda: moment) == "2025-10-17T16:30:00.000005"


def test_manifest_now_defaults_to_the_real_utc_time():
    stamp = manifest_now()
    parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)
    assert abs(parsed - datetime.now(UTC)) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2025-10-17T15:57:00.000000", "2025-10-17T15:57:00.000Z"),
        ("2025-10-17T15:57:00.123999", "2025-10-17T15:57:00.123Z"),
        ("2025-10-17T15:57:00", "2025-10-17T15:57:00.000Z"),
        ("2025-10-17T15:57:00.5Z", "2025-10-17T15:57:00.500Z"),
        ("2025-10-17T15:57:00.000Z", "2025-10-17T15:57:00.000Z"),
        ("2025-10-17T17:57:00+02:00", "2025-10-17T15:57:00.000Z"),
        ("2025-10-17T00:30:00.250-01:00", "2025-10-17T01:30:00.250Z"),
        ("2025-12-31T23:30:00+00:00", "2025-12-31T23:30:00.000Z"),
    ],
)
def test_api_timestamp(given, expected):
    assert api_timestamp(given) == expected


@pytest.mark.parametrize(
    "garbage",
    ["", "yesterday", "2025-10-17", "2025-13-01T00:00:00", "2025-02-30T00:00:00",
     "2025-10-17T15:57:00+25:00", "2025-10-17 15:57:00", None, 1760716620],
)  # fmt: skip
def test_api_timestamp_rejects_garbage(garbage):
    with pytest.raises(ValueError):
        api_timestamp(garbage)


# -- reading -------------------------------------------------------------------------------------


def test_the_seed_manifest_reads_as_the_seed_says(seed):
    manifest = TrainingDataManifest(seed).load()

    assert manifest.character_id == "0042"
    assert manifest.character_name == "0042_european_30_male"
    assert manifest.training_data_updated == "2025-10-17T16:30:00.000000"
    assert manifest.get_all_images() == [
        ManifestEntry(
            filename="0042_european_30_male_0.jpg",
            s3_url="https://story-boards-assets.s3.../0042_european_30_male_0.jpg",
            size_mb=0.31,
            modified_date="2025-10-17T15:57:00.000000",
        )
    ]


def test_the_seed_manifest_round_trips_byte_for_byte(seed):
    TrainingDataManifest(seed).save()
    assert stored(seed) == SEED


def test_a_manifest_without_a_trailing_newline_stays_without_one(seed):
    put(seed, SEED.rstrip(b"\n"))
    TrainingDataManifest(seed).save()
    assert stored(seed) == SEED.rstrip(b"\n")


def test_a_change_that_changes_nothing_does_not_write(seed):
    before = stored_identity(seed.store, seed.name)
    manifest = TrainingDataManifest(seed, clock=ticking_clock())

    assert manifest.remove_images(["not_listed.jpg"]) == []
    assert manifest.remove_image("not_listed.jpg") is False

    assert stored(seed) == SEED
    assert stored_identity(seed.store, seed.name) == before


def test_for_actor_path_accepts_short_and_padded_ids(data_dir):
    expected = data_dir / "actor_manifests" / "0042_manifest.json"
    assert TrainingDataManifest.for_actor(data_dir, "42").path == expected
    assert TrainingDataManifest.for_actor(data_dir, "0042").path == expected
    with pytest.raises(InvalidNameError):
        TrainingDataManifest.for_actor(data_dir, "../42")


def test_for_actor_in_s3_names_the_object_and_has_no_local_path(s3_client):
    manifest = TrainingDataManifest.for_actor(S3Documents(s3_client, BUCKET, "team"), 42)
    assert manifest.url == f"s3://{BUCKET}/team/actor_manifests/0042_manifest.json"
    with pytest.raises(ValueError, match="is not a local file"):
        _ = manifest.path


def test_get_all_images_sees_changes_after_load(seed):
    reader = TrainingDataManifest(seed).load()
    TrainingDataManifest(seed).add_image("new.jpg", URL + "new.jpg", 1.0)
    assert len(reader.get_all_images()) == 1
    assert [e.filename for e in reader.load().get_all_images()][-1] == "new.jpg"


# -- changes -------------------------------------------------------------------------------------


def test_add_image_appends_and_recomputes_statistics_and_updated(seed):
    manifest = TrainingDataManifest(seed, clock=ticking_clock())

    entry = manifest.add_image("0042_european_30_male_1.jpg", URL + "1.jpg", 1.234)

    data = on_disk(seed)
    assert entry == ManifestEntry(
        "0042_european_30_male_1.jpg", URL + "1.jpg", 1.234, "2026-01-02T03:04:05.678901"
    )
    assert data["training_data"][1] == {
        "filename": "0042_european_30_male_1.jpg",
        "s3_url": URL + "1.jpg",
        "size_mb": 1.234,
        "modified_date": "2026-01-02T03:04:05.678901",
    }
    assert data["statistics"] == {"training_images_count": 2, "training_data_size_mb": 1.54}
    assert data["training_data_updated"] == "2026-01-02T03:04:06.678901"
    assert list(data) == [
        "character_id", "character_name", "training_data", "training_data_updated", "statistics"
    ]  # fmt: skip
    assert stored(seed).endswith(b"}\n")


def test_add_image_keeps_a_given_modified_date(seed):
    manifest = TrainingDataManifest(seed)
    manifest.add_image("a.jpg", URL + "a.jpg", 0.5, "2025-01-01T00:00:00.000Z")
    assert on_disk(seed)["training_data"][-1]["modified_date"] == "2025-01-01T00:00:00.000Z"


def test_remove_images_returns_what_was_listed_and_recomputes(seed):
    manifest = TrainingDataManifest(seed, clock=ticking_clock())
    manifest.add_image("a.jpg", URL + "a.jpg", 1.0)
    manifest.add_image("b.jpg", URL + "b.jpg", 2.0)

    removed = manifest.remove_images(["b.jpg", "zzz.jpg", "0042_european_30_male_0.jpg"])

    assert removed == ["b.jpg", "0042_european_30_male_0.jpg"]
    data = on_disk(seed)
    assert [e["filename"] for e in data["training_data"]] == ["a.jpg"]
    assert data["statistics"] == {"training_images_count": 1, "training_data_size_mb": 1.0}
    assert manifest.remove_image("a.jpg") is True
    assert on_disk(seed)["statistics"] == {
        "training_images_count": 0,
        "training_data_size_mb": 0.0,
    }


def test_adding_a_listed_filename_raises_and_keeps_the_file(seed):
    manifest = TrainingDataManifest(seed)
    with pytest.raises(DuplicateImageError, match=r"0042_european_30_male_0\.jpg"):
        manifest.add_image("0042_european_30_male_0.jpg", URL + "x.jpg", 1.0)
    assert stored(seed) == SEED


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("../x.jpg", URL, 1.0), InvalidNameError),
        (("a/b.jpg", URL, 1.0), InvalidNameError),
        (("a.jpg", "", 1.0), BadInputError),
        (("a.jpg", URL, -1), BadInputError),
        (("a.jpg", URL, True), BadInputError),
        (("a.jpg", URL, "1.0"), BadInputError),
        (("a.jpg", URL, 1.0, "soon"), BadInputError),
    ],
)
def test_add_image_rejects_bad_input_and_keeps_the_file(seed, args, expected):
    with pytest.raises(expected):
        TrainingDataManifest(seed).add_image(*args)
    assert stored(seed) == SEED


def test_unknown_keys_are_kept_in_place_on_change(seed):
    data = json.loads(SEED)
    data = {"schema": 3, **data, "notes": {"by": "curator"}}
    data["training_data"][0] = {"filename": "0042_european_30_male_0.jpg", "tag": "hero",
                                **data["training_data"][0]}  # fmt: skip
    data["statistics"]["extra_stat"] = 7
    put(seed, json.dumps(data, indent=2).encode())
    manifest = TrainingDataManifest(seed, clock=ticking_clock())

    manifest.add_image("a.jpg", URL + "a.jpg", 1.0)
    manifest.remove_image("a.jpg")

    after = on_disk(seed)
    assert list(after) == list(data)
    assert after["schema"] == 3 and after["notes"] == {"by": "curator"}
    assert list(after["training_data"][0]) == ["filename", "tag", "s3_url", "size_mb",
                                               "modified_date"]  # fmt: skip
    assert after["statistics"] == {
        "training_images_count": 1,
        "training_data_size_mb": 0.31,
        "extra_stat": 7,
    }
    assert manifest.get_all_images()[0].extra == {"tag": "hero"}


def test_add_entry_puts_an_entry_back_where_it_was_with_its_extra_keys(seed):
    manifest = TrainingDataManifest(seed)
    manifest.add_image("a.jpg", URL + "a.jpg", 1.0)
    first = manifest.get_all_images()[0]
    restored = ManifestEntry(first.filename, first.s3_url, first.size_mb, first.modified_date,
                             extra={"tag": "hero"})  # fmt: skip
    manifest.remove_image(first.filename)

    manifest.add_entry(restored, index=0)

    items = on_disk(seed)["training_data"]
    assert [i["filename"] for i in items] == ["0042_european_30_male_0.jpg", "a.jpg"]
    assert items[0]["tag"] == "hero"


def test_create_writes_an_empty_manifest(catalog):
    manifest = TrainingDataManifest.for_actor(catalog, 7, clock=ticking_clock())

    manifest.create("7", "0007_asian_25_female")

    assert stored(manifest.document) == (
        b'{\n  "character_id": "0007",\n  "character_name": "0007_asian_25_female",\n'
        b'  "training_data": [],\n  "training_data_updated": "2026-01-02T03:04:05.678901",\n'
        b'  "statistics": {\n    "training_images_count": 0,\n'
        b'    "training_data_size_mb": 0.0\n  }\n}\n'
    )
    assert TrainingDataManifest(manifest.document).get_all_images() == []


def test_create_makes_the_manifests_folder(tmp_path):
    manifest = TrainingDataManifest.for_actor(tmp_path / "fresh", "1")
    manifest.create("0001", "0001_a_20_male")
    assert manifest.path.is_file()


def test_create_never_replaces_an_existing_manifest(seed):
    with pytest.raises(ManifestError, match="already exists"):
        TrainingDataManifest(seed).create("0042", "0042_other")
    assert stored(seed) == SEED


def test_create_rejects_an_id_that_is_not_the_file_names(catalog):
    manifest = TrainingDataManifest.for_actor(catalog, "42")
    with pytest.raises(BadInputError, match="does not match"):
        manifest.create("43", "0043_x_30_male")
    assert stored(manifest.document) is None


# -- validation ----------------------------------------------------------------------------------


def _edited(change):
    data = json.loads(SEED)
    change(data)
    return json.dumps(data, indent=2).encode()


def _set(*path_and_value):
    *keys, value = path_and_value

    def change(data):
        target = data
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value

    return change


def _delete(*keys):
    def change(data):
        target = data
        for key in keys[:-1]:
            target = target[key]
        del target[keys[-1]]

    return change


def _entry_copy(data):
    data["training_data"].append(dict(data["training_data"][0]))


BAD_MANIFESTS = {
    "invalid JSON": (b'{"character_id": "0042",, }', "invalid JSON at line 1, column 25"),
    "truncated": (SEED[: len(SEED) // 2], "the file ends early"),
    "empty": (b"", "file is empty"),
    "not JSON at all": (b"\x89PNG\r\n\x1a\n\x00\x00", "is not UTF-8 text"),
    "a JPEG": (b"\xff\xd8\xff\xe0\x00\x10JFIF", "is not UTF-8 text"),
    "array": (b"[]", "top level must be a JSON object"),
    "size is text": (
        _edited(_set("training_data", 0, "size_mb", "big")),
        'training_data[0].size_mb must be a number, got "big"',
    ),
    "size is bool": (
        _edited(_set("training_data", 0, "size_mb", True)),
        "training_data[0].size_mb must be a number, got true",
    ),
    "size negative": (
        _edited(_set("training_data", 0, "size_mb", -0.5)),
        "training_data[0].size_mb must be a number >= 0, got -0.5",
    ),
    "bad filename": (
        _edited(_set("training_data", 0, "filename", "../x.jpg")),
        "training_data[0].filename must be a valid file name",
    ),
    "filename with slash": (
        _edited(_set("training_data", 0, "filename", "a/x.jpg")),
        'got "a/x.jpg"',
    ),
    "duplicate filename": (
        _edited(_entry_copy),
        'training_data[1].filename "0042_european_30_male_0.jpg" is listed twice',
    ),
    "empty url": (
        _edited(_set("training_data", 0, "s3_url", "")),
        'training_data[0].s3_url must be a non-empty string, got ""',
    ),
    "missing url": (
        _edited(_delete("training_data", 0, "s3_url")),
        "training_data[0].s3_url is missing",
    ),
    "bad date": (
        _edited(_set("training_data", 0, "modified_date", "last week")),
        'training_data[0].modified_date must be a timestamp like "2025-10-17T15:57:00.000000"',
    ),
    "entry not object": (
        _edited(_set("training_data", 0, "x.jpg")),
        'training_data[0] must be an object {...}, got "x.jpg"',
    ),
    "training_data not list": (
        _edited(_set("training_data", {})),
        "training_data must be an array, got {}",
    ),
    "missing id": (_edited(_delete("character_id")), "character_id is missing"),
    "numeric id": (
        _edited(_set("character_id", 42)),
        'character_id must be a string of digits like "0042", got 42',
    ),
    "other id": (
        _edited(_set("character_id", "0043")),
        'character_id "0043" does not match the id in the file name "0042"',
    ),
    "bad name": (
        _edited(_set("character_name", "../../etc")),
        "character_name must be a valid actor name",
    ),
    "bad updated": (
        _edited(_set("training_data_updated", 5)),
        "training_data_updated must be a timestamp",
    ),
    "missing statistics": (_edited(_delete("statistics")), "statistics is missing"),
    "bad count": (
        _edited(_set("statistics", "training_images_count", 1.5)),
        "statistics.training_images_count must be a whole number >= 0, got 1.5",
    ),
    "bad total": (
        _edited(_set("statistics", "training_data_size_mb", None)),
        "statistics.training_data_size_mb must be a number, got null",
    ),
}


@pytest.mark.parametrize("case", list(BAD_MANIFESTS))
def test_an_invalid_manifest_names_file_and_field_and_is_never_overwritten(seed, case):
    content, expected = BAD_MANIFESTS[case]
    put(seed, content)
    identity = stored_identity(seed.store, seed.name)
    manifest = TrainingDataManifest(seed)

    for attempt in (
        manifest.load,
        manifest.save,
        lambda: manifest.add_image("a.jpg", URL + "a.jpg", 1.0),
        lambda: manifest.remove_images(["0042_european_30_male_0.jpg"]),
    ):
        with pytest.raises(ManifestError) as caught:
            attempt()
        message = str(caught.value)
        assert message.startswith(f"{seed.url}: ")
        assert expected in message
        assert "\n" not in message

    assert stored(seed) == content
    assert stored_identity(seed.store, seed.name) == identity


def test_the_id_check_accepts_a_padded_equivalent_and_any_other_file_name(tmp_path):
    data = json.loads(SEED)
    data["character_id"] = "42"
    path = tmp_path / "0042_manifest.json"
    path.write_text(json.dumps(data))
    assert TrainingDataManifest(path).character_id == "42"
    other = tmp_path / "whatever.json"
    other.write_bytes(SEED)
    assert TrainingDataManifest(other).character_id == "0042"


def test_a_missing_manifest_is_a_manifest_error(catalog):
    manifest = TrainingDataManifest.for_actor(catalog, "9")
    assert not manifest.exists()
    with pytest.raises(ManifestError, match=r"0009_manifest\.json: file not found"):
        manifest.get_all_images()
