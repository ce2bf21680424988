"""The window on a catalog in SeaweedFS: a flag made by the CLI in another process shows within
the check interval, named with the curator; a read-only account opens read-only and writes
nothing (pytest-qt, offscreen)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings, Qt

from tdm_desktop.core.documents import S3Documents
from tdm_desktop.core.s3_store import S3Store
from tdm_desktop.core.training_data import TrainingDataService
from tests.conftest import BUCKET
from tests.factories import make_actor

PREFIX = "window-catalog"
CATALOG_URL = f"s3://{BUCKET}/{PREFIX}"
ACTOR = "0042_european_30_male"


@pytest.fixture
def open_window(qtbot, tmp_path):
    from tdm_desktop.ui.main_window import MainWindow

    made = []

    def open_on(service: TrainingDataService) -> MainWindow:
        settings = QSettings(str(tmp_path / f"{len(made)}.ini"), QSettings.Format.IniFormat)
        window = MainWindow(service, settings=settings, environ={})
        qtbot.addWidget(window)
        made.append(window)
        window.session.watcher.set_poll_interval(200)
        with qtbot.waitSignal(window.actor_opened, timeout=15_000):
            window.show()
        return window

    yield open_on
    for window in made:
        window.close()


@pytest.mark.timeout(120)
def test_a_flag_made_by_the_cli_in_another_process_shows_within_the_interval(
    qtbot, local_s3, seaweed_store, open_window
):
    catalog = S3Documents(seaweed_store.client, BUCKET, PREFIX)
    names = make_actor(catalog, seaweed_store, count=4)
    window = open_window(TrainingDataService(catalog, seaweed_store, curator="alice"))
    env = {**os.environ, **local_s3.env(), "TDM_CURATOR": "bob"}
    env.pop("AWS_ENDPOINT_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "tdm_desktop", "--data-dir", CATALOG_URL, "mark", "42", names[3],
         "--bad"],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    qtbot.waitUntil(
        lambda: "1 image flagged bad by bob" in window.statusBar().currentMessage(),
        timeout=10_000,
    )
    assert window.flag_counts_label.text() == "good 3 · bad 1"
    tip = window.model.index(3).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.splitlines()[1] == "bad · bob · just now"


@pytest.mark.timeout(120)
def test_a_read_only_account_opens_read_only_and_a_flag_key_writes_nothing(
    qtbot, seaweed_store, read_only_client, open_window
):
    catalog = S3Documents(seaweed_store.client, BUCKET, PREFIX)
    make_actor(catalog, seaweed_store, count=3)
    keys_before = sorted(seaweed_store.list_keys(""))
    reader = TrainingDataService(
        S3Documents(read_only_client, BUCKET, PREFIX),
        S3Store(read_only_client, BUCKET),
        curator="rita",
    )
    window = open_window(reader)
    qtbot.waitUntil(window.access_label.isVisible, timeout=5000)
    assert window.error_text().startswith(f"Read-only: this account can only read {CATALOG_URL}")

    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus, timeout=10000)
    qtbot.keyClick(window.grid, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: not window.controller.is_busy(), timeout=5000)
    assert window.model.good_bad_counts() == (3, 0)
    assert sorted(seaweed_store.list_keys("")) == keys_before
