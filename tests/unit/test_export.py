"""Training-set export on moto: each trainer's files exactly, to a folder and to an S3 prefix;
never overwriting; re-runs; and the bad destinations."""

from __future__ import annotations

import json
import tomllib

import pytest

from tdm_desktop.core.errors import BadInputError
from tdm_desktop.core.export import ExportService
from tdm_desktop.core.export_layout import ExportFormat, ExportOptions, Include, counts_as_good
from tdm_desktop.core.export_targets import (
    ExportDestinationError,
    ExportWriteError,
    FolderTarget,
    S3PrefixTarget,
    make_target,
)
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.training_data import TrainingDataService
from tests.conftest import BUCKET
from tests.images import ACTOR, jpeg, picture, upload_actor
from tests.images import objects_under as stored_under

PREFIX = "training-sets/run1"
NAMES = [f"{ACTOR}_{i}.jpg" for i in range(4)]
TYPED = "[trigger] on a bench\nlooking left, [trigger]"


@pytest.fixture
def actor(data_dir, store):
    """Four images: _0 and _1 generated from prompts, _2 flagged bad, _3 with a typed caption."""
    images = {name: jpeg(picture(40 + i, (160, 120))) for i, name in enumerate(NAMES)}
    upload_actor(data_dir, store, images)
    metadata = PromptMetadata.for_actor(data_dir, ACTOR)
    metadata.record_generation(NAMES[0], prompt="portrait of a man, smiling", seed=1)
    metadata.record_generation(NAMES[1], prompt=f"photo of {ACTOR} in a park", seed=2)
    metadata.set_flags({NAMES[2]: False})
    metadata.set_caption(NAMES[3], TYPED)
    return images


@pytest.fixture
def service(data_dir, store):
    return TrainingDataService(data_dir, store)


def export(service, target, fmt, **options):
    return ExportService(service, workers=3).export(
        "42", target, ExportOptions(format=ExportFormat(fmt), **options)
    )


def files_under(root) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def objects_under(s3_client, prefix) -> dict[str, bytes]:
    return stored_under(s3_client, BUCKET, prefix)


CAPTIONS = {
    NAMES[0]: f"{ACTOR}, portrait of a man, smiling",
    NAMES[1]: f"photo of {ACTOR} in a park",
    NAMES[3]: f"{ACTOR} on a bench, looking left, {ACTOR}",
}


def stem(name: str) -> str:
    return name.removesuffix(".jpg")


def test_only_images_flagged_bad_are_left_out_of_a_good_set(service, actor):
    images = service.load_actor("42").images
    assert [image.filename for image in images if counts_as_good(image)] == [
        NAMES[0],
        NAMES[1],
        NAMES[3],
    ]


def test_ai_toolkit_to_a_folder_is_images_with_same_name_txt_captions(service, actor, tmp_path):
    out = tmp_path / "set"
    report = export(service, FolderTarget(out, service.store), "ai-toolkit")

    expected = {}
    for name, caption in CAPTIONS.items():
        expected[name] = actor[name]
        expected[f"{stem(name)}.txt"] = caption.encode()
    assert files_under(out) == expected
    assert report.complete and sorted(report.exported) == sorted(CAPTIONS)
    assert report.planned == 3 and len(report.written) == 6


def test_include_all_takes_the_bad_one_too(service, actor, tmp_path):
    out = tmp_path / "all"
    export(service, FolderTarget(out, service.store), "ai-toolkit", include=Include.ALL)
    assert NAMES[2] in files_under(out)
    assert files_under(out)[f"{stem(NAMES[2])}.txt"] == ACTOR.encode()


def test_kohya_to_a_folder_with_the_dataset_toml(service, actor, tmp_path):
    out = tmp_path / "kohya"
    export(
        service,
        FolderTarget(out, service.store),
        "kohya",
        toml=True,
        repeats=3,
        trigger_word="ohwx",
    )
    folder = "3_ohwx man"
    files = files_under(out)
    assert set(files) == {
        "dataset.toml",
        *(f"{folder}/{name}" for name in CAPTIONS),
        *(f"{folder}/{stem(name)}.txt" for name in CAPTIONS),
    }
    assert files[f"{folder}/{stem(NAMES[0])}.txt"] == b"ohwx, portrait of a man, smiling"
    assert files[f"{folder}/{stem(NAMES[3])}.txt"] == b"ohwx on a bench, looking left, ohwx"
    config = tomllib.loads(files["dataset.toml"].decode())
    assert config == {
        "general": {"caption_extension": ".txt", "enable_bucket": True},
        "datasets": [
            {
                "resolution": 1024,
                "batch_size": 1,
                "subsets": [
                    {
                        "image_dir": str((out / folder).resolve()),
                        "class_tokens": "ohwx man",
                        "num_repeats": 3,
                    }
                ],
            }
        ],
    }


def test_kohya_defaults_name_the_folder_from_the_actor(service, actor, tmp_path):
    out = tmp_path / "k"
    export(service, FolderTarget(out, service.store), "kohya", class_token="person")
    assert {path.split("/")[0] for path in files_under(out)} == {f"10_{ACTOR} person"}


def test_imagefolder_to_a_folder_is_train_with_metadata_jsonl(service, actor, tmp_path):
    out = tmp_path / "hf"
    export(service, FolderTarget(out, service.store), "imagefolder")
    files = files_under(out)
    assert set(files) == {"train/metadata.jsonl", *(f"train/{name}" for name in CAPTIONS)}
    rows = [json.loads(line) for line in files["train/metadata.jsonl"].decode().splitlines()]
    assert rows == [{"file_name": name, "text": caption} for name, caption in CAPTIONS.items()]


def deny(s3_client, action: str, key: str) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": action,
                "Resource": f"arn:aws:s3:::{BUCKET}/{key}",
            }
        ],
    }
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(policy))


@pytest.fixture
def get_object_keys(s3_client):
    """Every key a GetObject asked for, from now on."""
    keys: list[str] = []

    def record(params, **_):
        keys.append(params["Key"])

    s3_client.meta.events.register("before-parameter-build.s3.GetObject", record)
    return keys


@pytest.mark.parametrize("fmt", ["ai-toolkit", "kohya", "imagefolder"])
def test_to_an_s3_prefix_images_are_copied_server_side(
    service, actor, s3_client, get_object_keys, fmt
):
    report = export(service, S3PrefixTarget(f"s3://{BUCKET}/{PREFIX}", service.store), fmt)
    assert get_object_keys == []  # not one image downloaded
    assert report.complete and len(report.exported) == 3

    objects = objects_under(s3_client, PREFIX)
    folder = {"ai-toolkit": "", "kohya": f"10_{ACTOR} man/", "imagefolder": "train/"}[fmt]
    for name in CAPTIONS:
        assert objects[folder + name] == actor[name]
    if fmt == "imagefolder":
        assert set(objects) == {f"train/{n}" for n in CAPTIONS} | {"train/metadata.jsonl"}
        rows = [json.loads(line) for line in objects["train/metadata.jsonl"].splitlines()]
        assert rows == [{"file_name": n, "text": c} for n, c in CAPTIONS.items()]
    else:
        assert set(objects) == {folder + n for n in CAPTIONS} | {
            f"{folder}{stem(n)}.txt" for n in CAPTIONS
        }
        for name, caption in CAPTIONS.items():
            assert objects[f"{folder}{stem(name)}.txt"] == caption.encode()


def test_a_kohya_toml_in_s3_names_the_folder_relative_to_the_export(service, actor, s3_client):
    export(service, S3PrefixTarget(f"s3://{BUCKET}/{PREFIX}", service.store), "kohya", toml=True)
    config = tomllib.loads(objects_under(s3_client, PREFIX)["dataset.toml"].decode())
    assert config["datasets"][0]["subsets"][0]["image_dir"] == f"10_{ACTOR} man"


def test_a_rerun_adds_only_what_is_new_and_keeps_what_differs(service, actor, data_dir, tmp_path):
    out = tmp_path / "set"
    target = FolderTarget(out, service.store)
    export(service, target, "ai-toolkit")
    (out / f"{stem(NAMES[0])}.txt").write_text("edited by hand")
    PromptMetadata.for_actor(data_dir, ACTOR).set_flags({NAMES[2]: True})
    before = files_under(out)

    report = export(service, target, "ai-toolkit")

    assert report.exported == [NAMES[2]]
    assert sorted(report.already_there) == sorted(CAPTIONS)
    assert report.kept == {
        f"{stem(NAMES[0])}.txt": "differs from what this export writes: not overwritten"
    }
    assert not report.complete
    after = files_under(out)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing overwritten
    assert set(after) - set(before) == {NAMES[2], f"{stem(NAMES[2])}.txt"}

    third = export(service, target, "ai-toolkit")
    assert third.exported == [] and third.written == [] and len(third.already_there) == 4


def test_an_image_in_the_destination_that_differs_is_kept(service, actor, tmp_path):
    out = tmp_path / "set"
    out.mkdir()
    (out / NAMES[1]).write_bytes(b"someone else's picture")
    report = export(service, FolderTarget(out, service.store), "ai-toolkit")
    assert report.kept == {NAMES[1]: "differs from the image in S3: not overwritten"}
    assert (out / NAMES[1]).read_bytes() == b"someone else's picture"
    assert not (out / f"{stem(NAMES[1])}.txt").exists()
    assert sorted(report.exported) == [NAMES[0], NAMES[3]]


def test_a_rerun_to_s3_skips_what_is_there(service, actor, s3_client):
    target = S3PrefixTarget(f"s3://{BUCKET}/{PREFIX}", service.store)
    export(service, target, "imagefolder")
    jsonl = f"{PREFIX}/train/metadata.jsonl"
    first = s3_client.get_object(Bucket=BUCKET, Key=jsonl)["Body"].read()
    PromptMetadata.for_actor(service.data_dir, ACTOR).set_flags({NAMES[2]: True})

    report = export(service, target, "imagefolder")

    assert report.exported == [NAMES[2]] and len(report.already_there) == 3
    second = s3_client.get_object(Bucket=BUCKET, Key=jsonl)["Body"].read()
    assert second.startswith(first)  # the earlier lines kept byte for byte, one line added
    assert json.loads(second[len(first) :]) == {"file_name": NAMES[2], "text": ACTOR}


def test_a_destination_with_other_content_is_refused_and_nothing_written(
    service, actor, s3_client, tmp_path
):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.md").write_text("my notes")
    with pytest.raises(ExportDestinationError, match=r"has other content \(notes.md\)"):
        export(service, FolderTarget(out, service.store), "ai-toolkit")
    assert files_under(out) == {"notes.md": b"my notes"}

    s3_client.put_object(Bucket=BUCKET, Key=f"{PREFIX}/other.bin", Body=b"x")
    with pytest.raises(ExportDestinationError, match=r"other\.bin"):
        export(service, S3PrefixTarget(f"s3://{BUCKET}/{PREFIX}", service.store), "kohya")
    assert set(objects_under(s3_client, PREFIX)) == {"other.bin"}


def test_an_earlier_export_in_another_layout_is_other_content(service, actor, tmp_path):
    out = tmp_path / "set"
    export(service, FolderTarget(out, service.store), "kohya", repeats=10)
    with pytest.raises(ExportDestinationError, match=f"10_{ACTOR} man/"):
        export(service, FolderTarget(out, service.store), "kohya", repeats=5)


@pytest.mark.parametrize(
    ("destination", "problem"),
    [
        ("s3://another-bucket/sets", "outside the allowed bucket 'story-boards-assets'"),
        (f"s3://{BUCKET}", "give a prefix"),
        (f"s3://{BUCKET}/", "give a prefix"),
        (f"s3://{BUCKET}/a/../b", "without empty, '.' or '..' parts"),
        (f"s3://{BUCKET}/system_actors/training_data/x", "overlaps the actors' training data"),
        (f"s3://{BUCKET}/system_actors", "overlaps the actors' training data"),
    ],
)
def test_bad_s3_destinations_are_refused(service, destination, problem):
    with pytest.raises(ExportDestinationError, match=problem):
        make_target(destination, service.store)


def test_a_destination_that_is_a_file_or_under_one_is_refused(service, actor, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ExportDestinationError, match="not a folder"):
        export(service, FolderTarget(a_file, service.store), "ai-toolkit")
    with pytest.raises(ExportWriteError, match="cannot create it"):
        export(service, FolderTarget(a_file / "sub", service.store), "ai-toolkit")
    assert a_file.read_text() == "x"


def test_an_s3_prefix_that_refuses_writes_stops_before_anything_is_written(
    service, actor, s3_client
):
    deny(s3_client, "s3:PutObject", f"{PREFIX}/*")
    with pytest.raises(ExportWriteError, match=r"cannot write: .*AccessDenied"):
        export(service, S3PrefixTarget(f"s3://{BUCKET}/{PREFIX}", service.store), "ai-toolkit")
    s3_client.delete_bucket_policy(Bucket=BUCKET)
    assert objects_under(s3_client, PREFIX) == {}


def test_an_image_missing_from_s3_is_named_and_the_others_are_exported(
    service, actor, s3_client, tmp_path
):
    s3_client.delete_object(Bucket=BUCKET, Key=service.store.key_for(ACTOR, NAMES[1]))
    out = tmp_path / "set"
    report = export(service, FolderTarget(out, service.store), "ai-toolkit")
    assert set(report.failed) == {NAMES[1]}
    assert "not in S3" in report.failed[NAMES[1]]
    assert sorted(report.exported) == [NAMES[0], NAMES[3]]
    assert NAMES[1] not in files_under(out) and f"{stem(NAMES[1])}.txt" not in files_under(out)


def test_a_foreign_url_is_never_fetched_and_named(service, actor, data_dir, tmp_path):
    manifest = TrainingDataManifest.for_actor(data_dir, "0042")
    manifest.add_image("foreign.jpg", "https://someone-else.s3.amazonaws.com/x/foreign.jpg", 0.1)
    report = export(service, FolderTarget(tmp_path / "set", service.store), "ai-toolkit")
    assert report.failed["foreign.jpg"].startswith("foreign URL (")
    assert len(report.exported) == 3


def test_two_images_sharing_a_caption_name_are_refused(service, actor, data_dir, store, tmp_path):
    key = store.key_for(ACTOR, f"{stem(NAMES[0])}.png")
    store.put_new(key, jpeg(picture(1, (64, 64))), "image/png")
    TrainingDataManifest.for_actor(data_dir, "0042").add_image(
        f"{stem(NAMES[0])}.png", store.aws_url_for(key), 0.01
    )
    out = tmp_path / "set"
    with pytest.raises(BadInputError, match=r"would share the caption file .*_0\.txt"):
        export(service, FolderTarget(out, service.store), "ai-toolkit")
    assert not out.exists()


def test_options_that_do_not_fit_the_format_are_refused(service, actor, tmp_path):
    with pytest.raises(BadInputError, match="--toml: only for --format kohya"):
        export(service, FolderTarget(tmp_path, service.store), "ai-toolkit", toml=True)
    with pytest.raises(BadInputError, match="--repeats 0"):
        export(service, FolderTarget(tmp_path, service.store), "kohya", repeats=0)
    with pytest.raises(BadInputError, match="--trigger"):
        export(service, FolderTarget(tmp_path, service.store), "kohya", trigger_word="a/b")


def test_an_image_that_cannot_be_read_fails_alone_even_when_it_comes_first(
    service, actor, s3_client, tmp_path
):
    """Its read error is the image's, not the destination's: the export goes on. (To an S3
    prefix the same is decided by a HEAD of the source; moto's CopyObject does not apply a
    bucket policy to the source, so that path is not exercised here.)"""
    deny(s3_client, "s3:GetObject", service.store.key_for(ACTOR, NAMES[0]))
    report = export(service, FolderTarget(tmp_path / "set", service.store), "ai-toolkit")
    s3_client.delete_bucket_policy(Bucket=BUCKET)
    assert set(report.failed) == {NAMES[0]} and "AccessDenied" in report.failed[NAMES[0]]
    assert sorted(report.exported) == [NAMES[1], NAMES[3]]
