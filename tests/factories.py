"""Builders for test data: real JPEGs in (moto or SeaweedFS) S3, listed in a real manifest."""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import MappingProxyType

from PIL import Image

from tdm_desktop.core.manifest import ManifestEntry, TrainingDataManifest, size_mb
from tdm_desktop.core.prompt_metadata import UNREVIEWED, Review
from tdm_desktop.core.s3_store import S3Store
from tdm_desktop.core.s3_urls import S3Location
from tdm_desktop.core.training_data import TrainingImage


def jpeg_bytes(seed: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    """A small real JPEG whose pixels depend on ``seed``."""
    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def make_actor(
    data_dir: Path,
    store: S3Store,
    actor_id: str = "0042",
    actor_name: str = "0042_european_30_male",
    count: int = 3,
    *,
    aws_urls: bool = True,
) -> list[str]:
    """An actor with ``count`` images uploaded to S3 and listed. Returns the filenames."""
    manifest = TrainingDataManifest.for_actor(data_dir, actor_id)
    manifest.create(actor_id, actor_name)
    names = []
    for index in range(count):
        filename = f"{actor_name}_{index}.jpg"
        data = jpeg_bytes(index)
        key = store.key_for(actor_name, filename)
        store.put_new(key, data, "image/jpeg")
        url = store.aws_url_for(key) if aws_urls else store.url_for(key)
        manifest.add_image(filename, url, size_mb(len(data)))
        names.append(filename)
    return names


def deny_delete(s3_client, bucket: str, *keys: str) -> None:
    """A bucket policy denying s3:DeleteObject on ``keys``: DeleteObjects then reports them
    AccessDenied one by one while deleting the others (moto and real S3 alike)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:DeleteObject",
                "Resource": [f"arn:aws:s3:::{bucket}/{key}" for key in keys],
            }
        ],
    }
    s3_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def training_image(
    n: int,
    *,
    actor: str = "0042_european_30_male",
    good: bool = True,
    foreign: bool = False,
    size_mb: float = 0.31,
    review: Review | None = None,
) -> TrainingImage:
    """The n-th image of ``actor`` as the service would give it (no S3 needed); a foreign one has
    no location and a reason, as a URL in another bucket would. ``review`` (default: unreviewed,
    or an anonymous bad decision when ``good`` is False) sets ``good`` when given."""
    if review is None:
        review = UNREVIEWED if good else Review("bad")
    name = f"{actor}_{n}.jpg"
    key = f"system_actors/training_data/{actor}/{name}"
    bucket = "someone-else" if foreign else "story-boards-assets"
    url = f"https://{bucket}.s3.amazonaws.com/{key}"
    entry = ManifestEntry(name, url, size_mb, "2025-10-17T15:57:00.000000", MappingProxyType({}))
    return TrainingImage(
        index=n,
        filename=name,
        s3_url=url,
        size_mb=size_mb,
        modified_date=entry.modified_date,
        good=review.good,
        location=None if foreign else S3Location("story-boards-assets", key),
        foreign_reason="bucket 'someone-else' is not the configured bucket" if foreign else None,
        entry=entry,
        review=review,
    )
