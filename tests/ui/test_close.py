"""Closing the window returns within its bound whatever is in flight, and says what did not land.

Each background part is held by a fake that waits until the test releases it: a flag write, a
thumbnail GET, a URL signature, a reload of the actor, the documents' poll, a check against S3,
an AUTOMATIC1111 request. The window must close while every one of them still waits (they never
end before the test releases them), name the writes that had not landed, and deliver nothing
once closed."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Hashable
from pathlib import Path

from PySide6.QtCore import Qt

from tdm_desktop.core.export_layout import ExportFormat, ExportOptions
from tdm_desktop.core.threads import wait_for_all_pools
from tdm_desktop.core.training_data import TrainingDataService
from tdm_desktop.generators.a1111 import A1111Generator
from tdm_desktop.ui.export.controller import ExportRequest
from tdm_desktop.ui.generation.controller import SingleRequest
from tdm_desktop.ui.thumbnails.network import NetworkTransport
from tdm_desktop.ui.thumbnails.transport import WorkerTransport
from tests.ui.conftest import ACTOR_A, grid_focus
from tests.ui.curation.test_controller import bad_on_disk

ACTOR_ID, NAME, COUNT = ACTOR_A
CLOSE_WAIT_S = 0.3


class Held:
    """A place where background work waits until ``release()``; counts who came and who left."""

    def __init__(self) -> None:
        self._gate = threading.Event()
        self._lock = threading.Lock()
        self.entered = 0
        self.left = 0

    def wait(self) -> None:
        with self._lock:
            self.entered += 1
        self._gate.wait()
        with self._lock:
            self.left += 1

    def release(self) -> None:
        self._gate.set()

    def holding(self) -> bool:
        return self.entered > 0 and self.left == 0


class HeldService(TrainingDataService):
    """Flag writes, reloads of an actor (once ``hold_loads``) and audits wait at their gates."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.flags = Held()
        self.loads = Held()
        self.audits = Held()
        self.hold_loads = False

    def flag_each(self, actor_id, flag_sets, known_filenames=None):
        self.flags.wait()
        return super().flag_each(actor_id, flag_sets, known_filenames=known_filenames)

    def load_actor(self, actor_id):
        if self.hold_loads:
            self.loads.wait()
        return super().load_actor(actor_id)

    def integrity(self):
        real, audits = super().integrity(), self.audits

        class HeldIntegrity:
            def audit(self, actor_id, should_stop=None):
                audits.wait()
                return real.audit(actor_id, should_stop)

            def check_writable(self):
                real.check_writable()

        return HeldIntegrity()


class HeldDocuments:
    """Documents of no local file (as in S3): each poll of their state waits at the gate."""

    local_files = ()

    def __init__(self, held: Held) -> None:
        self._held = held

    def state(self) -> Hashable:
        self._held.wait()
        return "changed"


def test_closing_while_flag_writes_wait_names_each_one_and_runs_none_afterwards(
    qtbot, make_window, data_dir, store, actors
):
    names = actors[ACTOR_ID]
    service = HeldService(data_dir, store)
    window = make_window(service_=service, close_wait_s=CLOSE_WAIT_S)
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: service.flags.entered == 1, timeout=5000)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)
    qtbot.wait(200)  # on the write queue, behind the one that waits: it takes the next key in
    qtbot.keyClick(window.grid, Qt.Key.Key_B)

    window.close()

    assert service.flags.holding()  # closed while the first write still waits for "S3"
    assert window.close_report == [
        "Not saved, the window closed before S3 answered: "
        f"the flags of 2 images of {NAME} ({names[1]} bad, {names[2]} bad)",
        "Maybe not saved, S3 had not answered when the window closed: "
        f"the flags of 1 image of {NAME} ({names[0]} bad)",
    ]
    service.flags.release()
    assert wait_for_all_pools(10)
    assert bad_on_disk(data_dir) == {names[0]}  # the write in flight landed; the others never ran
    assert service.flags.entered == 1


class FailingService(TrainingDataService):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.flags = Held()

    def flag_each(self, actor_id, flag_sets, known_filenames=None):
        self.flags.wait()
        raise OSError("prompt_metadata.json: disk full")


def test_a_write_that_fails_while_the_window_closes_is_reported_not_lost(
    qtbot, make_window, data_dir, store, actors
):
    service = FailingService(data_dir, store)
    window = make_window(service_=service, close_wait_s=10)
    errors: list[str] = []
    window.controller.error_reported.connect(errors.append)
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: service.flags.entered == 1, timeout=5000)
    threading.Timer(0.1, service.flags.release).start()  # fails once the close waits for it

    window.close()

    assert len(errors) == 1
    assert errors[0].startswith("Could not save the flags of 1 image")
    assert "disk full" in errors[0]
    assert window.close_report == []  # it ended (badly) and was said: nothing left unknown
    assert bad_on_disk(data_dir) == set()


def test_closing_returns_while_every_background_part_is_held(
    qtbot, make_window, data_dir, store, actors, fake_a1111
):
    service = HeldService(data_dir, store)
    gets = Held()

    def held_get(key: str) -> bytes:
        gets.wait()
        return store.get_bytes(key)

    window = make_window(
        service_=service,
        close_wait_s=CLOSE_WAIT_S,
        transport_factory=lambda source, parent: WorkerTransport(held_get, parent=parent),
    )
    qtbot.waitUntil(lambda: gets.entered > 0, timeout=5000)  # thumbnails: GETs in flight
    service.hold_loads = True
    window.session.reload_actor()  # a reload of the open actor
    qtbot.waitUntil(lambda: service.loads.entered == 1, timeout=5000)
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)  # a flag write
    polls = Held()
    window.session.watcher.watch(HeldDocuments(polls), None)
    window.session.watcher.check_now()  # the documents' poll
    assert window.integrity.controller.check(ACTOR_ID)  # Check against S3…
    fake_a1111.mode = "held"
    work = service.generation(A1111Generator(fake_a1111.url))
    assert window.generation.generate_single(work, ACTOR_ID, SingleRequest("a lighthouse"))
    for held in (service.flags, service.loads, polls, service.audits):
        qtbot.waitUntil(lambda held=held: held.entered == 1, timeout=5000)
    qtbot.waitUntil(lambda: len(fake_a1111.calls) == 1, timeout=5000)
    delivered: list[str] = []
    window.loader.thumbnail_ready.connect(delivered.append)
    window.loader.thumbnail_failed.connect(lambda key, _why: delivered.append(key))

    window.close()

    for held in (gets, service.flags, service.loads, polls, service.audits):
        assert held.holding()
    assert not fake_a1111.release.is_set()  # the generator has not answered
    names = actors[ACTOR_ID]
    assert window.close_report == [
        "Maybe not saved, S3 had not answered when the window closed: "
        f"the flags of 1 image of {NAME} ({names[0]} bad)",
        f"✨ Generate Single Image for {ACTOR_ID} ('a lighthouse'): stopped when the window "
        "closed; the image being generated was abandoned (one whose upload had begun is listed "
        "by the next generation on the actor)",
    ]  # the reload, the poll and the check only read: nothing to say of them
    for held in (gets, service.flags, service.loads, polls, service.audits):
        held.release()
    fake_a1111.release.set()
    assert wait_for_all_pools(10)
    qtbot.wait(100)  # what ended after the close would be delivered now: nothing is
    assert delivered == []


class HeldExportService(TrainingDataService):
    """An export that waits at its gate (as one whose S3 never answers), then runs."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.exports = Held()

    def export_training_set(self, *args, **kwargs):
        self.exports.wait()
        return super().export_training_set(*args, **kwargs)


def test_closing_during_an_export_stops_it_and_says_so(
    qtbot, make_window, data_dir, store, actors, tmp_path
):
    service = HeldExportService(data_dir, store)
    window = make_window(service_=service, close_wait_s=CLOSE_WAIT_S)
    destination = tmp_path / "training_set"
    request = ExportRequest(ACTOR_ID, str(destination), ExportOptions(ExportFormat.AI_TOOLKIT))
    assert window.export_presenter.controller.start(request)
    qtbot.waitUntil(lambda: service.exports.entered == 1, timeout=5000)

    window.close()

    assert service.exports.holding()
    assert window.close_report == [
        f"Not finished, the window closed: the export of {ACTOR_ID} to {destination}; what it "
        "wrote stays, export again to add the rest"
    ]
    service.exports.release()
    assert wait_for_all_pools(10)
    assert not destination.exists() or not any(destination.iterdir())  # stopped: nothing new


def test_the_signer_thread_never_holds_up_closing():
    signing = Held()

    def presign(key: str) -> str:
        signing.wait()
        return f"http://127.0.0.1:9/{key}"

    transport = NetworkTransport(presign)
    fetched: list[object] = []
    transport.fetched.connect(fetched.append)
    transport.fetch("a.jpg")
    deadline = 5.0
    while signing.entered == 0 and deadline > 0:
        threading.Event().wait(0.01)
        deadline -= 0.01
    assert signing.entered == 1

    assert transport.shutdown(0) is True
    assert signing.holding()  # returned while the signature still waits
    signing.release()
    threading.Event().wait(0.1)
    assert fetched == []


def test_the_process_ends_although_s3_and_the_generator_never_answer(tmp_path):
    """The real guarantee: nothing keeps a closed window's process alive (a thread pool that
    joined its threads at exit would wait here for good)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.held_close", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 1, done.stderr
    assert (
        "Maybe not saved, S3 had not answered when the window closed: the flags of 1 image of "
        "0042_european_30_male (0042_european_30_male_0.jpg bad)"
    ) in done.stderr
    assert "✨ Generate Single Image for 0042 ('a lighthouse'): stopped when the window" in (
        done.stderr
    )


def test_a_flag_key_right_before_closing_is_saved(qtbot, make_window, data_dir, store, actors):
    names = actors[ACTOR_ID]
    window = make_window(service_=TrainingDataService(data_dir, store), close_wait_s=5)
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)  # its write has not started when the window closes

    window.close()

    assert window.close_report == []
    assert bad_on_disk(data_dir) == {names[0]}
