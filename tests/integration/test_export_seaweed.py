"""Export to an S3 prefix on the bundled SeaweedFS: server-side copies, conditional writes that
really refuse, a re-run that adds only what is new."""

from __future__ import annotations

import json

import pytest

from tdm_desktop.core.errors import ObjectExistsError, S3Error
from tdm_desktop.core.export import ExportService
from tdm_desktop.core.export_layout import ExportFormat, ExportOptions
from tdm_desktop.core.export_targets import S3PrefixTarget
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.training_data import TrainingDataService
from tests.conftest import BUCKET
from tests.images import ACTOR, jpeg, objects_under, picture, upload_actor

PREFIX = "training-sets/seaweed"
NAMES = [f"{ACTOR}_{i}.jpg" for i in range(3)]


@pytest.fixture
def actor(data_dir, seaweed_store):
    images = {name: jpeg(picture(80 + i, (200, 150))) for i, name in enumerate(NAMES)}
    upload_actor(data_dir, seaweed_store, images)
    metadata = PromptMetadata.for_actor(data_dir, ACTOR)
    metadata.record_generation(NAMES[0], prompt="a man reading", seed=1)
    metadata.set_flags({NAMES[2]: False})
    return images


def objects(client, prefix: str) -> dict[str, bytes]:
    return objects_under(client, BUCKET, prefix)


def test_kohya_export_to_a_prefix_copies_and_a_rerun_adds_only_the_new(
    data_dir, seaweed_store, seaweed_client, actor
):
    service = TrainingDataService(data_dir, seaweed_store)
    target = S3PrefixTarget(f"s3://{BUCKET}/{PREFIX}", seaweed_store)
    options = ExportOptions(format=ExportFormat.KOHYA, toml=True, trigger_word="ohwx")

    first = ExportService(service, workers=2).export("42", target, options)
    assert first.complete and sorted(first.exported) == NAMES[:2]
    folder = "10_ohwx man"
    stored = objects(seaweed_client, PREFIX)
    assert set(stored) == {
        "dataset.toml",
        f"{folder}/{NAMES[0]}",
        f"{folder}/{NAMES[0][:-4]}.txt",
        f"{folder}/{NAMES[1]}",
        f"{folder}/{NAMES[1][:-4]}.txt",
    }
    assert stored[f"{folder}/{NAMES[0]}"] == actor[NAMES[0]]
    assert stored[f"{folder}/{NAMES[0][:-4]}.txt"] == b"ohwx, a man reading"
    assert stored[f"{folder}/{NAMES[1][:-4]}.txt"] == b"ohwx"

    PromptMetadata.for_actor(data_dir, ACTOR).set_flags({NAMES[2]: True})
    second = ExportService(service, workers=2).export("42", target, options)
    assert second.exported == [NAMES[2]]
    assert sorted(second.already_there) == NAMES[:2]
    assert second.kept == {} and "dataset.toml" in second.unchanged
    assert objects(seaweed_client, PREFIX)[f"{folder}/{NAMES[0]}"] == actor[NAMES[0]]


def test_imagefolder_metadata_is_extended_with_if_match(
    data_dir, seaweed_store, seaweed_client, actor
):
    service = TrainingDataService(data_dir, seaweed_store)
    target = S3PrefixTarget(f"s3://{BUCKET}/{PREFIX}", seaweed_store)
    options = ExportOptions(format=ExportFormat.IMAGEFOLDER)
    ExportService(service).export("42", target, options)
    key = f"{PREFIX}/train/metadata.jsonl"
    first = seaweed_client.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    PromptMetadata.for_actor(data_dir, ACTOR).set_flags({NAMES[2]: True})
    ExportService(service).export("42", target, options)
    second = seaweed_client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert second.startswith(first)
    assert json.loads(second[len(first) :]) == {"file_name": NAMES[2], "text": ACTOR}


def test_the_conditional_writes_refuse_on_seaweedfs(seaweed_store, seaweed_client, data_dir, actor):
    source = seaweed_store.key_for(ACTOR, NAMES[0])
    seaweed_client.put_object(Bucket=BUCKET, Key=f"{PREFIX}/taken.jpg", Body=b"someone's")
    with pytest.raises(ObjectExistsError):
        seaweed_store.copy_new(source, f"{PREFIX}/taken.jpg")
    assert objects(seaweed_client, PREFIX) == {"taken.jpg": b"someone's"}

    seaweed_store.copy_new(source, f"{PREFIX}/copy.jpg")
    info = {i.key: i for i in seaweed_store.list_objects(f"{PREFIX}/")}[f"{PREFIX}/copy.jpg"]
    assert objects(seaweed_client, PREFIX)["copy.jpg"] == actor[NAMES[0]]
    seaweed_store.put_replacing(f"{PREFIX}/copy.jpg", b"new", "text/plain", info.etag)
    with pytest.raises(S3Error) as stale:
        seaweed_store.put_replacing(f"{PREFIX}/copy.jpg", b"newer", "text/plain", info.etag)
    assert stale.value.code == "PreconditionFailed"
    assert objects(seaweed_client, PREFIX)["copy.jpg"] == b"new"
