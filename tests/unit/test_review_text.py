"""The words for who decided an image and when ("bad · alice · 5 min ago")."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tdm_desktop.core.prompt_metadata import UNREVIEWED, Review
from tdm_desktop.core.review_text import review_text, time_ago

NOW = datetime(2025, 10, 17, 16, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("at", "said"),
    [
        ("2025-10-17T16:29:30.000000", "just now"),
        ("2025-10-17T16:31:00.000000", "just now"),  # the writer's clock a little ahead
        ("2025-10-17T16:25:00.000000", "5 min ago"),
        ("2025-10-17T13:10:00.000000", "3 h ago"),
        ("2025-10-16T10:00:00.000000", "1 day ago"),
        ("2025-10-10T16:30:00.000000", "7 days ago"),
        ("2025-08-01T09:00:00.000000", "on 2025-08-01"),
        ("yesterday", "yesterday"),
    ],
)
def test_time_ago(at, said):
    assert time_ago(at, NOW) == said


def test_review_text_names_decision_curator_and_time():
    assert review_text(Review("bad", "alice", "2025-10-17T16:25:00.000000"), NOW) == (
        "bad · alice · 5 min ago"
    )
    assert review_text(Review("good", None, "2025-10-17T16:30:00.000000"), NOW) == (
        "good · just now"
    )
    assert review_text(Review("bad"), NOW) == "bad"  # a flag from before reviews were recorded
    assert review_text(UNREVIEWED, NOW) == "unreviewed"
