"""Strict allow-lists for every name that ends up in an S3 key or a file path."""

from __future__ import annotations

import re

from tdm_desktop.core.errors import InvalidNameError

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
_ACTOR_ID = re.compile(r"[0-9]{1,9}")


def _check(kind: str, name: object) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidNameError(f"{kind} {name!r}: must be a non-empty string")
    if not NAME_PATTERN.fullmatch(name) or ".." in name:
        raise InvalidNameError(
            f"{kind} {name!r}: only letters, digits, '.', '_' and '-' are allowed "
            "(no '/', '\\', '..', spaces or control characters)"
        )
    return name


def check_actor_name(name: object) -> str:
    """Return ``name`` if it is safe as an S3 key segment and a folder name, else raise."""
    return _check("actor name", name)


def check_filename(name: object) -> str:
    """Return ``name`` if it is safe as an image filename, else raise."""
    return _check("filename", name)


MAX_CURATOR_LENGTH = 100


def check_curator(name: object) -> str:
    """Return ``name`` if it can name a curator in ``reviewed_by``: text of 1 to 100 characters,
    not only spaces, no control characters."""
    if (
        not isinstance(name, str)
        or not name.strip()
        or len(name) > MAX_CURATOR_LENGTH
        or any(not char.isprintable() for char in name)
    ):
        raise InvalidNameError(
            f"curator {name!r}: must be 1 to {MAX_CURATOR_LENGTH} printable characters "
            "(set TDM_CURATOR to your name)"
        )
    return name


def normalize_actor_id(text: object) -> str:
    """``"42"`` and ``"0042"`` both give ``"0042"`` (at least four digits, zero-padded)."""
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str) or not _ACTOR_ID.fullmatch(text.strip()):
        raise InvalidNameError(f"actor ID {text!r}: must be digits, e.g. 0042 or 42")
    return f"{int(text.strip()):04d}"
