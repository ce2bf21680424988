"""The window's words for an audit (ui/integrity/findings.py): the actor list's mark, the fixes a
check offers (none for an incomplete listing, all off for a read-only account), what to do."""

from __future__ import annotations

from datetime import datetime

from tdm_desktop.core.audit import AuditReport, Finding, FindingKind, Listing
from tdm_desktop.core.errors import SyncEraManifestError
from tdm_desktop.core.repair import Fix
from tdm_desktop.ui.common.messages import failure_text
from tdm_desktop.ui.integrity.findings import check_mark, fix_offers, report_summary, window_fix

PREFIX = "system_actors/training_data/0042_european_30_male/"


def finding(kind: FindingKind, filename: str, repairable: bool = True) -> Finding:
    return Finding(kind, filename, "what", "`tdm-desktop repair 0042 --x`", repairable=repairable)


def report(*findings: Finding, error: str | None = None) -> AuditReport:
    return AuditReport("0042", "0042_european_30_male", 3, Listing(PREFIX, (), error), findings)


AT_2310 = datetime(2026, 3, 1, 23, 10).astimezone()  # 23:10 here


def test_the_mark_says_how_many_findings_when_and_of_which_kinds():
    found = report(
        finding(FindingKind.ORPHAN, "a.jpg"),
        finding(FindingKind.DANGLING, "b.jpg"),
        finding(FindingKind.DANGLING, "c.jpg"),
    )
    mark = check_mark(found, AT_2310)
    assert mark is not None and (mark.count, mark.complete) == (3, True)
    assert mark.text == "3 findings at 23:10: 1 orphan, 2 dangling"
    assert check_mark(report(), AT_2310) is None  # clean: no mark
    incomplete = check_mark(report(finding(FindingKind.ORPHAN, "a.jpg"), error="stopped"), AT_2310)
    assert incomplete is not None and not incomplete.complete
    assert incomplete.text == "check at 23:10 incomplete (the listing stopped): 1 orphan so far"


def test_the_fixes_offered_follow_the_kinds_found():
    found = report(
        finding(FindingKind.ORPHAN, "a.jpg"),
        finding(FindingKind.ORPHAN, "drafts/b.jpg", repairable=False),
        finding(FindingKind.DUPLICATE, "c.jpg", repairable=False),
        finding(FindingKind.STALE_METADATA, "d.jpg"),
        finding(FindingKind.STALE_METADATA, "e.jpg"),
    )
    offers = {o.fix: (o.label, o.enabled) for o in fix_offers(found)}
    assert offers == {
        Fix.ADOPT_ORPHANS: ("Adopt 1 orphan", True),
        Fix.DELETE_ORPHANS: ("Delete 1 orphan from S3…", True),
        Fix.FORGET_STALE: ("Forget 2 stale metadata entries", True),
    }
    only_left_alone = report(finding(FindingKind.ORPHAN, "drafts/b.jpg", repairable=False))
    assert [(o.label, o.enabled) for o in fix_offers(only_left_alone)] == [
        ("Adopt 0 orphans", False),
        ("Delete 0 orphans from S3…", False),
    ]
    read_only = fix_offers(found, "this account can only read s3://b/c: AccessDenied")
    assert {o.enabled for o in read_only} == {False}
    assert read_only[0].tooltip == "Read-only: this account can only read s3://b/c: AccessDenied"
    incomplete = report(finding(FindingKind.ORPHAN, "a.jpg"), error="the listing stopped early")
    assert fix_offers(incomplete) == []
    assert report_summary(incomplete) == (
        "Incomplete (3 listed, 0 objects in S3 before the listing stopped)"
    )


def test_what_to_do_names_the_windows_buttons_not_the_command_line():
    assert window_fix(finding(FindingKind.DANGLING, "b.jpg")) == (
        "Drop dangling entries stops listing it"
    )
    assert window_fix(finding(FindingKind.DUPLICATE, "c.jpg", repairable=False)) == (
        "keep one: delete c.jpg (or the other) in the grid"
    )
    left_alone = finding(FindingKind.ORPHAN, "drafts/b.jpg", repairable=False)
    assert window_fix(left_alone) == left_alone.fix  # its own words: nothing here fixes it


def test_a_sync_era_manifest_in_the_window_says_what_to_do_here_too():
    error = SyncEraManifestError("s3://b/catalog/actor_manifests/0521_manifest.json", "0521")
    assert failure_text(error, "Could not open actor 0521") == (
        "Could not open actor 0521: written before the S3-only change: run tdm-desktop migrate "
        "0521, or use Actor → Migrate… here"
    )
