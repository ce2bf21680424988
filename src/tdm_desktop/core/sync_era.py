"""The keys of manifests written before the S3-only change (docs/MIGRATION.md).

Those manifests tracked local copies beside the S3 objects: each entry had its local path, whether
the local file existed, its sync status (``synced``, ``local_only``, ``s3_only``, ``out_of_sync``)
and MD5 hashes; the top level had the sync counts. ``local_only`` entries often had no ``s3_url``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ENTRY_KEYS = frozenset(
    {
        "local_path",
        "local_exists",
        "status",
        "sync_status",
        "md5",
        "local_md5",
        "s3_md5",
        "s3_exists",
        "local_size_mb",
        "last_synced",
    }
)
TOP_LEVEL_KEYS = frozenset(
    {
        "sync_status",
        "synced_count",
        "local_only_count",
        "s3_only_count",
        "out_of_sync_count",
        "local_count",
        "last_sync",
        "last_synced",
    }
)
# The same counts were sometimes kept inside "statistics".
STATISTICS_KEYS = TOP_LEVEL_KEYS


def sync_era_keys(document: Mapping[str, Any]) -> set[str]:
    """The sync-era keys ``document`` has, anywhere they were used (empty: not sync-era)."""
    found = TOP_LEVEL_KEYS & document.keys()
    statistics = document.get("statistics")
    if isinstance(statistics, Mapping):
        found |= STATISTICS_KEYS & statistics.keys()
    items = document.get("training_data")
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping):
                found |= ENTRY_KEYS & item.keys()
    return found
