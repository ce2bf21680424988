"""Moving a catalog in: copy its documents between a folder and an S3 prefix, never overwriting.

Each document is written create-only (``If-None-Match: *`` in S3; a hard-linked temp file in a
folder). One already at the target with the same bytes is skipped quietly (copied before); one
with other bytes is reported and skipped. Only the catalog's own documents are copied (everything
under ``actor_manifests/``, each actor's ``prompt_metadata.json`` and ``base_image/``): the images
stay where their URLs point.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from tdm_desktop.core.documents import DocumentStore
from tdm_desktop.core.errors import (
    BadInputError,
    DocumentExistsError,
    ReadOnlyCatalogError,
    TdmError,
    one_line,
)
from tdm_desktop.core.layout import is_catalog_document

log = logging.getLogger(__name__)

CopyProgress = Callable[[int, int, str, str], None]  # (done, total, name, what happened)

COPIED, ALREADY_THERE, DIFFERENT, FAILED = "copied", "already there", "different", "failed"


@dataclass
class CopyReport:
    """What a copy did, by document name."""

    copied: list[str] = field(default_factory=list)
    already_there: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)  # a different document was there: kept
    failed: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)  # not a catalog document

    @property
    def complete(self) -> bool:
        return not self.different and not self.failed

    def summary(self) -> str:
        line = (
            f"{len(self.copied)} copied, {len(self.already_there)} already there, "
            f"{len(self.different)} skipped (a different document is there)"
        )
        if self.failed:
            line += f", {len(self.failed)} failed"
        if self.ignored:
            line += f", {len(self.ignored)} other files not copied"
        return line


def copy_catalog(
    source: DocumentStore, target: DocumentStore, on_progress: CopyProgress | None = None
) -> CopyReport:
    """Copy every catalog document of ``source`` that ``target`` lacks. Raises
    ``BadInputError`` when ``source`` holds none, ``ReadOnlyCatalogError`` when ``target`` may
    not be written (before anything is copied)."""
    report = CopyReport()
    names = []
    for name in source.names():
        (names if is_catalog_document(name) else report.ignored).append(name)
    if not names:
        raise BadInputError(
            f"{source.location}: no catalog documents (actor_manifests/, actors/) to copy"
        )
    target.check_writable()
    for done, name in enumerate(names, start=1):
        outcome = _copy_one(source, target, name, report)
        if on_progress is not None:
            on_progress(done, len(names), name, outcome)
    log.info("[S3-ONLY] Copied %s to %s: %s", source.location, target.location, report.summary())
    return report


def _copy_one(source: DocumentStore, target: DocumentStore, name: str, report: CopyReport) -> str:
    try:
        data = source.read(name).data
        if data is None:  # gone since the listing
            report.failed[name] = f"{source.url(name)}: removed while copying"
            return FAILED
        try:
            target.write(name, data, expected=None)
        except DocumentExistsError:
            if target.read(name).data == data:
                report.already_there.append(name)
                return ALREADY_THERE
            report.different.append(name)
            return DIFFERENT
    except ReadOnlyCatalogError:
        raise
    except (TdmError, OSError) as err:
        report.failed[name] = one_line(err)
        return FAILED
    report.copied.append(name)
    return COPIED
