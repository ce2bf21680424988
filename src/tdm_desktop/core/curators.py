"""Whose decisions the flags record: ``TDM_CURATOR``, else a name set in the window's Settings,
else the OS user name. One rule for the CLI (which has no Settings) and the window, which shows
the name in effect and where it comes from."""

from __future__ import annotations

import getpass
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from tdm_desktop.core.errors import InvalidNameError
from tdm_desktop.core.names import check_curator

log = logging.getLogger(__name__)

CURATOR_ENV = "TDM_CURATOR"
FROM_ENV, FROM_SETTINGS, FROM_OS_USER = CURATOR_ENV, "Settings", "the OS user name"
FROM_CALLER = "the program that opened the window"  # a service made with a curator (tests, scripts)
UNKNOWN_CURATOR = "unknown curator"  # no user name in the environment or the password database


@dataclass(frozen=True)
class CuratorChoice:
    """The curator's name and where it comes from (``"TDM_CURATOR"``, ``"Settings"``...)."""

    name: str
    source: str

    def __str__(self) -> str:
        return f"{self.name} (from {self.source})"


def os_user_choice() -> CuratorChoice:
    try:
        name = getpass.getuser()
    except (OSError, KeyError):
        name = UNKNOWN_CURATOR
    try:
        return CuratorChoice(check_curator(name), FROM_OS_USER)
    except InvalidNameError:
        return CuratorChoice(UNKNOWN_CURATOR, FROM_OS_USER)


def choose_curator(
    environ: Mapping[str, str],
    saved: str = "",
    *,
    fallback: CuratorChoice | None = None,
) -> CuratorChoice:
    """``$TDM_CURATOR`` (a name that is not valid raises ``InvalidNameError``), else ``saved`` (the
    Settings' name; one that is not valid is skipped with a warning), else ``fallback`` (the OS
    user name unless given)."""
    from_env = environ.get(CURATOR_ENV)
    if from_env is not None:
        return CuratorChoice(check_curator(from_env), FROM_ENV)
    if saved.strip():
        try:
            return CuratorChoice(check_curator(saved), FROM_SETTINGS)
        except InvalidNameError as err:
            log.warning("the curator name in Settings is not used: %s", err)
    return fallback if fallback is not None else os_user_choice()
