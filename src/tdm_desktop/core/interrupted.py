"""Finishing what a killed generation left: its intent in ``uploads_in_progress.json``, maybe an
object in S3 that no manifest lists.

For each *abandoned* intent (its process is gone, or it is too old; see ``upload_journal``):

- the image is listed already (the run died after the manifest write): its prompt is recorded if
  it was not, and the intent ends;
- its object is in S3 and was written after the intent (so it is that run's upload): it is
  listed, with its size and date from S3 and the prompt it was made from, and the intent ends;
- there is no object (the run died before or during the upload): the intent ends;
- an object older than the intent is someone else's: the intent ends and the object stays an
  orphan for ``tdm-desktop audit`` to report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tdm_desktop.core.errors import S3Error, TdmError, one_line
from tdm_desktop.core.manifest import ManifestEntry, TrainingDataManifest, size_mb
from tdm_desktop.core.prompt_metadata import PromptMetadata
from tdm_desktop.core.s3_store import ObjectInfo, S3Store
from tdm_desktop.core.timestamps import manifest_now, parse_timestamp
from tdm_desktop.core.upload_journal import UploadIntent, UploadJournal, is_abandoned, this_host

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(minutes=5)  # between this machine's clock and S3's


@dataclass(frozen=True)
class Recovery:
    """What finishing interrupted generations did, by filename."""

    adopted: list[str] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)
    forgotten: list[str] = field(default_factory=list)


def object_date(obj: ObjectInfo) -> str:
    """The object's date in the manifest's form (now when S3 did not say)."""
    moment = obj.last_modified
    return manifest_now(None if moment is None else lambda: moment)


def adopted_entry(obj: ObjectInfo, filename: str, url: str) -> ManifestEntry:
    """The entry for an object no manifest lists: its size and date from S3, the given URL."""
    return ManifestEntry(filename, url, size_mb(obj.size), object_date(obj))


def record_and_end(
    metadata: PromptMetadata, journal: UploadJournal, intents: Iterable[UploadIntent]
) -> None:
    """Record each intent's prompt as its image's generation, then end the intents."""
    intents = list(intents)
    for intent in intents:
        if intent.prompt is not None:
            metadata.record_generation(intent.filename, **intent.generation)
    if intents:
        journal.end(intent.filename for intent in intents)


def recover_interrupted(
    manifest: TrainingDataManifest,
    metadata: PromptMetadata,
    journal: UploadJournal,
    store: S3Store,
    now: datetime,
    url_for: Callable[[str], str],
    alive: Callable[[int], bool] | None = None,
) -> Recovery:
    """Finish the abandoned intents of ``manifest``'s actor (see the module's docstring).

    A failure to read the journal is logged and nothing is done: recovery never stops the
    generation that runs it.
    """
    actor_name = manifest.character_name
    try:
        intents = journal.pending()
    except TdmError as err:
        log.warning("[S3-ONLY] Interrupted uploads of %s not checked: %s", actor_name, err)
        return Recovery()
    host = this_host()
    abandoned = [
        intent
        for intent in intents.values()
        if (
            is_abandoned(intent, now, host)
            if alive is None
            else is_abandoned(intent, now, host, alive)
        )
    ]
    if not abandoned:
        return Recovery()
    listed = {entry.filename: entry for entry in manifest.load().get_all_images()}
    recovery = Recovery()
    to_adopt: list[tuple[UploadIntent, ObjectInfo]] = []
    to_end: list[str] = []
    to_record: list[UploadIntent] = []
    for intent in abandoned:
        if intent.key != store.key_for(actor_name, intent.filename):
            to_end.append(intent.filename)  # not this actor's key: never acted on
            continue
        if intent.filename in listed:
            if metadata.generation(intent.filename) is None:
                to_record.append(intent)
            else:
                to_end.append(intent.filename)
            continue
        try:
            obj = store.head(intent.key)
        except S3Error as err:
            if err.code in ("NoSuchKey", "NotFound"):
                to_end.append(intent.filename)
                recovery.forgotten.append(intent.filename)
            else:
                log.warning("[S3-ONLY] Interrupted upload %s not checked: %s", intent.key, err)
            continue
        written = obj.last_modified
        if written is not None and written < parse_timestamp(intent.started_at) - CLOCK_SKEW:
            to_end.append(intent.filename)  # an older object: not that run's upload
            recovery.forgotten.append(intent.filename)
            continue
        to_adopt.append((intent, obj))
    if to_adopt:
        entries = [adopted_entry(obj, i.filename, url_for(obj.key)) for i, obj in to_adopt]
        added = {entry.filename for entry in manifest.add_entries(entries)}
        for intent, _obj in to_adopt:
            if intent.filename in added:
                recovery.adopted.append(intent.filename)
                to_record.append(intent)
            else:
                to_end.append(intent.filename)
    try:
        record_and_end(metadata, journal, to_record)
        recovery.recorded.extend(
            i.filename for i in to_record if i.filename not in recovery.adopted
        )
        journal.end(to_end)
    except TdmError as err:
        log.warning("[S3-ONLY] Interrupted uploads of %s: %s", actor_name, one_line(err))
    for name in recovery.adopted:
        log.info("[S3-ONLY] Listed %s, uploaded by a generation that was interrupted", name)
    return recovery
