"""How long an S3 request may take before it fails, and a client that stops asking a silent S3.

``S3Timeouts(total)`` bounds one request, all its attempts included, to ``total`` seconds
(default 60, ``TDM_S3_TIMEOUT`` / ``--s3-timeout``): 3 attempts (1 below 30 s), each with a
connect timeout of at most 5 s and a read timeout that takes the rest of its share, leaving 3 s
for botocore's backoff between attempts (at most 0.15 s between attempts that timed out, 3 s for
throttling). The read timeout bounds the wait for each answer, not a transfer that keeps
sending bytes.

``guard_client(client, timeouts, stop_after_timeout)`` makes a request that timed out say which
request it was (operation, URL, attempts, seconds) and, with ``stop_after_timeout``, makes
every later request of that client fail at once without being sent: a command then finishes
within one request's bound even when S3 accepts connections and never answers. The window does
not stop (it keeps one client for hours; a later request may find S3 back).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import botocore.exceptions as bce

from tdm_desktop.core.errors import BadInputError

DEFAULT_TOTAL_S = 60.0
ENV_VAR = "TDM_S3_TIMEOUT"
BACKOFF_BUDGET_S = 3.0
MAX_CONNECT_S = 5.0


@dataclass(frozen=True)
class S3Timeouts:
    total: float = DEFAULT_TOTAL_S

    def __post_init__(self) -> None:
        if not 1 <= self.total <= 3600:
            raise BadInputError(f"S3 timeout {self.total:g}: must be between 1 and 3600 seconds")

    @classmethod
    def parse(cls, text: str | None, source: str = ENV_VAR) -> S3Timeouts:
        """From ``--s3-timeout`` or ``TDM_S3_TIMEOUT`` (None or empty: the default)."""
        if text is None or not str(text).strip():
            return cls()
        try:
            total = float(text)
        except ValueError:
            raise BadInputError(
                f"{source} {text!r}: must be a number of seconds, e.g. 60"
            ) from None
        try:
            return cls(total)
        except BadInputError as err:
            raise BadInputError(f"{source}: {err}") from None

    @property
    def attempts(self) -> int:
        """Attempts per request, the first included."""
        return 3 if self.total >= 30 else 1

    @property
    def _per_attempt(self) -> float:
        backoff = BACKOFF_BUDGET_S if self.attempts > 1 else 0.0
        return (self.total - backoff) / self.attempts

    @property
    def connect_timeout(self) -> float:
        return min(MAX_CONNECT_S, self._per_attempt / 4)

    @property
    def read_timeout(self) -> float:
        return self._per_attempt - self.connect_timeout

    @property
    def retries(self) -> int:
        """botocore's ``max_attempts`` (retries after the first attempt)."""
        return self.attempts - 1


class S3NoAnswerError(bce.BotoCoreError):
    """A request timed out on every attempt."""

    fmt = (
        "{operation} got no answer from {url} within {elapsed:.0f} s ({attempts}; each request "
        "is bounded to {total:g} s: --s3-timeout or TDM_S3_TIMEOUT changes it)"
    )


class S3NotAnsweringError(bce.BotoCoreError):
    """A request not sent because an earlier one of the same client timed out."""

    fmt = "{operation} not sent: S3 did not answer an earlier request ({earlier})"


_TIMEOUTS = (bce.ConnectTimeoutError, bce.ReadTimeoutError)


class _Guard:
    def __init__(self, timeouts: S3Timeouts, stop_after_timeout: bool) -> None:
        self._timeouts = timeouts
        self._stop = stop_after_timeout
        self._lock = threading.Lock()
        self._earlier: str | None = None

    def before_call(self, event_name: str = "", context: Any = None, **_: Any) -> None:
        with self._lock:
            earlier = self._earlier
        if earlier is not None and self._stop:
            raise S3NotAnsweringError(operation=_operation(event_name), earlier=earlier)
        if isinstance(context, dict):
            context["tdm_started"] = time.monotonic()

    def after_call_error(
        self, exception: Exception, event_name: str = "", context: Any = None, **_: Any
    ) -> None:
        if not isinstance(exception, _TIMEOUTS):
            return
        started = context.get("tdm_started") if isinstance(context, dict) else None
        elapsed = time.monotonic() - started if started is not None else 0.0
        operation = _operation(event_name)
        url = str(exception.kwargs.get("endpoint_url", "S3"))
        attempts = self._timeouts.attempts
        error = S3NoAnswerError(
            operation=operation,
            url=url,
            elapsed=elapsed,
            attempts=f"{attempts} attempt{'s' if attempts > 1 else ''}",
            total=self._timeouts.total,
        )
        with self._lock:
            if self._earlier is None:
                self._earlier = f"{operation} timed out after {elapsed:.0f} s"
        raise error from exception


def _operation(event_name: str) -> str:
    return event_name.rsplit(".", 1)[-1] or "request"


def guard_client(client: Any, timeouts: S3Timeouts, stop_after_timeout: bool = False) -> Any:
    """Install the timeout messages (and, with ``stop_after_timeout``, the stop) on ``client``."""
    guard = _Guard(timeouts, stop_after_timeout)
    client.meta.events.register("before-call.s3", guard.before_call)
    client.meta.events.register("after-call-error.s3", guard.after_call_error)
    return client
