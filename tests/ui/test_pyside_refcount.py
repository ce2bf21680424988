"""Regression guard: PySide6 6.12.0 on CPython 3.11 drops a reference to None on every Qt call
that returns nothing, and the interpreter aborts (``none_dealloc``) after a few
thousand calls. pyproject pins PySide6 below 6.12 on Python < 3.12; this test proves the installed
pair is safe. On 3.12+ None is immortal, so its count cannot fall and the test still passes.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QPointF, QRect, QSize

CALLS = 100_000
SLACK = 50  # other code may legitimately hold or drop a few references meanwhile


def test_void_qt_calls_do_not_leak_references_to_none():
    point, rect, size = QPointF(), QRect(), QSize()
    before = sys.getrefcount(None)
    for i in range(CALLS // 4):
        QPointF().setX(i)
        point.setY(i)
        rect.setWidth(i)
        size.setHeight(i)
    after = sys.getrefcount(None)

    assert after >= before - SLACK, f"None lost {before - after} references in {CALLS} Qt calls"
    assert (point.y(), rect.width(), size.height()) == (CALLS // 4 - 1,) * 3
