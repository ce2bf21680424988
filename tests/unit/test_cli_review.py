"""``tdm-desktop check``, ``duplicates`` and ``export``: what they print and their exit codes."""

from __future__ import annotations

import json

import pytest

from tdm_desktop import cli_review
from tdm_desktop.cli import build_parser
from tdm_desktop.core import export_layout, near_duplicates, quality
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tests.conftest import BUCKET
from tests.images import ACTOR, blurred, jpeg, picture, resized, upload_actor

BIG = (1024, 1024)


def errors(err: str) -> list[str]:
    """stderr without progress and [S3-ONLY] lines."""
    return [
        line
        for line in err.splitlines()
        if not line.startswith(("[S3-ONLY]", "checking [", "hashing [", "exporting ["))
    ]


@pytest.fixture
def review_actor(data_dir, store):
    sharp = picture(60, BIG)
    images = {
        f"{ACTOR}_0.jpg": jpeg(sharp),
        f"{ACTOR}_1.jpg": jpeg(blurred(sharp, 4)),
        f"{ACTOR}_2.jpg": jpeg(picture(61, (512, 512))),
        f"{ACTOR}_3.jpg": b"this is not an image",
        f"{ACTOR}_4.jpg": jpeg(resized(picture(62, BIG), 0.95)),
        f"{ACTOR}_5.jpg": jpeg(picture(62, BIG), 70),
    }
    upload_actor(data_dir, store, images)
    return images


def test_the_cli_defaults_are_the_cores():
    assert tuple(f.value for f in export_layout.ExportFormat) == cli_review.FORMATS
    assert tuple(i.value for i in export_layout.Include) == cli_review.INCLUDES
    assert cli_review.DEFAULT_REPEATS == export_layout.DEFAULT_REPEATS
    assert cli_review.DEFAULT_THRESHOLD == near_duplicates.DEFAULT_THRESHOLD
    assert cli_review.HASH_BITS == near_duplicates.HASH_BITS
    assert cli_review.DEFAULT_TRAINING_RESOLUTION == quality.DEFAULT_TRAINING_RESOLUTION


def test_help_lists_the_review_commands():
    text = build_parser().format_help()
    for name in ("check", "duplicates", "export"):
        assert f"    {name} " in text


def test_check_prints_each_problem_image_and_a_summary(run, review_actor):
    code, out, err = run("check", "42")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"{ACTOR}_1.jpg  blurry: sharpness ")
    assert lines[1] == f"{ACTOR}_2.jpg  too small: short side 512 px < 1024"
    assert lines[2] == f"{ACTOR}_3.jpg  not an image: not a recognised image format"
    assert lines[3] == f"{ACTOR}_4.jpg  too small: short side 973 px < 1024"  # the 95 % copy
    assert lines[4] == (
        "4 of 6 images checked have problems (1 blurry, 2 too small, 1 not an image)"
    )
    assert len(lines) == 5
    assert "checking [6/6]" in err and errors(err) == []


def test_check_json_has_every_image_with_its_measures(run, review_actor):
    code, out, _ = run("check", "42", "--json", "--resolution", "512")
    assert code == 0
    report = json.loads(out)
    assert report["actor_name"] == ACTOR and report["thresholds"]["training_resolution"] == 512
    rows = {row["filename"]: row for row in report["images"]}
    assert len(rows) == 6
    assert rows[f"{ACTOR}_0.jpg"]["problems"] == []
    assert rows[f"{ACTOR}_0.jpg"]["width"] == 1024
    assert rows[f"{ACTOR}_2.jpg"]["problems"] == []  # 512 is enough now
    blurry = rows[f"{ACTOR}_1.jpg"]["problems"][0]
    assert blurry["check"] == "blurry" and blurry["value"] < blurry["threshold"] == 100
    assert rows[f"{ACTOR}_3.jpg"]["problems"][0]["check"] == "not_an_image"


def test_check_names_an_image_it_cannot_fetch_and_exits_1(run, review_actor, s3_client, store):
    s3_client.delete_object(Bucket=BUCKET, Key=store.key_for(ACTOR, f"{ACTOR}_0.jpg"))
    code, out, _ = run("check", "42")
    assert code == 1
    assert f"NOT CHECKED {ACTOR}_0.jpg: s3 object " in out and "NoSuchKey" in out
    assert out.splitlines()[-1].endswith("; 1 of 6 could not be checked")


def test_duplicates_prints_the_groups(run, review_actor):
    code, out, err = run("duplicates", "42")
    assert code == 0, err
    assert out.splitlines() == [
        f"group 1: {ACTOR}_0.jpg, {ACTOR}_1.jpg",  # a blurred copy is still the same picture
        f"group 2: {ACTOR}_4.jpg, {ACTOR}_5.jpg",
        f"NOT AN IMAGE {ACTOR}_3.jpg: not a recognised image format",
        "2 groups of near-duplicates (4 images) among 5 images (threshold 10 bits)",
    ]
    assert "hashing [6/6]" in err


def test_duplicates_json_and_threshold(run, review_actor):
    code, out, _ = run("duplicates", "42", "--json", "--threshold", "0")
    assert code == 0
    report = json.loads(out)
    assert report["threshold"] == 0
    assert set(report["hashes"]) == {f"{ACTOR}_{i}.jpg" for i in (0, 1, 2, 4, 5)}
    assert all(len(value) == 16 for value in report["hashes"].values())
    assert list(report["not_an_image"]) == [f"{ACTOR}_3.jpg"]
    assert report["not_fetched"] == {}


@pytest.mark.parametrize("value", ["64", "-1"])
def test_duplicates_refuses_a_threshold_outside_the_hash(run, review_actor, value):
    code, out, err = run("duplicates", "42", "--threshold", value)
    assert code == 2 and out == ""
    assert errors(err) == [f"tdm-desktop: error: --threshold {value}: must be 0..63 bits"]


def test_export_prints_a_summary_and_a_rerun_says_what_it_skipped(run, review_actor, tmp_path):
    out_dir = tmp_path / "set"
    code, out, err = run("export", "42", "--to", str(out_dir), "--format", "ai-toolkit")
    assert code == 0, err
    assert out.splitlines()[-1] == (
        f"exported 6 of 6 images to {out_dir} (ai-toolkit): 6 new, 0 already there; "
        "12 files written"
    )
    assert "exporting [6/6]" in err

    code, out, _ = run("export", "42", "--to", str(out_dir), "--format", "ai-toolkit")
    assert code == 0
    in_manifest_order = ", ".join(f"{ACTOR}_{i}.jpg" for i in range(6))
    assert out.splitlines()[0] == f"skipped 6 already there: {in_manifest_order}"
    assert out.splitlines()[-1].endswith("0 new, 6 already there; 0 files written")


def test_export_names_an_image_that_fails_and_exits_1(
    run, review_actor, s3_client, store, tmp_path
):
    s3_client.delete_object(Bucket=BUCKET, Key=store.key_for(ACTOR, f"{ACTOR}_2.jpg"))
    code, out, _ = run("export", "42", "--to", str(tmp_path / "s"), "--format", "kohya")
    assert code == 1
    assert f"FAILED   {ACTOR}_2.jpg: not in S3" in out
    assert "5 new, 0 already there, 1 failed" in out.splitlines()[-1]


def test_export_to_an_s3_prefix_and_the_bad_destinations(run, review_actor, s3_client, tmp_path):
    code, out, _ = run("export", "42", "--to", f"s3://{BUCKET}/sets/a", "--format", "imagefolder")
    assert code == 0 and "7 files written" in out

    code, out, err = run("export", "42", "--to", "s3://elsewhere/sets", "--format", "kohya")
    assert code == 2 and out == ""
    assert errors(err) == [
        "tdm-desktop: error: export destination s3://elsewhere/sets: bucket 'elsewhere' is "
        f"outside the allowed bucket '{BUCKET}' (set --bucket to export elsewhere)"
    ]

    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "readme.txt").write_text("mine")
    code, out, err = run("export", "42", "--to", str(tmp_path / "taken"), "--format", "kohya")
    assert code == 2 and out == ""
    assert len(errors(err)) == 1 and "has other content (readme.txt)" in err
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["readme.txt"]


def test_export_refuses_options_that_do_not_fit(run, review_actor, tmp_path):
    code, _, err = run("export", "42", "--to", str(tmp_path), "--format", "imagefolder", "--toml")
    assert code == 2
    assert errors(err) == ["tdm-desktop: error: --toml: only for --format kohya, not imagefolder"]
    code, _, err = run("export", "42", "--to", str(tmp_path), "--format", "tar")
    assert code == 2 and "invalid choice: 'tar'" in err


def test_export_of_an_actor_with_nothing_good_writes_nothing(run, data_dir, store, tmp_path):
    upload_actor(data_dir, store, {f"{ACTOR}_0.jpg": jpeg(picture(70))})
    PromptMetadata.for_actor(data_dir, ACTOR).set_flags({f"{ACTOR}_0.jpg": False})
    code, out, _ = run("export", "42", "--to", str(tmp_path / "none"), "--format", "kohya")
    assert code == 0
    assert out == "nothing to export: the actor has no images not flagged bad; nothing written\n"
    assert not (tmp_path / "none").exists()
