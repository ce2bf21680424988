"""The audit / repair / migrate scenarios (tests/integrity_scenarios.py) on the bundled SeaweedFS:
real HTTP, real SigV4, real ETags, and a generation really killed between its upload and its
manifest write."""

from __future__ import annotations

import pytest

from tdm_desktop.core.documents import LocalDocuments, S3Documents
from tdm_desktop.core.s3_store import S3Store
from tests.catalogs import CATALOG_PREFIX
from tests.integrity_scenarios import ALL_SCENARIOS, World

for _scenario in ALL_SCENARIOS:
    globals()[_scenario.__name__] = _scenario


@pytest.fixture(params=["folder", "s3"])
def world(
    request, local_s3, seaweed_store: S3Store, seaweed_client, tmp_path, monkeypatch
) -> World:
    """The session's SeaweedFS; the catalog in a folder or under s3://story-boards-assets/catalog."""
    if request.param == "folder":
        catalog = LocalDocuments(tmp_path / "data")
    else:
        catalog = S3Documents(seaweed_client, local_s3.config.bucket, CATALOG_PREFIX)
    env = {
        "AWS_ACCESS_KEY_ID": local_s3.access_key,
        "AWS_SECRET_ACCESS_KEY": local_s3.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": local_s3.endpoint_url,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return World(catalog, seaweed_store, seaweed_client, local_s3.endpoint_url, env, tmp_path)
