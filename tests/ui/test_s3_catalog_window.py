"""The window on a catalog in S3 (moto): it opens through the same code path as a folder, shows
the base image read from S3, and a flag key writes the decision, who and when, to S3."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from tdm_desktop.core.documents import S3Documents
from tdm_desktop.core.layout import base_image_name, prompt_metadata_name
from tdm_desktop.core.training_data import TrainingDataService
from tests.catalogs import BUCKET, CATALOG_PREFIX, put_raw, raw_bytes
from tests.factories import make_actor
from tests.ui.conftest import grid_focus, wait_idle

ACTOR_ID, ACTOR = "0107", "0107_japanese_25_female"  # not one of the folder fixture's actors


@pytest.fixture
def s3_catalog(s3_client):
    return S3Documents(s3_client, BUCKET, CATALOG_PREFIX)


@pytest.fixture
def s3_window(make_window, s3_catalog, store):
    names = make_actor(s3_catalog, store, ACTOR_ID, ACTOR, 4)
    png = io.BytesIO()
    Image.new("RGB", (32, 32), (40, 120, 200)).save(png, format="PNG")
    put_raw(s3_catalog, base_image_name(ACTOR), png.getvalue())
    service = TrainingDataService(s3_catalog, store, curator="alice")
    return make_window(service_=service), names


def test_the_window_opens_an_actor_of_an_s3_catalog(qtbot, s3_window):
    window, names = s3_window
    assert window.selection.visible_filenames() == names
    assert window.header.image_count_label.text() == "4 images in S3 · 0 reviewed"
    label = window.header.base_image_label  # read from S3, not from a file
    qtbot.waitUntil(
        lambda: label.pixmap() is not None and not label.pixmap().isNull(), timeout=10000
    )


def test_the_window_polls_an_s3_catalog_and_picks_up_another_curators_change(
    qtbot, s3_window, s3_catalog, store
):
    window, names = s3_window
    window.session.watcher._poll.setInterval(100)  # the default is 5 s
    window.session.watcher._poll.start()
    bob = TrainingDataService(s3_catalog, store, curator="bob")
    bob.mark(ACTOR_ID, [names[2]], good=False)
    qtbot.waitUntil(lambda: not window.model.image_at(2).good, timeout=5000)
    assert window.model.image_at(2).review.by == "bob"


def test_a_flag_key_writes_the_decision_to_s3(qtbot, s3_window, s3_catalog):
    window, names = s3_window
    grid_focus(qtbot, window)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)
    wait_idle(qtbot, window)
    images = json.loads(raw_bytes(s3_catalog, prompt_metadata_name(ACTOR)))["images"]
    assert images[names[0]]["good"] is False and images[names[0]]["reviewed_by"] == "alice"
