"""Data files a hostile user or a broken tool leaves behind: JSON nested 100,000 levels deep, a
manifest path that is a folder or a FIFO, a prompt_metadata.json that is a FIFO. Each is one clear
line naming the file (exit 2), at once, and never hides the other actors."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli_helpers import error_lines, run_process
from tests.factories import make_actor

ACTOR = "0042_european_30_male"
REPO = Path(__file__).resolve().parents[2]
DEEP = 100_000


def deeply_nested(levels: int = DEEP) -> str:
    return "[" * levels + "]" * levels


def write_deep_manifest(data_dir: Path, actor_id: str = "0043") -> Path:
    path = data_dir / "actor_manifests" / f"{actor_id}_manifest.json"
    head = f'{{"character_id": "{actor_id}", "character_name": "{actor_id}_x", "training_data": '
    path.write_text(head + deeply_nested() + "}")
    return path


def test_a_deeply_nested_manifest_is_one_line_naming_it(run, data_dir, store):
    make_actor(data_dir, store, count=2)
    path = data_dir / "actor_manifests" / "0042_manifest.json"
    before = path.read_bytes()
    path.write_text(deeply_nested())
    for argv in (
        ("training-data", "42"),
        ("mark", "42", f"{ACTOR}_0.jpg", "--bad"),
        ("delete", "42", f"{ACTOR}_0.jpg"),
        ("audit", "42"),
        ("repair", "42"),
        ("migrate", "42"),
    ):
        code, out, err = run(*argv)
        assert code == 2, argv
        assert out == ""
        assert error_lines(err) == [f"tdm-desktop: error: {path}: invalid JSON: nested too deeply"]
    assert store.list_keys(f"system_actors/training_data/{ACTOR}/") != []
    path.write_bytes(before)


def test_a_deeply_nested_prompt_metadata_is_one_line_naming_it(run, data_dir, store):
    make_actor(data_dir, store, count=2)
    path = data_dir / "actors" / ACTOR / "prompt_metadata.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"images": ' + deeply_nested() + "}")
    for argv in (
        ("training-data", "42"),
        ("mark", "42", f"{ACTOR}_0.jpg", "--bad"),
        ("delete", "42", f"{ACTOR}_0.jpg"),
    ):
        code, _out, err = run(*argv)
        assert code == 2, argv
        assert error_lines(err) == [f"tdm-desktop: error: {path}: invalid JSON: nested too deeply"]
    assert len(store.list_keys(f"system_actors/training_data/{ACTOR}/")) == 2


def test_actors_lists_the_others_beside_a_deeply_nested_manifest(run, data_dir, store):
    make_actor(data_dir, store, count=2)
    path = write_deep_manifest(data_dir)
    code, out, err = run("actors", "--json")
    rows = json.loads(out)
    assert code == 1
    assert [(r["actor_id"], r["image_count"]) for r in rows] == [("0042", 2), ("0043", 0)]
    assert rows[1]["problem"] == f"{path}: invalid JSON: nested too deeply"
    assert error_lines(err) == [
        f"tdm-desktop: actor 0043 is broken: {path}: invalid JSON: nested too deeply"
    ]


def test_unknown_keys_nested_hundreds_deep_are_refused_not_a_crash(run, data_dir, store):
    """Deep enough that copying or printing the value would exhaust Python's stack, shallow enough
    for the JSON parser: still one line naming the file."""
    make_actor(data_dir, store, count=1)
    path = data_dir / "actor_manifests" / "0042_manifest.json"
    document = json.loads(path.read_text())
    document["training_data"][0]["notes"] = json.loads(deeply_nested(600))
    path.write_text(json.dumps(document))
    code, _out, err = run("training-data", "42")
    assert code == 2
    assert len(error_lines(err)) == 1 and str(path) in err and "nested too deeply" in err


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_actors_lists_a_manifest_that_is_a_folder_or_a_fifo_with_its_problem(
    run, data_dir, store, kind
):
    make_actor(data_dir, store, count=2)
    path = data_dir / "actor_manifests" / "0043_manifest.json"
    if kind == "folder":
        path.mkdir()
    else:
        os.mkfifo(path)
    code, out, err = run("actors", "--json")
    rows = json.loads(out)
    assert code == 1
    assert [(r["actor_id"], r["image_count"], r["problem"] is None) for r in rows] == [
        ("0042", 2, True),
        ("0043", 0, False),
    ]
    problem = "is a folder, not a file" if kind == "folder" else "is not a regular file"
    assert rows[1]["problem"] == f"{path}: {problem}"
    code, _out, err = run("training-data", "43")
    assert code == 2 and error_lines(err) == [f"tdm-desktop: error: {path}: {problem}"]


def cli(data_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """A real process: a read that blocks would hang it, and the timeout would say so."""
    return run_process(data_dir, *argv, timeout=30, AWS_ENDPOINT_URL="http://127.0.0.1:9")


def test_a_prompt_metadata_fifo_is_a_clear_error_at_once(data_dir, store):
    make_actor(data_dir, store, count=2)
    fifo = data_dir / "actors" / ACTOR / "prompt_metadata.json"
    fifo.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(fifo)
    manifest = (data_dir / "actor_manifests" / "0042_manifest.json").read_bytes()
    for argv in (
        ("training-data", "42"),
        ("mark", "42", f"{ACTOR}_0.jpg", "--bad"),
        ("delete", "42", f"{ACTOR}_0.jpg"),
        ("delete-all", "42", "--yes"),
        ("generate", "42", "--all"),
        ("audit", "42"),
        ("repair", "42", "--forget-stale"),
    ):
        result = cli(data_dir, *argv)
        assert result.returncode == 2, (argv, result.stderr)
        assert error_lines(result.stderr) == [
            f"tdm-desktop: error: {fifo}: is not a regular file"
        ], argv
    assert (data_dir / "actor_manifests" / "0042_manifest.json").read_bytes() == manifest
    assert fifo.is_fifo()
