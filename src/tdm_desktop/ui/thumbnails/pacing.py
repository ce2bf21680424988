"""How many thumbnail GETs to keep in flight: enough to fill the link, not so many that the
first tiles wait behind the others.

On a link where latency binds (far away, fast), every GET in flight adds throughput: 16 in
flight at 100 ms carry 2.4x what 6 do (docs/PERFORMANCE.md). On a link where bandwidth binds
(home, 20 Mbit) the transfers in flight share it: with 16 at once the first tile arrives when
all 16 do, seconds later. So the number follows the link, as a congestion window does: from
the replies it measures the link's delivery rate (bytes delivered while a GET was out, over its
time out; the highest of the recent ones) and its round trip (the median of the recent times to
the first byte: a server that is slow now and then, as one sharing two cores with the app is,
must not shrink the window to its best case), and keeps ``2 x rate x round trip`` worth of
objects in flight (the bandwidth-delay product, twice over: while the window limits the rate, the
product equals the window, so it doubles each round trip until the link binds), plus one, between
``minimum`` and ``maximum``. It starts at ``initial`` (one: the first visible tile has the link
to itself), and grows within a few round trips where the link allows.

Pure Python, no Qt: the loader tells it when GETs went out and came back, with an injected clock.
"""

from __future__ import annotations

import bisect
import math
import statistics
import time
from collections import deque
from collections.abc import Callable

RATE_SAMPLES = 8  # delivery-rate samples kept: the window's max filter
RTT_SAMPLES = 32  # round-trip samples kept: the window's median
GAIN = 2.0
HISTORY = 2048  # replies remembered for the delivery rate (a GET is out far shorter than that)


class RequestPacer:
    """``limit()``: how many GETs may be in flight now. ``done(...)`` for every reply."""

    def __init__(
        self,
        maximum: int,
        *,
        minimum: int = 1,
        initial: int = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 1 <= minimum <= maximum:
            raise ValueError(f"requests in flight: need 1 <= {minimum} <= {maximum}")
        self._maximum = maximum
        self._minimum = minimum
        self._limit = max(minimum, min(initial, maximum))
        self._clock = clock
        self._delivered = 0  # bytes of every reply so far
        self._done_at: list[float] = []  # when each reply came back, in order
        self._totals: list[int] = []  # bytes delivered up to and with that reply
        self._rates: deque[float] = deque(maxlen=RATE_SAMPLES)  # bytes per second
        self._rtts: deque[float] = deque(maxlen=RTT_SAMPLES)  # seconds
        self._mean_size = 0.0

    def limit(self) -> int:
        return self._limit

    def maximum(self) -> int:
        return self._maximum

    def set_maximum(self, maximum: int) -> None:
        self._maximum = max(self._minimum, maximum)
        self._limit = min(self._limit, self._maximum)

    def now(self) -> float:
        return self._clock()

    def done(self, sent_at: float, first_byte_at: float | None, done_at: float, size: int) -> None:
        """A reply of ``size`` bytes came back at ``done_at``; its GET left at ``sent_at``, its
        first byte came at ``first_byte_at`` (None when not known)."""
        self._delivered += size
        before = self._delivered_at(sent_at)
        self._done_at.append(done_at)
        self._totals.append(self._delivered)
        if len(self._done_at) > 2 * HISTORY:
            del self._done_at[:-HISTORY], self._totals[:-HISTORY]
        elapsed = done_at - sent_at
        if elapsed > 0 and size > 0:
            self._rates.append((self._delivered - before) / elapsed)
        round_trip = (first_byte_at if first_byte_at is not None else done_at) - sent_at
        if round_trip > 0:
            self._rtts.append(round_trip)
        if size > 0:
            self._mean_size = size if not self._mean_size else 0.9 * self._mean_size + 0.1 * size
        self._update()

    def failed(self) -> None:
        """A GET failed without a body: nothing learnt about the link."""

    def _delivered_at(self, moment: float) -> int:
        """Bytes delivered by replies that came back before ``moment``."""
        index = bisect.bisect_left(self._done_at, moment)
        return self._totals[index - 1] if index > 0 else 0

    def _update(self) -> None:
        if not self._rates or not self._rtts or self._mean_size <= 0:
            return
        objects = max(self._rates) * statistics.median(self._rtts) / self._mean_size
        wanted = math.ceil(GAIN * objects) + 1
        self._limit = max(self._minimum, min(self._maximum, wanted))
