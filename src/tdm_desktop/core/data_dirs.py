"""Which data dir is in effect and why: ``--data-dir``, else ``TDM_DATA_DIR``, else the one set
in the window's Settings, else ``./data``. The CLI knows the first two; the window adds Settings
and shows the choice with where it comes from."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from tdm_desktop.core.documents import parse_data_dir
from tdm_desktop.core.errors import CatalogLocationError

log = logging.getLogger(__name__)

DATA_DIR_ENV = "TDM_DATA_DIR"
DEFAULT_DATA_DIR = "data"
FROM_OPTION, FROM_SETTINGS, FROM_DEFAULT = "--data-dir", "Settings", "the default"


@dataclass(frozen=True)
class DataDirChoice:
    """A data dir as given (a folder or ``s3://bucket/prefix``) and where it comes from."""

    location: str
    source: str

    def __str__(self) -> str:
        return f"{self.location} (from {self.source})"


def data_dir_problem(text: str) -> str | None:
    """Why ``text`` cannot be a data dir (the parser's one line), or None ("" means none set)."""
    if not text.strip():
        return None
    try:
        parse_data_dir(text.strip())
    except CatalogLocationError as err:
        return str(err)
    return None


def given_data_dir(option: str | None, environ: Mapping[str, str]) -> DataDirChoice | None:
    """``--data-dir``, else ``$TDM_DATA_DIR``, else None (a malformed URL raises
    ``CatalogLocationError``: bad input, before anything opens)."""
    for text, source in ((option, FROM_OPTION), (environ.get(DATA_DIR_ENV), DATA_DIR_ENV)):
        if text:
            parse_data_dir(text)
            return DataDirChoice(text, source)
    return None


def choose_data_dir(given: DataDirChoice | None, saved: str) -> DataDirChoice:
    """``given``, else ``saved`` (the Settings' one; skipped with a warning when not valid), else
    ``./data``."""
    if given is not None:
        return given
    if saved.strip():
        problem = data_dir_problem(saved)
        if problem is None:
            return DataDirChoice(saved.strip(), FROM_SETTINGS)
        log.warning("the data dir in Settings is not used: %s", problem)
    return DataDirChoice(DEFAULT_DATA_DIR, FROM_DEFAULT)
