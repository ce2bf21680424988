"""Fixtures for Check against S3… and Migrate…: a folder data dir and moto S3 as one ``World`` of
tests/integrity_scenarios.py (so its planted actor can be used), and a window on a service of the
test's choosing whose question before deleting orphans is answered by ``Answers``."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QPushButton

from tdm_desktop.core.documents import LocalDocuments
from tdm_desktop.ui.actors.list_widget import ActorIdRole
from tdm_desktop.ui.integrity.check_dialog import CheckDialog
from tdm_desktop.ui.integrity.questions import IntegrityQuestions
from tests.integrity_scenarios import World
from tests.ui.conftest import FakeDialogs

CLEAN_ID, CLEAN_ACTOR = "0043", "0043_asian_25_female"


@pytest.fixture
def world(data_dir, store, s3_client, tmp_path) -> World:
    """The catalog in a folder, the images in moto (no endpoint: nothing runs in a process of its
    own here)."""
    return World(LocalDocuments(data_dir), store, s3_client, "", {}, tmp_path / "scratch")


@dataclass
class Answers:
    """Answers the question before deleting orphans; records (actor name, count) per question."""

    answer: bool = True
    asked: list[tuple[str, int]] = field(default_factory=list)

    def confirm(self, actor_name: str, count: int) -> bool:
        self.asked.append((actor_name, count))
        return self.answer


@pytest.fixture
def open_window(qtbot, settings):
    """``open_window(service, answers=None, opens=True)``: a shown MainWindow on ``service``; waits
    until its first actor is open unless ``opens`` is False."""
    from tdm_desktop.ui.main_window import MainWindow
    from tests.ui.conftest import local_transport

    made = []

    def make(service, answers: Answers | None = None, *, opens: bool = True):
        answers = answers or Answers()
        window = MainWindow(
            service,
            settings=settings,
            questions=FakeDialogs().as_questions(),
            integrity_questions=IntegrityQuestions(answers.confirm),
            transport_factory=local_transport,
        )
        qtbot.addWidget(window)
        made.append(window)
        if opens:
            with qtbot.waitSignal(window.actor_opened, timeout=5000):
                window.show()
        else:
            window.show()
            qtbot.waitSignal(window.actors_listed, timeout=5000)
        qtbot.waitExposed(window)
        return window

    yield make
    for window in made:  # before moto stops: no worker may reach for real AWS
        window.close()


def kinds_shown(dialog: CheckDialog) -> dict[str, set[str]]:
    """The check dialog's findings: kind → the filenames shown under it."""
    return {kind: {row[0] for row in rows} for kind, rows in dialog.found_rows().items()}


def list_index(window, actor_id: str) -> QModelIndex:
    view = window.actor_list
    model = view.model()
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        if index.data(ActorIdRole) == actor_id:
            return index
    raise AssertionError(f"no row for {actor_id}")


def wait_check(qtbot, window) -> None:
    with qtbot.waitSignal(window.integrity.controller.checked, timeout=10_000):
        window.window_actions.check_s3.trigger()


def wait_repair(qtbot, window, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.objectName()
    with qtbot.waitSignal(window.integrity.controller.repaired, timeout=10_000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
