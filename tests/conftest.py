"""Shared test configuration: headless Qt, AWS isolated from the user's machine, moto S3."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Tests never need a display: force Qt's offscreen platform before anything imports Qt.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

import pytest

from tests import network_guard

# The fake AUTOMATIC1111 server's fixture (``fake_a1111``), for the unit and integration tiers.
pytest_plugins = ["tests.fake_a1111"]

BUCKET = "story-boards-assets"
FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    """Fake credentials; no profile, endpoint or config file of the user's leaks into a test."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.startswith("TDM_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never ask 169.254.169.254


@pytest.fixture
def s3_client(aws_env):
    """A boto3 S3 client (made the app's way) on moto, with the bucket created."""
    from moto import mock_aws

    from tdm_desktop.core.s3_store import make_s3_client
    from tdm_desktop.core.threads import wait_for_all_pools

    with mock_aws():
        client = make_s3_client(region="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client
        # A closed window leaves its background work to end on its own: it must end on moto,
        # not reach for the real AWS once moto has stopped.
        wait_for_all_pools(10)


@pytest.fixture
def store(s3_client):
    from tdm_desktop.core.s3_store import S3Store

    return S3Store(s3_client, BUCKET)


@pytest.fixture(params=["folder", "s3"])
def catalog(request, tmp_path):
    """The catalog's store: a folder data dir, or an S3 prefix on moto (tests/catalogs.py)."""
    from tdm_desktop.core.documents import LocalDocuments, S3Documents
    from tests.catalogs import CATALOG_PREFIX

    if request.param == "folder":
        return LocalDocuments(tmp_path / "data")
    client = request.getfixturevalue("s3_client")
    return S3Documents(client, BUCKET, CATALOG_PREFIX)


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "data"
    (path / "actor_manifests").mkdir(parents=True)
    (path / "actors").mkdir()
    return path


@pytest.fixture(autouse=True)
def no_network():
    """Every test stays on this machine (tests/network_guard.py): a connection off it, by Python
    or by Qt, is refused and fails the test."""
    network_guard.install()
    if "PySide6.QtNetwork" in sys.modules:
        network_guard.route_qt_through_recorder()
    network_guard.forget()
    yield
    tried = network_guard.attempts()
    assert not tried, f"the test tried to leave the machine: {tried}"
