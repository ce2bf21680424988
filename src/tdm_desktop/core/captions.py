"""Captions and trigger words: what a trainer reads beside each image.

- An image's caption is its ``caption`` in ``prompt_metadata.json`` when a curator set one, else
  the ``prompt`` it was generated from, else empty.
- Each actor has a trigger word: ``trigger_word`` at the top of ``prompt_metadata.json``, else
  the actor name.
- ``training_caption(caption, trigger)`` is what an export writes: ``[trigger]`` is replaced by
  the trigger word (every occurrence); a caption with neither ``[trigger]`` nor the trigger word
  gets it in front (``"{trigger}, {caption}"``; an empty caption becomes the trigger word alone).
  Line breaks become ``", "``: a trainer's caption is one line (kohya reads the first line of a
  ``.txt`` only, or with wildcards picks one line at random; ai-toolkit joins lines with ", "),
  so a caption typed on several lines trains as the same text in every format.

The stored caption is kept exactly as typed; only the export text is normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

TRIGGER_PLACEHOLDER = "[trigger]"
MAX_TRIGGER_LENGTH = 100
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class CaptionSource(Protocol):
    """What captions are read from (``PromptMetadata``)."""

    @property
    def actor_name(self) -> str: ...

    def caption(self, filename: str) -> str | None: ...

    def generation(self, filename: str) -> dict | None: ...

    def trigger_word(self) -> str | None: ...


def trigger_word_problem(value: object) -> str | None:
    """Why ``value`` cannot be a trigger word (it names a kohya folder), or None."""
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    if value != value.strip():
        return "must not start or end with spaces"
    if len(value) > MAX_TRIGGER_LENGTH:
        return f"must be at most {MAX_TRIGGER_LENGTH} characters"
    if _CONTROL.search(value) or _LINE_BREAKS.search(value):
        return "must be one line without control characters"
    if "/" in value or "\\" in value or value in (".", ".."):
        return "must not contain '/' or '\\' (it names the kohya folder)"
    if TRIGGER_PLACEHOLDER in value:
        return f"must not contain {TRIGGER_PLACEHOLDER}"
    return None


def one_line(caption: str) -> str:
    """The caption's lines, stripped, empty ones dropped, joined with ", "."""
    lines = (line.strip() for line in _LINE_BREAKS.split(caption))
    return ", ".join(line for line in lines if line)


def training_caption(caption: str, trigger: str) -> str:
    """The caption as an export writes it (the module's rules)."""
    text = one_line(caption)
    if TRIGGER_PLACEHOLDER in text:
        return text.replace(TRIGGER_PLACEHOLDER, trigger)
    if _contains_word(text, trigger):
        return text
    return f"{trigger}, {text}" if text else trigger


def _contains_word(text: str, word: str) -> bool:
    """``word`` in ``text`` as a whole word (not inside a longer word)."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


@dataclass(frozen=True)
class ActorCaptions:
    """One actor's captions as read once from its prompt metadata."""

    trigger_word: str
    captions: dict[str, str]  # filename -> caption as stored or defaulted (not yet exported)

    @classmethod
    def read(cls, source: CaptionSource, filenames: list[str]) -> ActorCaptions:
        trigger = source.trigger_word() or source.actor_name
        return cls(trigger, {name: image_caption(source, name) for name in filenames})

    def caption(self, filename: str) -> str:
        return self.captions.get(filename, "")

    def training_caption(self, filename: str, trigger: str | None = None) -> str:
        return training_caption(self.caption(filename), trigger or self.trigger_word)


def image_caption(source: CaptionSource, filename: str) -> str:
    """The caption a curator set, else the generation prompt, else ""."""
    caption = source.caption(filename)
    if caption is not None:
        return caption
    record = source.generation(filename) or {}
    prompt = record.get("prompt")
    return prompt if isinstance(prompt, str) else ""


@dataclass(frozen=True)
class ImageCaption:
    """An image's caption as a curator sees it: ``text`` (the one used), ``stored`` (what a
    curator set, or None: the text is the generation prompt)."""

    text: str
    stored: str | None = None

    @property
    def custom(self) -> bool:
        return self.stored is not None

    @classmethod
    def read(cls, source: CaptionSource, filename: str) -> ImageCaption:
        return cls(image_caption(source, filename), source.caption(filename))
