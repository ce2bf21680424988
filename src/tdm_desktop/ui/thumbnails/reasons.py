"""Why a thumbnail could not be shown, in a curator's words, from whichever path fetched it."""

from __future__ import annotations

import re

from PySide6.QtNetwork import QNetworkReply

from tdm_desktop.core.errors import ForeignImageError, S3Error
from tdm_desktop.ui.common.images import NotAnImageError

# S3 error codes (and the short words S3Store uses) in a curator's words.
REASONS = {
    "AccessDenied": "forbidden",
    "Forbidden": "forbidden",
    "403": "forbidden",
    "AllAccessDisabled": "forbidden",
    "NoSuchKey": "missing",
    "NoSuchBucket": "missing",
    "NotFound": "missing",
    "404": "missing",
    "Timeout": "timeout",
    "RequestTimeout": "timeout",
    "ReadTimeout": "timeout",
    "ConnectTimeout": "timeout",
    "EndpointUnreachable": "unreachable",
    "EndpointConnectionError": "unreachable",
    "NoCredentials": "no credentials",
    "InvalidAccessKeyId": "no credentials",
    "SignatureDoesNotMatch": "no credentials",
    "ExpiredToken": "no credentials",
}

_NET = QNetworkReply.NetworkError
_UNREACHABLE = {
    _NET.ConnectionRefusedError,
    _NET.RemoteHostClosedError,
    _NET.HostNotFoundError,
    _NET.TemporaryNetworkFailureError,
    _NET.NetworkSessionFailedError,
    _NET.ProxyConnectionRefusedError,
    _NET.ProxyNotFoundError,
    _NET.UnknownNetworkError,
}
_HTTP_REASONS = {401: "no credentials", 403: "forbidden", 404: "missing", 410: "missing"}
_S3_CODE = re.compile(rb"<Code>([A-Za-z0-9]+)</Code>")
_S3_MESSAGE = re.compile(rb"<Message>([^<]*)</Message>")
_QUERY = re.compile(r"\?[^\s]*")


def without_query(message: str) -> str:
    """``message`` without URL query strings: a presigned URL's query is a bearer credential
    (X-Amz-Credential, X-Amz-Signature), never logged nor shown."""
    return _QUERY.sub("?…", message)


def s3_code(body: bytes) -> str | None:
    """The ``<Code>`` of an S3 error body, if it has one."""
    match = _S3_CODE.search(body[:4096])
    return match.group(1).decode() if match is not None else None


def url_expired(status: int | None, body: bytes) -> bool:
    """Whether a presigned URL was refused because it (or the session token that signed it) has
    expired: S3 answers 403 ``ExpiredToken``, or ``AccessDenied`` "Request has expired"."""
    if status != 403:
        return False
    code = s3_code(body)
    if code in ("ExpiredToken", "TokenRefreshRequired"):
        return True
    message = _S3_MESSAGE.search(body[:4096])
    return code == "AccessDenied" and message is not None and b"expired" in message.group(1)


def reply_failure_reason(error: QNetworkReply.NetworkError, status: int | None, body: bytes) -> str:
    """The curator's word for a failed thumbnail GET, from the S3 error code, HTTP status or error."""
    code = s3_code(body)
    if code in REASONS:
        return REASONS[code]
    if status in _HTTP_REASONS:
        return _HTTP_REASONS[status]
    if status is not None and status >= 400:
        return f"HTTP {status}"
    if error in (_NET.OperationCanceledError, _NET.TimeoutError):
        return "timeout"  # our requests are only cancelled by their transfer timeout
    if error in _UNREACHABLE:
        return "unreachable"
    return "failed"


def failure_reason(error: BaseException) -> str:
    """A short word a curator understands for why a thumbnail could not be shown."""
    if isinstance(error, ForeignImageError):
        return f"foreign URL: {error.reason}"
    if isinstance(error, S3Error):
        return REASONS.get(error.code, error.code or "S3 error")
    if isinstance(error, NotAnImageError):
        return "not an image"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, OSError):
        return "unreachable"
    if isinstance(error, LookupError):  # e.g. the image is no longer listed
        return "missing"
    return "failed"
