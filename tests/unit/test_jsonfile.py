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
        (b'{"a": 1, "b": 2, "b": 3, "a": 4}', 'key "b" appears twice'),
        (b'{"x": {"k": 1, "k": 2}, "x": 3}', 'key "k" appears twice'),
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


# -- dump_json renders what json.dumps renders -------------------------------------------------


def _stdlib_bytes(value):
    return (json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def _outcome(render, value):
    """The bytes, or the error (a lone surrogate renders but is not UTF-8: both refuse it)."""
    try:
        return render(value)
    except (ValueError, TypeError) as exc:
        return type(exc), str(exc)


# Pieces a string is made of: JSON's escapes, control characters (raw ones never appear in the
# output, which the renderer relies on), the separators and brackets it looks for, non-BMP text.
_PIECES = [
    "a", "Zoë", '"', "\\", "/", "{", "}", "[", "]", ",", ":", " ", "\n", "\t", "\r", "\b", "\f",
    "\x00", "\x01", "\x02", "\x1f", "\x7f", "\u2028", "\ud83d", "😀", "𝄞", "\ufeff",
    '": {"', "},\n  {", "}, {", "\n    }", "{}", "[]", "null", "true", "1e5",
]  # fmt: skip
_FLOATS = [0.0, -0.0, 1e300, -1e300, 1e-300, 5e-324, 0.1, 1.5, -2.25, 1e16, 2.0**63, 123.456e-7]
_ODD_KEYS = [1, -7, 0, 10**30, 2.5, -0.0, 1e300, True, False, None]


def _text(rng):
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 5)))


def _scalar(rng):
    kind = rng.randint(0, 6)
    if kind == 0:
        return rng.randint(-(10**20), 10**20)
    if kind == 1:
        return rng.choice(_FLOATS)
    if kind == 2:
        return rng.choice([True, False, None, 0, 1, -1])
    return _text(rng)


def _key(rng, odd_keys):
    return rng.choice(_ODD_KEYS) if odd_keys and rng.random() < 0.15 else _text(rng)


def _flat(rng, odd_keys):
    return {_key(rng, odd_keys): _scalar(rng) for _ in range(rng.randint(0, 4))}


def _value(rng, depth, odd_keys):
    kind = rng.randint(0, 9) if depth < 5 else 0
    if kind < 3:
        return _scalar(rng)
    if kind == 3:
        return _flat(rng, odd_keys)
    if kind == 4:
        return [_scalar(rng) for _ in range(rng.randint(0, 4))]
    if kind == 5:  # the shape of prompt_metadata.json's images
        return {_key(rng, odd_keys): _flat(rng, odd_keys) for _ in range(rng.randint(0, 5))}
    if kind == 6:  # the shape of a manifest's training_data
        return [_flat(rng, odd_keys) for _ in range(rng.randint(0, 5))]
    if kind == 7:
        return tuple(_value(rng, depth + 1, odd_keys) for _ in range(rng.randint(0, 3)))
    if kind == 8:
        return [_value(rng, depth + 1, odd_keys) for _ in range(rng.randint(0, 4))]
    return {_key(rng, odd_keys): _value(rng, depth + 1, odd_keys) for _ in range(rng.randint(0, 4))}


def test_dump_json_gives_the_bytes_of_json_dumps_on_random_documents():
    import random

    for seed in range(4000):
        rng = random.Random(seed)
        odd_keys = seed % 2 == 1  # keys json.dumps turns into strings: 1, 2.5, true, null
        document = {_key(rng, odd_keys): _value(rng, 0, odd_keys) for _ in range(rng.randint(0, 6))}
        expected = _outcome(_stdlib_bytes, document)
        assert _outcome(dump_json, document) == expected, f"seed {seed}: {document!r}"


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"a": {}},
        {"a": []},
        {"a": {"x": {}}},
        {"a": [{}]},
        {"a": [{}, {}]},
        {"a": [{"k": 1}, {}, {"k": "}"}]},
        {"a": {"x": {}, "y": {"k": "},\n      {"}, "z": {}}},
        {"a": {"x": {"k": 1}, "y": {}}},
        {"a": {"x": {"k": [1]}, "y": {"k": {"n": None}}}},
        {"a": [{"k": [{"x": 1}, {"y": 2}]}, {"k": 3}]},
        {"a": {"x": {1: "one", 2.5: True, None: False}}},
        {1: {"x": 1}, "b": [1, 2]},
        {"a": ({"x": 1}, {"y": 2})},
        {"deep": [[[[[[{"a": [[{}]]}]]]]]]},
    ],
)
def test_dump_json_gives_the_bytes_of_json_dumps_on_edge_shapes(document):
    assert dump_json(document) == _stdlib_bytes(document)


@pytest.mark.parametrize(
    "document",
    [
        {"a": float("nan")},
        {"a": {"x": {"size_mb": float("inf")}}},
        {"a": [{"size_mb": -float("inf")}]},
        {"a": {float("nan"): 1}},
        {"a": {"x": object()}},
        {"a": [{"x": {1, 2}}]},
        {"a": {"x": {"y": b"bytes"}}},
        {"a": {(1, 2): 1}},
        {"a": [1, {"b": object()}]},
    ],
)
def test_dump_json_refuses_what_json_dumps_refuses_with_its_error(document):
    with pytest.raises((ValueError, TypeError)) as expected:
        _stdlib_bytes(document)
    with pytest.raises(type(expected.value)) as caught:
        dump_json(document)
    assert str(caught.value) == str(expected.value)


def test_dump_json_refuses_a_circular_document_as_json_dumps_does():
    document = {"images": {"a.jpg": {}}}
    document["images"]["a.jpg"]["self"] = document
    with pytest.raises(ValueError, match=r"^Circular reference detected$"):
        dump_json(document)


def test_dump_json_of_a_real_prompt_metadata_document_is_json_dumps(tmp_path):
    from tdm_desktop.core.prompt_metadata import PromptMetadata

    actor = "0042_european_30_male"
    metadata = PromptMetadata.for_actor(tmp_path, actor)
    metadata.set_flags({f"{actor}_{i}.jpg": i % 3 != 0 for i in range(300)}, curator="Zoë 😀")
    metadata.record_generation(f"{actor}_1.jpg", prompt='a "quoted" {prompt}\n', seed=7)
    metadata.set_caption(f"{actor}_2.jpg", "caption },\n  { with\tcontrol \x01 chars")
    metadata.set_trigger_word("zoe42")
    metadata.set_flags({f"{actor}_4.jpg": False})  # no reviewed_by
    raw = (tmp_path / "actors" / actor / "prompt_metadata.json").read_bytes()

    assert raw == _stdlib_bytes(json.loads(raw))
    assert dump_json(json.loads(raw)) == raw


def test_dump_json_of_a_real_manifest_is_json_dumps(tmp_path):
    from tdm_desktop.core.manifest import TrainingDataManifest

    manifest = TrainingDataManifest.for_actor(tmp_path, "0042").create(
        "0042", "0042_european_30_male"
    )
    url = "https://story-boards-assets.s3.amazonaws.com/system_actors/training_data/0042/"
    for i in range(200):
        manifest.add_image(f"0042_{i}.jpg", f"{url}0042_{i}.jpg", 0.1 + i / 7)
    raw = (tmp_path / "actor_manifests" / "0042_manifest.json").read_bytes()

    assert raw == _stdlib_bytes(json.loads(raw))
    assert dump_json(json.loads(raw)) == raw
