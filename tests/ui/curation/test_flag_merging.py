"""Flag keys pressed while a write of prompt_metadata.json waits become one write, on an S3 catalog
(moto): what lands is every decision with who made it, each key still its own undo step, a
failure undoes and names every key of the merged write once, and a delete asked between keys
keeps its place in the order."""

from __future__ import annotations

import json
import threading

import pytest
from PySide6.QtCore import QSettings, Qt

from tdm_desktop.core.documents import S3Documents
from tdm_desktop.core.errors import S3Error
from tdm_desktop.core.layout import manifest_name, prompt_metadata_name
from tdm_desktop.core.training_data import TrainingDataService
from tests.catalogs import BUCKET, CATALOG_PREFIX, raw_bytes
from tests.factories import make_actor
from tests.ui.conftest import grid_focus, wait_idle

ACTOR_ID, ACTOR = "0107", "0107_japanese_25_female"
METADATA = prompt_metadata_name(ACTOR)
MANIFEST = manifest_name(ACTOR_ID)


class HeldDocuments(S3Documents):
    """The S3 catalog, noting every PUT; the first PUT of prompt_metadata.json waits until
    ``release()`` (a write of a large document in flight), and the PUTs numbered in ``failing``
    (1-based, of prompt_metadata.json) fail as S3 would."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.puts: list[tuple[str, dict]] = []  # (name, the images of prompt_metadata.json)
        self.failing: set[int] = set()
        self.entered = threading.Event()
        self._gate = threading.Event()
        self._metadata_puts = 0

    def release(self) -> None:
        self._gate.set()

    def metadata_puts(self) -> int:
        return sum(1 for name, _ in self.puts if name == METADATA)

    def write(self, name, data, *, expected):
        if name == METADATA:
            self._metadata_puts += 1
            if self._metadata_puts == 1:
                self.entered.set()
                if not self._gate.wait(10):
                    raise AssertionError("the held PUT was never released")
            if self._metadata_puts in self.failing:
                raise S3Error(self.key(name), "ServiceUnavailable", "Please reduce your rate")
        images = json.loads(data).get("images", {}) if name == METADATA else {}
        self.puts.append((name, images))
        return super().write(name, data, expected=expected)


@pytest.fixture
def documents(s3_client):
    return HeldDocuments(s3_client, BUCKET, CATALOG_PREFIX)


@pytest.fixture
def names(documents, store):
    return make_actor(documents, store, ACTOR_ID, ACTOR, 8)


@pytest.fixture
def held_window(make_window, documents, store, names, tmp_path):
    service = TrainingDataService(documents, store, curator="alice")
    settings = QSettings(str(tmp_path / "alice.ini"), QSettings.Format.IniFormat)
    window = make_window(service_=service, settings_=settings)
    yield window
    documents.release()


def press(qtbot, window, name: str, key: Qt.Key) -> None:
    window.selection.select_filename(name)
    qtbot.keyClick(window.grid, key)


def hold_first_write(qtbot, window, documents, name: str) -> None:
    """``B`` on ``name``, and wait until its PUT waits for "S3"."""
    grid_focus(qtbot, window)
    press(qtbot, window, name, Qt.Key.Key_B)
    qtbot.waitUntil(documents.entered.is_set, timeout=5000)


def stored_images(documents) -> dict:
    return json.loads(raw_bytes(documents, METADATA))["images"]


def test_keys_pressed_while_a_write_is_held_land_in_one_more_write(
    qtbot, held_window, documents, names
):
    window = held_window
    hold_first_write(qtbot, window, documents, names[0])
    keys = [
        (names[1], Qt.Key.Key_B),
        (names[2], Qt.Key.Key_B),
        (names[3], Qt.Key.Key_G),
        (names[1], Qt.Key.Key_G),  # a later decision on the same image wins
        (names[4], Qt.Key.Key_T),  # unreviewed (good) -> bad
        (names[2], Qt.Key.Key_T),  # bad -> good
        (names[5], Qt.Key.Key_B),
    ]
    for name, key in keys[:3]:
        press(qtbot, window, name, key)
    qtbot.wait(150)  # past the start delay: that write is on the queue, behind the held one
    for name, key in keys[3:]:
        press(qtbot, window, name, key)

    documents.release()
    wait_idle(qtbot, window)

    assert documents.metadata_puts() == 2  # the held write, then one for the seven keys
    images = stored_images(documents)
    decided = {name: entry["good"] for name, entry in images.items()}
    assert decided == {
        names[0]: False,
        names[1]: True,
        names[2]: True,
        names[3]: True,
        names[4]: False,
        names[5]: False,
    }
    assert {entry["reviewed_by"] for entry in images.values()} == {"alice"}
    assert all(entry["reviewed_at"] for entry in images.values())
    assert window.flag_counts_label.text() == "good 5 · bad 3"

    stack = window.controller.undo_stack
    assert stack.count() == 1 + len(keys)  # each key is its own undo step
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert names[5] not in stored_images(documents)  # unreviewed again, the others kept
    assert stored_images(documents)[names[2]]["good"] is True


def test_a_failed_merged_write_drops_each_command_and_is_reported_once(
    qtbot, held_window, documents, names
):
    window = held_window
    errors: list[str] = []
    window.controller.error_reported.connect(errors.append)
    documents.failing = {2}
    hold_first_write(qtbot, window, documents, names[0])
    for name in names[1:4]:
        press(qtbot, window, name, Qt.Key.Key_B)

    documents.release()
    wait_idle(qtbot, window)

    assert len(errors) == 1
    assert errors[0].startswith(
        f"Could not save the flags of 3 images of {ACTOR} "
        f"({names[1]} bad, {names[2]} bad, {names[3]} bad): "
    )
    assert "ServiceUnavailable" in errors[0] or "reduce your rate" in errors[0]
    assert {name: e["good"] for name, e in stored_images(documents).items()} == {names[0]: False}
    assert window.flag_counts_label.text() == "good 7 · bad 1"  # the three badges went back
    stack = window.controller.undo_stack
    assert [stack.text(i) for i in range(stack.count())] == ["Mark Bad (1 image)"]
    assert stack.index() == 1  # the next Ctrl+Z undoes the write that landed
    qtbot.keyClick(window.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert stored_images(documents) == {}
    assert len(errors) == 1


def test_a_delete_between_flag_keys_keeps_its_place_in_the_order(
    qtbot, held_window, documents, names
):
    window = held_window
    hold_first_write(qtbot, window, documents, names[0])
    press(qtbot, window, names[1], Qt.Key.Key_B)
    press(qtbot, window, names[2], Qt.Key.Key_B)
    press(qtbot, window, names[2], Qt.Key.Key_Delete)  # forgets names[2]'s flag, after it
    press(qtbot, window, names[3], Qt.Key.Key_B)
    press(qtbot, window, names[4], Qt.Key.Key_B)

    documents.release()
    wait_idle(qtbot, window)

    since = next(i for i, (name, _) in enumerate(documents.puts) if name == METADATA)
    bad = [
        (name, sorted(n for n, e in images.items() if not e["good"]))
        for name, images in documents.puts[since:]
        if name in (METADATA, MANIFEST)
    ]
    assert bad == [
        (METADATA, [names[0]]),
        (METADATA, sorted(names[:3])),  # the two keys before the delete, in one write
        (MANIFEST, []),  # the delete: the manifest drops names[2]...
        (METADATA, sorted([names[0], names[1]])),  # ...then its flag goes
        (METADATA, sorted([names[0], names[1], names[3], names[4]])),  # the keys after it
    ]
    assert names[2] not in stored_images(documents)
    assert window.model.row_of(names[2]) < 0
