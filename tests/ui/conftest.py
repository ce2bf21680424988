"""Window fixtures: a moto-backed TrainingDataService over a tmp data dir with two actors of real
JPEGs, dialogs that answer without blocking, settings in a tmp ini file, and the shown MainWindow."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from PIL import Image
from PySide6.QtCore import QSettings

from tdm_desktop.core.training_data import TrainingDataService
from tests.factories import make_actor

ACTOR_A = ("0042", "0042_european_30_male", 7)
ACTOR_B = ("0043", "0043_asian_25_female", 5)


@dataclass
class FakeDialogs:
    """Stands in for the window's modal questions; records what was asked and reported."""

    answer: bool = True
    delete_questions: list[tuple[list[str], str]] = field(default_factory=list)
    undoable_answers: list[bool] = field(default_factory=list)  # what each Delete question said
    delete_all_questions: list[tuple[str, int]] = field(default_factory=list)
    reports: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def confirm_delete(self, filenames, actor_name, undoable=True) -> bool:
        self.delete_questions.append((list(filenames), actor_name))
        self.undoable_answers.append(undoable)
        return self.answer

    def confirm_delete_all(self, actor_name, count) -> bool:
        self.delete_all_questions.append((actor_name, count))
        return self.answer

    def show_problems(self, title, problems) -> None:
        self.reports.append((title, dict(problems)))

    def as_questions(self):
        from tdm_desktop.ui.curation.dialogs import CurationQuestions

        return CurationQuestions(self.confirm_delete, self.confirm_delete_all, self.show_problems)


@pytest.fixture
def actors(data_dir, store) -> dict[str, list[str]]:
    """Two actors with real JPEGs in moto S3; 0042 also has a base image. Filenames by actor ID."""
    made = {}
    for actor_id, name, count in (ACTOR_A, ACTOR_B):
        made[actor_id] = make_actor(data_dir, store, actor_id, name, count)
    base = data_dir / "actors" / ACTOR_A[1] / "base_image" / f"{ACTOR_A[1]}_base.png"
    base.parent.mkdir(parents=True)
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 120, 40)).save(out, format="PNG")
    base.write_bytes(out.getvalue())
    return made


@pytest.fixture
def service(data_dir, store, actors) -> TrainingDataService:
    return TrainingDataService(data_dir, store)


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def dialogs() -> FakeDialogs:
    return FakeDialogs()


def local_transport(source, parent):
    """Thumbnails by the service's GET in threads of their own: over moto, nothing leaves the
    machine (the window's own choice would GET presigned URLs with Qt, from the real AWS)."""
    from tdm_desktop.ui.thumbnails.transport import WorkerTransport

    return WorkerTransport(source.fetch_key, parent=parent)


@pytest.fixture
def make_window(qtbot, service, settings, dialogs):
    """Build and show a MainWindow; waits until its first actor is open (unless told not to)."""
    from tdm_desktop.ui.main_window import MainWindow

    made = []

    def make(*, wait_open: bool = True, service_=None, settings_=None, **options):
        window = MainWindow(
            service_ or service,
            settings=settings_ or settings,
            questions=dialogs.as_questions(),
            environ=options.pop("environ", {}),  # the shell's TDM_CURATOR does not count
            transport_factory=options.pop("transport_factory", local_transport),
            **options,
        )
        qtbot.addWidget(window)
        made.append(window)
        if wait_open:
            with qtbot.waitSignal(window.actor_opened, timeout=5000):
                window.show()
        else:
            window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        return window

    yield make
    for window in made:  # before moto stops: no worker may reach for real AWS
        window.close()


@pytest.fixture
def window(make_window):
    return make_window()


def wait_idle(qtbot, window) -> None:
    """Wait until the window's background curation work has finished and been delivered."""
    qtbot.waitUntil(lambda: not window.controller.is_busy(), timeout=5000)


def grid_focus(qtbot, window) -> None:
    window.grid.setFocus()
    qtbot.waitUntil(window.grid.hasFocus, timeout=10000)
