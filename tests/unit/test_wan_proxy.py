"""The benchmark's WAN proxy shapes what it carries: bandwidth shared by all connections, one RTT
per request/response, never a byte early. Asserted on the proxy's own accounting (due times from
its clock, link time booked), never on how long the test took."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from wan_proxy import Direction, LinkStats, Pipe, ShapingProxy, TokenBucket, serve_in_thread

MBIT = 1e6


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


_SOCKETS: list[socket.socket] = []  # the model tests never touch them; kept open till the end


def _pipe(not_before: float = 0.0) -> Pipe:
    a, b = socket.socketpair()
    _SOCKETS.extend((a, b))
    return Pipe(a, b, window=1 << 30, not_before=not_before)


def _run_link(direction: Direction, clock: FakeClock, step: float = 0.001) -> None:
    """Advance the injected clock, letting the link send, until nothing waits."""
    for _ in range(1_000_000):
        direction.transmit(clock.now)
        wake = direction.next_wake()
        if wake is None:
            return
        clock.now = max(clock.now + step, wake)
    raise AssertionError("the link never drained")


def test_a_transfer_takes_its_bytes_over_the_rate_plus_the_one_way_delay():
    clock = FakeClock()
    stats = LinkStats()
    link = Direction(delay_s=0.020, bits_per_s=20 * MBIT, stats=stats)
    pipe = _pipe()
    nbytes = 2_000_000
    began = clock.now
    for _ in range(nbytes // 250_000):  # read in eight chunks, all at once
        pipe.push(b"x" * 250_000, clock.now)
    link.offer(pipe, clock.now)
    _run_link(link, clock)

    ideal = nbytes * 8 / (20 * MBIT)  # 0.8 s
    assert stats.bytes == nbytes
    assert stats.busy_s == pytest.approx(ideal, rel=0.001)
    last_due = pipe.queue[-1][0]
    assert (last_due - began) / (ideal + 0.020) == pytest.approx(1.0, abs=0.01)
    dues = [due for due, _ in pipe.queue]
    assert dues == sorted(dues)
    assert dues[0] - began >= 0.020 - 1e-9  # nothing arrives before the one-way delay


def test_connections_share_one_bucket_and_take_turns():
    clock = FakeClock()
    stats = LinkStats()
    link = Direction(delay_s=0.0, bits_per_s=8 * MBIT, stats=stats)  # 1 MB/s
    first, second = _pipe(), _pipe()
    began = clock.now
    for pipe in (first, second):
        pipe.push(b"y" * 500_000, clock.now)
        link.offer(pipe, clock.now)
    _run_link(link, clock)

    # Together they need 1 s of link: a bucket per connection would finish both in 0.5 s.
    assert max(first.queue[-1][0], second.queue[-1][0]) - began == pytest.approx(1.0, rel=0.01)
    # Taking turns, both finish near the end, not one after the other.
    assert min(first.queue[-1][0], second.queue[-1][0]) - began > 0.9


def test_an_idle_bucket_saves_at_most_its_depth():
    bucket = TokenBucket(bytes_per_s=1000, depth_bytes=100)
    assert bucket.reserve(100, ready=50.0) == 50.0  # a full bucket sends its depth at once
    assert bucket.reserve(100, ready=50.0) == pytest.approx(50.1)
    assert bucket.reserve(1000, ready=500.0) == pytest.approx(500.9)  # idle long: still 100 saved


def test_the_first_bytes_of_a_connection_wait_for_its_setup():
    clock = FakeClock()
    stats = LinkStats()
    link = Direction(delay_s=0.050, bits_per_s=None, stats=stats)
    pipe = _pipe(not_before=clock.now + 0.200)  # two round trips of 100 ms
    pipe.push(b"GET / HTTP/1.1\r\n\r\n", clock.now)
    link.offer(pipe, clock.now)
    _run_link(link, clock)
    assert pipe.queue[0][0] == pytest.approx(100.0 + 0.200 + 0.050)


# -- the live proxy on loopback ---------------------------------------------------------------


class _Responder:
    """A loopback server: reads one request line, answers ``size`` bytes, closes."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while b"\n" not in buffer:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buffer += chunk
            conn.sendall(b"z" * self.size)

    def close(self) -> None:
        self.sock.close()


def _fetch(port: int) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /object\n")
        received = 0
        while chunk := sock.recv(65536):
            received += len(chunk)
        return received


@pytest.fixture
def live_proxy():
    made: list[tuple[ShapingProxy, threading.Thread, _Responder]] = []

    def start(size: int, **options) -> ShapingProxy:
        responder = _Responder(size)
        proxy = ShapingProxy(("127.0.0.1", responder.port), **options)
        made.append((proxy, serve_in_thread(proxy), responder))
        return proxy

    yield start
    for proxy, thread, responder in made:
        proxy.stop()
        thread.join(10)
        responder.close()


def test_the_live_proxy_paces_the_bytes_and_never_delivers_early(live_proxy):
    nbytes = 1_500_000
    proxy = live_proxy(nbytes, rtt_ms=20, mbit=60, setup_rtts=0)
    assert _fetch(proxy.port) == nbytes
    down = proxy.down_stats
    assert down.bytes == nbytes
    assert down.early == 0
    ideal = nbytes * 8 / (60 * MBIT)  # 0.2 s of link time
    assert down.busy_s == pytest.approx(ideal, rel=0.001)
    # Paced, not lumped: the pieces' due times span at least the link time the bytes need.
    assert down.last_due - down.first_ready >= ideal * 0.99


def test_a_request_and_its_response_cost_one_round_trip(live_proxy):
    proxy = live_proxy(1000, rtt_ms=80, mbit=None, setup_rtts=0)
    assert _fetch(proxy.port) == 1000
    up, down = proxy.up_stats, proxy.down_stats
    assert up.early == down.early == 0
    # The request was read at up.first_ready; the answer cannot be due before one RTT later,
    # and not much after it (the responder answers at once; this is the proxy's own clock).
    round_trip = down.last_due - up.first_ready
    assert round_trip >= 0.080
    assert round_trip / 0.080 < 3


def test_several_connections_at_once_share_the_bandwidth(live_proxy):
    nbytes = 400_000
    proxy = live_proxy(nbytes, rtt_ms=10, mbit=80, setup_rtts=0)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(_fetch(proxy.port))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [nbytes] * 4
    down = proxy.down_stats
    assert down.early == 0
    ideal = 4 * nbytes * 8 / (80 * MBIT)
    assert down.busy_s == pytest.approx(ideal, rel=0.001)
    assert down.last_due - down.first_ready >= ideal * 0.99
    assert proxy.summary()["connections"] == 4
