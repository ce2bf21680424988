"""Per-actor curation data, ``actors/{actor_name}/prompt_metadata.json``.

The format is described in docs/PROMPT_METADATA.md.

It holds each curator's decision on an image (good or bad, who and when; an image with no
decision is unreviewed, and good), how each generated image was made, and the actor's own prompt
list. A missing file means: every image unreviewed, the default prompts. It is a document of the
catalog (``core.documents``, a file or an S3 object) and follows the manifest's rules: every
change on a fresh read (the lock beside a local file; re-read and re-applied after a conflict in
S3), written in one piece, unknown keys kept, strict validation (``PromptMetadataError`` naming
the file or ``s3://`` URL and the field; an invalid document is never overwritten), and nothing
is written when nothing changes.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, NoReturn, Self, TypeVar

from tdm_desktop.core.captions import trigger_word_problem
from tdm_desktop.core.documents import (
    Document,
    DocumentBacked,
    DocumentRef,
    DocumentStore,
    open_documents,
    unreadable_as,
)
from tdm_desktop.core.errors import (
    BadInputError,
    InvalidNameError,
    PromptMetadataError,
)
from tdm_desktop.core.jsonfile import dump_json, parse_json_object
from tdm_desktop.core.layout import ACTORS_DIR as ACTORS_DIR
from tdm_desktop.core.layout import PROMPT_METADATA_FILE, prompt_metadata_name
from tdm_desktop.core.names import check_actor_name, check_curator, check_filename
from tdm_desktop.core.timestamps import Clock, api_timestamp, manifest_now

logger = logging.getLogger(__name__)

FILE_NAME = PROMPT_METADATA_FILE
DECISION_KEYS = ("good", "reviewed_by", "reviewed_at")
_T = TypeVar("_T")


@dataclass(frozen=True)
class Review:
    """A curator's decision on one image: ``decision`` is ``"good"``, ``"bad"`` or None (never
    decided: no entry, or only a generation record). ``by`` and ``at`` (UTC, the manifest form
    ``2025-10-17T16:30:00.000000``) say who and when; both are None for a legacy bad flag."""

    decision: Literal["good", "bad"] | None = None
    by: str | None = None
    at: str | None = None

    @property
    def decided(self) -> bool:
        return self.decision is not None

    @property
    def good(self) -> bool:
        """The design's flag: every image not decided bad is good."""
        return self.decision != "bad"


UNREVIEWED = Review()


def review_of(entry: Mapping[str, Any] | None) -> Review:
    """The decision an ``images`` entry records. Decided: it has ``reviewed_at``, or it says
    ``good: false`` (a flag written before reviews were recorded)."""
    if entry is None:
        return UNREVIEWED
    good = entry.get("good", True)
    at = entry.get("reviewed_at")
    if at is None and good:
        return UNREVIEWED
    return Review("good" if good else "bad", entry.get("reviewed_by"), at)


@dataclass(frozen=True)
class FlagChange:
    """One image's decision keys (``good``, ``reviewed_by``, ``reviewed_at``) before and after a
    flag write, as recorded; ``{}`` when there were none. Undo gives it back."""

    filename: str
    before: Mapping[str, Any] = field(default_factory=dict)
    after: Mapping[str, Any] = field(default_factory=dict)

    @property
    def before_review(self) -> Review:
        return review_of(self.before)

    @property
    def after_review(self) -> Review:
        return review_of(self.after)

    def inverted(self) -> FlagChange:
        """The same change the other way round: undoing it redoes this one."""
        return FlagChange(self.filename, self.after, self.before)


@dataclass(frozen=True)
class FlagUndo:
    """What an undo did: ``undone`` images got their earlier decision back; ``left_alone`` were
    changed by someone since (their decision now), so they keep it."""

    undone: list[str] = field(default_factory=list)
    left_alone: dict[str, Review] = field(default_factory=dict)


class PromptMetadata(DocumentBacked):
    """One actor's ``prompt_metadata.json``. Reads are lazy; every change is made on a fresh read.

    ``document``: a ``DocumentRef`` (any store), or the path of a local file. ``checked``: what
    earlier reads of this document found valid (``CheckedEntries``; share one between the objects
    made for one document, as ``ActorCatalog`` does, so each read checks only what changed).
    """

    def __init__(
        self,
        document: DocumentRef | Path | str,
        actor_name: str,
        clock: Clock | None = None,
        default_prompts: Sequence[str] | None = None,
        checked: CheckedEntries | None = None,
    ) -> None:
        self._ref = document if isinstance(document, DocumentRef) else DocumentRef.local(document)
        self._actor_name = check_actor_name(actor_name)
        self._clock = clock
        self._default_templates = default_prompts
        self._data: dict[str, Any] | None = None
        self._version: str | None = None
        self._checked = CheckedEntries() if checked is None else checked

    @classmethod
    def for_actor(
        cls, data_dir: Path | str | DocumentStore, actor_name: str, clock: Clock | None = None
    ) -> PromptMetadata:
        """``actors/{actor_name}/prompt_metadata.json`` of ``data_dir`` (a folder or a store)."""
        name = prompt_metadata_name(actor_name)
        return cls(DocumentRef(open_documents(data_dir), name), actor_name, clock=clock)

    @property
    def actor_name(self) -> str:
        return self._actor_name

    # -- reading -----------------------------------------------------------------------------

    def load(self) -> Self:
        """(Re-)read and validate the file; a missing file is an empty one."""
        self._data = self._read()
        return self

    def is_good(self, filename: str) -> bool:
        entry = self._loaded().get("images", {}).get(filename)
        return entry is None or entry.get("good", True)

    def flags(self) -> dict[str, bool]:
        """``{filename: good}`` for every image with an entry; any other image is good."""
        images = self._loaded().get("images", {})
        return {name: entry.get("good", True) for name, entry in images.items()}

    def images(self) -> dict[str, dict[str, Any]]:
        """``{filename: entry}`` as recorded (entries are the document's own: do not change)."""
        return dict(self._loaded().get("images", {}))

    def review(self, filename: str) -> Review:
        """Who decided what about ``filename`` and when (``UNREVIEWED`` when nobody did)."""
        return review_of(self._loaded().get("images", {}).get(filename))

    def reviews(self) -> dict[str, Review]:
        """``{filename: Review}`` for every image with a decision; any other is unreviewed."""
        images = self._loaded().get("images", {})
        found = {name: review_of(entry) for name, entry in images.items()}
        return {name: review for name, review in found.items() if review.decided}

    def generation(self, filename: str) -> dict[str, Any] | None:
        """The image's record other than ``good`` (``prompt``, ``seed``..., and who reviewed it
        when), or None. ``restore_entry(filename, {**record, "good": good})`` puts it back."""
        entry = self._loaded().get("images", {}).get(filename)
        return None if entry is None else {k: v for k, v in entry.items() if k != "good"}

    def caption(self, filename: str) -> str | None:
        """The caption a curator set for ``filename`` (``images.*.caption``), or None.

        ``core.captions`` turns that, or else the generation prompt, into the caption used."""
        entry = self._loaded().get("images", {}).get(filename)
        return None if entry is None else entry.get("caption")

    def trigger_word(self) -> str | None:
        """The actor's ``trigger_word`` as stored, or None (exports then use the actor name)."""
        return self._loaded().get("trigger_word")

    def prompts(self) -> list[str]:
        """The actor's own prompt list when it has a non-empty one, else the default prompts."""
        own = self._loaded().get("prompts")
        if own:
            return list(own)
        templates = self._default_templates
        if templates is None:
            templates = default_prompt_templates()
        return fill_prompts(templates, self._actor_name)

    # -- changing ----------------------------------------------------------------------------

    def set_flags(self, flags: Mapping[str, bool], *, curator: str | None = None) -> list[str]:
        """Decide good (True) / bad (False) per filename, recording ``curator`` (``reviewed_by``)
        and now (``reviewed_at``); returns the filenames whose decision changed.

        An image already decided the same way keeps its record (and who decided it); marking an
        unreviewed image good records that decision. Writes only when something changes.
        """
        return [change.filename for change in self.decide(flags, curator=curator)]

    def decide(self, flags: Mapping[str, bool], *, curator: str | None = None) -> list[FlagChange]:
        """``set_flags`` returning, per image whose decision changed, its decision keys before and
        after (what ``undo`` needs)."""
        return self.decide_each([flags], curator=curator)[0]

    def decide_each(
        self, flag_sets: Sequence[Mapping[str, bool]], *, curator: str | None = None
    ) -> list[list[FlagChange]]:
        """``decide`` each of ``flag_sets`` in turn, all in one write (one read, one check, one
        render of the document): what each returns is exactly what ``decide`` of it alone, right
        after the ones before it, would return. A later set's decision on an image wins; each set
        records its own time (``reviewed_at``), no earlier than the set's before it."""
        flag_sets = [dict(flags) for flags in flag_sets]
        for flags in flag_sets:
            for filename, good in flags.items():
                check_filename(filename)
                if not isinstance(good, bool):
                    raise TypeError(f"flag for {filename!r} must be True or False, got {good!r}")
        if curator is not None:
            check_curator(curator)

        def apply_one(images: dict[str, Any], flags: Mapping[str, bool]) -> list[FlagChange]:
            now = manifest_now(self._clock)
            changes = []
            for filename, good in flags.items():
                entry = images.get(filename)
                review = review_of(entry)
                if review.decided and review.good == good:
                    continue
                entry = images.setdefault(filename, {})
                before = _decision_keys(entry)
                entry["good"] = good
                if curator is not None:
                    entry["reviewed_by"] = curator
                else:
                    entry.pop("reviewed_by", None)
                entry["reviewed_at"] = now
                changes.append(FlagChange(filename, before, _decision_keys(entry)))
            return changes

        def apply(data: dict[str, Any]) -> list[list[FlagChange]]:
            images = data.setdefault("images", {})
            return [apply_one(images, flags) for flags in flag_sets]

        each = self._change(apply, changed=any)
        changed = sum(len(changes) for changes in each)
        if changed:
            logger.debug("[S3-ONLY] Flagged %d images of %s", changed, self._actor_name)
        return each

    def undo(self, changes: Iterable[FlagChange]) -> FlagUndo:
        """Give each image its decision from before ``changes`` back, where it is still exactly as
        those changes left it (a compare-and-set per image, all in one write). Images someone
        changed since (another decision, another curator, or gone) are left alone and reported;
        an image already back as it was before counts as undone (an undo asked twice)."""
        changes = list(changes)
        for change in changes:
            check_filename(change.filename)

        def apply(data: dict[str, Any]) -> FlagUndo:
            images = data.setdefault("images", {})
            outcome = FlagUndo()
            for change in changes:
                current = _decision_keys(images.get(change.filename) or {})
                if current == dict(change.before):
                    outcome.undone.append(change.filename)
                    continue
                if current != dict(change.after):
                    outcome.left_alone[change.filename] = review_of(images.get(change.filename))
                    continue
                entry = images.setdefault(change.filename, {})
                for key in DECISION_KEYS:
                    entry.pop(key, None)
                entry.update(change.before)
                if not entry:
                    del images[change.filename]
                outcome.undone.append(change.filename)
            return outcome

        return self._change(apply, changed=lambda outcome: bool(outcome.undone))

    def redo(self, changes: Iterable[FlagChange]) -> FlagUndo:
        """Make ``changes`` again after their ``undo``, the same compare-and-set way: only where
        each image is still as the undo left it (``undone``: redone; ``left_alone``: changed by
        someone since)."""
        return self.undo([change.inverted() for change in changes])

    def set_caption(self, filename: str, caption: str | None) -> str | None:
        """Set ``filename``'s caption, kept exactly as typed (None: back to the generation
        prompt). Returns the caption it replaces (None when there was none), for undo."""
        check_filename(filename)
        if caption is not None and not isinstance(caption, str):
            raise TypeError(f"caption for {filename!r} must be a string or None, got {caption!r}")
        previous: list[str | None] = [None]

        def apply(data: dict[str, Any]) -> list[str]:
            images = data.setdefault("images", {})
            entry = images.get(filename, {})
            previous[0] = entry.get("caption")
            if previous[0] == caption:
                return []
            if caption is None:
                del entry["caption"]
                if not entry:
                    del images[filename]
            else:
                images[filename] = {**entry, "caption": caption}
            return [filename]

        self._change(apply)
        return previous[0]

    def set_trigger_word(self, word: str | None) -> str | None:
        """Set the actor's trigger word (None: back to the actor name); returns the previous."""
        if word is not None:
            problem = trigger_word_problem(word)
            if problem:
                raise BadInputError(f"trigger word {word!r}: {problem}")
        previous: list[str | None] = [None]

        def apply(data: dict[str, Any]) -> list[str]:
            previous[0] = data.get("trigger_word")
            if previous[0] == word:
                return []
            if word is None:
                del data["trigger_word"]
            else:
                data["trigger_word"] = word
            return ["trigger_word"]

        self._change(apply)
        return previous[0]

    def record_generation(
        self,
        filename: str,
        *,
        prompt: str,
        seed: int | None = None,
        generator: str | None = None,
        negative_prompt: str | None = None,
        generated_at: str | None = None,
    ) -> None:
        """Record how ``filename`` was generated (keeping any decision; a new one is unreviewed)."""
        check_filename(filename)
        fields: dict[str, Any] = {
            "prompt": prompt,
            "negative_prompt": negative_prompt,
            "seed": seed,
            "generator": generator,
            "generated_at": manifest_now(self._clock) if generated_at is None else generated_at,
        }
        fields = {key: value for key, value in fields.items() if value is not None}
        problem = next(filter(None, (_FIELD_CHECKS[k](v) for k, v in fields.items())), None)
        if problem:
            raise BadInputError(f"{self.url}: image {filename!r}: {problem}")

        def apply(data: dict[str, Any]) -> list[str]:
            images = data.setdefault("images", {})
            entry = images.setdefault(filename, {})
            before = dict(entry)
            entry.update(fields)
            return [filename] if entry != before else []

        self._change(apply)

    def restore_entry(self, filename: str, record: Mapping[str, Any]) -> bool:
        """Undo of ``forget`` for one image: write ``record`` (its entry as it was) back, keeping
        keys another process may have added meanwhile. Returns whether anything changed."""
        check_filename(filename)

        def apply(data: dict[str, Any]) -> list[str]:
            entry = data.setdefault("images", {}).setdefault(filename, {})
            before = dict(entry)
            entry.update(record)
            return [filename] if entry != before else []

        return bool(self._change(apply))

    def forget(self, filenames: Iterable[str]) -> list[str]:
        """Drop the entries of ``filenames`` (deleted images); returns those that had one."""
        wanted = list(dict.fromkeys(filenames))

        def apply(data: dict[str, Any]) -> list[str]:
            images = data.get("images", {})
            dropped = [name for name in wanted if name in images]
            for name in dropped:
                del images[name]
            return dropped

        return self._change(apply)

    # -- internals ---------------------------------------------------------------------------

    def _loaded(self) -> dict[str, Any]:
        if self._data is None:
            self.load()
        assert self._data is not None
        return self._data

    def _new_document(self) -> dict[str, Any]:
        return {"actor_name": self._actor_name, "prompts": [], "images": {}}

    def _read(self) -> dict[str, Any]:
        with unreadable_as(PromptMetadataError):
            current = self._ref.read()
        data = self._parse(current)
        self._version = current.version
        return data

    def _parse(self, current: Document) -> dict[str, Any]:
        if current.data is None:
            return {}
        data = parse_json_object(self.url, current.data, PromptMetadataError)
        _Validator(self.url, self._actor_name).check(data, self._checked)
        return data

    def _change(
        self, apply: Callable[[dict[str, Any]], _T], changed: Callable[[_T], bool] = bool
    ) -> _T:
        """Apply ``apply`` to a fresh read; write when ``changed(result)`` says it changed."""

        def edit(current: Document) -> tuple[tuple[_T, dict[str, Any]], bytes | None]:
            data = self._parse(current) or self._new_document()
            result = apply(data)
            return (result, data), dump_json(data) if changed(result) else None

        with unreadable_as(PromptMetadataError):
            outcome = self._ref.change(edit)
        (result, data), self._version = outcome.result, outcome.document.version
        self._data = data if outcome.document.exists else {}
        return result


def _decision_keys(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {key: entry[key] for key in DECISION_KEYS if key in entry}


# -- validation ------------------------------------------------------------------------------


def _optional_text(key: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if value is None or isinstance(value, str):
            return None
        return f"{key} must be a string, got {_shown(value)}"

    return check


def _check_seed(value: Any) -> str | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return None
    return f"seed must be a whole number, got {_shown(value)}"


def _check_generated_at(value: Any) -> str | None:
    try:
        api_timestamp(value)
    except ValueError:
        example = '"2025-10-17T15:57:00.000000"'
        return f"generated_at must be a timestamp like {example}, got {_shown(value)}"
    return None


def _check_good(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"good must be true or false, got {_shown(value)}"


def _check_reviewed_by(value: Any) -> str | None:
    try:
        check_curator(value)
    except InvalidNameError:
        return f"reviewed_by must be a curator's name (text, no control characters), got {_shown(value)}"
    return None


def _check_reviewed_at(value: Any) -> str | None:
    try:
        api_timestamp(value)
    except ValueError:
        example = '"2025-10-17T16:30:00.000000"'
        return f"reviewed_at must be a timestamp like {example}, got {_shown(value)}"
    return None


_FIELD_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "good": _check_good,
    "prompt": _optional_text("prompt"),
    "negative_prompt": _optional_text("negative_prompt"),
    "seed": _check_seed,
    "generator": _optional_text("generator"),
    "generated_at": _check_generated_at,
    "reviewed_by": _check_reviewed_by,
    "reviewed_at": _check_reviewed_at,
    "caption": _optional_text("caption"),
}


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _where(filename: str) -> str:
    return f"images[{_shown(filename)}]"


_KnownEntry = tuple[dict[str, Any], tuple[type, ...]]


class CheckedEntries:
    """The ``images`` entries of one prompt_metadata.json as last found valid, so the next read
    checks only the entries that differ (each write is a read of the whole document, and most
    entries are as they were). ``entries``: ``{filename: (copy of the entry, its value types)}``;
    copies, because a change edits the entries it was given in place.

    Comparing values and their types (``1`` and ``true`` are equal in Python, and only one is a
    valid ``good``) and keys is enough: an entry's checks look at nothing else. The document's
    other checks (``actor_name``, ``trigger_word``, ``prompts``, the types of ``images``) run on
    every read. Replaced whole on each read that passes, so threads sharing it see one read's
    entries or the next's."""

    def __init__(self) -> None:
        self.entries: dict[str, _KnownEntry] = {}


class _Validator:
    def __init__(self, url: str, actor_name: str) -> None:
        self._url = url
        self._actor_name = actor_name

    def check(self, data: dict[str, Any], known: CheckedEntries) -> None:
        """Raise ``PromptMetadataError`` on the first problem of ``data``. ``known``: entries
        found valid before; an entry equal to one of them (same keys, values and value types)
        is not checked again, and ``known`` then holds the entries of ``data``."""
        name = data.get("actor_name", self._actor_name)
        if name != self._actor_name:
            self._fail(
                f"actor_name must be {_shown(self._actor_name)} (the folder), got {_shown(name)}"
            )
        trigger = data.get("trigger_word")
        if trigger is not None and (problem := trigger_word_problem(trigger)):
            self._fail(f"trigger_word {problem}, got {_shown(trigger)}")
        prompts = data.get("prompts", [])
        if not isinstance(prompts, list):
            self._fail(f"prompts must be an array of strings, got {_shown(prompts)}")
        for index, prompt in enumerate(prompts):
            if not isinstance(prompt, str) or not prompt.strip():
                self._fail(f"prompts[{index}] must be a non-empty string, got {_shown(prompt)}")
        images = data.get("images", {})
        if not isinstance(images, dict):
            self._fail(f"images must be an object {{filename: {{...}}}}, got {_shown(images)}")
        before = known.entries
        now: dict[str, _KnownEntry] = {}
        for filename, entry in images.items():
            seen = before.get(filename)
            if seen is None or seen[0] != entry or seen[1] != tuple(map(type, entry.values())):
                self._check_image(filename, entry)  # raises unless ``entry`` is a valid dict
                seen = (dict(entry), tuple(map(type, entry.values())))
            now[filename] = seen
        known.entries = now

    def _check_image(self, filename: str, entry: Any) -> None:
        """What this says of an entry depends on ``filename`` and ``entry`` alone: on its keys,
        and on each value's type and value (``CheckedEntries`` relies on that)."""
        try:
            check_filename(filename)
        except InvalidNameError:
            self._fail(
                f"{_where(filename)}: the key must be a valid file name (no '/', '\\', '..')"
            )
        if not isinstance(entry, dict):
            self._fail(f"{_where(filename)} must be an object {{...}}, got {_shown(entry)}")
        for key, value in entry.items():
            check = _FIELD_CHECKS.get(key)
            problem = check(value) if check else None
            if problem:
                self._fail(f"{_where(filename)}.{problem}")

    def _fail(self, problem: str) -> NoReturn:
        raise PromptMetadataError(self._url, problem)


# -- default prompts -------------------------------------------------------------------------

_GENDER_WORDS = {
    "male": "man", "man": "man", "m": "man", "boy": "man",
    "female": "woman", "woman": "woman", "f": "woman", "girl": "woman",
}  # fmt: skip
_NEUTRAL_GENDER_WORDS = {"nonbinary", "non-binary", "nb", "enby", "neutral", "other", "x"}
_WORD = re.compile(r"[a-z][a-z-]*")


@dataclass(frozen=True)
class ActorLooks:
    """What an actor name like ``0042_european_30_male`` says; None where it says nothing."""

    ethnicity: str | None
    age: int | None
    gender: str | None  # "male" or "female"

    @property
    def person(self) -> str:
        return {"male": "man", "female": "woman"}.get(self.gender or "", "person")

    @property
    def subject(self) -> str:
        """``30 year old european man``; ``person`` when the name says nothing."""
        words = [f"{self.age} year old"] if self.age is not None else []
        words += [self.ethnicity] if self.ethnicity else []
        return " ".join([*words, self.person])

    @property
    def a_subject(self) -> str:
        """The subject with its article: ``a 30 year old european man``, ``an 80 year old...``."""
        return f"{_article(self.subject)} {self.subject}"

    def placeholders(self, actor_name: str) -> dict[str, str]:
        return {
            "actor_name": actor_name,
            "ethnicity": self.ethnicity or "",
            "age": "" if self.age is None else str(self.age),
            "gender": self.gender or "",
            "person": self.person,
            "subject": self.subject,
            "a_subject": self.a_subject,
        }


def parse_actor_name(actor_name: str) -> ActorLooks:
    """Read ``{id}_{ethnicity}_{age}_{gender}`` leniently: each part is used when recognisable.

    ``0042_european_30_male`` -> (european, 30, male); ``0007_south_asian_25_female`` ->
    (south asian, 25, female); ``hero`` -> (None, None, None).
    """
    tokens = [t for t in actor_name.lower().split("_") if t]
    if tokens and tokens[0].isdigit():
        tokens = tokens[1:]
    gender = None
    said_gender = bool(tokens) and tokens[-1] in _GENDER_WORDS.keys() | _NEUTRAL_GENDER_WORDS
    if said_gender:
        word = _GENDER_WORDS.get(tokens.pop())
        gender = {"man": "male", "woman": "female"}.get(word or "")
    age = None
    if tokens and tokens[-1].isdigit() and 1 <= int(tokens[-1]) <= 120:
        age = int(tokens.pop())
    ethnicity = " ".join(tokens) if tokens and all(_WORD.fullmatch(t) for t in tokens) else None
    if not said_gender and age is None:
        ethnicity = None  # a name that is not in the pattern at all: say nothing about looks
    return ActorLooks(ethnicity=ethnicity, age=age, gender=gender)


def _article(phrase: str) -> str:
    first = phrase.split(" ", 1)[0]
    if first.isdigit():
        value = int(first)
        return "an" if value in (8, 11, 18) or 80 <= value <= 89 else "a"
    sounds_like_you = first.startswith(("eu", "uni", "uk", "ur", "one"))
    return "an" if first[:1] and first[0] in "aeiou" and not sounds_like_you else "a"


def fill_prompts(templates: Iterable[str], actor_name: str) -> list[str]:
    """Fill ``{a_subject}``, ``{subject}``, ``{person}``, ``{ethnicity}``, ``{age}``,
    ``{gender}``, ``{actor_name}`` from the actor name."""
    values = parse_actor_name(actor_name).placeholders(actor_name)
    return [" ".join(template.format_map(values).split()) for template in templates]


@lru_cache(maxsize=1)
def _load_default_templates() -> tuple[str, ...]:
    resource = resources.files("tdm_desktop.resources").joinpath("default_prompts.json")
    data = json.loads(resource.read_text(encoding="utf-8"))
    return tuple(data["prompts"])


def default_prompt_templates() -> list[str]:
    """The bundled prompt templates (``resources/default_prompts.json``), unfilled."""
    return list(_load_default_templates())
