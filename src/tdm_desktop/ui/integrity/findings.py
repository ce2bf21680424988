"""The window's words for an audit: each kind of finding, what to do about one in this window, the
fixes it offers, what a fix changed, and the actor list's mark ("3 findings at 23:10: 1 orphan,
2 dangling"). Plain functions of ``core.audit`` / ``core.repair`` values: no Qt.

The core's ``Finding.fix`` names the command line (``tdm-desktop repair 0042 --adopt-orphans``);
in the window a repairable finding names the button that fixes it instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tdm_desktop.core.audit import KIND_ORDER, AuditReport, Finding, FindingKind
from tdm_desktop.core.repair import FIXES_KIND, Fix, PlannedChange, RepairOutcome
from tdm_desktop.core.sizes import size_mb

KIND_TITLES: Mapping[FindingKind, tuple[str, str]] = {
    FindingKind.ORPHAN: ("Orphans", "in S3 under the actor's prefix, not listed in the manifest"),
    FindingKind.DANGLING: ("Dangling entries", "listed in the manifest, no object in S3"),
    FindingKind.SIZE_MISMATCH: ("Size mismatches", "the manifest's size differs from S3's"),
    FindingKind.FOREIGN: ("Foreign URLs", "never fetched, repaired or deleted"),
    FindingKind.DUPLICATE: ("Duplicate content", "entries whose objects have the same bytes"),
    FindingKind.STALE_METADATA: (
        "Stale metadata",
        "prompt metadata of images the manifest does not list",
    ),
}
"""Each kind's group heading in the check dialog, and what it means."""

_KIND_WORDS: Mapping[FindingKind, tuple[str, str]] = {
    FindingKind.ORPHAN: ("orphan", "orphans"),
    FindingKind.DANGLING: ("dangling", "dangling"),
    FindingKind.SIZE_MISMATCH: ("size mismatch", "size mismatches"),
    FindingKind.FOREIGN: ("foreign URL", "foreign URLs"),
    FindingKind.DUPLICATE: ("duplicate", "duplicates"),
    FindingKind.STALE_METADATA: ("stale metadata entry", "stale metadata entries"),
}

FIX_ORDER = (
    Fix.ADOPT_ORPHANS,
    Fix.DELETE_ORPHANS,
    Fix.DROP_DANGLING,
    Fix.FIX_SIZES,
    Fix.FORGET_STALE,
)
"""The fix buttons, left to right."""

FIX_NAMES: Mapping[Fix, str] = {
    Fix.ADOPT_ORPHANS: "Adopt orphans",
    Fix.DELETE_ORPHANS: "Delete orphans",
    Fix.DROP_DANGLING: "Drop dangling entries",
    Fix.FIX_SIZES: "Fix sizes",
    Fix.FORGET_STALE: "Forget stale metadata",
}
"""Each fix by the name its button and its report use."""

_FIX_LABELS: Mapping[Fix, tuple[str, str]] = {
    Fix.ADOPT_ORPHANS: ("Adopt {n} orphan", "Adopt {n} orphans"),
    Fix.DELETE_ORPHANS: ("Delete {n} orphan from S3…", "Delete {n} orphans from S3…"),
    Fix.DROP_DANGLING: ("Drop {n} dangling entry", "Drop {n} dangling entries"),
    Fix.FIX_SIZES: ("Fix {n} size", "Fix {n} sizes"),
    Fix.FORGET_STALE: ("Forget {n} stale metadata entry", "Forget {n} stale metadata entries"),
}

_FIX_TIPS: Mapping[Fix, str] = {
    Fix.ADOPT_ORPHANS: "List them in the manifest, with their size and date from S3",
    Fix.DELETE_ORPHANS: "Delete them from S3 (asks first; they are in no manifest, so no undo)",
    Fix.DROP_DANGLING: "Stop listing them, and forget their prompt metadata",
    Fix.FIX_SIZES: "Record each object's real size in the manifest",
    Fix.FORGET_STALE: "Drop their entries from prompt_metadata.json",
}

_WINDOW_FIXES: Mapping[FindingKind, str] = {
    FindingKind.ORPHAN: "Adopt lists it; Delete… removes it from S3",
    FindingKind.DANGLING: "Drop dangling entries stops listing it",
    FindingKind.SIZE_MISMATCH: "Fix sizes records the object's size",
    FindingKind.STALE_METADATA: "Forget stale metadata drops its entry",
}


def kind_count(kind: FindingKind, count: int) -> str:
    """``"1 orphan"``, ``"2 dangling"``, ``"3 size mismatches"``."""
    one, many = _KIND_WORDS[kind]
    return f"{count} {one if count == 1 else many}"


def findings_phrase(findings: Iterable[Finding]) -> str:
    """``"1 orphan, 2 dangling"`` in the audit's order of kinds ("" when there are none)."""
    counts = Counter(finding.kind for finding in findings)
    return ", ".join(kind_count(kind, counts[kind]) for kind in KIND_ORDER if counts[kind])


def findings_count(count: int) -> str:
    return f"{count} finding" if count == 1 else f"{count} findings"


def window_fix(finding: Finding) -> str:
    """What to do about ``finding`` in this window."""
    if finding.kind is FindingKind.DUPLICATE:
        return f"keep one: delete {finding.filename} (or the other) in the grid"
    if finding.repairable and finding.kind in _WINDOW_FIXES:
        fix = _WINDOW_FIXES[finding.kind]
        if finding.intent is not None:
            return f"the next generation on this actor lists it with its prompt; or {fix}"
        return fix
    return finding.fix.replace("audit again later", "check again later")


def report_summary(report: AuditReport) -> str:
    """The check dialog's first line: clean, the findings, or incomplete."""
    counts = f"{report.entry_count} listed, {len(report.listing.objects)} objects in S3"
    if not report.complete:
        return f"Incomplete ({counts} before the listing stopped)"
    if not report.findings:
        return f"Clean: the manifest and S3 match ({counts})"
    return f"{findings_count(len(report.findings))}: {findings_phrase(report.findings)} ({counts})"


def incomplete_note(report: AuditReport) -> str:
    return (
        f"{report.listing.error}. Dangling entries cannot be told from an incomplete listing, "
        "so no fix is offered: check again when S3 answers."
    )


@dataclass(frozen=True)
class FixOffer:
    """One fix button: its label, how many findings it would change, whether it may be pressed
    and its tooltip (what it does, or why it is off)."""

    fix: Fix
    label: str
    count: int
    enabled: bool
    tooltip: str


def fix_offers(report: AuditReport, read_only: str | None = None) -> list[FixOffer]:
    """The fixes for the kinds ``report`` found, in ``FIX_ORDER``; none for an incomplete
    report. ``read_only``: why this account may not change the catalog (every fix is off)."""
    if not report.complete:
        return []
    offers = []
    for fix in FIX_ORDER:
        found = report.of_kind(FIXES_KIND[fix])
        if not found:
            continue
        count = sum(1 for finding in found if finding.repairable)
        one, many = _FIX_LABELS[fix]
        label = (one if count == 1 else many).format(n=count)
        if read_only:
            offers.append(FixOffer(fix, label, count, False, f"Read-only: {read_only}"))
        elif not count:
            tip = "every one of these is left alone by the fixes: see What to do"
            offers.append(FixOffer(fix, label, count, False, tip))
        else:
            offers.append(FixOffer(fix, label, count, True, _FIX_TIPS[fix]))
    return offers


def change_done_text(change: PlannedChange) -> str:
    """What a fix did to one finding, in the past tense."""
    finding, fix = change.finding, change.fix
    if fix is Fix.ADOPT_ORPHANS and finding.obj is not None:
        return f"listed {finding.filename} ({size_mb(finding.obj.size)} MB)"
    if fix is Fix.DELETE_ORPHANS:
        return f"deleted {finding.filename} from S3"
    if fix is Fix.DROP_DANGLING:
        return f"stopped listing {finding.filename}"
    if fix is Fix.FIX_SIZES and finding.obj is not None and finding.entry is not None:
        return (
            f"recorded {finding.filename}'s size as {size_mb(finding.obj.size)} MB "
            f"(was {finding.entry.size_mb} MB)"
        )
    return f"forgot {finding.filename}'s prompt metadata"


def repair_lines(outcome: RepairOutcome) -> list[str]:
    """What a repair changed, skipped and could not do, one line each."""
    lines = [f"✓ {change_done_text(change)}" for change in outcome.done]
    lines += [f"– {name}: skipped, {why}" for name, why in outcome.skipped.items()]
    lines += [f"✗ {name}: {why}" for name, why in outcome.failed.items()]
    return lines or ["nothing needed changing (the fresh check found none of these)"]


def repair_summary(outcome: RepairOutcome) -> str:
    done, skipped, failed = len(outcome.done), len(outcome.skipped), len(outcome.failed)
    parts = [f"{done} changed"]
    parts += [f"{skipped} skipped"] if skipped else []
    parts += [f"{failed} failed"] if failed else []
    return ", ".join(parts)


@dataclass(frozen=True)
class CheckMark:
    """The actor list's mark for an actor whose last check found something: the count it shows
    and its tooltip line. ``complete`` False: the listing stopped early."""

    count: int
    complete: bool
    text: str


def check_mark(report: AuditReport, checked_at: datetime) -> CheckMark | None:
    """``"3 findings at 23:10: 1 orphan, 2 dangling"`` (local time); None for a clean check."""
    if report.clean:
        return None
    at = checked_at.astimezone().strftime("%H:%M")
    count = len(report.findings)
    if not report.complete:
        found = f": {findings_phrase(report.findings)} so far" if count else ""
        return CheckMark(count, False, f"check at {at} incomplete (the listing stopped){found}")
    return CheckMark(
        count, True, f"{findings_count(count)} at {at}: {findings_phrase(report.findings)}"
    )
