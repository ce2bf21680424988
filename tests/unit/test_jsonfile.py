"""Atomic writes, the lock beside a file, and strict reading of JSON data files."""

from __future__ import annotations

import json
import os
import stat

import filelock
import pytest

from tdm_desktop.core.errors import ManifestError, PromptMetadataError
from tdm_desktop.core.jsonfile import (
    atomic_write_bytes,
    dump_json,
    file_lock,
    read_json_object,
    remove_stale_temp_files,
)


def test_atomic_write_creates_and_replaces_without_leaving_temp_files(tmp_path):
    target = tmp_path / "a.json"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")

    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_atomic_write_keeps_the_files_permissions(tmp_path):
    target = tmp_path / "a.json"
    target.write_bytes(b"old")
    target.chmod(0o640)

    atomic_write_bytes(target, b"new")

    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_new_file_gets_the_usual_permissions_not_the_temp_files_0600(tmp_path):
    target = tmp_path / "new.json"
    atomic_write_bytes(target, b"{}")
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp_file(tmp_path):
    target = tmp_path / "a.json"
    target.write_bytes(b"precious")

    with pytest.raises(TypeError):
        atomic_write_bytes(target, "not bytes")  # type: ignore[arg-type]

    assert target.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_a_write_into_a_missing_folder_fails_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_write_bytes(tmp_path / "missing" / "a.json", b"x")
    assert list(tmp_path.iterdir()) == []


def test_dump_json_is_two_space_indented_utf8_with_a_trailing_newline():
    data = dump_json({"name": "Zoë", "n": [1]})
    assert data == '{\n  "name": "Zoë",\n  "n": [\n    1\n  ]\n}\n'.encode()


def test_dump_json_refuses_nan():
    with pytest.raises(ValueError):
        dump_json({"size_mb": float("nan")})


def test_file_lock_is_beside_the_file_with_a_30s_timeout(tmp_path):
    lock = file_lock(tmp_path / "0042_manifest.json")
    assert isinstance(lock, filelock.FileLock)
    assert lock.lock_file == str(tmp_path / "0042_manifest.json") + ".lock"
    assert lock.timeout == 30


def test_file_lock_excludes_a_second_holder(tmp_path):
    path = tmp_path / "a.json"
    with file_lock(path), pytest.raises(filelock.Timeout):
        file_lock(path).acquire(timeout=0.05)
    with file_lock(path).acquire(timeout=0.05):
        pass


def test_read_json_object_returns_the_object_in_file_order(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('{"b": 1, "a": {"z": null, "y": [true]}}')
    data = read_json_object(path, ManifestError)
    assert data == {"b": 1, "a": {"z": None, "y": [True]}}
    assert list(data) == ["b", "a"]


def test_read_json_object_accepts_a_utf8_bom(tmp_path):
    path = tmp_path / "a.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert read_json_object(path, ManifestError) == {"a": 1}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "file is empty"),
        (b"  \n", "file is empty"),
        (b'{"a": 1,\n "b": }', "invalid JSON at line 2, column 7"),
        (b'{\n  "a": [1, 2', "the file ends early at line 2"),
        (b'{"a": "caf\xe9"}', "is not UTF-8 text (invalid byte at offset 10)"),
        (b"[1, 2]", "top level must be a JSON object {...}, got an array"),
        (b'"text"', "top level must be a JSON object {...}, got a string"),
        (b"null", "top level must be a JSON object {...}, got null"),
        (b'{"a": 1, "a": 2}', 'key "a" appears twice'),
        (b'{"a": NaN}', "NaN is not a JSON number"),
    ],
)
def test_read_json_object_says_what_is_wrong(tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_bytes(content)

    with pytest.raises(PromptMetadataError) as caught:
        read_json_object(path, PromptMetadataError)

    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message
    assert caught.value.path == path


def test_read_json_object_on_a_missing_file(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(ManifestError, match=r"nope\.json: file not found$"):
        read_json_object(path, ManifestError)


def test_read_json_object_on_a_folder(tmp_path):
    with pytest.raises(ManifestError, match="is a folder, not a file"):
        read_json_object(tmp_path, ManifestError)


def test_what_dump_json_writes_reads_back(tmp_path):
    path = tmp_path / "a.json"
    value = {"x": [1, 2.5, "ü"], "y": {"z": False}}
    atomic_write_bytes(path, dump_json(value))
    assert read_json_object(path, ManifestError) == value == json.loads(path.read_text())


def test_remove_stale_temp_files_removes_only_that_files_temp_files(tmp_path):
    target = tmp_path / "0042_manifest.json"
    target.write_bytes(b"{}")
    (tmp_path / ".0042_manifest.json.abc123.tmp").write_bytes(b"{half")
    (tmp_path / ".0042_manifest.json.zz.tmp").write_bytes(b"")
    (tmp_path / ".0043_manifest.json.abc123.tmp").write_bytes(b"{")
    (tmp_path / "notes.tmp").write_bytes(b"")

    assert remove_stale_temp_files(target) == 2

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".0043_manifest.json.abc123.tmp",
        "0042_manifest.json",
        "notes.tmp",
    ]
