"""The integration tier: the same scenarios against the bundled SeaweedFS instead of moto.

``local_s3`` (session): one SeaweedFS on a free 127.0.0.1 port, data and credentials in a tmp dir.
``seaweed_store`` (function): an ``S3Store`` on it, bucket emptied first.
Every test collected under tests/integration is marked ``integration``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tdm_desktop.local_s3 import (
    MISSING_WEED,
    LocalS3,
    LocalS3Config,
    LocalS3Credentials,
    LocalS3Error,
    LocalS3Identity,
    find_weed,
)
from tests.conftest import BUCKET

# A second account of the session's SeaweedFS that may only read and list (a read-only curator).
READ_ONLY = LocalS3Credentials("TDMREADONLYCURATOR01", "read-only-curator-secret-key-0123456789")

_HERE = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if _HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def weed_path() -> str:
    try:
        return find_weed()
    except LocalS3Error:
        pytest.skip(MISSING_WEED)


@pytest.fixture(scope="session")
def local_s3(tmp_path_factory, weed_path):
    """A running LocalS3 (port 0: any free port), stopped after the session."""
    root = tmp_path_factory.mktemp("local-s3")
    server = LocalS3(
        LocalS3Config(data_dir=root / "data", port=0, bucket=BUCKET),
        credentials_dir=root / "config",
        weed=weed_path,
        extra_identities=[LocalS3Identity("read-only-curator", READ_ONLY)],
    )
    server.start(timeout=60)
    yield server
    server.stop()


def empty_bucket(client, bucket: str) -> None:
    """Delete every object in ``bucket`` (the test bucket belongs to the tests alone)."""
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


@pytest.fixture
def seaweed_client(local_s3, aws_env):
    """A boto3 client made the app's way, signed with the local S3's key."""
    from tdm_desktop.core.s3_store import make_s3_client

    return make_s3_client(
        endpoint_url=local_s3.endpoint_url,
        access_key=local_s3.access_key,
        secret_key=local_s3.secret_key,
        region="us-east-1",
    )


@pytest.fixture
def read_only_client(local_s3, aws_env):
    """A boto3 client signed with the read-only curator's key (Read and List only)."""
    from tdm_desktop.core.s3_store import make_s3_client

    return make_s3_client(
        endpoint_url=local_s3.endpoint_url,
        access_key=READ_ONLY.access_key,
        secret_key=READ_ONLY.secret_key,
        region="us-east-1",
    )


@pytest.fixture
def seaweed_store(local_s3, seaweed_client):
    """``S3Store`` on the session's SeaweedFS, with the bucket emptied first."""
    from tdm_desktop.core.s3_store import S3Store

    empty_bucket(seaweed_client, local_s3.config.bucket)
    return S3Store(seaweed_client, local_s3.config.bucket)
