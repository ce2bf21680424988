"""Who decided an image and when, in the curator's words: ``"bad · alice · 5 min ago"``.

The window's tooltip and preview say it; ``now`` comes from the caller's clock, so a test fixes it.
"""

from __future__ import annotations

from datetime import datetime

from tdm_desktop.core.prompt_metadata import Review
from tdm_desktop.core.timestamps import parse_timestamp

UNREVIEWED_TEXT = "unreviewed"


def time_ago(at: str, now: datetime) -> str:
    """``"just now"``, ``"5 min ago"``, ``"3 h ago"``, ``"2 days ago"``, then the date
    (``"on 2025-10-17"``). A time that cannot be read is given as stored."""
    try:
        moment = parse_timestamp(at)
    except ValueError:
        return at
    seconds = (now - moment).total_seconds()
    if seconds < 60:  # also a clock a little behind the writer's
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = minutes // 60
    if hours < 24:
        return f"{hours} h ago"
    days = hours // 24
    if days < 30:
        return "1 day ago" if days == 1 else f"{days} days ago"
    return f"on {moment:%Y-%m-%d}"


def review_text(review: Review, now: datetime, *, marked: bool = False) -> str:
    """``"bad · alice · 5 min ago"``; ``"unreviewed"`` when nobody decided; a flag written before
    reviews were recorded is just ``"bad"``. ``marked``: ``"✗ bad · …"`` / ``"✓ good · …"``."""
    if not review.decided:
        return UNREVIEWED_TEXT
    mark = ("✓ " if review.good else "✗ ") if marked else ""
    parts: list[str] = [f"{mark}{review.decision}"]
    if review.by:
        parts.append(review.by)
    if review.at:
        parts.append(time_ago(review.at, now))
    return " · ".join(parts)
