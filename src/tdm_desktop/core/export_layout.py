"""Which files a training-set export writes, for each trainer's layout (no I/O here).

| format | files (paths relative to the destination) |
|---|---|
| ``ai-toolkit`` | ``{image}`` and ``{image stem}.txt`` (the caption) side by side |
| ``kohya`` | ``{repeats}_{trigger} {class}/{image}`` and ``.../{image stem}.txt``; with ``toml``, ``dataset.toml`` (sd-scripts ``--dataset_config``) |
| ``imagefolder`` | ``train/{image}`` and ``train/metadata.jsonl``, one ``{"file_name", "text"}`` line per image (Hugging Face ``ImageFolder``) |

Captions are ``core.captions.training_caption``: one line, UTF-8, no trailing newline.
Which images go in is ``counts_as_good`` (``--include good``) or all of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

from tdm_desktop.core.captions import ActorCaptions, trigger_word_problem
from tdm_desktop.core.errors import BadInputError
from tdm_desktop.core.prompt_metadata import parse_actor_name
from tdm_desktop.core.quality import DEFAULT_TRAINING_RESOLUTION
from tdm_desktop.core.training_data import ActorTrainingData, TrainingImage

CAPTION_SUFFIX = ".txt"
TOML_NAME = "dataset.toml"
JSONL_NAME = "metadata.jsonl"
IMAGEFOLDER_SPLIT = "train"
DEFAULT_REPEATS = 10


class ExportFormat(StrEnum):
    AI_TOOLKIT = "ai-toolkit"
    KOHYA = "kohya"
    IMAGEFOLDER = "imagefolder"


class Include(StrEnum):
    GOOD = "good"
    ALL = "all"


def counts_as_good(image: TrainingImage) -> bool:
    """Whether ``--include good`` exports ``image``: the one place that decides it. Today that
    is "not flagged bad", so an image nobody has reviewed yet is in."""
    return image.good


@dataclass(frozen=True)
class ExportOptions:
    format: ExportFormat
    include: Include = Include.GOOD
    trigger_word: str | None = None  # None: the actor's (prompt metadata, else its name)
    repeats: int = DEFAULT_REPEATS  # kohya
    class_token: str | None = None  # kohya; None: man / woman / person from the actor name
    toml: bool = False  # kohya: also write dataset.toml
    resolution: int = DEFAULT_TRAINING_RESOLUTION  # kohya: the TOML's training resolution

    def check(self) -> None:
        """Raise ``BadInputError`` naming the first unusable option."""
        if self.trigger_word is not None and (problem := trigger_word_problem(self.trigger_word)):
            raise BadInputError(f"--trigger {self.trigger_word!r}: {problem}")
        if self.format is not ExportFormat.KOHYA:
            if self.toml:
                raise BadInputError(f"--toml: only for --format kohya, not {self.format}")
            return
        if not 1 <= self.repeats <= 10_000:
            raise BadInputError(f"--repeats {self.repeats}: must be 1..10000")
        if self.class_token is not None and (problem := trigger_word_problem(self.class_token)):
            raise BadInputError(f"--class-token {self.class_token!r}: {problem}")
        if not 64 <= self.resolution <= 8192:
            raise BadInputError(f"--resolution {self.resolution}: must be 64..8192 pixels")


@dataclass(frozen=True)
class PlannedImage:
    image: TrainingImage
    path: str  # where the image goes, relative to the destination ("/"-separated)
    caption_path: str | None  # its .txt; None in the imagefolder layout (metadata.jsonl)
    caption: str  # the training caption


@dataclass(frozen=True)
class ExportLayout:
    images: tuple[PlannedImage, ...]
    files: dict[str, bytes]  # written once, never changed after (dataset.toml)
    jsonl_path: str | None  # imagefolder: metadata.jsonl, extended by later exports
    trigger_word: str
    known_paths: frozenset[str]  # what an export of this actor in this layout may have written

    @staticmethod
    def jsonl_line(planned: PlannedImage) -> bytes:
        name = planned.path.rsplit("/", 1)[-1]
        text = json.dumps({"file_name": name, "text": planned.caption}, ensure_ascii=False)
        return text.encode("utf-8") + b"\n"


def plan_export(
    actor: ActorTrainingData,
    captions: ActorCaptions,
    options: ExportOptions,
    toml_root: str | None = None,
) -> ExportLayout:
    """The files of ``options.format`` for the images ``options.include`` selects.

    ``toml_root``: the destination as the trainer will see it (an absolute folder path), for
    ``dataset.toml``'s ``image_dir``; None writes ``image_dir`` relative to the export root.
    """
    options.check()
    trigger = options.trigger_word or captions.trigger_word
    if problem := trigger_word_problem(trigger):
        raise BadInputError(f"actor {actor.actor_name}: trigger word {trigger!r}: {problem}")
    folder = _folder(actor, options, trigger)
    chosen = [
        image for image in actor.images if options.include is Include.ALL or counts_as_good(image)
    ]
    _check_caption_names(chosen)
    with_captions = options.format is not ExportFormat.IMAGEFOLDER
    planned = tuple(
        PlannedImage(
            image=image,
            path=_join(folder, image.filename),
            caption_path=_join(folder, _caption_name(image.filename)) if with_captions else None,
            caption=captions.training_caption(image.filename, trigger),
        )
        for image in chosen
    )
    files: dict[str, bytes] = {}
    if options.toml:
        image_dir = f"{toml_root.rstrip('/')}/{folder}" if toml_root else folder
        files[TOML_NAME] = _kohya_toml(
            image_dir, f"{trigger} {_class_token(actor, options)}", options
        )
    jsonl_path = _join(folder, JSONL_NAME) if not with_captions else None
    known = set(files) | ({jsonl_path} if jsonl_path else set())
    for image in actor.images:
        known.add(_join(folder, image.filename))
        if with_captions:
            known.add(_join(folder, _caption_name(image.filename)))
    return ExportLayout(planned, files, jsonl_path, trigger, frozenset(known))


def _folder(actor: ActorTrainingData, options: ExportOptions, trigger: str) -> str:
    if options.format is ExportFormat.KOHYA:
        return f"{options.repeats}_{trigger} {_class_token(actor, options)}"
    if options.format is ExportFormat.IMAGEFOLDER:
        return IMAGEFOLDER_SPLIT
    return ""


def _class_token(actor: ActorTrainingData, options: ExportOptions) -> str:
    return options.class_token or parse_actor_name(actor.actor_name).person


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _caption_name(filename: str) -> str:
    return filename.rsplit(".", 1)[0] + CAPTION_SUFFIX


def _check_caption_names(images: list[TrainingImage]) -> None:
    """Trainers pair an image with the caption of the same stem: two images with one stem
    (``a.jpg``, ``a.png``) would share one caption file."""
    seen: dict[str, str] = {}
    for image in images:
        stem = _caption_name(image.filename)
        if stem in seen:
            raise BadInputError(
                f"{seen[stem]} and {image.filename} would share the caption file {stem}; "
                "rename one of them before exporting"
            )
        seen[stem] = image.filename


def _kohya_toml(image_dir: str, class_tokens: str, options: ExportOptions) -> bytes:
    """A dataset config with the keys of sd-scripts' docs/config_README: ``[general]``
    ``caption_extension``, ``enable_bucket``; ``[[datasets]]`` ``resolution``, ``batch_size``;
    ``[[datasets.subsets]]`` ``image_dir``, ``class_tokens``, ``num_repeats`` (with a config
    file kohya does not read repeats and class from the folder name, so they are spelled out)."""

    def text(value: str) -> str:
        # A JSON string is a TOML basic string, once DEL (which JSON leaves as is) is escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")

    lines = [
        "# sd-scripts dataset config (--dataset_config), written by tdm-desktop export",
        "[general]",
        f"caption_extension = {text(CAPTION_SUFFIX)}",
        "enable_bucket = true",
        "",
        "[[datasets]]",
        f"resolution = {options.resolution}",
        "batch_size = 1",
        "",
        "  [[datasets.subsets]]",
        f"  image_dir = {text(image_dir)}",
        f"  class_tokens = {text(class_tokens)}",
        f"  num_repeats = {options.repeats}",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")
