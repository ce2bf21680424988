"""Check against S3, its fixes and Migrate…, run in the background, and the last check of each
actor remembered for the session.

``IntegrityController`` runs one job at a time on a runner of its own (a long listing never holds
up opening an actor), never on the GUI thread. Each job asks whether this account may change the
catalog (``check_writable``: S3 answers without anything being written), so the fixes can be
offered or said to be off. ``cancel()`` stops the listing a job is reading (the job then ends
with ``cancelled``; nothing was changed); once a fix has begun changing things it runs to its end.

The last check of each actor is kept in memory for as long as the window is open (never written
anywhere): ``mark(actor_id)`` is the actor list's mark, cleared by a clean check, and a repair
leaves the mark its check afterwards gives.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from tdm_desktop.core.audit import AuditCancelledError, AuditReport, ShouldStop
from tdm_desktop.core.errors import ReadOnlyCatalogError, SyncEraManifestError, TdmError
from tdm_desktop.core.migration import MigrationOutcome
from tdm_desktop.core.repair import Fix, RepairOutcome
from tdm_desktop.core.timestamps import Clock, utc_now
from tdm_desktop.ui.common.jobs import JobRunner
from tdm_desktop.ui.common.messages import failure_text
from tdm_desktop.ui.integrity.findings import CheckMark, check_mark

log = logging.getLogger(__name__)


JOB_NAMES = {
    "check": "check",
    "repair": "fix",
    "read the migration of": "migration's dry run",
    "migrate": "migration",
}
READ_ONLY_JOBS = ("check ", "migration's dry run ")
"""Jobs that change nothing: one left running when the window closes needs no word."""


class IntegrityWork(Protocol):
    """Audit, repair and migration of the open data dir (``core.integrity.IntegrityService``)."""

    def audit(self, actor_id: str, should_stop: ShouldStop | None = None) -> AuditReport: ...
    def repair(
        self,
        actor_id: str,
        fixes: Iterable[Fix],
        should_stop: ShouldStop | None = None,
        only: Collection[str] | None = None,
    ) -> RepairOutcome: ...
    def migrate(
        self, actor_id: str, *, dry_run: bool, should_stop: ShouldStop | None = None
    ) -> MigrationOutcome: ...
    def check_writable(self) -> None: ...


class IntegritySource(Protocol):
    """What Check against S3… and Migrate… ask of the service layer (``TrainingDataService``)."""

    def integrity(self) -> IntegrityWork: ...


@dataclass(frozen=True)
class CheckResult:
    """One check: the audit, when it was made, and why the fixes are off (None: they may run)."""

    report: AuditReport
    checked_at: datetime  # aware
    read_only: str | None = None


@dataclass(frozen=True)
class RepairResult:
    """One fix: what it did, and the check made right after (None when that was cancelled or
    failed: ``after_problem`` says which)."""

    fix: Fix
    outcome: RepairOutcome
    after: CheckResult | None
    after_problem: str | None = None


@dataclass(frozen=True)
class MigrationResult:
    """A migration, or its dry run, and why it may not be written (None: it may)."""

    outcome: MigrationOutcome
    read_only: str | None = None


class IntegrityController(QObject):
    """Runs the checks, fixes and migrations; remembers each actor's last check.

    Signals, all with the actor's ID first: ``started(actor_id, what)`` when a job is queued;
    ``checked(actor_id, CheckResult)``, ``repaired(actor_id, RepairResult)``,
    ``migration_read(actor_id, MigrationResult)`` (a dry run), ``migrated(actor_id,
    MigrationResult)``; ``failed(actor_id, message, sync_era)`` (``sync_era``: the manifest needs
    Migrate… first); ``cancelled(actor_id)``; ``mark_changed(actor_id)`` when the actor list's
    mark for it changed.
    """

    started = Signal(str, str)
    checked = Signal(str, object)
    repaired = Signal(str, object)
    migration_read = Signal(str, object)
    migrated = Signal(str, object)
    failed = Signal(str, str, bool)
    cancelled = Signal(str)
    mark_changed = Signal(str)

    def __init__(
        self,
        service: IntegritySource,
        *,
        clock: Clock | None = None,
        jobs: JobRunner | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._clock = clock or utc_now
        self._jobs = jobs if jobs is not None else JobRunner(max_threads=1, parent=self)
        self._stop: threading.Event | None = None
        self._last: dict[str, CheckResult] = {}
        self._marks: dict[str, CheckMark] = {}

    # -- what is remembered ------------------------------------------------------------------

    def last_check(self, actor_id: str) -> CheckResult | None:
        return self._last.get(actor_id)

    def mark(self, actor_id: str) -> CheckMark | None:
        """The actor list's mark: the actor's last check found something (None: clean or not
        checked this session)."""
        return self._marks.get(actor_id)

    def is_busy(self) -> bool:
        return self._stop is not None

    def cancel(self) -> None:
        """Stop the listing the running job reads (no-op when none runs)."""
        if self._stop is not None:
            self._stop.set()

    def wait_for_jobs(self, msecs: int = -1) -> bool:
        return self._jobs.wait_for_done(msecs)

    def shutdown(self, deadline: float) -> list[str]:
        """The window closes: the listing a job reads stops (``cancel``); a job still running
        at ``deadline`` (``time.monotonic()``) is left to end unseen. A check only reads; a fix
        or a migration still running may have done part of its writes (each one whole: they
        are conditional), which the returned (and logged) line says, with what to do."""
        self.cancel()
        unfinished = self._jobs.shutdown(deadline)
        lines = [
            f"The {what} was still running when the window closed: it may have made part of "
            "its changes; run Check against S3… on the actor again"
            for what in unfinished.running
            if not what.startswith(READ_ONLY_JOBS)
        ]
        for line in lines:
            log.warning("%s", line)
        return lines

    # -- the jobs ------------------------------------------------------------------------------

    def check(self, actor_id: str) -> bool:
        """Audit ``actor_id`` in the background; False (nothing started) while a job runs."""

        def work(stop: ShouldStop) -> CheckResult:
            return self._check(self._service.integrity(), actor_id, stop)

        return self._start(actor_id, "check", work, self._on_checked)

    def repair(self, actor_id: str, fix: Fix, only: Collection[str] | None = None) -> bool:
        """Apply ``fix`` from a fresh audit (to the findings of the filenames ``only`` when
        given), then check again, in the background."""

        def work(stop: ShouldStop) -> RepairResult:
            integrity = self._service.integrity()
            outcome = integrity.repair(actor_id, {fix}, stop, only)
            try:
                after = self._check(integrity, actor_id, stop)
            except AuditCancelledError:
                return RepairResult(fix, outcome, None, "the check afterwards was cancelled")
            except TdmError as err:
                return RepairResult(fix, outcome, None, failure_text(err, "Checking again"))
            return RepairResult(fix, outcome, after)

        return self._start(actor_id, "repair", work, self._on_repaired)

    def read_migration(self, actor_id: str) -> bool:
        """The dry run of migrating ``actor_id``: what would be kept and dropped."""

        def work(stop: ShouldStop) -> MigrationResult:
            integrity = self._service.integrity()
            outcome = integrity.migrate(actor_id, dry_run=True, should_stop=stop)
            return MigrationResult(outcome, _read_only_reason(integrity))

        return self._start(actor_id, "read the migration of", work, self.migration_read.emit)

    def migrate(self, actor_id: str) -> bool:
        """Migrate ``actor_id`` (the original kept beside it as ``.sync-era``)."""

        def work(stop: ShouldStop) -> MigrationResult:
            integrity = self._service.integrity()
            return MigrationResult(integrity.migrate(actor_id, dry_run=False, should_stop=stop))

        return self._start(actor_id, "migrate", work, self.migrated.emit)

    def _check(self, integrity: IntegrityWork, actor_id: str, stop: ShouldStop) -> CheckResult:
        report = integrity.audit(actor_id, stop)
        return CheckResult(report, self._clock(), _read_only_reason(integrity))

    def _start(
        self,
        actor_id: str,
        what: str,
        work: Callable[[ShouldStop], object],
        deliver: Callable[[str, Any], None],
    ) -> bool:
        """Run ``work(should_stop)`` unless a job runs; ``what``: the job's name in its
        messages (``started``, "Could not {what} actor 0042")."""
        if self._stop is not None:
            return False
        stop = self._stop = threading.Event()
        self.started.emit(actor_id, what)

        def done(result: object) -> None:
            self._stop = None
            deliver(actor_id, result)

        def failed(error: BaseException) -> None:
            self._stop = None
            self._on_failed(actor_id, what, error)

        self._jobs.run(
            lambda: work(stop.is_set),
            on_result=done,
            on_error=failed,
            what=f"{JOB_NAMES.get(what, what)} of actor {actor_id}",
        )
        return True

    # -- results -------------------------------------------------------------------------------

    def _on_checked(self, actor_id: str, result: CheckResult) -> None:
        self._remember(actor_id, result)
        self.checked.emit(actor_id, result)

    def _on_repaired(self, actor_id: str, result: RepairResult) -> None:
        if result.after is not None:
            self._remember(actor_id, result.after)
        self.repaired.emit(actor_id, result)

    def _on_failed(self, actor_id: str, what: str, error: BaseException) -> None:
        if isinstance(error, AuditCancelledError):
            log.info("%s of actor %s cancelled", what, actor_id)
            self.cancelled.emit(actor_id)
            return
        message = failure_text(error, f"Could not {what} actor {actor_id}")
        log.warning("%s", message)
        self.failed.emit(actor_id, message, isinstance(error, SyncEraManifestError))

    def _remember(self, actor_id: str, result: CheckResult) -> None:
        self._last[actor_id] = result
        mark = check_mark(result.report, result.checked_at)
        if mark == self._marks.get(actor_id):
            return
        if mark is None:
            del self._marks[actor_id]
        else:
            self._marks[actor_id] = mark
        self.mark_changed.emit(actor_id)


def _read_only_reason(integrity: IntegrityWork) -> str | None:
    """Why this account may only read the catalog, or None. A check that cannot be made now is
    logged: a fix then says what is wrong when it writes."""
    try:
        integrity.check_writable()
    except ReadOnlyCatalogError as err:
        return str(err)
    except (TdmError, OSError) as err:
        log.warning("could not check whether this account may write the catalog: %s", err)
    return None
