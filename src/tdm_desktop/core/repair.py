"""Repair: fix what one fresh audit found, one named kind at a time.

``plan_repair(report, fixes)`` is pure: what each requested fix would change. ``RepairService``
runs a fresh audit, plans, and applies the plan through the same safe writes as every other change
(the manifest's and the prompt metadata's locked, re-read, atomic changes; S3 deletes first, with
DeleteObjects). Each change re-checks its own condition on the fresh file, so a repair racing
another curator's change never undoes it: an image listed meanwhile is not adopted twice nor
deleted, a size changed meanwhile is left as the other change set it. Running a repair twice
changes nothing the second time.

Never touched: an object outside the actor's prefix or with a name this app would not write, a
foreign URL, an object a generation is uploading right now, anything when the listing was
incomplete.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from tdm_desktop.core.actors import ActorCatalog
from tdm_desktop.core.audit import (
    MIB,
    AuditReport,
    AuditService,
    Finding,
    FindingKind,
    ShouldStop,
)
from tdm_desktop.core.errors import TdmError, one_line
from tdm_desktop.core.interrupted import adopted_entry, record_and_end
from tdm_desktop.core.manifest import TrainingDataManifest, size_mb
from tdm_desktop.core.s3_store import S3Store
from tdm_desktop.core.upload_journal import UploadJournal

log = logging.getLogger(__name__)


class Fix(StrEnum):
    """The fixes, in the order they are applied; each fixes exactly one kind of finding."""

    DROP_DANGLING = "drop-dangling"
    FIX_SIZES = "fix-sizes"
    ADOPT_ORPHANS = "adopt-orphans"
    DELETE_ORPHANS = "delete-orphans"
    FORGET_STALE = "forget-stale"


FIXES_KIND = {
    Fix.DROP_DANGLING: FindingKind.DANGLING,
    Fix.FIX_SIZES: FindingKind.SIZE_MISMATCH,
    Fix.ADOPT_ORPHANS: FindingKind.ORPHAN,
    Fix.DELETE_ORPHANS: FindingKind.ORPHAN,
    Fix.FORGET_STALE: FindingKind.STALE_METADATA,
}


class RefusedRepairError(TdmError):
    """The audit the repair would work from is incomplete: nothing is changed."""


@dataclass(frozen=True)
class PlannedChange:
    fix: Fix
    finding: Finding

    @property
    def filename(self) -> str:
        return self.finding.filename

    def describe(self) -> str:
        finding = self.finding
        if self.fix is Fix.DROP_DANGLING:
            return f"stop listing {finding.filename} (no object in S3; its prompt metadata too)"
        if self.fix is Fix.FIX_SIZES:
            assert finding.obj is not None and finding.entry is not None
            return (
                f"record {finding.filename}'s size as {size_mb(finding.obj.size)} MB "
                f"(was {finding.entry.size_mb} MB)"
            )
        if self.fix is Fix.ADOPT_ORPHANS:
            assert finding.obj is not None
            made = " with the prompt it was generated from" if finding.intent else ""
            return f"list {finding.filename} ({finding.obj.size / MIB:.2f} MB){made}"
        if self.fix is Fix.DELETE_ORPHANS:
            return f"delete s3 object {finding.key}"
        return f"forget {finding.filename}'s prompt metadata"


@dataclass(frozen=True)
class RepairPlan:
    changes: tuple[PlannedChange, ...]
    left_alone: tuple[Finding, ...]  # findings no requested fix changes

    def of_fix(self, fix: Fix) -> list[PlannedChange]:
        return [change for change in self.changes if change.fix is fix]


def plan_repair(
    report: AuditReport, fixes: Iterable[Fix], only: Collection[str] | None = None
) -> RepairPlan:
    """What ``fixes`` would change given ``report``; ``only``: just the findings of these
    filenames (what a curator confirmed; anything the fresh audit found besides is left
    alone). Raises ``RefusedRepairError`` when the report is incomplete, ``ValueError`` when
    asked to adopt and delete orphans at once."""
    fixes = set(fixes)
    if {Fix.ADOPT_ORPHANS, Fix.DELETE_ORPHANS} <= fixes:
        raise ValueError("adopting and deleting orphans exclude each other")
    if not report.complete:
        raise RefusedRepairError(
            f"actor {report.actor_id}: not repaired: the audit is incomplete "
            f"({report.listing.error}); nothing was changed"
        )
    changes: list[PlannedChange] = []
    changed: set[int] = set()
    for fix in Fix:
        if fix not in fixes:
            continue
        for finding in report.of_kind(FIXES_KIND[fix]):
            if finding.repairable and (only is None or finding.filename in only):
                changes.append(PlannedChange(fix, finding))
                changed.add(id(finding))
    left_alone = tuple(f for f in report.findings if id(f) not in changed)
    return RepairPlan(tuple(changes), left_alone)


@dataclass(frozen=True)
class RepairOutcome:
    """What a repair did: ``done`` as planned; ``skipped``: a change another process made
    meanwhile made unnecessary (``filename → why``); ``failed``: ``filename → why``."""

    report: AuditReport
    plan: RepairPlan
    done: list[PlannedChange] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.failed


class RepairService:
    """Repairs from a fresh audit of ``auditor`` (its catalog and store are the ones changed)."""

    def __init__(self, auditor: AuditService) -> None:
        self.auditor = auditor
        self.catalog: ActorCatalog = auditor.catalog
        self.store: S3Store = auditor.store

    def plan(
        self,
        actor_id: str,
        fixes: Iterable[Fix],
        should_stop: ShouldStop | None = None,
        only: Collection[str] | None = None,
    ) -> tuple[AuditReport, RepairPlan]:
        """One fresh audit and what ``fixes`` would change (a dry run)."""
        report = self.auditor.audit_actor(actor_id, should_stop)
        return report, plan_repair(report, fixes, only)

    def repair(
        self,
        actor_id: str,
        fixes: Iterable[Fix],
        should_stop: ShouldStop | None = None,
        only: Collection[str] | None = None,
    ) -> RepairOutcome:
        """Repair from one fresh audit (``only``: as ``plan_repair``). ``should_stop()`` is
        asked during that audit's listing (``AuditCancelledError``: nothing changed); once
        changes begin they all run."""
        report, plan = self.plan(actor_id, fixes, should_stop, only)
        outcome = RepairOutcome(report, plan)
        if not plan.changes:
            return outcome
        manifest = self.catalog.manifest(report.actor_id)
        steps = {
            Fix.DROP_DANGLING: self._drop_dangling,
            Fix.FIX_SIZES: self._fix_sizes,
            Fix.ADOPT_ORPHANS: self._adopt,
            Fix.DELETE_ORPHANS: self._delete_orphans,
            Fix.FORGET_STALE: self._forget_stale,
        }
        for fix, step in steps.items():
            changes = plan.of_fix(fix)
            if not changes:
                continue
            try:
                step(manifest, changes, outcome)
            except (TdmError, OSError) as err:
                for change in changes:
                    if change not in outcome.done and change.filename not in outcome.skipped:
                        outcome.failed[change.filename] = one_line(err)
        for change in outcome.done:
            log.info("[S3-ONLY] Repaired %s: %s", report.actor_name, change.describe())
        return outcome

    # -- the steps -------------------------------------------------------------------------------

    def _drop_dangling(
        self, manifest: TrainingDataManifest, changes: list[PlannedChange], outcome: RepairOutcome
    ) -> None:
        report = outcome.report
        removed = set(manifest.remove_images(change.filename for change in changes))
        self._settle(changes, removed, outcome, "no longer listed (another change removed it)")
        if removed:
            self.catalog.prompt_metadata(report.actor_name).forget(sorted(removed))

    def _fix_sizes(
        self, manifest: TrainingDataManifest, changes: list[PlannedChange], outcome: RepairOutcome
    ) -> None:
        corrections = {}
        for change in changes:
            assert change.finding.entry is not None and change.finding.obj is not None
            corrections[change.filename] = (
                change.finding.entry.size_mb,
                size_mb(change.finding.obj.size),
            )
        updated = set(manifest.update_sizes(corrections))
        self._settle(changes, updated, outcome, "its entry changed meanwhile; left as it is")

    def _adopt(
        self, manifest: TrainingDataManifest, changes: list[PlannedChange], outcome: RepairOutcome
    ) -> None:
        report = outcome.report
        entries = []
        for change in changes:
            obj = change.finding.obj
            assert obj is not None
            entries.append(adopted_entry(obj, change.filename, self.store.aws_url_for(obj.key)))
        added = {entry.filename for entry in manifest.add_entries(entries)}
        self._settle(changes, added, outcome, "listed meanwhile by another change")
        intents = [c.finding.intent for c in changes if c.finding.intent and c.filename in added]
        if intents:
            record_and_end(
                self.catalog.prompt_metadata(report.actor_name),
                UploadJournal.for_actor(self.catalog.documents, report.actor_name),
                intents,
            )

    def _delete_orphans(
        self, manifest: TrainingDataManifest, changes: list[PlannedChange], outcome: RepairOutcome
    ) -> None:
        report = outcome.report
        listed_now = {entry.filename for entry in manifest.load().get_all_images()}
        prefix = self.store.actor_prefix(report.actor_name)
        by_key = {}
        for change in changes:
            key = change.finding.key
            if change.filename in listed_now:
                outcome.skipped[change.filename] = "listed meanwhile by another change; kept"
            elif key is not None and key == prefix + change.filename:
                by_key[key] = change
        deleted = self.store.delete_keys(list(by_key))
        for key, reason in deleted.failed.items():
            outcome.failed[by_key[key].filename] = f"not deleted from S3: {reason}"
        gone = [by_key[key] for key in deleted.deleted]
        outcome.done.extend(gone)
        ended = [c.filename for c in gone if c.finding.intent is not None]
        if ended:
            UploadJournal.for_actor(self.catalog.documents, report.actor_name).end(ended)

    def _forget_stale(
        self, manifest: TrainingDataManifest, changes: list[PlannedChange], outcome: RepairOutcome
    ) -> None:
        report = outcome.report
        listed_now = {entry.filename for entry in manifest.load().get_all_images()}
        wanted = [c.filename for c in changes if c.filename not in listed_now]
        forgotten = set(self.catalog.prompt_metadata(report.actor_name).forget(wanted))
        self._settle(changes, forgotten, outcome, "listed or forgotten meanwhile; kept")

    @staticmethod
    def _settle(
        changes: list[PlannedChange], made: set[str], outcome: RepairOutcome, otherwise: str
    ) -> None:
        for change in changes:
            if change.filename in made:
                outcome.done.append(change)
            else:
                outcome.skipped[change.filename] = otherwise
