"""✨ Generate Single Image, 🎨 Generate All Prompts and the Settings dialog, in the window,
against moto S3 with a fast fake generator."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialogButtonBox, QProgressDialog

from tdm_desktop.core.errors import GeneratorError
from tdm_desktop.core.generator import GenerationRequest, GenerationResult
from tdm_desktop.core.manifest import TrainingDataManifest
from tdm_desktop.ui.settings.model import KEY_A1111_URL, KEY_GENERATOR, AppSettings, load_settings
from tdm_desktop.ui.thumbnails.loader import MIB
from tests.factories import jpeg_bytes
from tests.ui.conftest import ACTOR_A, ACTOR_B

ACTOR_ID, ACTOR_NAME, START_COUNT = ACTOR_A
PREFIX = f"system_actors/training_data/{ACTOR_NAME}/"
PROMPTS = [
    "portrait of a 30 year old european man, studio light",
    "the same man walking in the rain",
    "the same man laughing, close-up",
    "the same man in a grey suit",
]


@dataclass
class FakeGenerator:
    """Answers at once with a small JPEG; can fail some prompts or hold calls at a gate."""

    name: str = "fake"
    fail: set[str] = field(default_factory=set)
    gate: threading.Event | None = None
    hold_from: int = 1
    requests: list[GenerationRequest] = field(default_factory=list)
    on_gui_thread: list[bool] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        return self.name

    def generate(self, request: GenerationRequest) -> GenerationResult:
        index = len(self.requests)
        self.requests.append(request)
        self.on_gui_thread.append(threading.current_thread() is threading.main_thread())
        if self.gate is not None and index >= self.hold_from:
            assert self.gate.wait(10), "the test never opened the gate"
        if request.prompt in self.fail:
            raise GeneratorError(f"{self.name}: the GPU refused {request.prompt!r}")
        seed = request.seed if request.seed is not None else 1000 + index
        return GenerationResult(jpeg_bytes(seed), "image/jpeg", seed, 64, 48)


@dataclass
class FakeGenerationDialogs:
    answer: bool = True
    questions: list[tuple[str, int, str]] = field(default_factory=list)
    reports: list[tuple[str, object]] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def confirm_all(self, actor_name: str, count: int, generator_name: str) -> bool:
        self.questions.append((actor_name, count, generator_name))
        return self.answer

    def show_report(self, actor_name: str, report) -> None:
        self.reports.append((actor_name, report))

    def show_error(self, title: str, message: str) -> None:
        self.errors.append((title, message))

    def as_generation_questions(self):
        from tdm_desktop.ui.generation.dialogs import GenerationQuestions

        return GenerationQuestions(self.confirm_all, self.show_report, self.show_error)


@pytest.fixture
def prompts(data_dir, actors) -> list[str]:
    path = data_dir / "actors" / ACTOR_NAME / "prompt_metadata.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"actor_name": ACTOR_NAME, "prompts": PROMPTS, "images": {}}))
    return PROMPTS


@pytest.fixture
def fake() -> FakeGenerator:
    return FakeGenerator()


@pytest.fixture
def gen_dialogs() -> FakeGenerationDialogs:
    return FakeGenerationDialogs()


@pytest.fixture
def chosen() -> list[AppSettings]:
    """The settings the window built a generator from, one per generation."""
    return []


@pytest.fixture
def make_gen_window(qtbot, service, settings, dialogs, gen_dialogs, fake, chosen, prompts):
    from tdm_desktop.ui.main_window import MainWindow
    from tests.ui.conftest import local_transport

    made = []

    def factory(values: AppSettings) -> FakeGenerator:
        chosen.append(values)
        fake.name = values.generator if values.generator != "placeholder" else "fake"
        return fake

    def make(*, wait_open: bool = True):
        window = MainWindow(
            service,
            settings=settings,
            questions=dialogs.as_questions(),
            generator_factory=factory,
            generation_questions=gen_dialogs.as_generation_questions(),
            transport_factory=local_transport,
        )
        qtbot.addWidget(window)
        made.append(window)
        if wait_open:
            with qtbot.waitSignal(window.actor_opened, timeout=5000):
                window.show()
            qtbot.waitExposed(window)
        return window

    yield make
    for window in made:  # before moto stops
        window.generation.cancel()
        if fake.gate is not None:
            fake.gate.set()
        window.close()


@pytest.fixture
def gen_window(make_gen_window):
    return make_gen_window()


def action(window, name: str) -> QAction:
    found = window.findChild(QAction, name)
    assert found is not None, name
    return found


def s3_names(store) -> list[str]:
    return sorted(key[len(PREFIX) :] for key in store.list_keys(PREFIX))


def manifest_names(data_dir) -> list[str]:
    manifest = TrainingDataManifest.for_actor(data_dir, ACTOR_ID)
    return [entry.filename for entry in manifest.get_all_images()]


def grid_names(window) -> list[str]:
    return [image.filename for image in window.model.images()]


def click_ok(dialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def open_single_dialog(qtbot, window):
    """✨ reads the prompts and the base image in the background, then opens its dialog."""
    action(window, "actionGenerateSingle").trigger()
    qtbot.waitUntil(
        lambda: window.generation_presenter.generate_single_dialog is not None, timeout=5000
    )
    return window.generation_presenter.generate_single_dialog


def start_generate_all(qtbot, window, gen_dialogs):
    """🎨 reads the prompts in the background, then asks (``gen_dialogs`` answers)."""
    asked = len(gen_dialogs.questions)
    action(window, "actionGenerateAll").trigger()
    qtbot.waitUntil(lambda: len(gen_dialogs.questions) > asked, timeout=5000)


# -- ✨ -------------------------------------------------------------------------------------------


def test_generate_single_uploads_records_and_shows_the_new_image(
    qtbot, gen_window, store, data_dir, fake
):
    window = gen_window
    dialog = open_single_dialog(qtbot, window)
    assert dialog is not None and dialog.isVisible()
    assert [dialog.prompt_combo.itemText(i) for i in range(dialog.prompt_combo.count())] == PROMPTS
    assert dialog.generator_label.text() == "fake"
    base = dialog.base_image_label.pixmap().toImage()  # 0042's base image: 32×32, orange
    assert (base.width(), base.height()) == (96, 96)
    shown = base.pixelColor(48, 48).getRgb()[:3]
    assert all(abs(a - b) <= 2 for a, b in zip(shown, (200, 120, 40), strict=True))
    dialog.prompt_combo.setEditText("a curator's own prompt")
    dialog.random_seed_check.setChecked(False)
    dialog.seed_spin.setValue(4242)
    dialog.negative_edit.setText("blurry")
    fake.gate, fake.hold_from = threading.Event(), 0
    click_ok(dialog)

    busy = window.findChild(QProgressDialog, "generateSingleProgress")
    assert busy is not None and busy.isVisible()
    assert not action(window, "actionGenerateSingle").isEnabled()
    fake.gate.set()
    new = f"{ACTOR_NAME}_{START_COUNT}.jpg"
    qtbot.waitUntil(lambda: window.selection.current_filename() == new, timeout=5000)
    assert window.header.image_count_label.text() == f"{START_COUNT + 1} images in S3 · 0 reviewed"
    assert window.model.rowCount() == START_COUNT + 1
    assert window.model.image_at(window.model.row_of(new)).good is True
    assert new in s3_names(store)
    assert store.get_bytes(PREFIX + new) == jpeg_bytes(4242)
    assert manifest_names(data_dir)[-1] == new
    request = fake.requests[0]
    assert (request.prompt, request.seed, request.negative_prompt) == (
        "a curator's own prompt",
        4242,
        "blurry",
    )
    assert request.base_image is not None
    assert fake.on_gui_thread == [False]
    qtbot.waitUntil(
        lambda: window.findChild(QProgressDialog, "generateSingleProgress") is None, timeout=10000
    )
    assert action(window, "actionGenerateSingle").isEnabled()


def test_generate_single_error_is_one_line_and_leaves_nothing(
    qtbot, gen_window, store, data_dir, fake, gen_dialogs
):
    window = gen_window
    fake.fail = {PROMPTS[1]}
    before = s3_names(store)
    dialog = open_single_dialog(qtbot, window)
    dialog.prompt_combo.setCurrentIndex(1)
    click_ok(dialog)

    qtbot.waitUntil(lambda: bool(gen_dialogs.errors), timeout=5000)
    title, message = gen_dialogs.errors[0]
    assert title == "✨ Generate Single Image"
    assert message == f"fake: the GPU refused {PROMPTS[1]!r}"
    assert s3_names(store) == before
    assert len(manifest_names(data_dir)) == START_COUNT
    assert window.model.rowCount() == START_COUNT
    assert action(window, "actionGenerateSingle").isEnabled()


def test_generate_single_without_base_image_says_txt2img(qtbot, gen_window):
    window = gen_window
    with qtbot.waitSignal(window.actor_opened, timeout=5000):
        window.session.open_actor(ACTOR_B[0])
    dialog = open_single_dialog(qtbot, window)
    assert dialog.base_image_label.text() == "no base image: txt2img"
    dialog.prompt_combo.setEditText("   ")
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    dialog.reject()


# -- 🎨 -------------------------------------------------------------------------------------------


def test_generate_all_lands_the_others_and_lists_the_failure(
    qtbot, gen_window, store, data_dir, fake, gen_dialogs
):
    window = gen_window
    fake.fail = {PROMPTS[2]}
    start_generate_all(qtbot, window, gen_dialogs)
    assert gen_dialogs.questions == [(ACTOR_NAME, 4, "fake")]
    progress = window.generation_presenter.generate_all_progress
    assert progress is not None and progress.isVisible() and not progress.isModal()

    qtbot.waitUntil(lambda: bool(gen_dialogs.reports), timeout=5000)
    actor_name, report = gen_dialogs.reports[0]
    assert actor_name == ACTOR_NAME
    assert report.summary() == "Generated 3 of 4 images (1 failed)"
    assert report.failed == [(PROMPTS[2], f"fake: the GPU refused {PROMPTS[2]!r}")]
    from tdm_desktop.ui.generation.dialogs import report_text

    assert report_text(report)[1] == f"{PROMPTS[2]}: fake: the GPU refused {PROMPTS[2]!r}"

    landed = [f"{ACTOR_NAME}_{n}.jpg" for n in range(START_COUNT, START_COUNT + 3)]
    assert set(landed) <= set(s3_names(store))
    assert len(s3_names(store)) == START_COUNT + 3
    assert manifest_names(data_dir)[-3:] == landed
    qtbot.waitUntil(lambda: window.model.rowCount() == START_COUNT + 3, timeout=5000)
    qtbot.wait(400)  # the file watcher's own reload must not add rows
    names = grid_names(window)
    assert len(names) == len(set(names)) == START_COUNT + 3
    assert window.header.image_count_label.text() == f"{START_COUNT + 3} images in S3 · 0 reviewed"
    assert fake.on_gui_thread == [False] * 4
    qtbot.waitUntil(
        lambda: window.generation_presenter.generate_all_progress is None, timeout=10000
    )


def test_generate_all_cancel_finishes_only_the_image_in_flight(
    qtbot, gen_window, store, data_dir, fake, gen_dialogs
):
    window = gen_window
    fake.gate = threading.Event()
    start_generate_all(qtbot, window, gen_dialogs)
    progress = window.generation_presenter.generate_all_progress
    first = f"{ACTOR_NAME}_{START_COUNT}.jpg"

    # the first image shows in the grid while the second is still being generated
    qtbot.waitUntil(lambda: len(fake.requests) == 2, timeout=5000)
    qtbot.waitUntil(lambda: first in grid_names(window), timeout=5000)
    assert progress.counts_label.text() == "Done 1 · failed 0 · remaining 3"
    assert progress.last_label.text() == f"Last file: {first}"
    assert not action(window, "actionGenerateAll").isEnabled()

    progress.cancel_button.click()
    assert not progress.cancel_button.isEnabled()
    fake.gate.set()

    qtbot.waitUntil(lambda: bool(gen_dialogs.reports), timeout=5000)
    report = gen_dialogs.reports[0][1]
    assert report.summary() == "Generated 2 of 4 images (2 cancelled)"
    assert len(fake.requests) == 2
    second = f"{ACTOR_NAME}_{START_COUNT + 1}.jpg"
    assert s3_names(store)[-2:] == sorted([first, second])
    assert len(s3_names(store)) == START_COUNT + 2
    assert manifest_names(data_dir)[-2:] == [first, second]
    qtbot.waitUntil(lambda: window.model.rowCount() == START_COUNT + 2, timeout=5000)
    assert window.header.image_count_label.text() == f"{START_COUNT + 2} images in S3 · 0 reviewed"
    assert action(window, "actionGenerateAll").isEnabled()


def test_generate_all_asks_first_and_does_nothing_on_no(qtbot, gen_window, store, gen_dialogs):
    gen_dialogs.answer = False
    start_generate_all(qtbot, gen_window, gen_dialogs)
    assert gen_dialogs.questions == [(ACTOR_NAME, 4, "fake")]
    assert gen_window.generation_presenter.generate_all_progress is None
    assert not gen_window.generation.is_busy()
    assert len(s3_names(store)) == START_COUNT


# -- settings, actions, icons ---------------------------------------------------------------------


def test_settings_dialog_saves_the_generator_and_the_window_uses_it(
    qtbot, gen_window, make_gen_window, settings, chosen, gen_dialogs
):
    window = gen_window
    action(window, "actionSettings").trigger()
    dialog = window.settings_presenter.dialog
    assert dialog is not None
    dialog.generator_combo.setCurrentIndex(dialog.generator_combo.findData("a1111"))
    dialog.url_edit.setText("http://curator:secret@127.0.0.1:7999")
    assert not dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()
    assert "TDM_A1111_USER" in dialog.problem_label.text()
    dialog.url_edit.setText("http://127.0.0.1:7999")
    dialog.steps_spin.setValue(12)
    dialog.denoising_spin.setValue(0.4)
    dialog.budget_spin.setValue(64)
    click_ok(dialog)

    assert settings.value(KEY_GENERATOR) == "a1111"
    assert settings.value(KEY_A1111_URL) == "http://127.0.0.1:7999"
    assert "secret" not in Path(settings.fileName()).read_text()
    assert window.loader.pixmap_budget() == 64 * MIB

    gen_dialogs.answer = False
    start_generate_all(qtbot, window, gen_dialogs)
    assert chosen[-1] == AppSettings("a1111", "http://127.0.0.1:7999", 12, 0.4, 64)
    assert gen_dialogs.questions[-1] == (ACTOR_NAME, 4, "a1111")

    window.close()
    again = make_gen_window()  # next time: the saved generator and budget
    assert again.loader.pixmap_budget() == 64 * MIB
    start_generate_all(qtbot, again, gen_dialogs)
    assert chosen[-1].generator == "a1111"


def test_generator_comes_from_the_environment_until_one_is_saved(settings):
    env = {"TDM_GENERATOR": "a1111", "TDM_A1111_URL": "http://127.0.0.1:7861"}
    assert load_settings(settings, env) == AppSettings("a1111", "http://127.0.0.1:7861")
    settings.setValue(KEY_GENERATOR, "placeholder")
    assert load_settings(settings, env).generator == "placeholder"
    assert load_settings(settings, {}).a1111_url == "http://127.0.0.1:7860"


def test_default_factory_builds_the_chosen_generator():
    from tdm_desktop.ui.generation.factory import make_generator

    assert make_generator(AppSettings("placeholder")).name == "placeholder"
    env = {"TDM_A1111_USER": "curator", "TDM_A1111_PASSWORD": "pw"}
    a1111 = make_generator(AppSettings("a1111", "http://127.0.0.1:7999", 9, 0.3), env)
    assert (a1111.name, a1111.denoising_strength, a1111.inner.steps) == ("a1111", 0.3, 9)
    assert a1111.display_name == "a1111 (http://127.0.0.1:7999)"


def test_generation_actions_are_enabled_once_an_actor_is_open(qtbot, make_gen_window):
    window = make_gen_window(wait_open=False)
    single, every = action(window, "actionGenerateSingle"), action(window, "actionGenerateAll")
    assert not single.isEnabled() and not every.isEnabled()
    with qtbot.waitSignal(window.actor_opened, timeout=5000):
        window.show()
    assert single.isEnabled() and every.isEnabled()
    assert single.toolTip().startswith("✨ Generate Single Image")
    assert every.toolTip().startswith("🎨 Generate All Prompts")


def test_toolbar_actions_have_svg_icons_and_menus_keep_the_emoji_names(gen_window):
    window = gen_window
    assert not window.windowIcon().isNull()
    for name, text in (
        ("actionGenerateSingle", "✨ Generate Single Image"),
        ("actionGenerateAll", "🎨 Generate All Prompts"),
        ("actionDeleteAll", "🗑️ Delete All"),
        ("actionRefresh", "&Refresh"),
    ):
        found = action(window, name)
        assert found.text() == text
        assert found in window.toolbar.actions()
        assert not found.icon().pixmap(24, 24).isNull(), name
        assert not any(ord(ch) > 0x2000 for ch in found.iconText()), found.iconText()
