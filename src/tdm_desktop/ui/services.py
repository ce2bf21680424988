"""What the window asks of the service layer: one typed contract, handed to ``MainWindow``.

Each part of the window names what it needs next to the code that needs it; ``WindowService`` is
all of them together. ``TrainingDataService`` (``tdm_desktop.core``) is the one in use, and a test
checks that it still fits. The window never reaches behind these calls: it does not build paths
to an actor's documents (the data dir may be an S3 prefix), nor an S3 client, nor a generation
service of its own.
"""

from __future__ import annotations

from typing import Protocol

from tdm_desktop.ui.actors.session import ActorSource
from tdm_desktop.ui.curation.captions import CaptionService
from tdm_desktop.ui.curation.controller import CurationService
from tdm_desktop.ui.export.controller import ExportWork
from tdm_desktop.ui.generation.presenter import GenerationSource
from tdm_desktop.ui.integrity.controller import IntegritySource
from tdm_desktop.ui.review.progress import ReviewSource
from tdm_desktop.ui.thumbnails.source import ImageSource


class WindowService(
    ActorSource,
    CaptionService,
    CurationService,
    ExportWork,
    GenerationSource,
    ImageSource,
    IntegritySource,
    ReviewSource,
    Protocol,
):
    """Everything the window calls on the service layer."""
