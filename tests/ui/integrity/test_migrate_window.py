"""Migrate… in the window, on moto: a manifest written before the S3-only change reads "to
migrate" in the actor list with what to do; opening it says so; Migrate… shows the dry run
(what is kept, what dropped) writing nothing, then migrates in the background (the
``.sync-era`` copy holds the original bytes, the manifest loses its sync keys and the entries
whose images are gone) and opens the actor."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from tdm_desktop.core.sync_era import sync_era_keys
from tdm_desktop.core.training_data import TrainingDataService
from tests.catalogs import raw_bytes
from tests.factories import make_actor
from tests.integrity_scenarios import (
    ACTOR,
    ACTOR_ID,
    SYNC_ERA_COPY,
    manifest_bytes,
    name,
    sync_era_shapes,
    upload,
    write_sync_era,
)
from tests.ui.integrity.conftest import CLEAN_ACTOR, CLEAN_ID, list_index


def test_migrate_from_the_window_keeps_the_original_and_opens_the_actor(qtbot, world, open_window):
    entries, top, existing = sync_era_shapes()["local_only without s3_url"]
    upload(world, *existing)
    raw = write_sync_era(world, entries, **top)
    make_actor(world.catalog, world.store, CLEAN_ID, CLEAN_ACTOR, 2)
    window = open_window(TrainingDataService(world.catalog, world.store))
    actions, controller = window.window_actions, window.integrity.controller
    assert window.session.actor_id == CLEAN_ID  # the first actor that opens
    row = list_index(window, ACTOR_ID)
    assert row.data() == f"{ACTOR} (to migrate)"
    assert row.data(Qt.ItemDataRole.ToolTipRole).splitlines() == [
        "written before the S3-only change: run tdm-desktop migrate 0042",
        "Actor → Migrate… does it from here, a dry run first",
    ]
    assert not actions.migrate.isEnabled()

    with qtbot.waitSignal(window.actor_failed, timeout=5000):
        window.actor_list_widget.select_actor(ACTOR_ID)
    assert window.error_text().endswith(
        "written before the S3-only change: run tdm-desktop migrate 0042, "
        "or use Actor → Migrate… here"
    )
    assert actions.migrate.isEnabled()

    # Checking it says it needs migrating first, and offers Migrate… there too.
    with qtbot.waitSignal(controller.failed, timeout=10_000):
        actions.check_s3.trigger()
    check = window.integrity.check_dialog
    assert check.status_label.text() == "Not checked"
    assert check.migrate_button.isVisible()
    with qtbot.waitSignal(controller.migration_read, timeout=10_000):
        qtbot.mouseClick(check.migrate_button, Qt.MouseButton.LeftButton)
    assert not check.isVisible()

    dialog = window.integrity.migrate_dialog
    assert dialog.isVisible() and dialog.windowTitle() == f"Migrate {ACTOR}"
    assert dialog.status_label.text() == (
        "Migrating keeps 3 entries and drops 1 whose images are gone from S3"
    )
    assert dialog.plan_rows() == {
        "To keep (3)": [
            (name(0), "its object is in S3; its sync keys go"),
            (name(2), "had no s3_url; its object is in S3, so it gets its URL"),
            (name(3), "its object is in S3; its sync keys go"),
        ],
        "To drop (1)": [
            (name(1), "no object in S3: its local file was deleted with the S3-only change")
        ],
    }
    assert manifest_bytes(world) == raw  # the dry run wrote nothing
    assert raw_bytes(world.catalog, SYNC_ERA_COPY) is None
    assert dialog.migrate_button.isEnabled()

    with qtbot.waitSignal(window.actor_opened, timeout=10_000) as opened:
        qtbot.mouseClick(dialog.migrate_button, Qt.MouseButton.LeftButton)
    assert opened.args == [ACTOR_ID]
    assert raw_bytes(world.catalog, SYNC_ERA_COPY) == raw
    document = json.loads(manifest_bytes(world) or b"")
    assert [item["filename"] for item in document["training_data"]] == [name(0), name(2), name(3)]
    assert sync_era_keys(document) == set()
    assert dialog.status_label.text() == (
        "Migrated: kept 3 entries, dropped 1 whose images were gone from S3"
    )
    assert window.model.rowCount() == 3
    qtbot.waitUntil(lambda: list_index(window, ACTOR_ID).data() == f"{ACTOR} (3)", timeout=5000)
    assert window.session.actor_id == ACTOR_ID
    assert not actions.migrate.isEnabled()
