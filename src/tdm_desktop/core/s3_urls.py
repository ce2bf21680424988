"""Turn an ``s3_url`` from a manifest into (bucket, key), refusing anything we did not write.

Accepted forms (``B`` bucket, ``K`` key, ``R`` region):

- AWS virtual-hosted: ``https://B.s3.amazonaws.com/K``, ``https://B.s3.R.amazonaws.com/K``,
  ``https://B.s3-R.amazonaws.com/K``, ``https://B.s3.dualstack.R.amazonaws.com/K``
- AWS path style: ``https://s3.amazonaws.com/B/K``, ``https://s3.R.amazonaws.com/B/K`` (and the
  ``s3-R`` and dualstack hosts)
- ``s3://B/K``
- the configured endpoint's path style: ``{endpoint}/B/K`` (same scheme, host and port; an endpoint
  path prefix is kept)

The parser is deliberately strict: keys we write never need escaping, so anything that a URL
parser could read two ways (userinfo, ``%``-escapes, ``..``, backslashes...) is refused rather than
normalised. A refused URL is a foreign image: it is never fetched with credentials.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from tdm_desktop.core.errors import BadInputError, ForeignImageError

DEFAULT_BUCKET = "story-boards-assets"
"""The design's bucket: the default of ``--bucket`` / ``TDM_BUCKET`` and of the bundled local S3."""

_AWS_SUFFIX = r"amazonaws\.com(?:\.cn)?"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]+"
# The S3 part of an AWS host: "s3", "s3.R", "s3-R" or "s3.dualstack.R".
_S3_SERVICE = rf"s3(?:\.{_REGION}|-{_REGION}|\.dualstack\.{_REGION})?"
_AWS_PATH_STYLE_HOST = re.compile(rf"{_S3_SERVICE}\.{_AWS_SUFFIX}")
_AWS_VIRTUAL_HOST = re.compile(rf"(?P<bucket>[a-z0-9.-]+?)\.{_S3_SERVICE}\.{_AWS_SUFFIX}")
_AWS_ANY_HOST = re.compile(rf"(?:.+\.)?{_AWS_SUFFIX}")

_SCHEME = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)", re.DOTALL)
_AUTHORITY = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class S3Location:
    """Where an object lives: a bucket name and a key inside it."""

    bucket: str
    key: str


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int | None
    path: str  # "" or "/..." (no query, no fragment)


def is_valid_bucket_name(name: object) -> bool:
    """True if ``name`` follows the S3 general-purpose bucket naming rules."""
    return _bucket_problem(name) is None


def is_aws_endpoint(endpoint_url: str | None) -> bool:
    """True for an ``amazonaws.com`` endpoint (or None, meaning boto3's AWS default)."""
    if endpoint_url is None:
        return True
    match = _SCHEME.fullmatch(endpoint_url)
    if match is None:
        return False
    host = _AUTHORITY.match(match["rest"])
    return bool(host and _AWS_ANY_HOST.fullmatch(host["host"].lower()))


_PRINTABLE_ASCII = re.compile(r"[!-~]+")


def parse_s3_url(url: object, endpoint_url: str | None = None) -> S3Location:
    """Return the bucket and key ``url`` names, or raise ``ForeignImageError`` saying why not.

    ``endpoint_url`` is the configured custom S3 endpoint (None on AWS); its path-style URLs are
    accepted in addition to every AWS form and ``s3://``.
    """
    if not isinstance(url, str):
        raise ForeignImageError(repr(url), "not a string")
    problem = _character_problem(url)
    if problem:
        raise ForeignImageError(url, problem)
    origin = _split(url)
    if isinstance(origin, str):
        raise ForeignImageError(url, origin)
    location = _locate(origin, _endpoint_origin(endpoint_url))
    if isinstance(location, str):
        raise ForeignImageError(url, location)
    bucket_problem = _bucket_problem(location.bucket)
    if bucket_problem:
        raise ForeignImageError(url, bucket_problem)
    key_problem = _key_problem(location.key)
    if key_problem:
        raise ForeignImageError(url, key_problem)
    return location


def _character_problem(text: str) -> str | None:
    if not text:
        return "empty URL"
    if not _PRINTABLE_ASCII.fullmatch(text):
        return "whitespace, control or non-ASCII character in URL"
    if "\\" in text:
        return "backslash in URL"
    if "%" in text:
        return "percent-escape in URL"
    if "?" in text:
        return "query string in URL"
    if "#" in text:
        return "fragment in URL"
    return None


def _split(url: str) -> _Origin | str:
    """Split an already character-checked URL; return a problem string if it is not usable."""
    match = _SCHEME.fullmatch(url)
    if match is None:
        return "not an absolute URL"
    scheme = match["scheme"].lower()
    authority, slash, path = match["rest"].partition("/")
    path = slash + path
    if "@" in authority:
        return "userinfo in URL"
    if scheme == "s3":
        return _Origin(scheme, authority, None, path)
    if scheme not in _DEFAULT_PORTS:
        return f"unsupported scheme {scheme!r}"
    host = _AUTHORITY.fullmatch(authority)
    if host is None:
        return "malformed host"
    port = int(host["port"]) if host["port"] is not None else _DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        return "malformed port"
    return _Origin(scheme, host["host"].lower(), port, path)


def _endpoint_origin(endpoint_url: str | None) -> _Origin | None:
    if endpoint_url is None:
        return None
    problem = _character_problem(endpoint_url)
    origin = _split(endpoint_url) if problem is None else problem
    if isinstance(origin, str) or origin.scheme == "s3":
        reason = origin if isinstance(origin, str) else "not an http(s) URL"
        raise BadInputError(f"endpoint URL {endpoint_url!r}: {reason}")
    return _Origin(origin.scheme, origin.host, origin.port, origin.path.rstrip("/"))


def _locate(origin: _Origin, endpoint: _Origin | None) -> S3Location | str:
    if origin.scheme == "s3":
        return _object(origin.host, origin.path)
    if endpoint is not None and (origin.scheme, origin.host, origin.port) == (
        endpoint.scheme,
        endpoint.host,
        endpoint.port,
    ):
        if not origin.path.startswith(endpoint.path + "/"):
            return f"path is outside the endpoint's path {endpoint.path!r}"
        return _path_style(origin.path[len(endpoint.path) :])
    if not _AWS_ANY_HOST.fullmatch(origin.host):
        return f"unknown host {origin.host!r}"
    if origin.scheme != "https":
        return "AWS URL is not https"
    if origin.port != 443:
        return f"unexpected port {origin.port} on an AWS host"
    if _AWS_PATH_STYLE_HOST.fullmatch(origin.host):
        return _path_style(origin.path)
    virtual = _AWS_VIRTUAL_HOST.fullmatch(origin.host)
    if virtual is None:
        return f"unknown host {origin.host!r}"
    return _object(virtual["bucket"], origin.path)


def _path_style(path: str) -> S3Location | str:
    """``/B/K`` → (B, K)."""
    bucket, slash, key = path[1:].partition("/")
    if not bucket:
        return "no bucket in URL path"
    return _object(bucket, slash + key)


def _object(bucket: str, path: str) -> S3Location | str:
    """(B, ``/K``) → (B, K)."""
    if not path.startswith("/") or path == "/":
        return "no object key in URL"
    return S3Location(bucket, path[1:])


def _bucket_problem(name: object) -> str | None:
    if not isinstance(name, str) or not _BUCKET.fullmatch(name):
        return f"bucket name {name!r} is not a valid S3 bucket name"
    if ".." in name or ".-" in name or "-." in name:
        return f"bucket name {name!r} is not a valid S3 bucket name"
    if name.startswith(_BUCKET_RESERVED_PREFIXES) or name.endswith(_BUCKET_RESERVED_SUFFIXES):
        return f"bucket name {name!r} is not a valid S3 bucket name"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return None
    return f"bucket name {name!r} is not a valid S3 bucket name"


def _key_problem(key: str) -> str | None:
    if any(segment in ("", ".", "..") for segment in key.split("/")):
        return "'..', '.' or empty segment in key"
    return None
