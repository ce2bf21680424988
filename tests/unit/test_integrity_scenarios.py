"""The audit / repair / migrate scenarios (tests/integrity_scenarios.py) on moto, served over
HTTP by moto's threaded server so the killed generation's own process reaches it too."""

from __future__ import annotations

import pytest
import requests
from moto.server import ThreadedMotoServer

from tdm_desktop.core.documents import LocalDocuments, S3Documents
from tdm_desktop.core.s3_store import S3Store, make_s3_client
from tests.catalogs import CATALOG_PREFIX
from tests.conftest import BUCKET
from tests.integrity_scenarios import ALL_SCENARIOS, World

for _scenario in ALL_SCENARIOS:
    globals()[_scenario.__name__] = _scenario


@pytest.fixture(scope="module")
def moto_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(params=["folder", "s3"])
def world(request, moto_endpoint, aws_env, tmp_path) -> World:
    """The moto server; the catalog in a folder or under s3://story-boards-assets/catalog."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    client = make_s3_client(endpoint_url=moto_endpoint, region="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    if request.param == "folder":
        catalog = LocalDocuments(tmp_path / "data")
    else:
        catalog = S3Documents(client, BUCKET, CATALOG_PREFIX)
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    return World(catalog, S3Store(client, BUCKET), client, moto_endpoint, env, tmp_path)
