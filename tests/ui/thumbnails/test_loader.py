"""ThumbnailLoader: fetch + decode off the GUI thread, screen-ordered queue, bounded caches."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QThreadPool
from PySide6.QtGui import QColor, QImage

from tdm_desktop.core.errors import ForeignImageError, S3Error
from tdm_desktop.ui.common.images import decode_image
from tdm_desktop.ui.thumbnails import loader as loader_module
from tdm_desktop.ui.thumbnails.loader import ThumbnailLoader
from tdm_desktop.ui.thumbnails.network import NetworkTransport
from tdm_desktop.ui.thumbnails.pacing import RequestPacer


def jpeg_bytes(width: int = 120, height: int = 80, color: str = "#3a7") -> bytes:
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor(color))
    array = QByteArray()
    buffer = QBuffer(array)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "JPEG", 85)
    buffer.close()
    return bytes(array.data())


JPEG = jpeg_bytes()


def fixed_pacer(count: int) -> RequestPacer:
    """Always ``count`` GETs in flight (tests that count requests)."""
    return RequestPacer(count, minimum=count, initial=count)


class FakeS3:
    """A thread-safe fake of the S3 GET that counts calls and can hold workers at a gate."""

    def __init__(self, objects: dict[str, bytes] | None = None, default: bytes | None = JPEG):
        self.objects = dict(objects or {})
        self.default = default
        self.errors: dict[str, Exception] = {}
        self.calls: list[str] = []
        self.threads: set[int] = set()
        self.gate: threading.Event | None = None
        self.started = threading.Semaphore(0)
        self._lock = threading.Lock()

    def __call__(self, key: str) -> bytes:
        with self._lock:
            self.calls.append(key)
            self.threads.add(threading.get_ident())
        self.started.release()
        if self.gate is not None:
            assert self.gate.wait(timeout=10), "test gate never opened"
        if key in self.errors:
            raise self.errors[key]
        if key in self.objects:
            return self.objects[key]
        if self.default is None:
            raise S3Error(key, "NoSuchKey", "The specified key does not exist.")
        return self.default

    def wait_started(self, qtbot, count: int = 1) -> None:
        """Wait, the event loop running, until ``count`` more GETs have begun (the loader starts
        work in slices of the event loop, so a test must not block it while it waits)."""
        got = 0

        def begun() -> bool:
            nonlocal got
            while got < count and self.started.acquire(blocking=False):
                got += 1
            return got == count

        qtbot.waitUntil(begun, timeout=5000)

    def none_started(self, qtbot, ms: int) -> bool:
        """True when no further GET begins within ``ms``, the event loop running."""
        qtbot.wait(ms)
        return not self.started.acquire(blocking=False)

    def count(self, key: str) -> int:
        with self._lock:
            return self.calls.count(key)


@pytest.fixture
def make_loader(qtbot):
    loaders: list[ThumbnailLoader] = []

    def make(fetch, **kwargs) -> ThumbnailLoader:
        loader = ThumbnailLoader(fetch, **kwargs)
        loaders.append(loader)
        return loader

    yield make
    for loader in loaders:
        loader.shutdown()
        if loader._owns_pool:
            assert loader._pool.activeThreadCount() == 0


def wait_all_ready(qtbot, loader: ThumbnailLoader, keys, size: int, timeout: int = 5000) -> None:
    qtbot.waitUntil(
        lambda: all(loader.is_cached(k, size) or loader.error(k) for k in keys),
        timeout=timeout,
    )


def test_delivers_thumbnails_fitted_to_the_size(qtbot, make_loader):
    fetch = FakeS3()
    loader = make_loader(fetch)
    keys = [f"system_actors/training_data/a/a_{i}.jpg" for i in range(12)]
    ready: list[str] = []
    loader.thumbnail_ready.connect(ready.append)

    loader.request(keys, 64)
    wait_all_ready(qtbot, loader, keys, 64)

    assert sorted(ready) == sorted(keys)
    for key in keys:
        pixmap = loader.pixmap(key, 64)
        assert (pixmap.width(), pixmap.height()) == (64, 42)  # 120x80 fitted in 64x64
        assert loader.error(key) is None
    assert loader.cache_bytes() == sum(64 * 42 * loader.pixmap(k, 64).depth() // 8 for k in keys)
    assert loader.compressed_cache_bytes() == len(JPEG) * len(keys)


def test_fetch_and_decode_run_off_the_gui_thread(qtbot, make_loader):
    fetch = FakeS3()
    decode_threads: set[int] = set()

    def decode(data: bytes, size: int) -> QImage:
        decode_threads.add(threading.get_ident())
        return decode_image(data, size)

    loader = make_loader(fetch, decode=decode)
    keys = [f"k{i}" for i in range(6)]
    loader.request(keys, 96)
    wait_all_ready(qtbot, loader, keys, 96)

    main = threading.get_ident()
    assert fetch.threads and main not in fetch.threads
    assert decode_threads and main not in decode_threads
    assert all(loader.pixmap(k, 96) is not None for k in keys)


def test_in_flight_requests_are_fetched_once(qtbot, make_loader):
    fetch = FakeS3()
    fetch.gate = threading.Event()
    loader = make_loader(fetch)
    loader.request(["same"] * 20, 64)
    for _ in range(19):
        loader.request(["same"], 64)
    fetch.wait_started(qtbot)
    fetch.gate.set()
    wait_all_ready(qtbot, loader, ["same"], 64)
    loader.request(["same"], 64)  # cached now: nothing to do
    qtbot.wait(20)

    assert fetch.count("same") == 1


def test_reprioritising_drops_keys_no_longer_requested(qtbot, make_loader):
    fetch = FakeS3()
    fetch.gate = threading.Event()
    loader = make_loader(fetch, max_workers=2, pacer=fixed_pacer(2))
    first = [f"old{i}" for i in range(8)]
    loader.request(first, 64)
    fetch.wait_started(qtbot, 2)
    assert loader.pending_count() == 6  # only as many GETs as the pacer allows are out

    loader.request(["new0", "new1", "new2"], 64)
    fetch.gate.set()
    wait_all_ready(qtbot, loader, ["new0", "new1", "new2"], 64)

    running = set(fetch.calls[:2])
    assert running == {"old0", "old1"}
    assert set(fetch.calls) == running | {"new0", "new1", "new2"}
    # in-flight work completed and was cached although no longer asked for
    assert loader.pixmap("old0", 64) is not None and loader.pixmap("old1", 64) is not None
    assert loader.pixmap("old5", 64) is None


def test_pixmap_cache_never_exceeds_its_budget(qtbot, make_loader):
    fetch = FakeS3()
    tile = 64 * 42 * 4
    budget = 10 * tile + 100
    loader = make_loader(fetch, pixmap_budget_bytes=budget, compressed_budget_bytes=5 * len(JPEG))
    seen: list[int] = []
    loader.thumbnail_ready.connect(lambda _key: seen.append(loader.cache_bytes()))
    keys = [f"img{i}" for i in range(200)]

    loader.request(keys, 64)
    qtbot.waitUntil(lambda: len(seen) == 200, timeout=10000)

    assert max(seen) <= budget
    assert loader.cache_bytes() == 10 * tile  # full, not empty
    assert loader.compressed_cache_bytes() <= 5 * len(JPEG)
    assert loader.pixmap("img199", 64) is not None  # the newest kept, the oldest evicted
    assert loader.pixmap("img0", 64) is None

    loader.set_pixmap_budget(3 * tile)
    assert loader.cache_bytes() == 3 * tile


def test_size_change_redecodes_from_compressed_bytes(qtbot, make_loader):
    fetch = FakeS3(default=jpeg_bytes(600, 400))
    loader = make_loader(fetch)
    keys = ["a", "b", "c"]
    loader.request(keys, 64)
    wait_all_ready(qtbot, loader, keys, 64)
    assert len(fetch.calls) == 3

    loader.request(keys, 256)
    # until the new size is decoded, the nearest cached size is shown rather than nothing
    assert loader.pixmap("a", 256).width() in (64, 256)
    wait_all_ready(qtbot, loader, keys, 256)

    assert len(fetch.calls) == 3
    assert loader.pixmap("a", 256).width() == 256
    assert loader.pixmap("a", 64).width() == 64


def test_a_size_change_while_fetching_waits_for_the_one_fetch(qtbot, make_loader):
    fetch = FakeS3()
    fetch.gate = threading.Event()
    loader = make_loader(fetch)
    loader.request(["a"], 64)
    fetch.wait_started(qtbot)
    loader.request(["a"], 128)
    fetch.gate.set()
    wait_all_ready(qtbot, loader, ["a"], 128)
    assert fetch.count("a") == 1


def test_failures_are_reported_and_others_still_load(qtbot, make_loader):
    fetch = FakeS3()
    fetch.errors["denied"] = S3Error("denied", "AccessDenied", "Access Denied")
    fetch.errors["gone"] = S3Error("gone", "NoSuchKey", "The specified key does not exist.")
    fetch.errors["slow"] = S3Error("slow", "Timeout", "read timed out")
    fetch.errors["foreign"] = ForeignImageError("https://evil.example/x.jpg", "unknown host")
    fetch.objects["text"] = b"this is not an image at all"
    failed: dict[str, str] = {}
    loader = make_loader(fetch)
    loader.thumbnail_failed.connect(failed.__setitem__)
    keys = ["ok1", "denied", "gone", "text", "slow", "foreign", "ok2"]

    loader.request(keys, 64)
    wait_all_ready(qtbot, loader, keys, 64)

    assert failed == {
        "denied": "forbidden",
        "gone": "missing",
        "text": "not an image",
        "slow": "timeout",
        "foreign": "foreign URL: unknown host",
    }
    assert loader.error("denied") == "forbidden"
    assert loader.pixmap("ok1", 64) is not None and loader.pixmap("ok2", 64) is not None
    assert loader.pixmap("denied", 64) is None

    # errors are remembered: asking again does not refetch
    loader.request(keys, 64)
    qtbot.wait(20)
    assert fetch.count("denied") == 1


def test_retry_refetches(qtbot, make_loader):
    fetch = FakeS3()
    fetch.errors["flaky"] = S3Error("flaky", "EndpointUnreachable", "connection refused")
    loader = make_loader(fetch)
    loader.request(["flaky"], 64)
    wait_all_ready(qtbot, loader, ["flaky"], 64)
    assert loader.error("flaky") == "unreachable"

    del fetch.errors["flaky"]
    loader.retry(["flaky"])
    qtbot.waitUntil(lambda: loader.pixmap("flaky", 64) is not None, timeout=5000)

    assert fetch.count("flaky") == 2
    assert loader.error("flaky") is None


def test_invalidate_reloads_a_changed_object(qtbot, make_loader):
    fetch = FakeS3(objects={"a": jpeg_bytes(100, 100)})
    loader = make_loader(fetch)
    loader.request(["a"], 64)
    qtbot.waitUntil(lambda: loader.pixmap("a", 64) is not None, timeout=5000)
    assert loader.pixmap("a", 64).height() == 64

    fetch.objects["a"] = jpeg_bytes(128, 32)
    loader.invalidate(["a"])
    qtbot.waitUntil(lambda: loader.pixmap("a", 64) is not None, timeout=5000)

    assert loader.pixmap("a", 64).height() == 16
    assert fetch.count("a") == 2


def test_clear_drops_everything_and_late_results(qtbot, make_loader):
    fetch = FakeS3()
    fetch.gate = threading.Event()
    loader = make_loader(fetch)
    loader.request(["a", "b"], 64)
    fetch.wait_started(qtbot)
    loader.clear()
    fetch.gate.set()
    loader._pool.waitForDone()
    qtbot.wait(20)  # let the queued results arrive and be discarded

    assert loader.pixmap("a", 64) is None
    assert loader.cache_bytes() == 0 and loader.compressed_cache_bytes() == 0


def test_shared_pool_is_not_cleared_and_shutdown_joins(qtbot, make_loader):
    pool = QThreadPool()
    pool.setMaxThreadCount(2)
    fetch = FakeS3()
    loader = make_loader(fetch, pool=pool, max_workers=2)
    keys = [f"k{i}" for i in range(5)]
    loader.request(keys, 64)
    wait_all_ready(qtbot, loader, keys, 64)
    loader.shutdown()
    assert pool.activeThreadCount() == 0
    loader.request(["late"], 64)  # after shutdown nothing starts
    assert "late" not in fetch.calls


def test_a_large_image_is_fitted_and_a_small_one_never_enlarged(qtbot, make_loader):
    """A 1024×768 JPEG asked at 256 becomes 256×192; a 100×50 one stays 100×50 (how fast is
    measured in benchmarks/, not here)."""
    fetch = FakeS3({"large": jpeg_bytes(1024, 768), "small": jpeg_bytes(100, 50)})
    loader = make_loader(fetch)
    loader.request(["large", "small"], 256)
    wait_all_ready(qtbot, loader, ["large", "small"], 256)
    assert loader.pixmap("large", 256).size().toTuple() == (256, 192)
    assert loader.pixmap("small", 256).size().toTuple() == (100, 50)


def test_thumbnails_of_a_real_actor_in_moto_s3(qtbot, make_loader, data_dir, store, s3_client):
    """The service's fetch on moto: listed images load; one deleted behind our back is missing."""
    from tdm_desktop.core.training_data import TrainingDataService
    from tdm_desktop.ui.grid.model import ImageGridModel
    from tests.factories import make_actor

    make_actor(data_dir, store, "0042", "0042_european_30_male", 4)
    service = TrainingDataService(data_dir, store)
    images = service.load_actor("0042").images
    model = ImageGridModel()
    model.set_images(images)
    by_key = {image.location.key: image for image in images}
    keys = [model.index(row, 0).data(ImageGridModel.KeyRole) for row in range(model.rowCount())]
    assert set(keys) == set(by_key)
    s3_client.delete_object(Bucket=store.bucket, Key=keys[2])

    loader = make_loader(lambda key: service.fetch_image_bytes(by_key[key]), max_workers=2)
    loader.request(keys, 32)
    wait_all_ready(qtbot, loader, keys, 32)

    assert loader.error(keys[2]) == "missing"
    for key in (keys[0], keys[1], keys[3]):
        assert (loader.pixmap(key, 32).width(), loader.pixmap(key, 32).height()) == (32, 24)
        assert loader.compressed_bytes(key) == store.get_bytes(key)


# -- the network path: QNetworkAccessManager on (presigned) URLs -----------------------------------


def test_network_path_loads_thumbnails_and_caches_the_bytes(qtbot, make_loader, tiny_s3):
    tiny_s3.objects.update({"a.jpg": jpeg_bytes(600, 400), "b.jpg": JPEG})
    loader = make_loader(NetworkTransport(tiny_s3.url_for))
    assert loader.uses_network()

    loader.request(["a.jpg", "b.jpg"], 64)
    wait_all_ready(qtbot, loader, ["a.jpg", "b.jpg"], 64)

    assert (loader.pixmap("a.jpg", 64).width(), loader.pixmap("a.jpg", 64).height()) == (64, 42)
    assert loader.compressed_bytes("b.jpg") == JPEG
    assert "/a.jpg?X-Amz-Signature=abc%2Fdef" in tiny_s3.paths  # the signed query, unchanged
    loader.request(["a.jpg"], 128)  # a size change re-decodes from the cached bytes
    wait_all_ready(qtbot, loader, ["a.jpg"], 128)
    assert loader.pixmap("a.jpg", 128).width() == 128
    assert tiny_s3.count("a.jpg") == 1


def test_network_errors_map_to_a_curators_reason(qtbot, make_loader, tiny_s3):
    import socket

    tiny_s3.objects["ok.jpg"] = JPEG
    tiny_s3.status["denied.jpg"] = (403, b"<Error><Code>AccessDenied</Code></Error>")
    tiny_s3.status["plain403.jpg"] = (403, b"")
    tiny_s3.status["text.jpg"] = (200, b"not an image")
    tiny_s3.hold["slow.jpg"] = threading.Event()
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"

    def url_for(key: str) -> str:
        if key == "refused.jpg":
            return f"{closed}/{key}"
        if key == "unsigned.jpg":
            raise S3Error(key, "NoCredentials", "Unable to locate credentials")
        return tiny_s3.url_for(key)

    failed: dict[str, str] = {}
    loader = make_loader(NetworkTransport(url_for, transfer_timeout_ms=300))
    loader.thumbnail_failed.connect(failed.__setitem__)
    keys = ["ok.jpg", "denied.jpg", "plain403.jpg", "gone.jpg", "text.jpg"]
    keys += ["slow.jpg", "refused.jpg", "unsigned.jpg"]

    loader.request(keys, 64)
    wait_all_ready(qtbot, loader, keys, 64)

    assert failed == {
        "denied.jpg": "forbidden",
        "plain403.jpg": "forbidden",
        "gone.jpg": "missing",
        "text.jpg": "not an image",
        "slow.jpg": "timeout",
        "refused.jpg": "unreachable",
        "unsigned.jpg": "no credentials",
    }
    assert loader.pixmap("ok.jpg", 64) is not None


def test_a_presigned_urls_signature_never_reaches_the_log(qtbot, make_loader, tiny_s3, caplog):
    caplog.set_level(logging.DEBUG, logger="tdm_desktop")
    query = "?X-Amz-Credential=TDMKEY%2F20261124&X-Amz-Signature=deadbeefcafe"
    failed: dict[str, str] = {}
    loader = make_loader(NetworkTransport(lambda key: tiny_s3.url_for(key) + query))
    loader.thumbnail_failed.connect(failed.__setitem__)

    loader.request(["gone.jpg"], 64)
    qtbot.waitUntil(lambda: "gone.jpg" in failed, timeout=5000)

    assert failed["gone.jpg"] == "missing"
    assert "gone.jpg" in caplog.text
    assert "deadbeefcafe" not in caplog.text and "TDMKEY" not in caplog.text


def test_network_requests_are_bounded_deduped_and_screen_ordered(qtbot, make_loader, tiny_s3):
    keys = [f"k{i}.jpg" for i in range(10)]
    for key in keys:
        tiny_s3.objects[key] = JPEG
        tiny_s3.hold[key] = threading.Event()
    loader = make_loader(NetworkTransport(tiny_s3.url_for), pacer=fixed_pacer(3))

    loader.request(keys, 64)
    loader.request(keys, 96)  # the same keys at another size while fetching: no second GET
    qtbot.waitUntil(lambda: len(tiny_s3.paths) == 3, timeout=5000)
    qtbot.wait(50)
    assert len(tiny_s3.paths) == 3  # never more than the pacer allows at once
    loader.request(["k9.jpg", "k8.jpg"], 96)  # the screen moved: these first, the rest dropped
    for gate in tiny_s3.hold.values():
        gate.set()
    wait_all_ready(qtbot, loader, ["k9.jpg", "k8.jpg"], 96)
    qtbot.wait(50)

    fetched = [p.lstrip("/").split("?", 1)[0] for p in tiny_s3.paths]
    assert sorted(fetched[:3]) == ["k0.jpg", "k1.jpg", "k2.jpg"]
    assert sorted(fetched[3:]) == ["k8.jpg", "k9.jpg"]
    assert all(tiny_s3.count(k) <= 1 for k in keys)


def test_clear_aborts_requests_and_drops_their_results(qtbot, make_loader, tiny_s3):
    tiny_s3.objects["a.jpg"] = JPEG
    tiny_s3.hold["a.jpg"] = threading.Event()
    ready: list[str] = []
    loader = make_loader(NetworkTransport(tiny_s3.url_for))
    loader.thumbnail_ready.connect(ready.append)
    loader.request(["a.jpg"], 64)
    qtbot.waitUntil(lambda: tiny_s3.count("a.jpg") == 1, timeout=5000)

    loader.clear()
    tiny_s3.hold["a.jpg"].set()
    qtbot.wait(100)

    assert ready == [] and loader.pixmap("a.jpg", 64) is None and loader.error("a.jpg") is None


def test_gets_in_flight_do_not_depend_on_the_decode_workers(qtbot, make_loader):
    """One decode worker, four GETs at once: the network is not held to the CPU count."""
    fetch = FakeS3()
    fetch.gate = threading.Event()
    loader = make_loader(fetch, max_workers=1, pacer=fixed_pacer(4))
    keys = [f"k{i}" for i in range(7)]
    loader.request(keys, 64)
    fetch.wait_started(qtbot, 4)
    assert fetch.none_started(qtbot, 300)  # the others wait for a GET to end
    assert len(fetch.calls) == 4 and loader.requests_in_flight() == 4
    fetch.gate.set()
    wait_all_ready(qtbot, loader, keys, 64)
    assert sorted(fetch.calls) == sorted(keys)


def test_the_first_get_has_the_link_to_itself_then_more_follow(qtbot, make_loader):
    """The default pacer starts with one GET (the first visible tile is not slowed by others)
    and lets more out once replies show the link carries them."""
    fetch = FakeS3()
    fetch.gate = threading.Event()
    loader = make_loader(fetch, max_requests=16)
    keys = [f"k{i}" for i in range(40)]
    loader.request(keys[:20], 64, keys[20:])
    fetch.wait_started(qtbot)
    assert fetch.none_started(qtbot, 200)
    assert fetch.calls == ["k0"]
    fetch.gate.set()
    wait_all_ready(qtbot, loader, keys, 64)
    assert loader.request_limit() > 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_workers_yield_the_cpu_to_the_gui_thread(qtbot, make_loader):
    niceness: list[int] = []

    def decode(data: bytes, size: int) -> QImage:
        niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return decode_image(data, size)

    loader = make_loader(FakeS3(), decode=decode)
    loader.request(["a", "b"], 64)
    wait_all_ready(qtbot, loader, ["a", "b"], 64)

    gui = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert niceness and min(niceness) >= 10 and min(niceness) > gui


class _Analysis:
    """Records what the hook was given; wants every key but ``skip``."""

    def __init__(self, loader_ready: list[str], skip: str = "") -> None:
        self.seen: dict[str, tuple[bytes, tuple[int, int], int, bool]] = {}
        self._ready = loader_ready
        self._skip = skip
        self._lock = threading.Lock()

    def wants(self, key: str) -> bool:
        return key != self._skip

    def analyze(self, key: str, data: bytes, tile: QImage) -> None:
        with self._lock:
            delivered = key in self._ready  # the tile was handed back first
            self.seen[key] = (data, (tile.width(), tile.height()), threading.get_ident(), delivered)


def test_the_analysis_hook_gets_the_fetched_bytes_after_the_tile(qtbot, make_loader):
    fetch = FakeS3()
    ready: list[str] = []
    analysis = _Analysis(ready, skip="k2")
    loader = make_loader(fetch, analysis=analysis)
    loader.thumbnail_ready.connect(ready.append)
    keys = ["k0", "k1", "k2"]

    loader.request(keys, 64)
    wait_all_ready(qtbot, loader, keys, 64)
    qtbot.waitUntil(lambda: len(analysis.seen) == 2, timeout=5000)

    assert sorted(analysis.seen) == ["k0", "k1"]
    for data, tile, thread, delivered in analysis.seen.values():
        assert data == JPEG and tile == (64, 42)
        assert thread != threading.get_ident() and delivered
    assert fetch.count("k0") == 1  # no second GET for the analysis


def test_held_analysis_starts_once_the_curator_paused(qtbot, make_loader):
    ready: list[str] = []
    began: list[float] = []
    analysis = _Analysis(ready)
    recorded = analysis.analyze
    analysis.analyze = lambda *args: (began.append(time.monotonic()), recorded(*args))
    loader = make_loader(FakeS3(), analysis=analysis)
    loader.thumbnail_ready.connect(ready.append)
    held_at = time.monotonic()
    loader.hold_analysis(800)  # a key was pressed: no analysis job beside the next ones

    loader.request(["k0"], 64)
    wait_all_ready(qtbot, loader, ["k0"], 64)
    qtbot.waitUntil(lambda: "k0" in analysis.seen, timeout=5000)
    assert began[0] - held_at >= 0.8
    qtbot.waitUntil(lambda: loader.analysis_backlog() == 0, timeout=5000)


class StallingPool(QThreadPool):
    """A pool whose first visible decode never begins until released (as a worker thread that
    waits seconds for the GIL was seen to do), while the other jobs run."""

    def __init__(self) -> None:
        super().__init__()
        self.setMaxThreadCount(2)
        self.held: list = []

    def start(self, job, priority=0):
        if priority == loader_module.VISIBLE_PRIORITY and not self.held:
            self.held.append(job)
            return
        super().start(job, priority)

    def release(self) -> None:
        for job in self.held:
            super().start(job, loader_module.VISIBLE_PRIORITY)


def test_a_visible_tile_whose_decode_does_not_begin_is_decoded_again(
    qtbot, make_loader, monkeypatch
):
    monkeypatch.setattr(loader_module, "HEDGE_S", 0.0)
    pool = StallingPool()
    loader = make_loader(FakeS3(), pool=pool, max_workers=2, pacer=fixed_pacer(4))
    shown: list[str] = []
    loader.thumbnail_ready.connect(shown.append)
    visible = ["a", "b", "c"]
    band = [f"p{i}" for i in range(12)]

    loader.request(visible, 64, band)
    wait_all_ready(qtbot, loader, visible + band, 64)
    assert len(pool.held) == 1  # one visible decode never began, yet its tile is there
    pool.release()  # it begins at last: its result is not shown twice
    pool.waitForDone()
    qtbot.wait(50)
    assert sorted(shown) == sorted(visible + band)
    assert loader.pixmap("a", 64) is not None


def test_without_the_copy_the_stalled_tile_would_wait(qtbot, make_loader, monkeypatch):
    """The test above can fail: with the copy disabled, the held tile stays loading."""
    monkeypatch.setattr(loader_module, "HEDGE_S", 3600.0)
    pool = StallingPool()
    loader = make_loader(FakeS3(), pool=pool, max_workers=2, pacer=fixed_pacer(4))
    visible = ["a", "b", "c"]
    loader.request(visible, 64, [f"p{i}" for i in range(12)])
    qtbot.waitUntil(lambda: bool(pool.held), timeout=5000)
    held_key = pool.held[0]._result.key  # whichever visible GET ended first
    wait_all_ready(qtbot, loader, [k for k in visible if k != held_key], 64)
    qtbot.wait(100)
    assert loader.pixmap(held_key, 64) is None
    pool.release()
    pool.waitForDone()
    qtbot.waitUntil(lambda: loader.pixmap(held_key, 64) is not None, timeout=10000)
