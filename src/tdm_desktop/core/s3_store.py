"""The S3 store: the only place that talks to S3, through one shared (thread-safe) boto3 client.

Every failure leaves as ``S3Error(key, code, message)`` where ``code`` is the S3 error code
(``NoSuchKey``, ``AccessDenied``, ``NoSuchBucket``...) or one of ``Timeout``,
``EndpointUnreachable``, ``NoCredentials``, ``ConnectionClosed``, ``IncompleteRead``.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import boto3
import botocore.exceptions as bce
from botocore.config import Config

from tdm_desktop.core.errors import (
    ForeignImageError,
    InvalidNameError,
    ObjectExistsError,
    S3Error,
)
from tdm_desktop.core.names import NAME_PATTERN as _FILENAME
from tdm_desktop.core.names import check_actor_name, check_filename
from tdm_desktop.core.s3_timeouts import (
    S3NoAnswerError,
    S3NotAnsweringError,
    S3Timeouts,
    guard_client,
)
from tdm_desktop.core.s3_urls import (
    S3Location,
    is_aws_endpoint,
    is_valid_bucket_name,
    parse_s3_url,
)
from tdm_desktop.core.sizes import size_mb

log = logging.getLogger(__name__)

TRAINING_DATA_PREFIX = "system_actors/training_data"
DELETE_CHUNK = 1000  # DeleteObjects accepts at most 1000 keys per request
UPLOAD_ID = "tdm-upload-id"  # x-amz-meta-tdm-upload-id on every object this app writes
CONFLICT_RETRIES = 4  # extra attempts after a 409 ConditionalRequestConflict

_T = TypeVar("_T")
_MD5_ETAG = re.compile(r"[0-9a-fA-F]{32}")
_HTTP_STATUS_CODES = {"403": "AccessDenied", "404": "NoSuchKey", "412": "PreconditionFailed"}


def make_s3_client(
    endpoint_url: str | None = None,
    profile: str | None = None,
    region: str | None = None,
    max_pool_connections: int = 32,
    access_key: str | None = None,
    secret_key: str | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
    max_attempts: int | None = None,
    timeouts: S3Timeouts | None = None,
    stop_after_timeout: bool = False,
) -> Any:
    """A boto3 S3 client from boto3's own chain (profile, env endpoint, region, credentials).

    ``region`` falls back to ``AWS_REGION``, then to botocore's chain (``AWS_DEFAULT_REGION``,
    the profile).
    ``timeouts`` bounds each request, retries included (default 60 s, see ``s3_timeouts``);
    ``connect_timeout``, ``read_timeout`` and ``max_attempts`` (botocore's retry count after the
    first try, ``standard`` mode) override its parts. ``stop_after_timeout``: after a request
    timed out, later requests fail at once (for one-shot commands).
    Path addressing is used whenever the endpoint (given or from the environment) is not AWS.
    Keys passed here go to the client only; nothing is stored. Raises
    ``botocore.exceptions.ProfileNotFound`` for an unknown profile and ``ValueError`` for a
    malformed endpoint URL.
    """
    timeouts = timeouts or S3Timeouts()
    connect_timeout = timeouts.connect_timeout if connect_timeout is None else connect_timeout
    read_timeout = timeouts.read_timeout if read_timeout is None else read_timeout
    max_attempts = timeouts.retries if max_attempts is None else max_attempts
    session = boto3.session.Session(profile_name=profile)
    # botocore reads only AWS_DEFAULT_REGION; AWS_REGION wins over it, as in the AWS CLI v2.
    region = region or os.environ.get("AWS_REGION") or None

    def build(path_style: bool) -> Any:
        options: dict[str, Any] = {
            "signature_version": "s3v4",
            "retries": {"mode": "standard", "max_attempts": max_attempts},
            "max_pool_connections": max_pool_connections,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
        }
        if path_style:
            options["s3"] = {"addressing_style": "path"}
            if "request_checksum_calculation" in Config.OPTION_DEFAULTS:
                # Some S3 servers reject the CRC checksums botocore adds by default.
                options["request_checksum_calculation"] = "when_required"
                options["response_checksum_validation"] = "when_required"
        return session.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=Config(**options),
        )

    client = build(path_style=endpoint_url is not None and not is_aws_endpoint(endpoint_url))
    if endpoint_url is None and not is_aws_endpoint(client.meta.endpoint_url):
        # AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL / the profile set a custom endpoint.
        client = build(path_style=True)
    guard_client(client, timeouts, stop_after_timeout)
    log.debug(
        "S3 client: endpoint %s, region %s, profile %s",
        client.meta.endpoint_url,
        client.meta.region_name,
        profile or "(default chain)",
    )
    return client


@dataclass(frozen=True)
class ObjectInfo:
    """An object as a listing, a HEAD or a GET describes it: ``etag`` without its quotes;
    ``last_modified`` as a listing or a HEAD gives it (None where it was not asked for)."""

    key: str
    size: int
    etag: str
    last_modified: datetime | None = None

    @property
    def md5(self) -> str | None:
        """The object's MD5 (hex) when its ETag is one: a single-part upload or copy, not a
        multipart upload (``...-3``); S3 gives SSE-KMS objects other ETags, see ``FetchedObject``."""
        return self.etag.lower() if _MD5_ETAG.fullmatch(self.etag) else None


@dataclass(frozen=True)
class FetchedObject:
    """A GET's body with what S3 said about it."""

    data: bytes = field(repr=False)
    info: ObjectInfo
    kms_encrypted: bool  # SSE-KMS / DSSE-KMS: the ETag is then not the MD5 of the body


@dataclass(frozen=True)
class DeleteReport:
    """What a batch delete did: keys S3 reported deleted, and ``key → "Code: Message"`` failures."""

    deleted: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class S3Store:
    """Objects of one bucket, through one shared client. Thread-safe as the client is."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        conflict_retries: int = CONFLICT_RETRIES,
        aws_style_urls: bool = False,
        new_upload_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        if not is_valid_bucket_name(bucket):
            raise InvalidNameError(f"bucket {bucket!r}: not a valid S3 bucket name")
        self._client = client
        self._bucket = bucket
        self._sleep = sleep
        self._conflict_retries = conflict_retries
        self._prefixes: dict[str, str] = {}
        # The demo records production-style URLs even on its local endpoint (see demo.py), so its
        # manifests stay valid whatever port the local S3 gets next time.
        self._aws_style_urls = aws_style_urls
        self._new_upload_id = new_upload_id
        endpoint = client.meta.endpoint_url
        self._endpoint_url = None if is_aws_endpoint(endpoint) else endpoint.rstrip("/")

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def client(self) -> Any:
        """The shared boto3 client (catalog documents in S3 go through it too)."""
        return self._client

    @property
    def endpoint_url(self) -> str | None:
        """The custom endpoint the client talks to, or None on AWS."""
        return self._endpoint_url

    # -- names and URLs ---------------------------------------------------------------------

    def key_for(self, actor_name: str, filename: str) -> str:
        """``system_actors/training_data/{actor_name}/{filename}``; both names are checked."""
        return f"{self._actor_prefix(actor_name)}{check_filename(filename)}"

    def url_for(self, key: str) -> str:
        """The URL a manifest records: virtual-hosted on AWS, path style on a custom endpoint
        (virtual-hosted there too with ``aws_style_urls``)."""
        if self._endpoint_url is None or self._aws_style_urls:
            return self.aws_url_for(key)
        return f"{self._endpoint_url}/{self._bucket}/{key}"

    def aws_url_for(self, key: str) -> str:
        return f"https://{self._bucket}.s3.amazonaws.com/{key}"

    def key_prefix(self, actor_name: str) -> str:
        """``system_actors/training_data/{actor_name}/``: where the actor's images are."""
        return self._actor_prefix(actor_name)

    def canonical_url_prefixes(self, actor_name: str) -> tuple[str, ...]:
        """The URL prefixes this app writes for the actor's images: ``prefix + filename`` (a
        valid filename) names the object ``key_prefix(actor_name) + filename`` exactly, as
        ``locate`` would find."""
        key = self._actor_prefix(actor_name)
        return tuple(dict.fromkeys((self.aws_url_for(key), self.url_for(key))))

    def locate(self, s3_url: str, actor_name: str) -> S3Location:
        """The object ``s3_url`` names, if it is one of ``actor_name``'s images in our bucket.

        Raises ``ForeignImageError`` (with the reason) for anything else.
        """
        prefix = self._actor_prefix(actor_name)
        canonical = self._canonical_location(s3_url, prefix)
        if canonical is not None:
            return canonical
        location = parse_s3_url(s3_url, self._endpoint_url)
        if location.bucket != self._bucket:
            raise ForeignImageError(
                s3_url,
                f"bucket {location.bucket!r} is not the configured bucket {self._bucket!r}",
            )
        if not location.key.startswith(prefix):
            raise ForeignImageError(s3_url, f"key is outside actor {actor_name}'s prefix {prefix}")
        filename = location.key[len(prefix) :]
        try:
            check_filename(filename)
        except InvalidNameError:
            raise ForeignImageError(
                s3_url, f"{filename!r} is not a valid image filename under {prefix}"
            ) from None
        return location

    def _canonical_location(self, s3_url: str, prefix: str) -> S3Location | None:
        """The fast path for the URLs this app writes itself (``aws_url_for``/``url_for`` of a
        valid key): an exact string match, so opening 100,000 images parses none of them."""
        filename = s3_url.rpartition("/")[2]
        if not _FILENAME.fullmatch(filename) or ".." in filename:
            return None
        key = prefix + filename
        if s3_url == self.aws_url_for(key) or s3_url == self.url_for(key):
            return S3Location(self._bucket, key)
        return None

    def actor_prefix(self, actor_name: str) -> str:
        """``system_actors/training_data/{actor_name}/``, the prefix of an actor's images."""
        return self._actor_prefix(actor_name)

    def _actor_prefix(self, actor_name: str) -> str:
        prefix = self._prefixes.get(actor_name)
        if prefix is None:  # checked once per actor, not once per image of a big actor
            prefix = f"{TRAINING_DATA_PREFIX}/{check_actor_name(actor_name)}/"
            self._prefixes[actor_name] = prefix
        return prefix

    # -- objects ----------------------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes:
        def fetch() -> bytes:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
            with response["Body"] as body:
                return body.read()

        data = self._call(key, fetch)
        log.debug("Fetched s3://%s/%s (%d bytes)", self._bucket, key, len(data))
        return data

    def head_size(self, key: str) -> int:
        """The object's size in bytes."""
        response = self._call(key, lambda: self._client.head_object(Bucket=self._bucket, Key=key))
        return int(response["ContentLength"])

    def get_object(self, key: str) -> FetchedObject:
        """The object's bytes, size and ETag (for checking a download against S3)."""

        def fetch() -> FetchedObject:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
            with response["Body"] as body:
                data = body.read()
            info = ObjectInfo(key, int(response["ContentLength"]), _etag(response))
            kms = str(response.get("ServerSideEncryption", "")).startswith("aws:kms")
            return FetchedObject(data, info, kms_encrypted=kms)

        fetched = self._call(key, fetch)
        log.debug("Fetched s3://%s/%s (%d bytes)", self._bucket, key, len(fetched.data))
        return fetched

    def list_objects(self, prefix: str) -> list[ObjectInfo]:
        """Every object under ``prefix`` (all pages) with its size, ETag and date."""
        return list(self.iter_objects(prefix))

    def copy_new(self, source_key: str, key: str) -> None:
        """Server-side copy (CopyObject, no download) of ``source_key`` to a new ``key`` in the
        same bucket; never overwrites (If-None-Match: *, ``ObjectExistsError`` on a 412)."""
        try:
            self._client.copy_object(
                Bucket=self._bucket,
                Key=key,
                CopySource={"Bucket": self._bucket, "Key": source_key},
                IfNoneMatch="*",
            )
        except bce.ClientError as err:
            if _client_error_code(err) == "PreconditionFailed":
                raise ObjectExistsError(
                    key,
                    "PreconditionFailed",
                    f"an object already exists at s3://{self._bucket}/{key}",
                ) from None
            raise _s3_error(key, err) from None
        except bce.BotoCoreError as err:
            raise _s3_error(key, err) from None
        log.info("[S3-ONLY] Copied s3://%s/%s to %s", self._bucket, source_key, key)

    def put_replacing(self, key: str, data: bytes, content_type: str, etag: str) -> None:
        """Replace the object only if it is still the version ``etag`` names (If-Match).
        Another writer's change meanwhile raises ``S3Error`` with code ``PreconditionFailed``."""
        self._call(
            key,
            lambda: self._client.put_object(
                Bucket=self._bucket, Key=key, Body=data, ContentType=content_type, IfMatch=etag
            ),
        )

    def put_new(self, key: str, data: bytes, content_type: str) -> None:
        """Create the object; never overwrite. An existing object raises ``ObjectExistsError``.

        Each upload carries a random id in its metadata: when botocore retries a PUT whose answer
        was lost although S3 stored it, the retry's 412 finds our own id, and that is success
        (not a collision that would leave the first upload orphaned).
        """
        upload_id = self._new_upload_id()
        for attempt in range(self._conflict_retries + 1):
            try:
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=data,
                    ContentType=content_type,
                    IfNoneMatch="*",
                    Metadata={UPLOAD_ID: upload_id},
                )
            except bce.ClientError as err:
                code = _client_error_code(err)
                if code == "ConditionalRequestConflict" and attempt < self._conflict_retries:
                    delay = 0.2 * 2**attempt
                    log.debug("409 on s3://%s/%s, retry in %.1f s", self._bucket, key, delay)
                    self._sleep(delay)
                    continue
                if code != "PreconditionFailed":
                    raise _s3_error(key, err) from None
                if not self._uploaded_by(key, upload_id):
                    raise ObjectExistsError(
                        key, code, f"an object already exists at s3://{self._bucket}/{key}"
                    ) from None
                log.debug("s3://%s/%s: a retried PUT met its own upload", self._bucket, key)
            except bce.BotoCoreError as err:
                raise _s3_error(key, err) from None
            log.info(
                "[S3-ONLY] Uploaded s3://%s/%s (%.2f MB)", self._bucket, key, size_mb(len(data))
            )
            return

    def _uploaded_by(self, key: str, upload_id: str) -> bool:
        """Whether the object at ``key`` is the one this upload (``upload_id``) stored."""
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=key)
        except (bce.ClientError, bce.BotoCoreError):
            return False
        return head.get("Metadata", {}).get(UPLOAD_ID) == upload_id

    def delete_keys(self, keys: Iterable[str]) -> DeleteReport:
        """Delete with DeleteObjects, ≤1000 keys a request; a failed request does not stop the rest.

        A key counts as deleted only when S3 says so: in DeleteObjects' answer or, when a request
        fails without one (a timeout, a dropped connection, a server that died mid-request, which
        may have deleted part of the chunk), by a listing that no longer has it. Anything else is
        in ``failed``, so a manifest that drops only ``deleted`` keys never loses a stored object.
        """
        report = DeleteReport()
        for chunk in _chunks(list(dict.fromkeys(keys)), DELETE_CHUNK):
            self._delete_chunk(chunk, report)
        if report.deleted:
            log.info("[S3-ONLY] Deleted %d objects from S3", len(report.deleted))
        if report.failed:
            log.warning("[S3-ONLY] Failed to delete %d objects from S3", len(report.failed))
        return report

    def _delete_chunk(self, chunk: list[str], report: DeleteReport) -> None:
        try:
            response = self._client.delete_objects(
                Bucket=self._bucket,
                Delete={"Objects": [{"Key": key} for key in chunk], "Quiet": False},
            )
        except (bce.ClientError, bce.BotoCoreError) as err:
            error = _s3_error(chunk[0], err)
            log.debug("DeleteObjects of %d keys failed: %s", len(chunk), error)
            gone = self._keys_gone(chunk)
            for key in chunk:
                if key in gone:
                    report.deleted.append(key)
                else:
                    report.failed[key] = f"{error.code}: {error.message}"
            return
        deleted = {item["Key"] for item in response.get("Deleted", [])}
        errors = {item["Key"]: _delete_error(item) for item in response.get("Errors", [])}
        for key in chunk:
            if key in errors:
                report.failed[key] = errors[key]
            elif key in deleted:
                report.deleted.append(key)
            else:
                report.failed[key] = "NotReported: S3 did not report this key as deleted"

    def _keys_gone(self, keys: list[str]) -> set[str]:
        """Which of ``keys`` S3 no longer lists (one listing of their common prefix); none when
        the listing fails too."""
        prefix = os.path.commonprefix(keys)  # noqa: RUF071 (by character, then cut at a "/")
        prefix = prefix[: prefix.rfind("/") + 1]
        try:
            present = set(self.list_keys(prefix))
        except S3Error as err:
            log.debug("cannot tell which keys are gone: %s", err)
            return set()
        return set(keys) - present

    def list_keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (all pages)."""

        def collect() -> list[str]:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=prefix
            )
            return [item["Key"] for page in pages for item in page.get("Contents", [])]

        return self._call(prefix, collect)

    def iter_objects(self, prefix: str) -> Iterator[ObjectInfo]:
        """Every object under ``prefix`` with its size, ETag and date, page by page (ListObjectsV2).

        A page that fails raises ``S3Error`` after the objects of the pages before it were
        yielded, so a caller can tell a listing that stopped early from a complete one.
        """
        pages = iter(
            self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=prefix
            )
        )
        while True:
            try:
                page = next(pages)
            except StopIteration:
                return
            except (bce.ClientError, bce.BotoCoreError) as err:
                raise _s3_error(prefix, err) from None
            for item in page.get("Contents", []):
                yield ObjectInfo(
                    item["Key"], int(item.get("Size", 0)), _etag(item), item.get("LastModified")
                )

    def head(self, key: str) -> ObjectInfo:
        """The object's size, ETag and date (HeadObject)."""
        response = self._call(key, lambda: self._client.head_object(Bucket=self._bucket, Key=key))
        return ObjectInfo(
            key, int(response["ContentLength"]), _etag(response), response.get("LastModified")
        )

    def presign_get(self, key: str, expires: int = 3600) -> str:
        """A time-limited GET URL for the object (no request is made)."""
        return self._call(
            key,
            lambda: self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires
            ),
        )

    def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist; an existing one of ours is fine."""
        label = f"s3://{self._bucket}"
        try:
            self._client.head_bucket(Bucket=self._bucket)
            return
        except bce.ClientError as err:
            if _client_error_code(err) not in ("NoSuchKey", "NoSuchBucket", "NotFound"):
                raise _s3_error(label, err) from None
        except bce.BotoCoreError as err:
            raise _s3_error(label, err) from None
        region = self._client.meta.region_name
        options: dict[str, Any] = {}
        if region and region != "us-east-1":
            options["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self._client.create_bucket(Bucket=self._bucket, **options)
        except bce.ClientError as err:
            if _client_error_code(err) != "BucketAlreadyOwnedByYou":
                raise _s3_error(label, err) from None
        except bce.BotoCoreError as err:
            raise _s3_error(label, err) from None
        log.info("[S3-ONLY] Created bucket %s", self._bucket)

    def _call(self, key: str, request: Callable[[], _T]) -> _T:
        try:
            return request()
        except (bce.ClientError, bce.BotoCoreError) as err:
            error = _s3_error(key, err)
            log.debug("S3 request for %r failed: %s", key, error)
            raise error from None


def _etag(item: dict[str, Any]) -> str:
    return str(item.get("ETag", "")).strip('"')


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _client_error_code(err: bce.ClientError) -> str:
    """The S3 error code; a bare HTTP status (HEAD responses have no body) gets its usual name."""
    code = str(err.response.get("Error", {}).get("Code", "") or "")
    return _HTTP_STATUS_CODES.get(code, code)


def _delete_error(item: dict[str, Any]) -> str:
    code, message = item.get("Code") or "Error", item.get("Message") or ""
    return f"{code}: {_one_line(message)}" if message else code


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _s3_error(key: str, err: Exception) -> S3Error:
    """Map a botocore exception to ``S3Error`` with a useful code."""
    if isinstance(err, bce.ClientError):
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        code = _client_error_code(err) or f"HTTP{status or ''}"
        message = err.response.get("Error", {}).get("Message") or f"HTTP status {status}"
        return S3Error(key, code, _one_line(str(message)))
    if isinstance(
        err, bce.ConnectTimeoutError | bce.ReadTimeoutError | S3NoAnswerError | S3NotAnsweringError
    ):
        return S3Error(key, "Timeout", _one_line(str(err)))
    if isinstance(err, bce.ConnectionError):  # EndpointConnectionError, proxy errors
        return S3Error(key, "EndpointUnreachable", _one_line(str(err)))
    if isinstance(err, bce.NoCredentialsError | bce.PartialCredentialsError):
        return S3Error(key, "NoCredentials", _one_line(str(err)))
    if isinstance(err, bce.ConnectionClosedError):
        return S3Error(key, "ConnectionClosed", _one_line(str(err)))
    if isinstance(err, bce.IncompleteReadError | bce.ResponseStreamingError):
        return S3Error(key, "IncompleteRead", _one_line(str(err)))
    return S3Error(key, type(err).__name__.removesuffix("Error") or "Error", _one_line(str(err)))
