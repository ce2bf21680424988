"""The AUTOMATIC1111 / Forge web UI API (``--api``): txt2img, or img2img from a base image."""

from __future__ import annotations

import base64
import binascii
import errno
import io
import json
import logging
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from PIL import Image, UnidentifiedImageError

from tdm_desktop.core.errors import BadInputError, GeneratorError
from tdm_desktop.core.generator import GenerationRequest, GenerationResult
from tdm_desktop.generators.base import sniff_image_mime

log = logging.getLogger(__name__)

DEFAULT_URL = "http://127.0.0.1:7860"
DEFAULT_STEPS = 25
CONNECT_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 300.0
_MAX_DETAIL = 300
_DATA_URL = re.compile(r"^data:image/[A-Za-z0-9.+-]+;base64,")


class A1111Generator:
    """Calls ``POST {base_url}/sdapi/v1/txt2img`` (or ``img2img`` when a base image is given)."""

    name = "a1111"

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        *,
        session: requests.Session | None = None,
        steps: int = DEFAULT_STEPS,
        sampler_name: str | None = None,
        read_timeout: float = DEFAULT_READ_TIMEOUT_S,
        connect_timeout: float = CONNECT_TIMEOUT_S,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.base_url = _check_base_url(base_url)
        self.steps = steps
        self.sampler_name = sampler_name or None
        self.timeout = (connect_timeout, read_timeout)
        self._session = session if session is not None else requests.Session()
        self._auth = requests.auth.HTTPBasicAuth(username, password or "") if username else None

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] = os.environ, session: requests.Session | None = None
    ) -> A1111Generator:
        """Settings from ``TDM_A1111_URL``, ``TDM_A1111_USER``/``TDM_A1111_PASSWORD``,
        ``TDM_A1111_STEPS``, ``TDM_A1111_SAMPLER`` and ``TDM_A1111_TIMEOUT`` (read timeout, s)."""
        return cls(
            env.get("TDM_A1111_URL") or DEFAULT_URL,
            session=session,
            steps=_env_number(env, "TDM_A1111_STEPS", DEFAULT_STEPS, int),
            sampler_name=env.get("TDM_A1111_SAMPLER") or None,
            read_timeout=_env_number(env, "TDM_A1111_TIMEOUT", DEFAULT_READ_TIMEOUT_S, float),
            username=env.get("TDM_A1111_USER") or None,
            password=env.get("TDM_A1111_PASSWORD") or None,
        )

    @property
    def display_url(self) -> str:
        """The base URL without any ``user:password@`` part, safe for messages and logs."""
        return _redact(self.base_url)

    @property
    def display_name(self) -> str:
        """``a1111 (http://127.0.0.1:7860)``: what a window names."""
        return f"{self.name} ({self.display_url})"

    def generate(self, request: GenerationRequest) -> GenerationResult:
        mode = "img2img" if request.base_image is not None else "txt2img"
        payload = self._payload(request, mode)
        answer = self._post(mode, payload)
        images = answer.get("images")
        if not isinstance(images, list) or not images or not isinstance(images[0], str):
            raise GeneratorError(
                f"AUTOMATIC1111 at {self.display_url}: the {mode} answer has no images"
            )
        data, mime, width, height = self._decode_image(images[0], mode)
        server_info = _parse_info(answer.get("info"))
        seed = _used_seed(server_info, request.seed)
        log.info("AUTOMATIC1111 %s: %dx%d %s, seed %s", mode, width, height, mime, seed)
        return GenerationResult(
            image_bytes=data,
            mime=mime,
            seed=seed,
            width=width,
            height=height,
            info={
                "generator": self.name,
                "placeholder": False,
                "url": self.display_url,
                "mode": mode,
                "steps": self.steps,
                "sampler_name": self.sampler_name,
                "denoising_strength": request.denoising_strength if mode == "img2img" else None,
                "server_info": server_info,
            },
        )

    def _payload(self, request: GenerationRequest, mode: str) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "seed": -1 if request.seed is None else request.seed,
            "width": request.width,
            "height": request.height,
            "steps": self.steps,
        }
        if self.sampler_name:
            payload["sampler_name"] = self.sampler_name
        if mode == "img2img":
            assert request.base_image is not None
            payload["init_images"] = [base64.b64encode(request.base_image).decode("ascii")]
            payload["denoising_strength"] = request.denoising_strength
        return payload

    def _post(self, mode: str, payload: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}/sdapi/v1/{mode}"
        where = f"AUTOMATIC1111 at {self.display_url}"
        try:
            response = self._session.post(url, json=payload, timeout=self.timeout, auth=self._auth)
        except requests.exceptions.ConnectTimeout as exc:
            raise GeneratorError(
                f"cannot reach {where}: no connection within {self.timeout[0]:g} s"
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise GeneratorError(
                f"{where} did not answer {mode} within {self.timeout[1]:g} s"
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            raise GeneratorError(
                f"cannot reach AUTOMATIC1111 at {self.display_url}: {_connection_reason(exc)}"
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise GeneratorError(f"{where}: {mode} request failed: {_one_line(str(exc))}") from exc
        if response.status_code >= 400:
            raise GeneratorError(self._http_error_message(mode, response))
        try:
            answer = response.json()
        except ValueError as exc:
            raise GeneratorError(
                f"{where}: the {mode} answer is not JSON (HTTP {response.status_code})"
            ) from exc
        if not isinstance(answer, dict):
            raise GeneratorError(f"{where}: the {mode} answer is not a JSON object")
        return answer

    def _http_error_message(self, mode: str, response: requests.Response) -> str:
        status = response.status_code
        detail = _server_detail(response)
        where = f"AUTOMATIC1111 at {self.display_url}"
        if status in (401, 403):
            hint = "check TDM_A1111_USER and TDM_A1111_PASSWORD"
            what = f"refused {mode} (HTTP {status}, {hint})"
        elif status == 404:
            what = f"has no {mode} API (HTTP 404; is the web UI started with --api?)"
        elif status >= 500:
            what = f"failed on {mode} (HTTP {status})"
        else:
            what = f"rejected {mode} (HTTP {status})"
        return f"{where} {what}: {detail}" if detail else f"{where} {what}"

    def _decode_image(self, text: str, mode: str) -> tuple[bytes, str, int, int]:
        where = f"AUTOMATIC1111 at {self.display_url}"
        text = _DATA_URL.sub("", text.strip(), count=1)
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise GeneratorError(f"{where}: the {mode} image is malformed base64: {exc}") from exc
        mime = sniff_image_mime(data)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if mime is None:
                    data, mime = _to_png(image), "image/png"
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            head = data[:8]
            raise GeneratorError(
                f"{where}: the {mode} answer is not an image ({len(data)} bytes starting {head!r})"
            ) from exc
        return data, mime, width, height


def _to_png(image: Image.Image) -> bytes:
    """A format we do not store as is (WebP...) becomes PNG; the service re-encodes to JPEG."""
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _check_base_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadInputError(
            f"AUTOMATIC1111 URL {_redact(url)!r} is not valid: expected e.g. {DEFAULT_URL}"
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _env_number(env: Mapping[str, str], name: str, default: Any, kind: type) -> Any:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise BadInputError(f"{name}={text!r} is not a valid {kind.__name__}") from None
    if value <= 0:
        raise BadInputError(f"{name}={text!r} must be greater than 0")
    return value


def _connection_reason(exc: requests.exceptions.ConnectionError) -> str:
    """A short reason from requests' nested urllib3 error text."""
    text = str(exc)
    if "Connection refused" in text or f"[Errno {errno.ECONNREFUSED}]" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "host name not found"
    if "Connection reset" in text or "RemoteDisconnected" in text:
        return "the connection was closed before an answer came"
    return _one_line(text)


def _server_detail(response: requests.Response) -> str:
    """The server's own explanation: FastAPI's ``detail`` (str or a 422 list), ``error``..."""
    try:
        body = response.json()
    except ValueError:
        return _one_line(response.text)
    if not isinstance(body, dict):
        return _one_line(json.dumps(body))
    parts: list[str] = []
    for key in ("error", "detail", "errors", "message", "msg"):
        value = body.get(key)
        if value:
            parts.append(_describe(value))
    return _one_line("; ".join(dict.fromkeys(p for p in parts if p)))


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "; ".join(_describe(item) for item in value)
    if isinstance(value, dict) and "msg" in value:
        loc = value.get("loc")
        where = ".".join(str(p) for p in loc) if isinstance(loc, list | tuple) else ""
        return f"{where}: {value['msg']}" if where else str(value["msg"])
    return json.dumps(value, ensure_ascii=False)


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def _parse_info(info: Any) -> dict[str, Any]:
    """A1111 sends ``info`` as a JSON string; tolerate a dict, nothing, or garbage."""
    if isinstance(info, dict):
        return info
    if isinstance(info, str) and info.strip():
        try:
            parsed = json.loads(info)
        except ValueError:
            return {"raw": _one_line(info)}
        return parsed if isinstance(parsed, dict) else {"raw": parsed}
    return {}


def _used_seed(info: Mapping[str, Any], requested: int | None) -> int:
    """The seed the server reports, else the one asked for, else -1 (unknown)."""
    seed = info.get("seed")
    if not _is_int(seed):
        seeds = info.get("all_seeds")
        seed = seeds[0] if isinstance(seeds, list) and seeds else None
    if _is_int(seed):
        return int(seed)
    return requested if requested is not None else -1


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
