"""parse_s3_url: every form we write or AWS documents parses; anything ambiguous is refused."""

from __future__ import annotations

import pytest

from tdm_desktop.core.errors import BadInputError, ForeignImageError
from tdm_desktop.core.s3_urls import (
    S3Location,
    is_aws_endpoint,
    is_valid_bucket_name,
    parse_s3_url,
)

BUCKET = "story-boards-assets"
KEY = "system_actors/training_data/0042_european_30_male/0042_european_30_male_0.jpg"
EXPECTED = S3Location(BUCKET, KEY)


@pytest.mark.parametrize(
    "url",
    [
        f"https://{BUCKET}.s3.amazonaws.com/{KEY}",
        f"https://{BUCKET}.s3.eu-west-1.amazonaws.com/{KEY}",
        f"https://{BUCKET}.s3.us-gov-west-1.amazonaws.com/{KEY}",
        f"https://{BUCKET}.s3-eu-west-1.amazonaws.com/{KEY}",
        f"https://{BUCKET}.s3.dualstack.eu-west-1.amazonaws.com/{KEY}",
        f"https://{BUCKET}.s3.cn-north-1.amazonaws.com.cn/{KEY}",
        f"https://{BUCKET}.s3.amazonaws.com:443/{KEY}",
        f"https://Story-Boards-Assets.S3.Amazonaws.com/{KEY}",
        f"https://s3.amazonaws.com/{BUCKET}/{KEY}",
        f"https://s3.eu-west-1.amazonaws.com/{BUCKET}/{KEY}",
        f"https://s3-eu-west-1.amazonaws.com/{BUCKET}/{KEY}",
        f"https://s3.dualstack.us-east-2.amazonaws.com/{BUCKET}/{KEY}",
        f"s3://{BUCKET}/{KEY}",
        f"S3://{BUCKET}/{KEY}",
    ],
)
def test_aws_and_s3_scheme_forms_parse(url):
    assert parse_s3_url(url) == EXPECTED
    assert parse_s3_url(url, endpoint_url="http://127.0.0.1:8333") == EXPECTED


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("http://127.0.0.1:8333", f"http://127.0.0.1:8333/{BUCKET}/{KEY}"),
        ("http://127.0.0.1:8333/", f"http://127.0.0.1:8333/{BUCKET}/{KEY}"),
        ("http://localhost:9000", f"http://LOCALHOST:9000/{BUCKET}/{KEY}"),
        ("https://minio.example.org", f"https://minio.example.org/{BUCKET}/{KEY}"),
        ("https://minio.example.org", f"https://minio.example.org:443/{BUCKET}/{KEY}"),
        ("http://[::1]:8333", f"http://[::1]:8333/{BUCKET}/{KEY}"),
        ("http://127.0.0.1:8333/s3/v1", f"http://127.0.0.1:8333/s3/v1/{BUCKET}/{KEY}"),
    ],
)
def test_configured_endpoint_path_style_parses(endpoint, url):
    assert parse_s3_url(url, endpoint_url=endpoint) == EXPECTED


def test_endpoint_path_style_is_unknown_without_that_endpoint():
    url = f"http://127.0.0.1:8333/{BUCKET}/{KEY}"
    with pytest.raises(ForeignImageError, match="unknown host"):
        parse_s3_url(url)


@pytest.mark.parametrize(
    ("endpoint", "url", "reason"),
    [
        # scheme, host and port must all match the endpoint
        ("http://127.0.0.1:8333", f"http://127.0.0.1:8334/{BUCKET}/{KEY}", "unknown host"),
        ("http://127.0.0.1:8333", f"https://127.0.0.1:8333/{BUCKET}/{KEY}", "unknown host"),
        ("http://127.0.0.1:8333", f"http://127.0.0.2:8333/{BUCKET}/{KEY}", "unknown host"),
        ("http://localhost:8333", f"http://localhost.evil.example:8333/{BUCKET}/{KEY}", "host"),
        # an endpoint path prefix is required, not optional
        ("http://127.0.0.1:8333/s3", f"http://127.0.0.1:8333/{BUCKET}/{KEY}", "endpoint's path"),
        ("http://127.0.0.1:8333/s3", f"http://127.0.0.1:8333/s3x/{BUCKET}/{KEY}", "endpoint"),
    ],
)
def test_other_origins_than_the_endpoint_are_refused(endpoint, url, reason):
    with pytest.raises(ForeignImageError, match=reason):
        parse_s3_url(url, endpoint_url=endpoint)


REFUSED = [
    (None, "not a string"),
    (b"s3://story-boards-assets/k.jpg", "not a string"),
    ("", "empty"),
    (f" https://{BUCKET}.s3.amazonaws.com/{KEY}", "whitespace"),
    (f"https://{BUCKET}.s3.amazonaws.com/{KEY} ", "whitespace"),
    (f"https://{BUCKET}.s3.amazonaws.com/a b.jpg", "whitespace"),
    (f"https://{BUCKET}.s3.amazonaws.com/{KEY}\n", "control"),
    (f"https://{BUCKET}.s3.amazonaws.com/a\tb/c.jpg", "control"),
    (f"https://{BUCKET}.s3.amazonaws.com/a\x00.jpg", "control"),
    (f"https://{BUCKET}.s3.amazonaws.com/caf\u00e9.jpg", "non-ASCII"),
    (f"https://{BUCKET}.s3.amazon\u0430ws.com/{KEY}", "non-ASCII"),
    (f"https://{BUCKET}.s3.amazonaws.com@evil.example/{KEY}", "userinfo"),
    (f"https://user:pw@{BUCKET}.s3.amazonaws.com/{KEY}", "userinfo"),
    (f"s3://x@{BUCKET}/{KEY}", "userinfo"),
    (f"https://{BUCKET}.s3.amazonaws.com/{KEY}?versionId=1", "query"),
    (f"https://{BUCKET}.s3.amazonaws.com/{KEY}?", "query"),
    (f"https://{BUCKET}.s3.amazonaws.com/{KEY}#frag", "fragment"),
    (f"https://{BUCKET}.s3.amazonaws.com/system_actors%2Ftraining_data/a.jpg", "percent"),
    (f"https://{BUCKET}.s3.amazonaws.com/a%41.jpg", "percent"),
    (f"https://s3.amazonaws.com/{BUCKET}%2F{KEY}", "percent"),
    (f"https://{BUCKET}.s3.amazonaws.com/system_actors/../secret.jpg", "'..'"),
    (f"https://{BUCKET}.s3.amazonaws.com/system_actors/./a.jpg", "'.'"),
    (f"https://{BUCKET}.s3.amazonaws.com/system_actors//a.jpg", "empty segment"),
    (f"https://{BUCKET}.s3.amazonaws.com//a.jpg", "empty segment"),
    (f"https://{BUCKET}.s3.amazonaws.com/system_actors/", "empty segment"),
    (f"https://{BUCKET}.s3.amazonaws.com/", "no object key"),
    (f"https://{BUCKET}.s3.amazonaws.com", "no object key"),
    (f"https://s3.amazonaws.com/{BUCKET}", "no object key"),
    (f"https://s3.amazonaws.com//{KEY}", "no bucket"),
    (f"s3://{BUCKET}", "no object key"),
    (f"https://{BUCKET}.s3.amazonaws.com/a\\b.jpg", "backslash"),
    (f"https:\\\\{BUCKET}.s3.amazonaws.com/{KEY}", "backslash"),
    (f"https://{BUCKET}.s3.amazonaws.com.evil.example/{KEY}", "unknown host"),
    (f"https://{BUCKET}.evil.example/{KEY}", "unknown host"),
    (f"https://{BUCKET}.s3.amazonaws.co/{KEY}", "unknown host"),
    (f"https://{BUCKET}.s4.amazonaws.com/{KEY}", "unknown host"),
    (f"https://{BUCKET}.s3.evil.amazonaws.com/{KEY}", "unknown host"),
    (f"https://ec2.amazonaws.com/{BUCKET}/{KEY}", "unknown host"),
    (f"https://evilamazonaws.com/{BUCKET}/{KEY}", "unknown host"),
    (f"https://{BUCKET}_x.s3.amazonaws.com/{KEY}", "malformed host"),
    (f"http://{BUCKET}.s3.amazonaws.com/{KEY}", "not https"),
    (f"http://s3.amazonaws.com/{BUCKET}/{KEY}", "not https"),
    (f"https://{BUCKET}.s3.amazonaws.com:8443/{KEY}", "port"),
    (f"ftp://{BUCKET}.s3.amazonaws.com/{KEY}", "scheme"),
    (f"file:///{BUCKET}/{KEY}", "scheme"),
    (f"//{BUCKET}.s3.amazonaws.com/{KEY}", "not an absolute URL"),
    (KEY, "not an absolute URL"),
    (f"https://s3.amazonaws.com/Story-Boards-Assets/{KEY}", "not a valid S3 bucket name"),
    (f"https://s3.amazonaws.com/ab/{KEY}", "not a valid S3 bucket name"),
    (f"https://s3.amazonaws.com/{'a' * 64}/{KEY}", "not a valid S3 bucket name"),
    (f"https://s3.amazonaws.com/my_bucket/{KEY}", "not a valid S3 bucket name"),
    (f"https://s3.amazonaws.com/-bucket/{KEY}", "not a valid S3 bucket name"),
    (f"https://a..b.s3.amazonaws.com/{KEY}", "not a valid S3 bucket name"),
    (f"https://192.168.1.1.s3.amazonaws.com/{KEY}", "not a valid S3 bucket name"),
    (f"https://xn--bucket.s3.amazonaws.com/{KEY}", "not a valid S3 bucket name"),
    (f"s3://Story-Boards-Assets/{KEY}", "not a valid S3 bucket name"),
    (f"s3://{BUCKET}:443/{KEY}", "not a valid S3 bucket name"),
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_malformed_or_foreign_urls_are_refused(url, reason):
    with pytest.raises(ForeignImageError) as caught:
        parse_s3_url(url, endpoint_url="http://127.0.0.1:8333")
    assert reason in caught.value.reason
    message = str(caught.value)
    assert "\n" not in message and message.startswith("foreign image")


def test_percent_2f_never_becomes_a_slash_on_the_endpoint_either():
    url = f"http://127.0.0.1:8333/{BUCKET}/system_actors%2F..%2Fother.jpg"
    with pytest.raises(ForeignImageError, match="percent"):
        parse_s3_url(url, endpoint_url="http://127.0.0.1:8333")


def test_a_malformed_endpoint_is_a_configuration_error():
    with pytest.raises(BadInputError, match="endpoint URL"):
        parse_s3_url(f"s3://{BUCKET}/{KEY}", endpoint_url="127.0.0.1:8333")


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        (BUCKET, True),
        ("abc", True),
        ("my.bucket.1", True),
        ("ab", False),
        ("a" * 64, False),
        ("Bucket", False),
        ("bucket-", False),
        ("my..bucket", False),
        ("my.-bucket", False),
        ("10.0.0.1", False),
        ("sthree-bucket", False),
        ("bucket-s3alias", False),
        (None, False),
    ],
)
def test_bucket_name_rules(name, valid):
    assert is_valid_bucket_name(name) is valid


@pytest.mark.parametrize(
    ("endpoint", "aws"),
    [
        (None, True),
        ("https://s3.amazonaws.com", True),
        ("https://s3.eu-west-1.amazonaws.com", True),
        ("http://127.0.0.1:8333", False),
        ("https://s3.amazonaws.com.evil.example", False),
    ],
)
def test_is_aws_endpoint(endpoint, aws):
    assert is_aws_endpoint(endpoint) is aws
