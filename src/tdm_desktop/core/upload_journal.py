"""Uploads in progress: ``actors/{actor_name}/uploads_in_progress.json``.

A generation writes its intent here before it uploads an image and removes it once the image is
listed in the manifest and its prompt recorded. A run killed in between leaves the intent behind,
beside an object no manifest lists; the next generation on the same actor (or
``tdm-desktop repair --adopt-orphans``) finds it and adopts the object with the prompt it was
made from, or forgets the intent when the upload never landed.

Format::

    {"uploads": {"0042_european_30_male_7.jpg": {
        "key": "system_actors/training_data/0042_european_30_male/0042_european_30_male_7.jpg",
        "started_at": "2025-10-17T16:30:00.000000", "host": "studio-3", "pid": 4242,
        "prompt": "...", "negative_prompt": "", "seed": 123, "generator": "placeholder"}}}

An intent is *abandoned* when its process is gone (same host, pid no longer running) or when it
is older than ``ABANDONED_AFTER``; only abandoned intents are acted on, so a generation still
uploading on another machine is never adopted or deleted under it. Writes follow the manifest's
rules (``DocumentStore.change``: a fresh read, a conditional write, re-applied on a conflict;
unknown keys kept; nothing written when nothing changes).
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tdm_desktop.core.documents import (
    Document,
    DocumentRef,
    DocumentStore,
    open_documents,
    unreadable_as,
)
from tdm_desktop.core.errors import InvalidNameError, UploadJournalError
from tdm_desktop.core.jsonfile import dump_json, nested_too_deeply, parse_json_object
from tdm_desktop.core.layout import actor_dir_name
from tdm_desktop.core.names import check_filename
from tdm_desktop.core.timestamps import parse_timestamp

log = logging.getLogger(__name__)

FILE_NAME = "uploads_in_progress.json"
ABANDONED_AFTER = timedelta(minutes=10)


@dataclass(frozen=True)
class UploadIntent:
    """One upload a generation was about to make, and what the image was made from."""

    filename: str
    key: str
    started_at: str
    host: str
    pid: int
    prompt: str | None = None
    negative_prompt: str | None = None
    seed: int | None = None
    generator: str | None = None

    def to_json(self) -> dict[str, Any]:
        fields = {
            "key": self.key,
            "started_at": self.started_at,
            "host": self.host,
            "pid": self.pid,
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "seed": self.seed,
            "generator": self.generator,
        }
        return {name: value for name, value in fields.items() if value is not None}

    @classmethod
    def from_json(cls, filename: str, item: Mapping[str, Any]) -> UploadIntent:
        return cls(
            filename=filename,
            key=item["key"],
            started_at=item["started_at"],
            host=item["host"],
            pid=item["pid"],
            prompt=item.get("prompt"),
            negative_prompt=item.get("negative_prompt"),
            seed=item.get("seed"),
            generator=item.get("generator"),
        )

    @property
    def generation(self) -> dict[str, Any]:
        """The keyword arguments of ``PromptMetadata.record_generation`` (those recorded; call
        it only when ``prompt`` is set)."""
        fields = {
            "prompt": self.prompt,
            "negative_prompt": self.negative_prompt,
            "seed": self.seed,
            "generator": self.generator,
            "generated_at": self.started_at,
        }
        return {name: value for name, value in fields.items() if value is not None}


def this_host() -> str:
    return socket.gethostname()


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this machine (True when that cannot be told)."""
    if os.name != "posix":
        return True  # os.kill(pid, 0) would terminate it on Windows; rely on the age rule
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def is_abandoned(
    intent: UploadIntent,
    now: datetime,
    host: str,
    alive: Callable[[int], bool] = pid_alive,
) -> bool:
    """An intent nobody will finish: its process on this host is gone, or it is too old."""
    if intent.host == host and not alive(intent.pid):
        return True
    return now - parse_timestamp(intent.started_at) > ABANDONED_AFTER


def journal_name(actor_name: str) -> str:
    """``actors/{actor_name}/uploads_in_progress.json``, a document of the catalog."""
    return f"{actor_dir_name(actor_name)}/{FILE_NAME}"


class UploadJournal:
    """One actor's ``uploads_in_progress.json``, a document of the catalog (a file in a folder
    data dir, an object under an S3 prefix): every change is applied to a fresh read and written
    conditionally (``DocumentStore.change``)."""

    def __init__(self, document: DocumentRef) -> None:
        self._ref = document

    @classmethod
    def for_actor(cls, data_dir: Path | str | DocumentStore, actor_name: str) -> UploadJournal:
        return cls(DocumentRef(open_documents(data_dir), journal_name(actor_name)))

    @property
    def url(self) -> str:
        return self._ref.url

    @property
    def path(self) -> Path | None:
        """The local file (None in an S3 data dir)."""
        return self._ref.local_path

    def pending(self) -> dict[str, UploadIntent]:
        """Every recorded intent by filename (none when the document does not exist)."""
        with unreadable_as(UploadJournalError):
            current = self._ref.read()
        uploads = self._parse(current).get("uploads", {})
        return {name: UploadIntent.from_json(name, item) for name, item in uploads.items()}

    def begin(self, intent: UploadIntent) -> None:
        """Record ``intent`` (replacing an older one for the same filename)."""
        check_filename(intent.filename)

        def apply(data: dict[str, Any]) -> bool:
            uploads = data.setdefault("uploads", {})
            record = intent.to_json()
            if uploads.get(intent.filename) == record:
                return False
            uploads[intent.filename] = record
            return True

        self._change(apply, create=True)

    def end(self, filenames: Iterable[str]) -> list[str]:
        """Remove the intents of ``filenames``; returns those that had one."""
        wanted = list(dict.fromkeys(filenames))
        ended: list[str] = []

        def apply(data: dict[str, Any]) -> bool:
            uploads = data.get("uploads", {})
            ended[:] = [name for name in wanted if name in uploads]
            for name in ended:
                del uploads[name]
            return bool(ended)

        if wanted:
            self._change(apply, create=False)
        return ended

    def _parse(self, current: Document) -> dict[str, Any]:
        if current.data is None:
            return {}
        data = parse_json_object(self.url, current.data, UploadJournalError)
        _check(self.url, data)
        return data

    def _change(self, apply: Callable[[dict[str, Any]], bool], create: bool) -> None:
        def edit(current: Document) -> tuple[None, bytes | None]:
            if current.data is None and not create:
                return None, None
            data = self._parse(current) or {"uploads": {}}
            return None, dump_json(data) if apply(data) else None

        with unreadable_as(UploadJournalError):
            self._ref.change(edit)


def _check(path: str, data: dict[str, Any]) -> None:
    if nested_too_deeply(data):
        raise UploadJournalError(path, "invalid JSON: nested too deeply")
    uploads = data.get("uploads", {})
    if not isinstance(uploads, dict):
        raise UploadJournalError(path, f"uploads must be an object, got {_shown(uploads)}")
    for filename, item in uploads.items():
        where = f"uploads[{_shown(filename)}]"
        try:
            check_filename(filename)
        except InvalidNameError:
            raise UploadJournalError(path, f"{where}: the key must be a valid file name") from None
        problem = _entry_problem(item)
        if problem:
            raise UploadJournalError(path, f"{where}{problem}")


def _entry_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return f" must be an object, got {_shown(item)}"
    for key in ("key", "host"):
        if not isinstance(item.get(key), str) or not item[key]:
            return f".{key} must be a non-empty string, got {_shown(item.get(key))}"
    pid = item.get("pid")
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return f".pid must be a whole number > 0, got {_shown(pid)}"
    try:
        parse_timestamp(item.get("started_at"))
    except ValueError:
        return f".started_at must be a timestamp, got {_shown(item.get('started_at'))}"
    for key in ("prompt", "negative_prompt", "generator"):
        if item.get(key) is not None and not isinstance(item[key], str):
            return f".{key} must be a string, got {_shown(item[key])}"
    seed = item.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        return f".seed must be a whole number, got {_shown(seed)}"
    return None


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 60 else text[:57] + "..."
