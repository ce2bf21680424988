"""An actor's images as read: rows built when asked for, the same images a full build gives."""

from __future__ import annotations

import json

import pytest

from tdm_desktop.core.errors import ManifestError
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.training_data import TrainingDataService
from tests.factories import make_actor

ACTOR = "0042_european_30_male"


@pytest.fixture
def service(data_dir, store):
    return TrainingDataService(data_dir, store)


def test_rows_are_built_when_asked_and_match_what_the_manifest_lists(data_dir, store, service):
    names = make_actor(data_dir, store, "0042", ACTOR, 5)
    manifest = TrainingDataManifest.for_actor(data_dir, "0042")
    foreign = f"https://elsewhere.example.com/{ACTOR}/other.jpg"
    manifest.add_image("other.jpg", foreign, 0.1)
    PromptMetadata.for_actor(data_dir, ACTOR).set_flags(
        {names[1]: False, names[3]: True}, curator="ann"
    )

    images = service.load_actor("0042").images

    assert images.filenames() == [*names, "other.jpg"]
    assert images.bad_count() == 1
    assert images.row_of(names[3]) == 3 and images.row_of("nope.jpg") == -1
    assert images.key_of(0) == store.key_for(ACTOR, names[0])
    assert images.key_of(5) is None  # the foreign row: no key, never fetched
    assert images.foreign_count() == 1
    assert [image.filename for image in images] == [*names, "other.jpg"]
    assert [image.good for image in images] == [True, False, True, True, True, True]
    assert images[3].review.by == "ann"
    assert images[5].location is None and images[5].foreign_reason
    assert [image.key for image in images] == [images.key_of(row) for row in range(6)]
    entries = manifest.load().get_all_images()
    assert [image.entry for image in images] == entries
    assert images[-1].filename == "other.jpg" and images[1:3] == [images[1], images[2]]


def test_two_reads_compare_by_what_they_read(data_dir, store, service):
    names = make_actor(data_dir, store, "0042", ACTOR, 3)
    first = service.load_actor("0042").images
    second = service.load_actor("0042").images
    assert first == second and first.same_row(1, second, 1)
    PromptMetadata.for_actor(data_dir, ACTOR).set_flags({names[1]: False})
    third = service.load_actor("0042").images
    assert first != third
    assert first.same_row(0, third, 0) and not first.same_row(1, third, 1)
    assert list(first) == list(second)


def test_a_bad_entry_deep_in_a_big_manifest_is_named(data_dir, store):
    """The fast check over whole columns says only valid or not; the message still names the
    first bad entry and field."""
    manifest = TrainingDataManifest.for_actor(data_dir, "0042")
    manifest.create("0042", ACTOR)
    path = data_dir / "actor_manifests" / "0042_manifest.json"
    document = json.loads(path.read_text())
    url = store.aws_url_for(store.key_for(ACTOR, "x.jpg"))
    row = {"s3_url": url, "size_mb": 0.5, "modified_date": "2026-01-01T00:00:00.000000"}
    document["training_data"] = [{"filename": f"img_{i}.jpg", **row} for i in range(2000)]
    document["training_data"][1500]["modified_date"] = "2026-02-30T00:00:00.000000"
    path.write_text(json.dumps(document))
    with pytest.raises(ManifestError, match=r"training_data\[1500\]\.modified_date"):
        TrainingDataManifest.for_actor(data_dir, "0042").load()
    document["training_data"][1500]["modified_date"] = "2026-02-03T00:00:00Z"  # another form
    document["training_data"][1999]["filename"] = "img_7.jpg"
    path.write_text(json.dumps(document))
    with pytest.raises(ManifestError, match=r"training_data\[1999\]\.filename .* listed twice"):
        TrainingDataManifest.for_actor(data_dir, "0042").load()
    document["training_data"][1999]["filename"] = "img_1999.jpg"
    path.write_text(json.dumps(document))
    assert len(TrainingDataManifest.for_actor(data_dir, "0042").load().entries_json()) == 2000
