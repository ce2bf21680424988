"""Several processes editing one actor at once, and writers killed mid-write.

The curators run in fresh interpreters (multiprocessing's ``spawn`` context), as separate app or
CLI instances would. The writers that get killed, 20 of them, are forked from a ``forkserver``
that has this module loaded already, so each starts in milliseconds instead of a fresh import.
"""

from __future__ import annotations

import multiprocessing
import random

import filelock
import pytest

from tdm_desktop.core.jsonfile import file_lock
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.core.prompt_metadata import PromptMetadata

ACTOR_ID = "0042"
ACTOR = "0042_european_30_male"
URL = "https://story-boards-assets.s3.amazonaws.com/system_actors/training_data/" + ACTOR + "/"
WORKERS = 4
OPERATIONS = 25

SPAWN = multiprocessing.get_context("spawn")
FORKSERVER = multiprocessing.get_context("forkserver")


def _size(worker: int, op: int) -> float:
    return (worker * OPERATIONS + op + 1) / 100


def _is_removed(op: int) -> bool:
    return op % 5 == 2  # removed again by the same worker two operations later


def _is_bad(op: int) -> bool:
    return op % 3 == 0


def curate(data_dir: str, worker: int, start: multiprocessing.synchronize.Barrier) -> None:
    """One curator process: adds its images, removes some, flags some bad."""
    manifest = TrainingDataManifest.for_actor(data_dir, ACTOR_ID)
    metadata = PromptMetadata.for_actor(data_dir, ACTOR)
    start.wait()
    for op in range(OPERATIONS):
        name = f"w{worker}_{op}.jpg"
        manifest.add_image(name, URL + name, _size(worker, op))
        if _is_bad(op):
            metadata.set_flags({name: False})
        if op >= 2 and _is_removed(op - 2):
            gone = f"w{worker}_{op - 2}.jpg"
            manifest.remove_image(gone)
            metadata.forget([gone])


def write_until_killed(
    data_dir: str, round_: int, started: multiprocessing.synchronize.Event
) -> None:
    """Add and remove images as fast as possible until SIGKILLed."""
    manifest = TrainingDataManifest.for_actor(data_dir, ACTOR_ID)
    metadata = PromptMetadata.for_actor(data_dir, ACTOR)
    n = 0
    while True:
        name = f"k{round_}_{n}.jpg"
        manifest.add_image(name, URL + name, 0.25)
        metadata.set_flags({name: n % 2 == 0})
        if n % 2:
            manifest.remove_image(name)
        n += 1
        started.set()


def hold_lock_until_killed(path: str, held: multiprocessing.synchronize.Event) -> None:
    with file_lock(path):
        held.set()
        multiprocessing.Event().wait(60)


@pytest.fixture
def manifest(data_dir):
    return TrainingDataManifest.for_actor(data_dir, ACTOR_ID).create(ACTOR_ID, ACTOR)


@pytest.mark.timeout(120)
def test_several_processes_editing_one_actor_lose_no_update(data_dir, manifest):
    start = SPAWN.Barrier(WORKERS)
    workers = [
        SPAWN.Process(target=curate, args=(str(data_dir), worker, start))
        for worker in range(WORKERS)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(90)
    assert [p.exitcode for p in workers] == [0] * WORKERS

    kept = {
        f"w{w}_{op}.jpg": _size(w, op)
        for w in range(WORKERS)
        for op in range(OPERATIONS)
        if not _is_removed(op) or op + 2 >= OPERATIONS
    }
    bad = {name for name in kept if _is_bad(int(name.split("_")[1].split(".")[0]))}

    manifest.load()
    images = manifest.get_all_images()
    assert sorted(e.filename for e in images) == sorted(kept)
    assert {e.filename: e.size_mb for e in images} == kept
    for worker in range(WORKERS):  # each worker's images are listed in the order it added them
        own = [e.filename for e in images if e.filename.startswith(f"w{worker}_")]
        assert own == sorted(own, key=lambda n: int(n.split("_")[1].split(".")[0]))

    raw = manifest.path.read_text()
    assert f'"training_images_count": {len(kept)},' in raw
    assert f'"training_data_size_mb": {round(sum(kept.values()), 2)}' in raw

    flags = PromptMetadata.for_actor(data_dir, ACTOR).flags()
    assert flags == dict.fromkeys(sorted(bad), False)
    assert all(name in kept for name in flags)


@pytest.mark.timeout(120)
def test_a_writer_killed_mid_write_never_leaves_a_broken_file(data_dir, manifest):
    FORKSERVER.set_forkserver_preload([__name__])
    pace = random.Random(20251017)
    metadata = PromptMetadata.for_actor(data_dir, ACTOR)
    for round_ in range(20):
        started = FORKSERVER.Event()
        writer = FORKSERVER.Process(
            target=write_until_killed, args=(str(data_dir), round_, started)
        )
        writer.start()
        assert started.wait(30), "the writer never wrote"
        multiprocessing.Event().wait(pace.uniform(0, 0.05))
        writer.kill()
        writer.join(10)
        assert writer.exitcode == -9

        images = manifest.load().get_all_images()
        raw = manifest.path.read_text()
        assert f'"training_images_count": {len(images)},' in raw
        metadata.load()

        # The lock the killed writer may have held does not block the next writer.
        name = f"after_{round_}.jpg"
        manifest.add_image(name, URL + name, 0.5)
        metadata.set_flags({name: False})
        # ...and the next writer removes any temp file the killed one left.
        assert not list(manifest.path.parent.glob("*.tmp"))
        assert not list(metadata.path.parent.glob("*.tmp"))

    listed = {e.filename for e in manifest.load().get_all_images()}
    assert {f"after_{n}.jpg" for n in range(20)} <= listed
    assert {n: False for n in (f"after_{n}.jpg" for n in range(20))}.items() <= (
        metadata.load().flags().items()
    )


@pytest.mark.timeout(60)
def test_a_stale_lock_file_from_a_killed_process_does_not_block(data_dir, manifest):
    held = SPAWN.Event()
    holder = SPAWN.Process(target=hold_lock_until_killed, args=(str(manifest.path), held))
    holder.start()
    assert held.wait(30)

    with pytest.raises(filelock.Timeout):  # while its holder lives, the lock is really held
        file_lock(manifest.path).acquire(timeout=0.2)

    holder.kill()
    holder.join(10)
    lock_path = manifest.path.with_name(manifest.path.name + ".lock")
    assert lock_path.exists()  # the stale lock file is still there...

    with file_lock(manifest.path).acquire(timeout=2):  # ...and does not block
        pass
    manifest.add_image("after.jpg", URL + "after.jpg", 1.0)
    assert [e.filename for e in manifest.load().get_all_images()] == ["after.jpg"]
