"""Sizes as the manifest records them."""

from __future__ import annotations


def size_mb(num_bytes: int) -> float:
    """A size as the manifest records it: MiB, two decimals."""
    return round(num_bytes / (1024 * 1024), 2)
