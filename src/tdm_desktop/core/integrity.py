"""Audit, repair and migration of one data dir, as one object the window drives.

``IntegrityService`` holds the data dir's catalog and the images' store and hands each call to
``AuditService``, ``RepairService`` and ``MigrationService`` (the CLI's ``audit``, ``repair`` and
``migrate`` use those directly). Every call may take long (one listing of an actor's prefix, all
pages): a caller with a Cancel button passes ``should_stop``, asked while the listing runs
(``AuditCancelledError``: nothing changed).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from tdm_desktop.core.actors import ActorCatalog
from tdm_desktop.core.audit import AuditReport, AuditService, ShouldStop
from tdm_desktop.core.migration import MigrationOutcome, MigrationService
from tdm_desktop.core.repair import Fix, RepairOutcome, RepairService
from tdm_desktop.core.s3_store import S3Store
from tdm_desktop.core.timestamps import Clock


class IntegrityService:
    def __init__(self, catalog: ActorCatalog, store: S3Store, clock: Clock | None = None) -> None:
        self._catalog = catalog
        self._auditor = AuditService(catalog, store, clock=clock)
        self._repairer = RepairService(self._auditor)
        self._migrator = MigrationService(catalog, store, clock=clock)

    def audit(self, actor_id: str, should_stop: ShouldStop | None = None) -> AuditReport:
        """One fresh audit of the actor (``AuditService.audit_actor``)."""
        return self._auditor.audit_actor(actor_id, should_stop)

    def repair(
        self,
        actor_id: str,
        fixes: Iterable[Fix],
        should_stop: ShouldStop | None = None,
        only: Collection[str] | None = None,
    ) -> RepairOutcome:
        """``fixes`` from one fresh audit (``RepairService.repair``), limited to the findings of
        the filenames ``only`` when given (a delete confirmed for those); ``should_stop`` is
        asked during that audit only: once changes begin, they all run."""
        return self._repairer.repair(actor_id, fixes, should_stop, only)

    def migrate(
        self, actor_id: str, *, dry_run: bool, should_stop: ShouldStop | None = None
    ) -> MigrationOutcome:
        """``MigrationService.migrate``: a dry run writes nothing."""
        return self._migrator.migrate(actor_id, dry_run=dry_run, should_stop=should_stop)

    def check_writable(self) -> None:
        """``ReadOnlyCatalogError`` when this account may only read the catalog (asked without
        writing anything)."""
        self._catalog.documents.check_writable()
