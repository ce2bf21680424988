"""The document-store seam: the same contract on a local folder and on an S3 prefix (moto).

moto checks conditions but not atomically, so races between processes are proven on SeaweedFS
(tests/integration/test_catalog_s3.py); here conflicts are made deterministic by a second writer
that writes between a change's read and its write.
"""

from __future__ import annotations

import json
import os
import threading

import botocore.exceptions as bce
import pytest

from tdm_desktop.core.documents import (
    CHANGE_RETRIES,
    Document,
    DocumentRef,
    LocalDocuments,
    S3Documents,
    S3Prefix,
    check_document_name,
    open_documents,
    parse_data_dir,
)
from tdm_desktop.core.errors import (
    CatalogLocationError,
    ChangeConflictError,
    DataFileError,
    DocumentConflictError,
    DocumentExistsError,
    InvalidNameError,
    ReadOnlyCatalogError,
    S3Error,
    TdmError,
)
from tests.catalogs import ClientWrapper, deny_puts
from tests.conftest import BUCKET

NAME = "actor_manifests/0042_manifest.json"
PREFIX = "team/catalog"


def no_sleep(_seconds: float) -> None:
    pass


@pytest.fixture(params=["local", "s3"])
def kind(request):
    return request.param


@pytest.fixture
def make_store(kind, tmp_path, request):
    """A factory of stores on one catalog: two of them are two curators on one truth."""

    def make(**options):
        if kind == "local":
            return LocalDocuments(tmp_path / "catalog")
        client = request.getfixturevalue("s3_client")
        return S3Documents(client, BUCKET, PREFIX, sleep=no_sleep, **options)

    return make


@pytest.fixture
def store(make_store):
    return make_store()


def stored_bytes(store, name=NAME) -> bytes | None:
    """What is really there, read around the store under test."""
    if isinstance(store, LocalDocuments):
        path = store.root / name
        return path.read_bytes() if path.exists() else None
    try:
        response = store._client.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{name}")
    except bce.ClientError:
        return None
    return response["Body"].read()


def add_item(item: str):
    """A change that appends ``item`` to a JSON list (a new list when there is none)."""

    def apply(current: Document):
        items = json.loads(current.data) if current.exists else []
        return len(items), json.dumps([*items, item]).encode()

    return apply


# -- reading and writing ---------------------------------------------------------------------------


def test_a_missing_document_reads_as_none(store):
    assert store.read(NAME) == Document(NAME, None, None)


def test_create_only_then_read_gives_the_same_bytes_and_version(store):
    written = store.write(NAME, b'{"a": 1}\n', expected=None)
    read = store.read(NAME)
    assert read.data == b'{"a": 1}\n' == stored_bytes(store)
    assert read.version == written.version and read.version


def test_create_only_never_replaces(store):
    store.write(NAME, b"first", expected=None)
    with pytest.raises(DocumentExistsError) as caught:
        store.write(NAME, b"second", expected=None)
    assert store.url(NAME) in str(caught.value)
    assert stored_bytes(store) == b"first"


def test_a_write_at_a_stale_version_is_refused_and_changes_nothing(store):
    old = store.write(NAME, b"one", expected=None)
    store.write(NAME, b"two", expected=old.version)
    with pytest.raises(DocumentConflictError):
        store.write(NAME, b"three", expected=old.version)
    assert stored_bytes(store) == b"two"


def test_versions_are_equal_for_equal_content_and_differ_otherwise(store):
    one = store.write(NAME, b"same", expected=None)
    two = store.write(NAME, b"other", expected=one.version)
    three = store.write(NAME, b"same", expected=two.version)
    assert one.version == three.version != two.version


def test_binary_documents_go_through_the_same_seam(store):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    name = "actors/0042_european_30_male/base_image/0042_european_30_male_base.png"
    store.write(name, png, expected=None)
    assert store.read(name).data == png == stored_bytes(store, name)


def test_s3_documents_are_single_part_puts_with_a_content_type(s3_client):
    store = S3Documents(s3_client, BUCKET, PREFIX)
    store.write(NAME, b"{}", expected=None)
    store.write("actors/a/base_image/a_base.png", b"png", expected=None)
    head = s3_client.head_object(Bucket=BUCKET, Key=f"{PREFIX}/{NAME}")
    assert head["ContentType"] == "application/json" and "-" not in head["ETag"]
    png = s3_client.head_object(Bucket=BUCKET, Key=f"{PREFIX}/actors/a/base_image/a_base.png")
    assert png["ContentType"] == "image/png"


def test_urls_name_the_file_or_the_s3_object(kind, store, tmp_path):
    expected = (
        str(tmp_path / "catalog" / NAME) if kind == "local" else f"s3://{BUCKET}/{PREFIX}/{NAME}"
    )
    assert store.url(NAME) == expected
    assert (store.local_path(NAME) is None) == (kind == "s3") == store.is_remote


# -- changes ---------------------------------------------------------------------------------------


def test_change_creates_then_changes(store):
    first = store.change(NAME, add_item("a"))
    second = store.change(NAME, add_item("b"))
    assert (first.result, first.written, second.result) == (0, True, 1)
    assert json.loads(stored_bytes(store)) == ["a", "b"]
    assert second.document.version == store.read(NAME).version


def test_a_change_that_changes_nothing_writes_nothing(kind, store, tmp_path):
    changed = store.change(NAME, lambda current: ("nothing", None))
    assert (changed.result, changed.written) == ("nothing", False)
    assert stored_bytes(store) is None
    if kind == "local":  # not even the folder or a lock file
        assert not (tmp_path / "catalog").exists()


def test_a_change_meeting_another_writer_is_applied_again_on_the_fresh_document(make_store):
    mine, theirs = make_store(), make_store()
    mine.change(NAME, add_item("start"))
    seen = []

    def apply(current: Document):
        seen.append(json.loads(current.data))
        if len(seen) == 1:  # someone else writes between this read and this write
            theirs.change(NAME, add_item("theirs"))
        return add_item("mine")(current)

    changed = mine.change(NAME, apply)
    assert seen == [["start"], ["start", "theirs"]]
    assert json.loads(stored_bytes(mine)) == ["start", "theirs", "mine"]
    assert changed.written


def test_an_invalid_document_raises_from_apply_and_is_never_written(store):
    store.write(NAME, b"{ not json", expected=None)

    def apply(current: Document):
        json.loads(current.data)  # raises
        return None, b"overwritten"

    with pytest.raises(json.JSONDecodeError):
        store.change(NAME, apply)
    assert stored_bytes(store) == b"{ not json"


class Meddler(ClientWrapper):
    """A client that lets another writer change the document right before a PUT, so that PUT
    meets a 412 (a storm of other curators): ``times`` times in all, ``run`` PUTs in a row at
    most, then one PUT goes through."""

    def __init__(self, client, times: int, other: S3Documents, run: int = 10_000) -> None:
        super().__init__(client)
        self._left = times
        self._other = other
        self._run = run
        self.puts = 0

    def put_object(self, **kwargs):
        self.puts += 1
        if self._left > 0 and "IfMatch" in kwargs and self.puts % (self._run + 1):
            self._left -= 1
            self._other.change(NAME, add_item(f"other-{self._left}"))
        return self._client.put_object(**kwargs)


def test_a_412_storm_lands_every_change_exactly_once(s3_client):
    other = S3Documents(s3_client, BUCKET, PREFIX)
    other.change(NAME, add_item("start"))
    meddler = Meddler(s3_client, times=25, other=other, run=3)
    store = S3Documents(meddler, BUCKET, PREFIX, sleep=no_sleep)
    for n in range(10):
        store.change(NAME, add_item(f"mine-{n}"))
    items = json.loads(stored_bytes(store))
    assert sorted(items) == sorted(
        ["start"] + [f"mine-{n}" for n in range(10)] + [f"other-{n}" for n in range(25)]
    )
    assert store.conflicts == 25


def test_when_the_retries_run_out_nothing_is_written_and_the_error_is_one_line(s3_client):
    other = S3Documents(s3_client, BUCKET, PREFIX)
    other.change(NAME, add_item("start"))
    waits: list[float] = []
    meddler = Meddler(s3_client, times=10_000, other=other)
    store = S3Documents(meddler, BUCKET, PREFIX, sleep=waits.append, jitter=lambda: 0.5)
    with pytest.raises(ChangeConflictError) as caught:
        store.change(NAME, add_item("mine"))
    message = str(caught.value)
    assert message.startswith(f"s3://{BUCKET}/{PREFIX}/{NAME}: ") and "\n" not in message
    assert "mine" not in json.loads(stored_bytes(store))
    assert meddler.puts == CHANGE_RETRIES + 1
    # full jitter on an exponential backoff, capped
    assert waits[:3] == [0.01, 0.02, 0.04] and max(waits) <= 0.5


class LostAnswer(ClientWrapper):
    """A client whose first conditional PUT lands but whose answer is lost: botocore's retry of
    the same request then meets our own write and gets a 412."""

    lost = False

    def put_object(self, **kwargs):
        if not self.lost and "IfMatch" in kwargs:
            self.lost = True
            self._client.put_object(**kwargs)
            error = {"Error": {"Code": "PreconditionFailed", "Message": "retry met itself"}}
            raise bce.ClientError(error, "PutObject")
        return self._client.put_object(**kwargs)


def test_a_retried_put_that_meets_its_own_write_is_a_success_applied_once(s3_client):
    S3Documents(s3_client, BUCKET, PREFIX).change(NAME, add_item("start"))
    store = S3Documents(LostAnswer(s3_client), BUCKET, PREFIX, sleep=no_sleep)
    calls = []

    def apply(current):
        calls.append(1)
        return add_item("once")(current)

    changed = store.change(NAME, apply)
    assert changed.written and len(calls) == 1
    assert json.loads(stored_bytes(store)) == ["start", "once"]


class Unreachable(ClientWrapper):
    """A client whose PUTs never reach S3."""

    def put_object(self, **kwargs):
        raise bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:9")


def test_s3_unreachable_in_the_middle_of_a_change_leaves_the_old_document(s3_client):
    S3Documents(s3_client, BUCKET, PREFIX).change(NAME, add_item("old"))
    store = S3Documents(Unreachable(s3_client), BUCKET, PREFIX)
    with pytest.raises(S3Error) as caught:
        store.change(NAME, add_item("new"))
    assert caught.value.code == "EndpointUnreachable"
    assert json.loads(stored_bytes(store)) == ["old"]


def test_access_denied_on_a_put_is_the_read_only_error_and_writes_nothing(s3_client):
    store = S3Documents(s3_client, BUCKET, PREFIX)
    store.change(NAME, add_item("kept"))
    deny_puts(s3_client, PREFIX)
    with pytest.raises(ReadOnlyCatalogError) as caught:
        store.change(NAME, add_item("refused"))
    assert str(caught.value).startswith(f"this account can only read s3://{BUCKET}/{PREFIX}: ")
    with pytest.raises(ReadOnlyCatalogError):
        store.check_writable()
    assert json.loads(stored_bytes(store)) == ["kept"]


def test_check_writable_writes_nothing(s3_client):
    store = S3Documents(s3_client, BUCKET, PREFIX)
    store.check_writable()
    assert s3_client.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


class IgnoresConditions(ClientWrapper):
    """A server that stores a PUT whatever its If-Match says."""

    def put_object(self, **kwargs):
        kwargs.pop("IfMatch", None)
        return self._client.put_object(**kwargs)


def test_a_server_that_ignores_if_match_is_refused_as_a_catalog(s3_client):
    store = S3Documents(IgnoresConditions(s3_client), BUCKET, PREFIX)
    with pytest.raises(TdmError, match="ignored an If-Match condition"):
        store.check_writable()
    assert s3_client.list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


# -- polling ---------------------------------------------------------------------------------------


def test_poll_says_nothing_until_the_document_changes(make_store):
    mine, theirs = make_store(), make_store()
    assert mine.poll(NAME, None) is None  # still missing
    first = theirs.write(NAME, b"one", expected=None)
    seen = mine.poll(NAME, None)
    assert seen is not None and seen.data == b"one" and seen.version == first.version
    assert mine.poll(NAME, first.version) is None
    second = theirs.write(NAME, b"two", expected=first.version)
    changed = mine.poll(NAME, first.version)
    assert changed is not None and (changed.data, changed.version) == (b"two", second.version)
    assert mine.poll(NAME, second.version) is None


def test_poll_is_a_conditional_get_answered_304(s3_client):
    store = S3Documents(s3_client, BUCKET, PREFIX)
    version = store.write(NAME, b"x" * 10_000, expected=None).version
    sent = []
    s3_client.meta.events.register(
        "before-call.s3.GetObject", lambda params, **_: sent.append(params["headers"].copy())
    )
    assert store.poll(NAME, version) is None
    assert sent[-1]["If-None-Match"] == version


def test_poll_of_a_removed_document_gives_a_missing_one(kind, store, s3_client=None):
    version = store.write(NAME, b"x", expected=None).version
    if isinstance(store, LocalDocuments):
        (store.root / NAME).unlink()
    else:
        store._client.delete_object(Bucket=BUCKET, Key=f"{PREFIX}/{NAME}")
    assert store.poll(NAME, version) == Document(NAME, None, None)


def test_a_local_poll_notices_a_hand_edit_in_place(tmp_path):
    store = LocalDocuments(tmp_path)
    version = store.write("a.json", b"[1]", expected=None).version
    with open(tmp_path / "a.json", "r+b") as file:  # an editor writing in place, same size
        file.write(b"[2]")
    os.utime(tmp_path / "a.json", ns=(1, 1))
    changed = store.poll("a.json", version)
    assert changed is not None and changed.data == b"[2]"


# -- listing ---------------------------------------------------------------------------------------


def test_names_lists_every_document_under_a_folder_in_order(store):
    for name in ["actor_manifests/0107_manifest.json", NAME, "actors/a/prompt_metadata.json"]:
        store.write(name, b"{}", expected=None)
    store.change("actor_manifests/0213_manifest.json", add_item("x"))  # takes a lock locally
    assert list(store.names("actor_manifests")) == [
        NAME,
        "actor_manifests/0107_manifest.json",
        "actor_manifests/0213_manifest.json",
    ]
    assert list(store.names()) == [
        *list(store.names("actor_manifests")),
        "actors/a/prompt_metadata.json",
    ]


def test_s3_names_follow_the_pages(s3_client):
    store = S3Documents(s3_client, BUCKET, PREFIX, page_size=3)
    for n in range(10):
        store.write(f"actor_manifests/{n:04d}_manifest.json", b"{}", expected=None)
    s3_client.put_object(Bucket=BUCKET, Key=f"{PREFIX}-other/actor_manifests/x.json", Body=b"")
    s3_client.put_object(Bucket=BUCKET, Key=f"{PREFIX}/actor_manifests/bad name.json", Body=b"")
    names = list(store.names("actor_manifests"))
    assert names == [f"actor_manifests/{n:04d}_manifest.json" for n in range(10)]


# -- names and locations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["", "../x", "a/../b", "/abs", "a//b", "a/", "a\\b", "a b", ".hidden", "a/%2e%2e", None]
)
def test_document_names_outside_the_allow_list_are_refused(store, bad):
    with pytest.raises(InvalidNameError):
        store.read(bad)
    with pytest.raises(InvalidNameError):
        store.write(bad, b"x", expected=None)


def test_nothing_outside_the_prefix_is_read_or_written(s3_client):
    store = S3Documents(s3_client, BUCKET, PREFIX)
    store.write(NAME, b"{}", expected=None)
    keys = [item["Key"] for item in s3_client.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == [f"{PREFIX}/{NAME}"]
    assert check_document_name("a/b.json") == "a/b.json"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3://story-boards-assets/catalog", S3Prefix("story-boards-assets", "catalog")),
        ("s3://story-boards-assets/team/catalog/", S3Prefix("story-boards-assets", "team/catalog")),
        ("s3://my.catalog-bucket", S3Prefix("my.catalog-bucket", "")),
        ("data", None),
        ("/srv/tdm/data", None),
        ("./relative/dir", None),
    ],
)
def test_parse_data_dir(text, expected):
    parsed = parse_data_dir(text)
    assert parsed == (expected if expected is not None else __import__("pathlib").Path(text))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("s3://", "no bucket"),
        ("s3:///catalog", "no bucket"),
        ("s3://bucket/../x", "no '..'"),
        ("s3://bucket/a//b", "empty parts"),
        ("s3://bucket/a%2Fb", "'%'"),
        ("s3://bucket/a b", "spaces"),
        ("s3://Bad_Bucket/x", "not a valid bucket name"),
        ("http://example.com/catalog", "http: is not supported"),
        ("file:///tmp/catalog", "file: is not supported"),
        ("s3:/bucket/x", "s3: is not supported"),
    ],
)
def test_malformed_catalog_urls_are_one_clear_line(text, problem):
    with pytest.raises(CatalogLocationError) as caught:
        parse_data_dir(text)
    message = str(caught.value)
    assert problem in message and repr(text) in message and "\n" not in message


def test_open_documents_takes_a_folder_a_url_or_a_store(tmp_path, s3_client):
    assert isinstance(open_documents(tmp_path), LocalDocuments)
    s3 = open_documents("s3://story-boards-assets/catalog", s3_client)
    assert isinstance(s3, S3Documents) and s3.location == "s3://story-boards-assets/catalog"
    assert open_documents(s3) is s3


# -- the local folder keeps its own safety ---------------------------------------------------------


def test_a_local_fifo_is_refused_instead_of_hanging(tmp_path):
    os.mkfifo(tmp_path / "pipe.json")
    with pytest.raises(DataFileError, match="is not a regular file"):
        LocalDocuments(tmp_path).read("pipe.json")


def test_a_local_folder_where_a_document_should_be_is_named(tmp_path):
    (tmp_path / "actor_manifests" / "0042_manifest.json").mkdir(parents=True)
    with pytest.raises(DataFileError, match="is a folder, not a file"):
        LocalDocuments(tmp_path).read(NAME)


def test_local_changes_from_many_threads_lose_nothing(tmp_path):
    store = LocalDocuments(tmp_path)

    def work(n):
        for m in range(10):
            store.change("list.json", add_item(f"{n}-{m}"))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(json.loads((tmp_path / "list.json").read_bytes())) == 40


def test_document_ref_binds_a_name(tmp_path):
    ref = DocumentRef.local(tmp_path / "one.json")
    ref.change(add_item("x"))
    assert ref.read().data == b'["x"]' and ref.url == str(tmp_path / "one.json")
    assert ref.local_path == tmp_path / "one.json"
