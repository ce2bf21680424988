"""Settings… for the catalog: the data dir (a folder or s3://bucket/prefix, checked by the same
parser as --data-dir), the curator's name and which one is in effect, the check interval."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialogButtonBox

from tdm_desktop.core.curators import CuratorChoice
from tdm_desktop.core.data_dirs import DataDirChoice, choose_data_dir, given_data_dir
from tdm_desktop.core.errors import CatalogLocationError
from tdm_desktop.ui.settings.dialog import InEffect, SettingsDialog
from tdm_desktop.ui.settings.model import (
    KEY_CURATOR,
    KEY_DATA_DIR,
    KEY_POLL_SECONDS,
    AppSettings,
    load_settings,
)


def ok_enabled(dialog: SettingsDialog) -> bool:
    return dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("s3://", "data dir 's3://': no bucket; expected s3://bucket/prefix"),
        ("s3://bucket/../x", "data dir 's3://bucket/../x': the prefix must be parts of letters"),
        ("http://example.com/catalog", "data dir 'http://example.com/catalog': http: is not"),
    ],
)
def test_a_bad_data_dir_is_one_line_in_the_dialog_and_cannot_be_saved(qtbot, text, problem):
    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    dialog.data_dir_edit.setText(text)
    assert dialog.problem().startswith(problem)
    assert "\n" not in dialog.problem()
    assert not ok_enabled(dialog)
    dialog.accept()
    assert dialog.result() != SettingsDialog.DialogCode.Accepted


@pytest.mark.parametrize("text", ["", "/srv/catalog", "s3://story-boards-assets/catalog"])
def test_a_folder_or_an_s3_prefix_can_be_saved(qtbot, tmp_path, text):
    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    dialog.data_dir_edit.setText(f"  {text}  ")
    dialog.curator_edit.setText(" alice ")
    dialog.poll_spin.setValue(2)
    assert dialog.problem() == "" and ok_enabled(dialog)
    values = dialog.values()
    assert (values.data_dir, values.curator, values.poll_seconds) == (text, "alice", 2)

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    from tdm_desktop.ui.settings.model import save_settings

    save_settings(settings, values)
    assert load_settings(settings) == values


def test_a_curator_name_that_cannot_be_recorded_is_refused(qtbot):
    dialog = SettingsDialog(AppSettings())
    qtbot.addWidget(dialog)
    dialog.curator_edit.setText("x" * 101)
    assert dialog.problem().startswith("curator 'xxx")
    assert not ok_enabled(dialog)


def test_the_dialog_says_which_data_dir_and_curator_are_in_effect(qtbot):
    in_effect = InEffect(
        DataDirChoice("s3://bk1/catalog", "--data-dir"), CuratorChoice("bob", "TDM_CURATOR")
    )
    dialog = SettingsDialog(AppSettings(curator="alice"), in_effect=in_effect)
    qtbot.addWidget(dialog)
    assert dialog.data_dir_note.text() == "In effect: s3://bk1/catalog (from --data-dir)"
    assert dialog.curator_note.text() == (
        "In effect: bob (from TDM_CURATOR); TDM_CURATOR wins over a name set here"
    )


def test_values_saved_by_hand_that_are_not_valid_are_not_used(tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue(KEY_DATA_DIR, "s3://")
    settings.setValue(KEY_CURATOR, "   ")
    settings.setValue(KEY_POLL_SECONDS, 0)
    values = load_settings(settings)
    assert (values.data_dir, values.curator, values.poll_seconds) == ("", "", 1)


def test_the_data_dir_in_effect_option_then_environment_then_settings_then_default():
    assert given_data_dir("s3://bk1/x", {"TDM_DATA_DIR": "/d"}) == DataDirChoice(
        "s3://bk1/x", "--data-dir"
    )
    assert given_data_dir(None, {"TDM_DATA_DIR": "/d"}) == DataDirChoice("/d", "TDM_DATA_DIR")
    assert given_data_dir(None, {}) is None
    with pytest.raises(CatalogLocationError):
        given_data_dir("s3://", {})
    assert choose_data_dir(None, "s3://bk1/y") == DataDirChoice("s3://bk1/y", "Settings")
    assert choose_data_dir(None, "s3://") == DataDirChoice("data", "the default")
    assert choose_data_dir(DataDirChoice("/d", "TDM_DATA_DIR"), "s3://bk1/y").location == "/d"


# -- in the window ---------------------------------------------------------------------------------


def test_the_curator_is_tdm_curator_else_settings_else_the_fallback(qtbot, make_window, service):
    window = make_window(environ={}, curator_fallback=CuratorChoice("carol", "the test"))
    presenter = window.settings_presenter
    assert window.curator_label.text() == "Curator: carol"
    assert service.curator == "carol"

    presenter.apply(AppSettings(curator="alice"))
    assert service.curator == "alice" and presenter.curator == CuratorChoice("alice", "Settings")
    assert window.curator_label.text() == "Curator: alice"

    other = make_window(environ={"TDM_CURATOR": "dora"})
    assert other.settings_presenter.curator == CuratorChoice("dora", "TDM_CURATOR")
    assert other.curator_label.text() == "Curator: dora"


def test_the_check_interval_applies_to_the_watcher_at_once(qtbot, window):
    assert window.session.watcher.poll_interval() == 5000
    window.settings_presenter.apply(AppSettings(poll_seconds=2))
    assert window.session.watcher.poll_interval() == 2000


def test_a_new_data_dir_saved_in_settings_is_opened(qtbot, make_window):
    opened: list[str] = []
    window = make_window(data_dir=DataDirChoice("data", "the default"), open_data_dir=opened.append)
    window.settings_presenter.apply(AppSettings(curator="alice"))  # the data dir did not change
    assert opened == []
    window.settings_presenter.apply(AppSettings(data_dir="s3://story-boards-assets/catalog"))
    assert opened == ["s3://story-boards-assets/catalog"]


def test_without_a_way_to_open_it_a_new_data_dir_opens_at_the_next_start(qtbot, window):
    window.settings_presenter.apply(AppSettings(data_dir="/srv/catalog"))
    assert window.statusBar().currentMessage() == (
        "Data dir /srv/catalog saved: it opens the next time the app starts"
    )
