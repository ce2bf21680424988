"""A catalog in S3 shared by several curators, on SeaweedFS (whose conditional writes are atomic,
unlike moto's): two curator processes racing on one actor lose nothing, a storm of writers on one
document lands every change once, and a read-only account writes nothing.
"""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections import defaultdict

import pytest

from tdm_desktop.core.documents import Document, S3Documents
from tdm_desktop.core.errors import ReadOnlyCatalogError
from tdm_desktop.core.generation import GenerationService
from tdm_desktop.core.layout import manifest_name, prompt_metadata_name
from tdm_desktop.core.s3_store import S3Store, make_s3_client
from tdm_desktop.core.training_data import TrainingDataService
from tdm_desktop.generators.placeholder import PlaceholderGenerator
from tests.conftest import BUCKET
from tests.factories import make_actor

ACTOR = "0042_european_30_male"
PREFIX = "team-catalog"
IMAGES = 90  # alice flags 0..49, bob 40..89: 10 images in common
ROUNDS = 3
SPAWN = multiprocessing.get_context("spawn")


def alice_images() -> list[str]:
    return [f"{ACTOR}_{n}.jpg" for n in range(0, 50)]


def bob_images() -> list[str]:
    return [f"{ACTOR}_{n}.jpg" for n in range(40, 90)]


def curate(
    endpoint: str,
    access_key: str,
    secret_key: str,
    curator: str,
    names: list[str],
    start: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue,
) -> None:
    """One curator (a process of its own, as another machine would be): each round, flags each of
    its images one write at a time, the opposite of the round before (and of what the other
    curator wants for the images they share). Reports every write that landed: (name, good,
    reviewed_at)."""
    client = make_s3_client(
        endpoint_url=endpoint, access_key=access_key, secret_key=secret_key, region="us-east-1"
    )
    catalog = S3Documents(client, BUCKET, PREFIX)
    service = TrainingDataService(catalog, S3Store(client, BUCKET), curator=curator)
    listed = [image.filename for image in service.load_actor("0042").images]
    landed = []
    for round_ in range(ROUNDS):
        start.wait(60)
        for name in names:
            number = int(name.rsplit("_", 1)[1].split(".")[0])
            good = (number + round_ + (curator == "bob")) % 2 == 0
            for change in service.flag("0042", {name: good}, known_filenames=listed):
                landed.append((change.filename, good, change.after["reviewed_at"]))
    results.put((curator, landed, catalog.conflicts))


@pytest.mark.timeout(240)
def test_two_curator_processes_on_one_actor_lose_no_update(local_s3, seaweed_store):
    catalog = S3Documents(seaweed_store.client, BUCKET, PREFIX)
    make_actor(catalog, seaweed_store, count=IMAGES)
    start = SPAWN.Barrier(2)
    results = SPAWN.Queue()
    keys = (local_s3.endpoint_url, local_s3.access_key, local_s3.secret_key)
    curators = [
        SPAWN.Process(target=curate, args=(*keys, "alice", alice_images(), start, results)),
        SPAWN.Process(target=curate, args=(*keys, "bob", bob_images(), start, results)),
    ]
    for process in curators:
        process.start()
    reports = {}
    for _ in curators:
        curator, landed, conflicts = results.get(timeout=200)
        reports[curator] = (landed, conflicts)
    for process in curators:
        process.join(30)
    assert [process.exitcode for process in curators] == [0, 0]

    # Every write that landed, per image; the last one (by reviewed_at, which follows the order
    # the writes landed in: a write lands only on what it read, so after every earlier one).
    writes: dict[str, list[tuple[str, bool, str]]] = defaultdict(list)
    for curator, (landed, _conflicts) in reports.items():
        for name, good, at in landed:
            writes[name].append((at, good, curator))
    images = json.loads(catalog.read(prompt_metadata_name(ACTOR)).data)["images"]
    assert sorted(images) == sorted(set(alice_images()) | set(bob_images()))
    for name, entry in images.items():
        at, good, curator = max(writes[name])
        assert (entry["reviewed_at"], entry["good"], entry["reviewed_by"]) == (at, good, curator)
    # An image of one curator alone changes every round: each of those writes landed, once.
    # A shared one is already as a curator wants it when the other wrote the same just before.
    shared = set(alice_images()) & set(bob_images())
    assert len(shared) == 10
    for name, landed in writes.items():
        if name in shared:
            assert len(landed) >= ROUNDS, name
        else:
            assert len(landed) == ROUNDS, name
    conflicts = {curator: report[1] for curator, report in reports.items()}
    print(f"conflicts re-applied: {conflicts}")
    assert sum(conflicts.values()) > 0  # they did race: the conflicts were met and re-applied


def test_a_storm_of_writers_on_one_document_lands_every_change_once(seaweed_store):
    writers, changes = 8, 15
    name = "storm/list.json"

    def work(writer: int) -> int:
        store = S3Documents(seaweed_store.client, BUCKET, PREFIX, retries=50)
        for n in range(changes):

            def apply(current: Document, item=f"{writer}-{n}"):
                items = json.loads(current.data) if current.exists else []
                return None, json.dumps([*items, item]).encode()

            store.change(name, apply)
        return store.conflicts

    counts: list[int] = []
    threads = [threading.Thread(target=lambda w=w: counts.append(work(w))) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    items = json.loads(S3Documents(seaweed_store.client, BUCKET, PREFIX).read(name).data)
    assert sorted(items) == sorted(f"{w}-{n}" for w in range(writers) for n in range(changes))
    assert len(counts) == writers and sum(counts) > 0


def test_seaweedfs_answers_the_conditions_the_seam_relies_on(seaweed_store):
    store = S3Documents(seaweed_store.client, BUCKET, PREFIX)
    created = store.write("a.json", b"[]", expected=None)
    assert store.poll("a.json", created.version) is None  # GET If-None-Match: 304
    from tdm_desktop.core.errors import DocumentConflictError, DocumentExistsError

    with pytest.raises(DocumentExistsError):
        store.write("a.json", b"[1]", expected=None)
    with pytest.raises(DocumentConflictError):
        store.write("a.json", b"[1]", expected='"0123456789abcdef0123456789abcdef"')
    with pytest.raises(DocumentConflictError):  # If-Match on a missing key
        store.write("missing.json", b"[1]", expected=created.version)
    store.check_writable()
    assert store.read("a.json").data == b"[]" and not store.read(store_probe()).exists


def store_probe() -> str:
    from tdm_desktop.core.documents import WRITE_PROBE

    return WRITE_PROBE


def test_a_read_only_curator_gets_the_clear_error_and_writes_nothing(
    local_s3, seaweed_store, read_only_client
):
    catalog = S3Documents(seaweed_store.client, BUCKET, PREFIX)
    names = make_actor(catalog, seaweed_store, count=3)
    everything_before = sorted(seaweed_store.list_keys(""))
    manifest_before = catalog.read(manifest_name("0042"))

    reader_catalog = S3Documents(read_only_client, BUCKET, PREFIX)
    reader = TrainingDataService(reader_catalog, S3Store(read_only_client, BUCKET), curator="rita")
    assert len(reader.load_actor("0042").images) == 3  # reading works
    generation = GenerationService(
        reader_catalog, S3Store(read_only_client, BUCKET), PlaceholderGenerator()
    )
    for attempt in (
        lambda: reader.mark("0042", [names[0]], good=False),
        lambda: reader.delete_images("0042", [names[1]]),
        lambda: reader.delete_all("0042"),
        lambda: generation.generate("0042", "front view"),
        reader_catalog.check_writable,
    ):
        with pytest.raises(ReadOnlyCatalogError) as caught:
            attempt()
        assert str(caught.value).startswith(
            f"this account can only read s3://{BUCKET}/{PREFIX}: AccessDenied"
        )
    assert sorted(seaweed_store.list_keys("")) == everything_before
    assert catalog.read(manifest_name("0042")).version == manifest_before.version
