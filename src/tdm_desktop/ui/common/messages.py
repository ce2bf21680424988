"""The words the window uses for counts and for failed background work.

A failed background job reaches the curator one way: ``failure_text`` makes its one line, the
part that ran it emits that line on its ``error_reported`` signal, and the window shows it over
the grid and in the log (``MainWindow.show_error``). Only where the curator must act (a generation
they wait for, images a delete left behind) is it a message box instead.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tdm_desktop.core.errors import SyncEraManifestError, TdmError, one_line
from tdm_desktop.core.review_text import review_text
from tdm_desktop.core.timestamps import utc_now

if TYPE_CHECKING:
    from datetime import datetime

    from PySide6.QtCore import QSize

    from tdm_desktop.core.training_data import TrainingImage

log = logging.getLogger(__name__)


def images_phrase(count: int) -> str:
    """``"1 image"``, ``"3 images"``."""
    return f"{count} image" if count == 1 else f"{count} images"


def failure_text(error: BaseException, context: str = "") -> str:
    """One line for a job that failed: ``"{context}: {what went wrong}"``.

    A ``TdmError`` says what went wrong in its own words (a manifest written before the S3-only
    change: what to do, here too). Anything else is a bug: its traceback goes to the log and the
    line says "Unexpected error".
    """
    if isinstance(error, SyncEraManifestError):
        message = f"{error.problem}, or use Actor → Migrate… here"
    elif isinstance(error, TdmError):
        message = one_line(error)
    else:
        log.error("background job failed", exc_info=error)
        message = f"Unexpected error: {one_line(error)}"
    return f"{context}: {message}" if context else message


def describe_image(
    image: TrainingImage, pixel_size: QSize | None = None, now: datetime | None = None
) -> str:
    """``"0042_x_3.jpg · ✗ bad · alice · 5 min ago · 0.31 MB · 1024×768"``: an image in one line
    (preview, compare); ``unreviewed`` when nobody decided yet."""
    decided = review_text(image.review, now or utc_now(), marked=True)
    parts = [image.filename, decided, f"{image.size_mb:.2f} MB"]
    if pixel_size is not None and pixel_size.isValid():
        parts.append(f"{pixel_size.width()}×{pixel_size.height()}")
    return " · ".join(parts)
