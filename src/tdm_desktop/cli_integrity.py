"""``tdm-desktop audit``, ``repair`` and ``migrate``: the manifest against S3, and sync-era
manifests to the design's structure. Thin shells over ``core/audit.py``, ``core/repair.py`` and
``core/migration.py``; ``cli.py`` registers them.

Exit codes as everywhere: 0 done (audit: clean); 1 failed or partly failed (audit: findings, or a
listing that stopped early); 2 bad usage or bad input (an unknown actor, an invalid manifest).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from tdm_desktop.core.errors import BadInputError, TdmError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

CommandFactory = Callable[[str, str], argparse.ArgumentParser]


def add_commands(command: CommandFactory) -> None:
    """Register the three commands with ``command(name, help)`` (``cli.build_parser``'s)."""
    audit = command(
        "audit",
        "compare manifests with S3: orphans, dangling entries, sizes, foreign URLs, duplicates, "
        "stale prompt metadata (exit 1 on findings)",
    )
    audit.add_argument("actor_ids", metavar="ID", nargs="*", help="actor IDs (e.g. 0042 or 42)")
    audit.add_argument("--all", action="store_true", help="every actor of the data dir")
    audit.add_argument("--json", action="store_true", help="print JSON")
    audit.epilog = (
        "One ListObjectsV2 listing (all pages) per actor. Exit 0 clean, 1 findings or a listing "
        "that stopped early, 2 bad input."
    )

    repair = command(
        "repair",
        "fix what audit found, one named kind at a time; without a fix flag, a dry run that "
        "prints what each would change",
    )
    repair.add_argument("actor_id", metavar="ID")
    fixes = repair.add_argument_group("fixes (each names one kind of finding)")
    fixes.add_argument(
        "--adopt-orphans",
        action="store_true",
        help="list objects the manifest does not list (size and date from S3)",
    )
    fixes.add_argument(
        "--drop-dangling",
        action="store_true",
        help="stop listing images whose object is not in S3 (and forget their prompt metadata)",
    )
    fixes.add_argument(
        "--fix-sizes", action="store_true", help="record each object's real size in the manifest"
    )
    fixes.add_argument(
        "--forget-stale",
        action="store_true",
        help="drop prompt-metadata entries of images the manifest does not list",
    )
    fixes.add_argument(
        "--delete-orphans",
        action="store_true",
        help="delete from S3 the objects the manifest does not list (needs --yes)",
    )
    repair.add_argument("--yes", action="store_true", help="really delete (for --delete-orphans)")
    repair.epilog = (
        "Works from one fresh audit and refuses an incomplete one. A second run changes nothing. "
        "Never touched: foreign URLs, objects outside the actor's prefix or with names the app "
        "does not write, an object a generation is uploading right now."
    )

    migrate = command(
        "migrate",
        "turn manifests written before the S3-only change into the design's structure, keeping "
        "the original as {id}_manifest.json.sync-era",
    )
    migrate.add_argument("actor_ids", metavar="ID", nargs="*", help="actor IDs (e.g. 0042 or 42)")
    migrate.add_argument("--all", action="store_true", help="every actor of the data dir")
    migrate.add_argument(
        "--dry-run", action="store_true", help="print what would change, write nothing"
    )
    migrate.epilog = "The sync-era keys it recognises and what it keeps: docs/MIGRATION.md."


# -- helpers ----------------------------------------------------------------------------------


def _catalog_and_store(args: argparse.Namespace):
    """The data dir's catalog (a folder or an ``s3://`` prefix) and the images' store, one
    client for both."""
    from pathlib import Path

    from tdm_desktop.cli import data_dir_of, make_store, open_catalog
    from tdm_desktop.core.actors import ActorCatalog

    where = data_dir_of(args)
    if isinstance(where, Path) and not where.is_dir():
        raise BadInputError(
            f"data dir {where}: not found (set --data-dir or TDM_DATA_DIR; "
            "`tdm-desktop demo` prints the demo's)"
        )
    store = make_store(args)
    return ActorCatalog(open_catalog(where, store)), store


def _actor_ids(args: argparse.Namespace, catalog) -> list[str]:
    from tdm_desktop.core.names import normalize_actor_id

    if args.all and args.actor_ids:
        raise BadInputError(f"{args.command}: give actor IDs or --all, not both")
    if args.all:
        return [actor.actor_id for actor in catalog.list_actors()]
    if not args.actor_ids:
        raise BadInputError(f"{args.command}: give one or more actor IDs, or --all")
    return list(dict.fromkeys(normalize_actor_id(raw) for raw in args.actor_ids))


def _problem(actor_id: str, err: TdmError) -> None:
    print(f"tdm-desktop: actor {actor_id}: {err}", file=sys.stderr)


# -- audit ------------------------------------------------------------------------------------


def cmd_audit(args: argparse.Namespace) -> int:
    from tdm_desktop.core.audit import AuditService

    catalog, store = _catalog_and_store(args)
    actor_ids = _actor_ids(args, catalog)
    if not actor_ids:
        print("[]" if args.json else f"no actors in {catalog.manifests_location}")
        return EXIT_OK
    auditor = AuditService(catalog, store)
    reports, broken = [], {}
    for actor_id in actor_ids:
        try:
            reports.append(auditor.audit_actor(actor_id))
        except BadInputError as err:
            if len(actor_ids) == 1:
                raise
            broken[actor_id] = str(err)
            _problem(actor_id, err)
    if args.json:
        rows = [report.to_json() for report in reports]
        rows += [{"actor_id": actor_id, "problem": problem} for actor_id, problem in broken.items()]
        print(json.dumps(sorted(rows, key=lambda row: row["actor_id"]), indent=2))
    else:
        for report in reports:
            _print_report(report)
        _print_summary(reports, broken)
    if broken:
        return EXIT_USAGE
    return EXIT_OK if all(report.clean for report in reports) else EXIT_FAILED


def _print_report(report) -> None:
    head = f"{report.actor_id}  {report.actor_name}"
    counts = f"{report.entry_count} listed, {len(report.listing.objects)} objects in S3"
    if not report.complete:
        print(f"{head}: INCOMPLETE ({counts} before it stopped): {report.listing.error}")
        print("  dangling entries cannot be told from an incomplete listing; repair refuses it")
    elif not report.findings:
        print(f"{head}: clean ({counts})")
        return
    else:
        word = "finding" if len(report.findings) == 1 else "findings"
        print(f"{head}: {len(report.findings)} {word} ({counts})")
    width = max((len(str(f.kind)) for f in report.findings), default=0)
    for finding in report.findings:
        print(f"  {finding.kind!s:<{width}}  {finding.filename}: {finding.detail}")
        print(f"  {'':<{width}}  -> {finding.fix}")


def _print_summary(reports, broken: dict[str, str]) -> None:
    if len(reports) + len(broken) < 2:
        return
    clean = sum(1 for r in reports if r.clean)
    incomplete = sum(1 for r in reports if not r.complete)
    found = len(reports) - clean - incomplete
    parts = [f"{clean} clean", f"{found} with findings"]
    parts += [f"{incomplete} incomplete"] if incomplete else []
    parts += [f"{len(broken)} not audited (bad input)"] if broken else []
    print(f"{len(reports) + len(broken)} actors: {', '.join(parts)}")


# -- repair -----------------------------------------------------------------------------------


def _requested_fixes(args: argparse.Namespace):
    from tdm_desktop.core.repair import Fix

    flags = {
        Fix.ADOPT_ORPHANS: args.adopt_orphans,
        Fix.DROP_DANGLING: args.drop_dangling,
        Fix.FIX_SIZES: args.fix_sizes,
        Fix.FORGET_STALE: args.forget_stale,
        Fix.DELETE_ORPHANS: args.delete_orphans,
    }
    fixes = {fix for fix, wanted in flags.items() if wanted}
    if args.adopt_orphans and args.delete_orphans:
        raise BadInputError("repair: --adopt-orphans and --delete-orphans exclude each other")
    if args.delete_orphans and not args.yes:
        raise BadInputError("repair: --delete-orphans deletes from S3; add --yes to do it")
    return fixes


def cmd_repair(args: argparse.Namespace) -> int:
    from tdm_desktop.core.audit import AuditService
    from tdm_desktop.core.repair import Fix, RepairService

    fixes = _requested_fixes(args)
    service = RepairService(AuditService(*_catalog_and_store(args)))
    if not fixes:
        return _dry_run(service, args.actor_id, Fix)
    outcome = service.repair(args.actor_id, fixes)
    report = outcome.report
    print(f"{report.actor_id}  {report.actor_name}")
    if not outcome.plan.changes:
        print("  nothing to repair for " + ", ".join(f"--{fix}" for fix in sorted(fixes)))
    for change in outcome.done:
        print(f"  done     --{change.fix}: {change.describe()}")
    for name, reason in outcome.skipped.items():
        print(f"  skipped  {name}: {reason}")
    for name, reason in outcome.failed.items():
        print(f"  FAILED   {name}: {reason}")
    _print_left_alone(outcome.plan.left_alone)
    print(
        f"{len(outcome.done)} changed, {len(outcome.skipped)} skipped, {len(outcome.failed)} failed"
    )
    return EXIT_OK if outcome.complete else EXIT_FAILED


def _dry_run(service, actor_id: str, fix_enum) -> int:
    report, plan = service.plan(actor_id, set(fix_enum) - {fix_enum.DELETE_ORPHANS})
    print(f"{report.actor_id}  {report.actor_name}: dry run, nothing changed")
    for change in plan.changes:
        print(f"  --{change.fix}: would {change.describe()}")
        if change.fix is fix_enum.ADOPT_ORPHANS:
            print(f"    or --delete-orphans --yes: would delete s3 object {change.finding.key}")
    _print_left_alone(plan.left_alone)
    if not plan.changes:
        print("  nothing to repair")
    return EXIT_OK


def _print_left_alone(findings) -> None:
    for finding in findings:
        print(f"  left alone  {finding.kind} {finding.filename}: {finding.detail}")
        print(f"              -> {finding.fix}")


# -- migrate ----------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    from tdm_desktop.core.migration import MigrationService

    catalog, store = _catalog_and_store(args)
    actor_ids = _actor_ids(args, catalog)
    if not actor_ids:
        print(f"no actors in {catalog.manifests_location}")
        return EXIT_OK
    service = MigrationService(catalog, store)
    codes = []
    for actor_id in actor_ids:
        try:
            outcome = service.migrate(actor_id, dry_run=args.dry_run)
        except BadInputError as err:
            if len(actor_ids) == 1:
                raise
            _problem(actor_id, err)
            codes.append(EXIT_USAGE)
            continue
        except TdmError as err:
            if len(actor_ids) == 1:
                raise
            _problem(actor_id, err)
            codes.append(EXIT_FAILED)
            continue
        _print_migration(outcome, args.dry_run)
        codes.append(EXIT_OK)
    return max(codes)


def _print_migration(outcome, dry_run: bool) -> None:
    migration = outcome.migration
    if migration is None:
        print(f"{outcome.actor_id}  already in the design's structure: nothing to do")
        return
    verb = ("would keep", "would drop") if dry_run else ("kept", "dropped")
    line = f"{outcome.actor_id}  {verb[0]} {len(migration.kept)} entries"
    if migration.dropped:
        line += f", {verb[1]} {len(migration.dropped)} with no object in S3"
    print(line)
    for name in migration.dropped:
        print(f"  {verb[1]}  {name}: no object in S3 (its local file was deleted)")
    for name in migration.given_url:
        print(f"  {verb[0]}  {name}: had no s3_url; its object is in S3, so it gets its URL")
    for name in migration.foreign:
        print(f"  {verb[0]}  {name}: a URL the app refuses (not checked; see tdm-desktop audit)")
    print(f"  sync-era keys removed: {', '.join(migration.sync_keys)}")
    if dry_run:
        print("  dry run: nothing written")
    else:
        print(f"  the original is kept as {outcome.copy_url}")


COMMANDS = {"audit": cmd_audit, "repair": cmd_repair, "migrate": cmd_migrate}
