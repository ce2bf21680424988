"""S3Store on moto (and botocore Stubber where moto cannot play S3's part)."""

from __future__ import annotations

import json
import logging
import socket

import pytest
from botocore.stub import Stubber

from tdm_desktop.core.errors import (
    ForeignImageError,
    InvalidNameError,
    ObjectExistsError,
    S3Error,
)
from tdm_desktop.core.s3_store import DeleteReport, S3Store, make_s3_client
from tdm_desktop.core.s3_urls import S3Location, parse_s3_url

BUCKET = "story-boards-assets"
ACTOR = "0042_european_30_male"
PREFIX = f"system_actors/training_data/{ACTOR}/"


def key(n: int, actor: str = ACTOR) -> str:
    return f"system_actors/training_data/{actor}/{actor}_{n}.jpg"


def deny_policy(action: str, *keys: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": action,
                    "Resource": [f"arn:aws:s3:::{BUCKET}/{k}" for k in keys],
                }
            ],
        }
    )


@pytest.fixture
def offline_client(aws_env):
    """A client that must never reach a network: every call is answered by a Stubber."""
    return make_s3_client(endpoint_url="http://127.0.0.1:9", region="us-east-1")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- make_s3_client ---------------------------------------------------------------------------


def test_client_config_standard_retries_s3v4_big_pool(aws_env):
    client = make_s3_client()
    config = client.meta.config
    assert config.retries["mode"] == "standard"
    assert config.retries["total_max_attempts"] == 3  # botocore: max_attempts 2 retries + 1
    assert config.signature_version == "s3v4"
    assert config.max_pool_connections >= 32
    # One request, every attempt and the backoff between them included, within 60 s.
    assert config.connect_timeout == 4.75 and config.read_timeout == 14.25
    assert 3 * (config.connect_timeout + config.read_timeout) + 3 <= 60
    assert (config.s3 or {}).get("addressing_style") != "path"
    assert client.meta.endpoint_url.endswith(".amazonaws.com")


def test_client_on_a_custom_endpoint_uses_path_style(aws_env):
    client = make_s3_client(endpoint_url="http://127.0.0.1:8333", max_pool_connections=64)
    assert client.meta.endpoint_url == "http://127.0.0.1:8333"
    assert client.meta.config.s3["addressing_style"] == "path"
    assert client.meta.config.max_pool_connections == 64


def test_client_takes_endpoint_and_region_from_the_environment(aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:8444")
    monkeypatch.setenv("AWS_REGION", "eu-west-2")
    client = make_s3_client()
    assert client.meta.endpoint_url == "http://127.0.0.1:8444"
    assert client.meta.region_name == "eu-west-2"
    assert client.meta.config.s3["addressing_style"] == "path"
    assert S3Store(client, BUCKET).endpoint_url == "http://127.0.0.1:8444"


def test_client_uses_the_named_profile(aws_env, tmp_path, monkeypatch):
    config = tmp_path / "aws-config"
    config.write_text("[profile curator]\nregion = ap-southeast-2\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    client = make_s3_client(profile="curator")
    assert client.meta.region_name == "ap-southeast-2"
    assert make_s3_client(profile="curator", region="eu-central-1").meta.region_name == (
        "eu-central-1"
    )


def test_client_follows_aws_profile_and_its_endpoint(aws_env, tmp_path, monkeypatch):
    config = tmp_path / "aws-config"
    config.write_text("[profile local]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:8555\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "local")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    client = make_s3_client()
    assert client.meta.region_name == "eu-west-3"
    assert client.meta.endpoint_url == "http://127.0.0.1:8555"
    assert client.meta.config.s3["addressing_style"] == "path"


def test_unknown_profile_raises_profile_not_found(aws_env):
    from botocore.exceptions import ProfileNotFound

    with pytest.raises(ProfileNotFound):
        make_s3_client(profile="nobody")


# -- names and URLs ---------------------------------------------------------------------------


def test_invalid_bucket_name_is_refused(s3_client):
    with pytest.raises(InvalidNameError, match="Bad_Bucket"):
        S3Store(s3_client, "Bad_Bucket")


def test_key_and_urls_on_aws(store):
    assert store.bucket == BUCKET
    assert store.endpoint_url is None
    k = store.key_for(ACTOR, f"{ACTOR}_0.jpg")
    assert k == key(0)
    assert store.url_for(k) == f"https://{BUCKET}.s3.amazonaws.com/{k}"
    assert store.aws_url_for(k) == f"https://{BUCKET}.s3.amazonaws.com/{k}"
    assert store.locate(store.url_for(k), ACTOR) == S3Location(BUCKET, k)


@pytest.mark.parametrize(
    ("actor", "filename"),
    [("../x", "a.jpg"), (ACTOR, "../a.jpg"), (ACTOR, "a/b.jpg"), (ACTOR, ""), ("", "a.jpg")],
)
def test_key_for_refuses_unsafe_names(store, actor, filename):
    with pytest.raises(InvalidNameError):
        store.key_for(actor, filename)


def test_urls_on_a_custom_endpoint(aws_env):
    store = S3Store(make_s3_client(endpoint_url="http://127.0.0.1:8333/s3/"), BUCKET)
    assert store.endpoint_url == "http://127.0.0.1:8333/s3"
    k = key(3)
    assert store.url_for(k) == f"http://127.0.0.1:8333/s3/{BUCKET}/{k}"
    assert store.aws_url_for(k) == f"https://{BUCKET}.s3.amazonaws.com/{k}"
    # both the local and the production-style URL resolve to the same object
    assert store.locate(store.url_for(k), ACTOR) == S3Location(BUCKET, k)
    assert store.locate(store.aws_url_for(k), ACTOR) == S3Location(BUCKET, k)


def test_the_demo_records_production_style_urls_on_its_local_endpoint(aws_env):
    client = make_s3_client(endpoint_url="http://127.0.0.1:8333")
    store = S3Store(client, BUCKET, aws_style_urls=True)
    k = key(3)
    assert store.endpoint_url == "http://127.0.0.1:8333"  # still fetched from the local S3
    assert store.url_for(k) == f"https://{BUCKET}.s3.amazonaws.com/{k}"
    # on another port next time, the recorded URL still belongs to the actor
    moved = S3Store(make_s3_client(endpoint_url="http://127.0.0.1:18333"), BUCKET)
    assert moved.locate(store.url_for(k), ACTOR) == S3Location(BUCKET, k)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (
            f"https://other-bucket.s3.amazonaws.com/{key(0)}",
            "bucket 'other-bucket' is not the configured bucket 'story-boards-assets'",
        ),
        (f"s3://other-bucket/{key(0)}", "not the configured bucket"),
        (
            f"https://{BUCKET}.s3.amazonaws.com/{key(0, '0043_asian_25_female')}",
            f"key is outside actor {ACTOR}'s prefix",
        ),
        (f"https://{BUCKET}.s3.amazonaws.com/{PREFIX[:-1]}x/a.jpg", "outside actor"),
        (f"https://{BUCKET}.s3.amazonaws.com/{ACTOR}_0.jpg", "outside actor"),
        (f"https://{BUCKET}.s3.amazonaws.com/{PREFIX}sub/a.jpg", "not a valid image filename"),
        (f"https://{BUCKET}.s3.amazonaws.com/{PREFIX}.hidden.jpg", "not a valid image filename"),
        (f"https://{BUCKET}.s3.amazonaws.com.evil.example/{key(0)}", "unknown host"),
        (f"http://127.0.0.1:8333/{BUCKET}/{key(0)}", "unknown host"),
    ],
)
def test_locate_refuses_what_is_not_this_actors_image(store, url, reason):
    with pytest.raises(ForeignImageError) as caught:
        store.locate(url, ACTOR)
    assert reason in caught.value.reason
    assert caught.value.url == url


# -- objects on moto --------------------------------------------------------------------------


def test_put_new_then_get_and_head(store, caplog):
    data = b"\xff\xd8" + b"x" * 325_000
    with caplog.at_level(logging.INFO, logger="tdm_desktop"):
        store.put_new(key(0), data, "image/jpeg")
    assert f"[S3-ONLY] Uploaded s3://{BUCKET}/{key(0)} (0.31 MB)" in caplog.messages
    assert store.get_bytes(key(0)) == data
    assert store.head_size(key(0)) == len(data)
    head = store._client.head_object(Bucket=BUCKET, Key=key(0))
    assert head["ContentType"] == "image/jpeg"


def test_put_new_never_overwrites(store):
    store.put_new(key(0), b"first", "image/jpeg")
    with pytest.raises(ObjectExistsError) as caught:
        store.put_new(key(0), b"second", "image/jpeg")
    assert caught.value.code == "PreconditionFailed"
    assert key(0) in str(caught.value)
    assert store.get_bytes(key(0)) == b"first"


def test_missing_object_maps_to_no_such_key(store):
    with pytest.raises(S3Error) as caught:
        store.get_bytes(key(9))
    assert caught.value.code == "NoSuchKey"
    assert caught.value.key == key(9)
    with pytest.raises(S3Error) as caught:
        store.head_size(key(9))
    assert caught.value.code == "NoSuchKey"


def test_denied_object_maps_to_access_denied(store, s3_client):
    store.put_new(key(1), b"secret", "image/jpeg")
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=deny_policy("s3:GetObject", key(1)))
    with pytest.raises(S3Error) as caught:
        store.get_bytes(key(1))
    assert caught.value.code == "AccessDenied"
    assert str(caught.value).startswith(f"s3 object {key(1)!r}: AccessDenied:")


def test_missing_bucket_maps_to_no_such_bucket(s3_client):
    store = S3Store(s3_client, "no-such-bucket-here")
    with pytest.raises(S3Error) as caught:
        store.get_bytes(key(0))
    assert caught.value.code == "NoSuchBucket"


def test_delete_keys_deletes_and_reports(store, caplog):
    for n in range(3):
        store.put_new(key(n), b"img", "image/jpeg")
    with caplog.at_level(logging.INFO, logger="tdm_desktop"):
        report = store.delete_keys([key(0), key(1), key(0)])
    assert report == DeleteReport(deleted=[key(0), key(1)], failed={})
    assert "[S3-ONLY] Deleted 2 objects from S3" in caplog.messages
    assert store.list_keys(PREFIX) == [key(2)]


def test_delete_keys_with_nothing_to_delete(offline_client):
    store = S3Store(offline_client, BUCKET)
    with Stubber(offline_client) as stub:  # any request would fail: none is expected
        assert store.delete_keys([]) == DeleteReport()
        stub.assert_no_pending_responses()


def test_delete_partial_failure_keeps_the_denied_key(store, s3_client):
    for n in range(3):
        store.put_new(key(n), b"img", "image/jpeg")
    s3_client.put_bucket_policy(Bucket=BUCKET, Policy=deny_policy("s3:DeleteObject", key(1)))
    report = store.delete_keys([key(0), key(1), key(2)])
    assert report.deleted == [key(0), key(2)]
    assert list(report.failed) == [key(1)]
    assert report.failed[key(1)].startswith("AccessDenied")
    assert store.list_keys(PREFIX) == [key(1)]
    assert store.get_bytes(key(1)) == b"img"


def test_list_keys_under_a_prefix(store):
    store.put_new(key(0), b"a", "image/jpeg")
    store.put_new(key(1), b"b", "image/jpeg")
    other = key(0, "0043_asian_25_female")
    store.put_new(other, b"c", "image/jpeg")
    assert sorted(store.list_keys(PREFIX)) == [key(0), key(1)]
    assert store.list_keys("system_actors/training_data/nobody/") == []


def test_presign_get_names_the_object(store):
    url = store.presign_get(key(0), expires=600)
    assert parse_s3_url(url.split("?", 1)[0]) == S3Location(BUCKET, key(0))
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    assert "X-Amz-Expires=600" in url


def test_ensure_bucket_creates_once_and_keeps_objects(s3_client):
    store = S3Store(s3_client, "tdm-fresh-bucket")
    store.ensure_bucket()
    store.put_new("a.jpg", b"kept", "image/jpeg")
    store.ensure_bucket()
    assert store.get_bytes("a.jpg") == b"kept"


def test_ensure_bucket_outside_us_east_1(aws_env):
    from moto import mock_aws

    with mock_aws():
        client = make_s3_client(region="eu-west-1")
        store = S3Store(client, "tdm-eu-bucket")
        store.ensure_bucket()
        location = client.get_bucket_location(Bucket="tdm-eu-bucket")
        assert location["LocationConstraint"] == "eu-west-1"


# -- paths moto cannot exercise: Stubber ------------------------------------------------------


def test_delete_chunks_of_at_most_1000_and_a_failed_chunk_does_not_stop_the_next(offline_client):
    keys = [f"{PREFIX}{ACTOR}_{n}.jpg" for n in range(2500)]
    chunks = [keys[0:1000], keys[1000:2000], keys[2000:2500]]
    store = S3Store(offline_client, BUCKET)

    def expected(chunk):
        return {
            "Bucket": BUCKET,
            "Delete": {"Objects": [{"Key": k} for k in chunk], "Quiet": False},
        }

    with Stubber(offline_client) as stub:
        stub.add_response(
            "delete_objects", {"Deleted": [{"Key": k} for k in chunks[0]]}, expected(chunks[0])
        )
        stub.add_client_error(
            "delete_objects",
            service_error_code="InternalError",
            service_message="We encountered an internal error.",
            http_status_code=500,
            expected_params=expected(chunks[1]),
        )
        # After a failed request the store asks what is left: here, all of that chunk.
        stub.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": k} for k in chunks[1]], "IsTruncated": False},
            {"Bucket": BUCKET, "Prefix": PREFIX},
        )
        stub.add_response(
            "delete_objects",
            {
                "Deleted": [{"Key": k} for k in chunks[2][1:]],
                "Errors": [{"Key": chunks[2][0], "Code": "AccessDenied", "Message": "Denied"}],
            },
            expected(chunks[2]),
        )
        report = store.delete_keys(keys)
        stub.assert_no_pending_responses()

    assert report.deleted == chunks[0] + chunks[2][1:]
    assert set(report.failed) == set(chunks[1]) | {chunks[2][0]}
    assert report.failed[chunks[1][0]] == "InternalError: We encountered an internal error."
    assert report.failed[chunks[2][0]] == "AccessDenied: Denied"


def test_delete_key_not_reported_by_s3_counts_as_failed(offline_client):
    store = S3Store(offline_client, BUCKET)
    with Stubber(offline_client) as stub:
        stub.add_response("delete_objects", {"Deleted": [{"Key": key(0)}]})
        report = store.delete_keys([key(0), key(1)])
    assert report.deleted == [key(0)]
    assert list(report.failed) == [key(1)]


def conflict(stub: Stubber) -> None:
    stub.add_client_error(
        "put_object",
        service_error_code="ConditionalRequestConflict",
        service_message="A conflicting conditional operation is in progress.",
        http_status_code=409,
    )


def test_put_new_retries_409_conflicts_with_backoff(offline_client):
    sleeps: list[float] = []
    store = S3Store(offline_client, BUCKET, sleep=sleeps.append, new_upload_id=lambda: "u1")
    params = {
        "Bucket": BUCKET,
        "Key": key(0),
        "Body": b"img",
        "ContentType": "image/jpeg",
        "IfNoneMatch": "*",
        "Metadata": {"tdm-upload-id": "u1"},
    }
    with Stubber(offline_client) as stub:
        conflict(stub)
        conflict(stub)
        stub.add_response("put_object", {"ETag": '"abc"'}, params)
        store.put_new(key(0), b"img", "image/jpeg")
        stub.assert_no_pending_responses()
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0] > 0


def test_a_retried_put_that_meets_its_own_upload_succeeds(offline_client):
    """botocore retried a PUT whose answer was lost although S3 stored it: the retry's 412 finds
    this upload's own id, so it is not a collision (no orphan, no next number)."""
    store = S3Store(offline_client, BUCKET, new_upload_id=lambda: "mine")
    with Stubber(offline_client) as stub:
        stub.add_client_error("put_object", "PreconditionFailed", http_status_code=412)
        stub.add_response(
            "head_object",
            {"Metadata": {"tdm-upload-id": "mine"}},
            {"Bucket": BUCKET, "Key": key(0)},
        )
        store.put_new(key(0), b"img", "image/jpeg")
        stub.assert_no_pending_responses()


def test_a_412_on_someone_elses_object_is_a_collision(offline_client):
    store = S3Store(offline_client, BUCKET, new_upload_id=lambda: "mine")
    with Stubber(offline_client) as stub:
        stub.add_client_error("put_object", "PreconditionFailed", http_status_code=412)
        stub.add_response("head_object", {"Metadata": {"tdm-upload-id": "theirs"}})
        with pytest.raises(ObjectExistsError):
            store.put_new(key(0), b"img", "image/jpeg")


def test_objects_carry_their_upload_id(store, s3_client):
    store.put_new(key(0), b"img", "image/jpeg")
    head = s3_client.head_object(Bucket=BUCKET, Key=key(0))
    assert len(head["Metadata"]["tdm-upload-id"]) == 32
    with pytest.raises(ObjectExistsError):  # a second writer is still refused
        store.put_new(key(0), b"other", "image/jpeg")


def test_put_new_gives_up_after_repeated_409(offline_client):
    sleeps: list[float] = []
    store = S3Store(offline_client, BUCKET, sleep=sleeps.append, conflict_retries=2)
    with Stubber(offline_client) as stub:
        for _ in range(3):
            conflict(stub)
        with pytest.raises(S3Error) as caught:
            store.put_new(key(0), b"img", "image/jpeg")
        stub.assert_no_pending_responses()
    assert caught.value.code == "ConditionalRequestConflict"
    assert not isinstance(caught.value, ObjectExistsError)
    assert len(sleeps) == 2


def test_list_keys_follows_every_page(offline_client):
    store = S3Store(offline_client, BUCKET)
    with Stubber(offline_client) as stub:
        stub.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": key(0)}], "IsTruncated": True, "NextContinuationToken": "t1"},
            {"Bucket": BUCKET, "Prefix": PREFIX},
        )
        stub.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": key(1)}], "IsTruncated": False},
            {"Bucket": BUCKET, "Prefix": PREFIX, "ContinuationToken": "t1"},
        )
        assert store.list_keys(PREFIX) == [key(0), key(1)]
        stub.assert_no_pending_responses()


# -- transport failures (127.0.0.1 only) ------------------------------------------------------


def test_unreachable_endpoint_maps_to_endpoint_unreachable(aws_env):
    client = make_s3_client(
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        connect_timeout=0.5,
        read_timeout=0.5,
        max_attempts=0,
    )
    with pytest.raises(S3Error) as caught:
        S3Store(client, BUCKET).get_bytes(key(0))
    assert caught.value.code == "EndpointUnreachable"
    assert "\n" not in str(caught.value)


def test_silent_server_maps_to_timeout(aws_env):
    with socket.socket() as server:  # accepts connections (backlog) but never answers
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        client = make_s3_client(
            endpoint_url=f"http://127.0.0.1:{server.getsockname()[1]}",
            connect_timeout=0.5,
            read_timeout=0.2,
            max_attempts=0,
        )
        with pytest.raises(S3Error) as caught:
            S3Store(client, BUCKET).head_size(key(0))
    assert caught.value.code == "Timeout"


def test_missing_credentials_map_to_no_credentials(aws_env, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = make_s3_client(endpoint_url=f"http://127.0.0.1:{closed_port()}", max_attempts=0)
    with pytest.raises(S3Error) as caught:
        S3Store(client, BUCKET).get_bytes(key(0))
    assert caught.value.code == "NoCredentials"


def test_explicit_keys_sign_the_requests(aws_env, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    client = make_s3_client(
        endpoint_url="http://127.0.0.1:9", access_key="AKIDLOCAL", secret_key="s3cr3t-value"
    )
    credentials = client._request_signer._credentials
    assert (credentials.access_key, credentials.secret_key) == ("AKIDLOCAL", "s3cr3t-value")


def test_a_delete_request_that_dies_midway_counts_what_s3_no_longer_lists(offline_client):
    """The server deleted part of the chunk, then the answer was lost: the listing tells."""
    keys = [key(n) for n in range(4)]
    store = S3Store(offline_client, BUCKET)
    with Stubber(offline_client) as stub:
        stub.add_client_error(
            "delete_objects", service_error_code="InternalError", http_status_code=500
        )
        stub.add_response(
            "list_objects_v2",
            {"Contents": [{"Key": keys[1]}, {"Key": keys[3]}], "IsTruncated": False},
            {"Bucket": BUCKET, "Prefix": PREFIX},
        )
        report = store.delete_keys(keys)
        stub.assert_no_pending_responses()
    assert report.deleted == [keys[0], keys[2]]
    assert sorted(report.failed) == [keys[1], keys[3]]


def test_when_the_listing_fails_too_every_key_stays_failed(offline_client):
    keys = [key(n) for n in range(3)]
    store = S3Store(offline_client, BUCKET)
    with Stubber(offline_client) as stub:
        stub.add_client_error("delete_objects", service_error_code="SlowDown", http_status_code=503)
        stub.add_client_error(
            "list_objects_v2", service_error_code="SlowDown", http_status_code=503
        )
        report = store.delete_keys(keys)
    assert report.deleted == [] and sorted(report.failed) == keys
