"""The command line: what it prints, its exit codes, and what it leaves in S3 and on disk."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tdm_desktop.cli import main
from tdm_desktop.core.layout import manifest_name, prompt_metadata_name
from tdm_desktop.core.manifest import TrainingDataManifest
from tests.catalogs import data_dir_arg, put_raw, raw_bytes
from tests.conftest import BUCKET, FIXTURES
from tests.factories import deny_delete, make_actor

ACTOR = "0042_european_30_male"
MANIFEST = manifest_name("0042")
METADATA = prompt_metadata_name(ACTOR)


@pytest.fixture
def run(catalog, s3_client, capsys, monkeypatch):
    """Run the CLI in-process against moto with ``--data-dir`` a folder or an S3 prefix;
    returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("TDM_CURATOR", "alice")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--data-dir", data_dir_arg(catalog), *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def error_lines(err: str) -> list[str]:
    """stderr without the design's [S3-ONLY] progress lines: what remains are the errors."""
    return [line for line in err.splitlines() if not line.startswith("[S3-ONLY]")]


def listed(data_dir, actor_id="0042") -> list[str]:
    manifest = TrainingDataManifest.for_actor(data_dir, actor_id)
    manifest.load()
    return [e.filename for e in manifest.get_all_images()]


def test_training_data_prints_the_seeds_response(run, catalog):
    put_raw(catalog, MANIFEST, (FIXTURES / "seed_manifest.json").read_bytes())
    for actor_id in ("0042", "42"):
        code, out, err = run("training-data", actor_id)
        assert code == 0
        response = json.loads(out)
        assert response["actor_id"] == 42
        assert response["training_images"][0]["modified_date"] == "2025-10-17T15:57:00.000Z"
        assert "[S3-ONLY] Returning 1 S3 images" in err


def test_actors_lists_valid_ones_and_names_the_broken_one(run, catalog, store):
    make_actor(catalog, store, count=2)
    broken = "actor_manifests/0043_manifest.json"
    put_raw(catalog, broken, b"{ not json")

    code, out, err = run("actors")
    assert code == 1
    assert out.splitlines() == ["0042  0042_european_30_male  2 images"]
    assert err.count("\n") == 1 and "actor 0043 is broken" in err and catalog.url(broken) in err
    assert raw_bytes(catalog, broken) == b"{ not json"

    code, out, _ = run("actors", "--json")
    rows = json.loads(out)
    assert [(r["actor_id"], r["image_count"], r["problem"] is None) for r in rows] == [
        ("0042", 2, True),
        ("0043", 0, False),
    ]


def test_mark_flags_images_and_refuses_unknown_ones(run, catalog, store):
    names = make_actor(catalog, store, count=3)
    code, out, _ = run("mark", "42", names[0], names[2], "--bad")
    assert code == 0 and out == "marked 2 image(s) bad\n"
    meta = json.loads(raw_bytes(catalog, METADATA))
    assert {n: v["good"] for n, v in meta["images"].items()} == {names[0]: False, names[2]: False}
    assert {v["reviewed_by"] for v in meta["images"].values()} == {"alice"}

    code, out, err = run("mark", "0042", "missing.jpg", "--good")
    assert code == 2 and out == ""
    assert err.strip().endswith("not in the manifest: missing.jpg") and err.count("\n") == 1


def test_mark_requires_good_or_bad(run):
    code, _, err = run("mark", "0042", "x.jpg")
    assert code == 2 and "one of the arguments --good --bad is required" in err
    assert err.count("\n") == 1


def test_delete_and_delete_all(run, catalog, store):
    names = make_actor(catalog, store, count=3)
    code, out, _ = run("delete", "0042", names[1])
    assert code == 0 and f"deleted  {names[1]}" in out
    assert listed(catalog) == [names[0], names[2]]

    code, _, err = run("delete-all", "0042")
    assert code == 2 and "add --yes" in err and "2 images" in err
    assert listed(catalog) == [names[0], names[2]]

    code, out, _ = run("delete-all", "0042", "--yes")
    assert code == 0 and "2 deleted from S3 and the manifest, 0 kept" in out
    assert listed(catalog) == []
    assert store.list_keys(f"system_actors/training_data/{ACTOR}/") == []


def test_delete_partial_failure_exits_1_and_says_what_was_kept(run, catalog, store, s3_client):
    names = make_actor(catalog, store, count=2)
    key = store.key_for(ACTOR, names[0])
    deny_delete(s3_client, BUCKET, key)
    code, out, _ = run("delete-all", "0042", "--yes")
    assert code == 1
    assert f"KEPT     {names[0]}: AccessDenied" in out
    assert "1 deleted from S3 and the manifest, 1 kept" in out
    assert listed(catalog) == [names[0]]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["training-data", "abc"], "actor ID 'abc': must be digits"),
        (["training-data", "0099"], "actor 0099: no manifest"),
        (["delete", "0042", "../../etc/passwd"], "not in the manifest"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run, catalog, store, argv, message):
    make_actor(catalog, store, count=1)
    code, _out, err = run(*argv)
    assert code == 2, err
    assert len(error_lines(err)) == 1 and message in error_lines(err)[0]
    assert "Traceback" not in err


def test_invalid_manifest_exits_2_and_is_unchanged(run, catalog):
    put_raw(catalog, MANIFEST, b'{"character_id": "0042"}')
    code, _, err = run("training-data", "0042")
    assert code == 2 and len(error_lines(err)) == 1 and catalog.url(MANIFEST) in error_lines(err)[0]
    assert raw_bytes(catalog, MANIFEST) == b'{"character_id": "0042"}'


def test_unreachable_endpoint_is_one_line_exit_1(data_dir, aws_env, capsys):
    shutil.copy(
        FIXTURES / "seed_manifest.json", data_dir / "actor_manifests" / "0042_manifest.json"
    )
    names_before = (data_dir / "actor_manifests" / "0042_manifest.json").read_bytes()
    code = main(
        [
            "--data-dir",
            str(data_dir),
            "--endpoint-url",
            "http://127.0.0.1:9",
            "delete-all",
            "42",
            "--yes",
        ]
    )
    out, err = capsys.readouterr()
    # The seed's URL is malformed, so it is refused as foreign: nothing is deleted or rewritten.
    assert code == 1 and "KEPT" in out and "Traceback" not in err
    assert (data_dir / "actor_manifests" / "0042_manifest.json").read_bytes() == names_before


def test_python_dash_m_runs_as_a_real_process(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "tdm_desktop", "--data-dir", str(tmp_path), "training-data", "x"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == "tdm-desktop: error: actor ID 'x': must be digits, e.g. 0042 or 42\n"
    help_text = subprocess.run(
        [sys.executable, "-m", "tdm_desktop", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    for command in (
        "actors",
        "training-data",
        "mark",
        "delete-all",
        "generate",
        "local-s3",
        "demo",
        "catalog",
    ):
        assert command in help_text


def test_a_missing_data_dir_is_named(run, tmp_path):
    code = main(["--data-dir", str(tmp_path / "nope"), "actors"])
    assert code == 2


def test_output_piped_into_a_reader_that_leaves_is_not_an_error(tmp_path):
    data_dir = tmp_path / "data"
    (data_dir / "actor_manifests").mkdir(parents=True)
    shutil.copy(
        FIXTURES / "seed_manifest.json", data_dir / "actor_manifests" / "0042_manifest.json"
    )
    command = f"{sys.executable} -m tdm_desktop --data-dir {data_dir} training-data 42 | head -c 1"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=60
    )
    assert result.stdout == "{"
    assert "Error" not in result.stderr and "Traceback" not in result.stderr


def test_a_malformed_endpoint_is_bad_input(run):
    code, _out, err = run("--endpoint-url", "foo", "training-data", "42")
    assert code == 2
    assert error_lines(err) == [
        "tdm-desktop: error: S3 endpoint: Invalid endpoint: foo (expected e.g. http://127.0.0.1:8333)"
    ]


def test_generate_says_when_the_prompt_could_not_be_recorded(run, catalog, store):
    make_actor(catalog, store, count=1)
    put_raw(catalog, METADATA, b'{"actor_name": "0042_european_30_male", "images": []}')

    code, out, _err = run("generate", "42", "--prompt", "front view", "--generator", "placeholder")

    new = f"{ACTOR}_1.jpg"
    assert code == 1
    assert f"NOT RECORDED {new}: prompt metadata:" in out and "prompt_metadata.json" in out
    assert listed(catalog) == [f"{ACTOR}_0.jpg", new]  # the image itself landed
    assert store.get_bytes(store.key_for(ACTOR, new)).startswith(b"\xff\xd8")
    assert raw_bytes(catalog, METADATA) == b'{"actor_name": "0042_european_30_male", "images": []}'


def test_images_gone_from_s3_but_still_listed_are_reported_one_by_one(capsys):
    from tdm_desktop.cli import _report_delete
    from tdm_desktop.core.training_data import DeleteOutcome

    outcome = DeleteOutcome(
        deleted=[],
        unlisted_failed={f"{ACTOR}_0.jpg": "deleted from S3, but the manifest still lists it: x"},
    )
    assert _report_delete(outcome) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"LISTED   {ACTOR}_0.jpg: deleted from S3, but the manifest still lists it: x",
        "0 deleted from S3 and the manifest, 0 kept, 1 gone from S3 but still listed",
    ]


def test_demo_help_names_curators_and_a_bad_count_is_one_line(capsys):
    assert main(["demo", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--curators N" in help_text and "open N windows side by side as N curators" in help_text
    for bad in ("0", "7", "two"):
        assert main(["demo", "--curators", bad]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--curators" in err and "from 1 to 6" in err


def test_the_demo_has_a_name_for_every_curator_window_it_may_open():
    from tdm_desktop.cli import MAX_CURATORS
    from tdm_desktop.demo import DEMO_CURATORS

    assert len(set(DEMO_CURATORS)) == len(DEMO_CURATORS) >= MAX_CURATORS
