"""Catalog stores for tests: the same behaviour test runs on a folder and on an S3 prefix (moto).

``catalog`` (a fixture, in tests/conftest.py) is a ``DocumentStore``: ``LocalDocuments`` on a
tmp folder, or ``S3Documents`` on ``s3://story-boards-assets/catalog`` in moto. The helpers here
look at what is really stored, around the store under test.
"""

from __future__ import annotations

import json

import botocore.exceptions as bce

from tdm_desktop.core.documents import DocumentStore, LocalDocuments, S3Documents

BUCKET = "story-boards-assets"
CATALOG_PREFIX = "catalog"
CATALOG_URL = f"s3://{BUCKET}/{CATALOG_PREFIX}"


def data_dir_arg(store: DocumentStore) -> str:
    """What ``--data-dir`` takes for this store."""
    return store.location


def raw_bytes(store: DocumentStore, name: str) -> bytes | None:
    """The document's bytes as stored (None when there is none), not read through ``store``."""
    if isinstance(store, LocalDocuments):
        path = store.root / name
        return path.read_bytes() if path.exists() else None
    assert isinstance(store, S3Documents)
    try:
        response = store._client.get_object(Bucket=store.bucket, Key=store.key(name))
    except bce.ClientError:
        return None
    return response["Body"].read()


def put_raw(store: DocumentStore, name: str, data: bytes) -> None:
    """Store ``data`` as the document, unconditionally, as a hand edit or another tool would."""
    if isinstance(store, LocalDocuments):
        path = store.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    assert isinstance(store, S3Documents)
    store._client.put_object(Bucket=store.bucket, Key=store.key(name), Body=data)


def stored_identity(store: DocumentStore, name: str) -> object:
    """What changes whenever the document is rewritten, even with the same bytes: the file's
    inode and mtime; the object's ETag and LastModified."""
    if isinstance(store, LocalDocuments):
        info = (store.root / name).stat()
        return (info.st_ino, info.st_mtime_ns)
    assert isinstance(store, S3Documents)
    head = store._client.head_object(Bucket=store.bucket, Key=store.key(name))
    return (head["ETag"], head["LastModified"])


def deny_puts(s3_client, prefix: str = CATALOG_PREFIX, bucket: str = BUCKET) -> None:
    """A bucket policy: nobody may PUT under ``prefix`` (a read-only curator's account, as far as
    that prefix goes; the rest of the bucket stays writable)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": [f"arn:aws:s3:::{bucket}/{prefix}/*"],
            }
        ],
    }
    s3_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


class ClientWrapper:
    """A boto3 client with some calls replaced (a subclass defines them); the rest pass through."""

    def __init__(self, client) -> None:
        self._client = client
        self.meta = client.meta

    def __getattr__(self, name):
        return getattr(self._client, name)
