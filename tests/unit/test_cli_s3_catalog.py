"""The command line on an S3 data dir: bad documents and URLs, faults mid-change, read-only
accounts, and ``catalog copy`` between a folder and an S3 prefix (moto)."""

from __future__ import annotations

import json

import botocore.exceptions as bce
import pytest

from tdm_desktop.cli import main
from tdm_desktop.core import s3_store
from tdm_desktop.core.documents import LocalDocuments, S3Documents
from tdm_desktop.core.layout import manifest_name, prompt_metadata_name
from tests.catalogs import BUCKET, CATALOG_PREFIX, CATALOG_URL, deny_puts, put_raw, raw_bytes
from tests.conftest import FIXTURES
from tests.factories import make_actor

ACTOR = "0042_european_30_male"
MANIFEST = manifest_name("0042")
METADATA = prompt_metadata_name(ACTOR)
SEED = (FIXTURES / "seed_manifest.json").read_bytes()


@pytest.fixture
def s3_catalog(s3_client):
    return S3Documents(s3_client, BUCKET, CATALOG_PREFIX)


@pytest.fixture
def cli(s3_client, capsys, monkeypatch):
    """Run the CLI in-process against moto; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("TDM_CURATOR", "alice")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if not line.startswith(("[S3-ONLY]", "["))]


def etag(s3_catalog, name):
    return s3_catalog._client.head_object(Bucket=BUCKET, Key=s3_catalog.key(name))["ETag"]


# -- malformed catalog URLs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["s3://", "s3://bucket/../x", "http://example.com/catalog", "s3://b/a//c", "s3:x"]
)
@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_malformed_catalog_url_exits_2_with_one_line(cli, monkeypatch, url, how):
    if how == "option":
        code, out, err = cli("--data-dir", url, "actors")
    else:
        monkeypatch.setenv("TDM_DATA_DIR", url)
        code, out, err = cli("actors")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("tdm-desktop: error: data dir ")
    assert repr(url) in err


def test_tdm_data_dir_may_be_an_s3_prefix(cli, s3_catalog, store, monkeypatch):
    make_actor(s3_catalog, store, count=2)
    monkeypatch.setenv("TDM_DATA_DIR", CATALOG_URL)
    code, out, _ = cli("actors")
    assert code == 0 and out == f"0042  {ACTOR}  2 images\n"


def test_an_empty_s3_catalog_says_where_it_looked(cli):
    code, out, _ = cli("--data-dir", CATALOG_URL, "actors")
    assert code == 0 and out == f"no actors in {CATALOG_URL}/actor_manifests\n"


# -- invalid documents in S3 -----------------------------------------------------------------------

BAD = {
    "invalid JSON": (b'{"character_id": "0042",, }', "invalid JSON at line 1"),
    "wrong types": (
        SEED.replace(b'"size_mb": 0.31', b'"size_mb": "big"'),
        'training_data[0].size_mb must be a number, got "big"',
    ),
    "0 bytes": (b"", "file is empty"),
    "not JSON at all": (b"\xff\xd8\xff\xe0\x00\x10JFIF", "is not UTF-8 text"),
}


@pytest.mark.parametrize("case", list(BAD))
@pytest.mark.parametrize(
    "argv",
    [
        ("training-data", "42"),
        ("mark", "42", "0042_european_30_male_0.jpg", "--bad"),
        ("delete", "42", "0042_european_30_male_0.jpg"),
        ("generate", "42", "--prompt", "front view"),
    ],
    ids=["training-data", "mark", "delete", "generate"],
)
def test_an_invalid_manifest_in_s3_exits_2_naming_url_and_field_and_keeps_its_etag(
    cli, s3_catalog, case, argv
):
    content, problem = BAD[case]
    put_raw(s3_catalog, MANIFEST, content)
    before = etag(s3_catalog, MANIFEST)

    code, _out, err = cli("--data-dir", CATALOG_URL, *argv)

    assert code == 2
    (line,) = errors(err)
    assert line.startswith(f"tdm-desktop: error: {CATALOG_URL}/{MANIFEST}: ") and problem in line
    assert etag(s3_catalog, MANIFEST) == before and raw_bytes(s3_catalog, MANIFEST) == content


BAD_METADATA = {
    "invalid JSON": (b'{"images": {', "the file ends early"),
    "wrong types": (b'{"images": {"x.jpg": {"good": "no"}}}', 'images["x.jpg"].good must be'),
    "0 bytes": (b"", "file is empty"),
    "not JSON at all": (b"\x89PNG\r\n\x1a\n", "is not UTF-8 text"),
}


@pytest.mark.parametrize("case", list(BAD_METADATA))
@pytest.mark.parametrize(
    "argv",
    [("training-data", "42"), ("mark", "42", f"{ACTOR}_0.jpg", "--good")],
    ids=["training-data", "mark"],
)
def test_invalid_prompt_metadata_in_s3_exits_2_and_keeps_its_etag(
    cli, s3_catalog, store, case, argv
):
    make_actor(s3_catalog, store, count=1)
    content, problem = BAD_METADATA[case]
    put_raw(s3_catalog, METADATA, content)
    before = etag(s3_catalog, METADATA)

    code, _out, err = cli("--data-dir", CATALOG_URL, *argv)

    assert code == 2
    (line,) = errors(err)
    assert line.startswith(f"tdm-desktop: error: {CATALOG_URL}/{METADATA}: ") and problem in line
    assert etag(s3_catalog, METADATA) == before


# -- faults in the middle of a change --------------------------------------------------------------


def failing_puts(monkeypatch, error: Exception, on_key: str) -> None:
    """Every client the CLI makes fails PUTs of ``on_key`` with ``error`` (no retries)."""
    real = s3_store.make_s3_client

    def make(*args, **kwargs):
        client = real(*args, **{**kwargs, "max_attempts": 1})

        def fail(params, **_):
            if params.get("url_path", "").endswith(on_key) or on_key in str(params.get("url")):
                raise error

        client.meta.events.register("before-call.s3.PutObject", fail)
        return client

    monkeypatch.setattr(s3_store, "make_s3_client", make)


@pytest.mark.parametrize(
    "error",
    [
        bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
        bce.ReadTimeoutError(endpoint_url="http://127.0.0.1:9"),
    ],
    ids=["unreachable", "timeout"],
)
def test_s3_failing_in_the_middle_of_a_change_exits_1_and_leaves_the_old_document(
    cli, s3_catalog, store, monkeypatch, error
):
    names = make_actor(s3_catalog, store, count=2)
    service_flags = raw_bytes(s3_catalog, METADATA)
    manifest_before = raw_bytes(s3_catalog, MANIFEST)
    failing_puts(monkeypatch, error, "prompt_metadata.json")

    code, out, err = cli("--data-dir", CATALOG_URL, "mark", "42", names[0], "--bad")

    assert code == 1 and out == ""
    (line,) = errors(err)
    assert f"{CATALOG_URL}/{METADATA}" in line
    assert raw_bytes(s3_catalog, METADATA) == service_flags  # the old one (none at all)
    assert raw_bytes(s3_catalog, MANIFEST) == manifest_before


def test_generate_with_the_manifest_put_failing_leaves_no_image_behind(
    cli, s3_catalog, store, monkeypatch
):
    make_actor(s3_catalog, store, count=1)
    before = raw_bytes(s3_catalog, MANIFEST)
    failing_puts(monkeypatch, bce.ReadTimeoutError(endpoint_url="http://x"), "_manifest.json")

    code, _out, err = cli("--data-dir", CATALOG_URL, "generate", "42", "--prompt", "front")

    assert code == 1 and "Timeout" in err
    assert raw_bytes(s3_catalog, MANIFEST) == before
    assert store.list_keys(f"system_actors/training_data/{ACTOR}/") == [
        store.key_for(ACTOR, f"{ACTOR}_0.jpg")
    ]


# -- read-only accounts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ("mark", "42", f"{ACTOR}_0.jpg", "--bad"),
        ("delete", "42", f"{ACTOR}_0.jpg"),
        ("delete-all", "42", "--yes"),
        ("generate", "42", "--prompt", "front"),
    ],
    ids=["mark", "delete", "delete-all", "generate"],
)
def test_a_read_only_account_is_told_once_and_nothing_is_written(
    cli, s3_catalog, store, s3_client, argv
):
    make_actor(s3_catalog, store, count=2)
    before = {name: raw_bytes(s3_catalog, name) for name in s3_catalog.names()}
    images = store.list_keys(f"system_actors/training_data/{ACTOR}/")
    deny_puts(s3_client)

    code, _out, err = cli("--data-dir", CATALOG_URL, *argv)

    assert code == 1
    (line,) = errors(err)
    assert line.startswith(f"tdm-desktop: error: this account can only read {CATALOG_URL}: ")
    assert {name: raw_bytes(s3_catalog, name) for name in s3_catalog.names()} == before
    assert store.list_keys(f"system_actors/training_data/{ACTOR}/") == images


def test_a_read_only_account_still_reads(cli, s3_catalog, store, s3_client):
    make_actor(s3_catalog, store, count=2)
    deny_puts(s3_client)
    code, out, _ = cli("--data-dir", CATALOG_URL, "training-data", "42")
    assert code == 0 and json.loads(out)["total_count"] == 2


def test_a_bad_curator_name_is_bad_input(cli, s3_catalog, store, monkeypatch):
    make_actor(s3_catalog, store, count=1)
    monkeypatch.setenv("TDM_CURATOR", "   ")
    code, _, err = cli("--data-dir", CATALOG_URL, "mark", "42", f"{ACTOR}_0.jpg", "--bad")
    assert code == 2 and "curator" in err and err.count("\n") == 1


# -- catalog copy ----------------------------------------------------------------------------------


def local_catalog(tmp_path, store) -> LocalDocuments:
    folder = LocalDocuments(tmp_path / "data")
    make_actor(folder, store, count=2)
    folder.write(METADATA, b'{"images": {}}\n', expected=None)
    base = f"actors/{ACTOR}/base_image/{ACTOR}_base.png"
    folder.write(base, b"\x89PNG base", expected=None)
    (tmp_path / "data" / "actors" / ACTOR / "training_data").mkdir()
    (tmp_path / "data" / "actors" / ACTOR / "training_data" / "old.jpg").write_bytes(b"jpg")
    return folder


def test_catalog_copy_from_a_folder_to_s3_copies_every_document_byte_for_byte(
    cli, tmp_path, store, s3_catalog
):
    folder = local_catalog(tmp_path, store)
    images_before = store.list_keys("system_actors/")

    code, out, err = cli("catalog", "copy", str(folder.root), CATALOG_URL)

    assert code == 0
    names = [MANIFEST, METADATA, f"actors/{ACTOR}/base_image/{ACTOR}_base.png"]
    assert sorted(s3_catalog.names()) == sorted(names)
    for name in names:
        assert raw_bytes(s3_catalog, name) == raw_bytes(folder, name)
    assert f"[3/3] copied: {MANIFEST}" in err or "[3/3] copied:" in err
    assert out.strip().endswith(
        "3 copied, 0 already there, 0 skipped (a different document is there), "
        "1 other files not copied"
    )
    assert store.list_keys("system_actors/") == images_before  # images are not copied
    # the copy in S3 is a catalog the commands use as they did the folder
    code, out, _ = cli("--data-dir", CATALOG_URL, "actors")
    assert out == f"0042  {ACTOR}  2 images\n"


def test_catalog_copy_never_overwrites_and_skips_what_is_already_there(
    cli, tmp_path, store, s3_catalog
):
    folder = local_catalog(tmp_path, store)
    cli("catalog", "copy", str(folder.root), CATALOG_URL)
    put_raw(s3_catalog, METADATA, b'{"images": {"theirs.jpg": {"good": false}}}')
    theirs = etag(s3_catalog, METADATA)

    code, out, _err = cli("catalog", "copy", str(folder.root), CATALOG_URL)

    assert code == 1
    assert f"SKIPPED  {CATALOG_URL}/{METADATA}: a different document is already there" in out
    assert "0 copied, 2 already there, 1 skipped" in out
    assert etag(s3_catalog, METADATA) == theirs


def test_catalog_copy_from_s3_to_a_folder(cli, tmp_path, store, s3_catalog):
    make_actor(s3_catalog, store, count=3)
    target = tmp_path / "moved"

    code, out, _ = cli("catalog", "copy", CATALOG_URL, str(target))

    assert code == 0 and "1 copied" in out
    assert (target / MANIFEST).read_bytes() == raw_bytes(s3_catalog, MANIFEST)
    assert list(LocalDocuments(target).names()) == list(s3_catalog.names())


def test_catalog_copy_to_a_read_only_prefix_copies_nothing(cli, tmp_path, store, s3_client):
    folder = local_catalog(tmp_path, store)
    deny_puts(s3_client)
    code, _out, err = cli("catalog", "copy", str(folder.root), CATALOG_URL)
    assert code == 1 and "this account can only read" in err


@pytest.mark.parametrize(
    ("source", "problem"),
    [("s3://", "no bucket"), ("/no/such/folder", "no such folder"), ("ftp://x/y", "ftp:")],
)
def test_catalog_copy_bad_locations_exit_2(cli, tmp_path, source, problem):
    code, _out, err = cli("catalog", "copy", source, str(tmp_path / "x"))
    assert code == 2 and problem in err and err.count("\n") == 1


def test_catalog_copy_of_an_empty_source_is_bad_input(cli, tmp_path):
    (tmp_path / "empty").mkdir()
    code, _out, err = cli("catalog", "copy", str(tmp_path / "empty"), CATALOG_URL)
    assert code == 2 and "no catalog documents" in err
