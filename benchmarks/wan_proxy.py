"""A latency- and bandwidth-shaping TCP proxy on loopback: the benchmark's stand-in for a WAN link.

This machine's kernel has no ``netem``, so ``grid_load.py --rtt-ms R --mbit M`` puts this proxy
between every client (the limit's thread pool, Chromium, the app) and the local S3. It models an
access link as seen from the curator's machine:

- **propagation**: every byte is delivered ``R/2`` ms after it left, in each direction. Each chunk
  read from one side is stamped with its due time and written to the other side by the one event
  loop when that time has come (no sleep per read: the loop's ``select`` waits for the earliest
  due chunk or for a socket);
- **bandwidth**: one token bucket per direction, shared by every connection, as a real access link
  is shared (refill ``M`` Mbit/s, depth one slice). Connections with bytes waiting take turns, a
  slice of ~5 ms of link time each, as TCP flows share a bottleneck; a piece arrives ``R/2`` after
  it has left the bucket;
- **connection setup**: a new connection's first request bytes leave ``setup_rtts`` round trips
  after the connection was accepted (1 for TCP's handshake, 2 for TCP + TLS 1.3 as with HTTPS to
  AWS, the default); the local S3 speaks plain HTTP, so the handshakes themselves are not made;
- **window**: at most ``window`` bytes per connection and direction are in the proxy (read, not
  yet delivered), like a TCP window; the source's reads pause beyond that.

The proxy runs at a higher CPU priority than the clients (niceness -10 where allowed): on a busy
machine a starved proxy writes late, which is a longer RTT than asked for; how late its writes
were is in its accounting. Not modelled: TCP slow start and loss (a long-lived connection sends at the link's rate at once),
and the cost of TLS itself.

The proxy keeps its own accounting (``LinkStats``): bytes and pieces per direction, the seconds
the bucket was busy, how late the proxy first offered each piece to the receiver against its due
time (never early; late when the proxy itself was starved of CPU), and how often the receiver's
socket was full (a busy client not reading: TCP's own backpressure, as on a real link). Run
as a script it prints ``{"port": P}`` when it listens and, on SIGTERM, one JSON line with that
accounting and its own process CPU seconds (on 2 cores it competes with what it measures).
``ShapedLink`` starts it in its own process for ``grid_load.py``.

    python benchmarks/wan_proxy.py --target 127.0.0.1:8533 --rtt-ms 40 --mbit 100 [--port 0]
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import math
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Clock = Callable[[], float]

READ_BYTES = 256 * 1024
SLICE_SECONDS = 0.005  # a chunk is scheduled in pieces of at most this much link time
MIN_SLICE_BYTES = 8 * 1024
DEFAULT_WINDOW = 4 * 1024 * 1024  # Linux autotunes TCP windows to a few MB
DEFAULT_SETUP_RTTS = 2  # TCP handshake + TLS 1.3, as a curator's HTTPS connection to S3 costs
PROXY_NICENESS = -10


class TokenBucket:
    """Bytes per second with a burst of ``depth_bytes``, one per direction of the link.

    Time-based (no refill thread): ``reserve(n, ready)`` books ``n`` bytes that are ready to leave
    at ``ready`` and returns when the last of them has left; ``free_at`` is when the bookings end.
    """

    def __init__(self, bytes_per_s: float, depth_bytes: int) -> None:
        if bytes_per_s <= 0:
            raise ValueError(f"link rate {bytes_per_s}: must be positive")
        self.bytes_per_s = bytes_per_s
        self.depth_bytes = depth_bytes
        self.free_at = -math.inf

    def reserve(self, nbytes: int, ready: float) -> float:
        burst_s = self.depth_bytes / self.bytes_per_s
        start = max(self.free_at, ready - burst_s)  # tokens saved up while idle, at most depth
        self.free_at = start + nbytes / self.bytes_per_s
        return max(ready, self.free_at)


@dataclass
class LinkStats:
    """The proxy's own accounting for one direction of the link."""

    bytes: int = 0
    pieces: int = 0
    busy_s: float = 0.0  # link time booked for those bytes (bytes / rate)
    first_ready: float | None = None
    last_due: float | None = None
    early: int = 0  # pieces first offered to the receiver before their due time: must stay 0
    lateness: list[float] = field(default_factory=list)  # seconds after due of that first offer
    receiver_waits: int = 0  # times the receiver's socket took less than a due piece (backpressure)

    def summary(self) -> dict[str, Any]:
        late = sorted(self.lateness)

        def pick(q: float) -> float | None:
            return round(late[min(len(late) - 1, int(q * len(late)))] * 1000, 2) if late else None

        span = None
        if self.first_ready is not None and self.last_due is not None:
            span = round(self.last_due - self.first_ready, 4)
        return {
            "bytes": self.bytes,
            "pieces": self.pieces,
            "busy_s": round(self.busy_s, 4),
            "span_s": span,
            "early_pieces": self.early,
            "receiver_waits": self.receiver_waits,
            "late_p50_ms": pick(0.5),
            "late_p99_ms": pick(0.99),
            "late_max_ms": pick(1.0),
        }


class Pipe:
    """Bytes from ``src`` to ``dst`` of one connection: read, then sent on the link, then delivered.

    ``unsent`` holds (ready time, bytes) not yet on the link (None: the source ended); ``queue``
    holds (due time, bytes) on their way. ``not_before`` delays the first bytes (connection setup).
    """

    def __init__(self, src: socket.socket, dst: socket.socket, window: int, not_before: float):
        self.src = src
        self.dst = dst
        self.window = window
        self.not_before = not_before
        self.unsent: deque[tuple[float, memoryview | None]] = deque()
        self.queue: deque[tuple[float, memoryview | None]] = deque()
        self.held = 0  # bytes read and not yet written
        self.scheduled = False  # in its direction's round-robin (or waiting for not_before)
        self.src_done = False
        self.dst_done = False
        self.closed = False  # its connection was closed: nothing more is sent
        self.head_tried = False  # the first piece of ``queue`` was offered to ``dst`` already

    def can_read(self) -> bool:
        return not self.src_done and self.held < self.window

    def push(self, data: bytes | None, now: float) -> None:
        """Bytes read from the source at ``now`` (None: the source closed its side)."""
        ready = max(now, self.not_before)
        if data is None:
            self.src_done = True
            self.unsent.append((ready, None))
            return
        self.unsent.append((ready, memoryview(data)))
        self.held += len(data)

    def next_due(self) -> float | None:
        return self.queue[0][0] if self.queue else None


class Direction:
    """One direction of the link: connections take turns (as TCP flows share a bottleneck) in
    pieces of one slice, each piece leaves when the bucket allows, and arrives ``delay_s`` later.
    Without a rate, bytes leave as soon as they are ready."""

    def __init__(self, delay_s: float, bits_per_s: float | None, stats: LinkStats) -> None:
        self.delay_s = delay_s
        self.stats = stats
        self.bucket: TokenBucket | None = None
        self.slice_bytes = READ_BYTES
        if bits_per_s is not None:
            rate = bits_per_s / 8
            self.slice_bytes = max(MIN_SLICE_BYTES, int(rate * SLICE_SECONDS))
            self.bucket = TokenBucket(rate, self.slice_bytes)
        self._turns: deque[Pipe] = deque()  # pipes with bytes ready, in turn order
        self._waiting: list[Pipe] = []  # pipes whose bytes are held until their not_before

    def offer(self, pipe: Pipe, now: float) -> None:
        """``pipe`` has unsent bytes: give it a turn (once its setup time has passed)."""
        if pipe.scheduled or not pipe.unsent:
            return
        pipe.scheduled = True
        if pipe.unsent[0][0] > now:
            self._waiting.append(pipe)
        else:
            self._turns.append(pipe)

    def transmit(self, now: float) -> None:
        """Put on the link every piece whose turn has come by ``now``."""
        if self._waiting:
            ready = [p for p in self._waiting if p.unsent[0][0] <= now and not p.closed]
            self._waiting = [p for p in self._waiting if p.unsent[0][0] > now and not p.closed]
            self._turns.extend(ready)
        while self._turns:
            if self.bucket is not None and self.bucket.free_at > now:
                return
            pipe = self._turns.popleft()
            if pipe.closed:
                pipe.scheduled = False
                continue
            self._send_piece(pipe)
            if pipe.unsent:
                self._turns.append(pipe)
            else:
                pipe.scheduled = False

    def _send_piece(self, pipe: Pipe) -> None:
        ready, view = pipe.unsent[0]
        stats = self.stats
        if view is None:  # the end: after every byte before it has arrived
            pipe.unsent.popleft()
            last = pipe.queue[-1][0] if pipe.queue else ready + self.delay_s
            pipe.queue.append((max(last, ready + self.delay_s), None))
            return
        piece = view[: self.slice_bytes]
        if len(view) > self.slice_bytes:
            pipe.unsent[0] = (ready, view[self.slice_bytes :])
        else:
            pipe.unsent.popleft()
        if stats.first_ready is None:
            stats.first_ready = ready
        if self.bucket is None:
            left = ready
        else:
            left = self.bucket.reserve(len(piece), ready)
            stats.busy_s += len(piece) / self.bucket.bytes_per_s
        due = left + self.delay_s
        pipe.queue.append((due, piece))
        stats.bytes += len(piece)
        stats.pieces += 1
        stats.last_due = due

    def next_wake(self) -> float | None:
        """When ``transmit`` has work next (None: nothing waits)."""
        times = [p.unsent[0][0] for p in self._waiting]
        if self._turns:
            times.append(self.bucket.free_at if self.bucket is not None else -math.inf)
        return min(times) if times else None

    def record_write(self, due: float, now: float) -> None:
        if now < due:
            self.stats.early += 1
        self.stats.lateness.append(max(0.0, now - due))


class Connection:
    """One client connection and its connection to the target; ``up`` is client → server."""

    def __init__(
        self, client: socket.socket, server: socket.socket, proxy: ShapingProxy, now: float
    ):
        self.client = client
        self.server = server
        self.up = Pipe(client, server, proxy.window, now + proxy.setup_rtts * proxy.rtt_s)
        self.down = Pipe(server, client, proxy.window, now)
        self.closed = False

    def pipes(self) -> tuple[Pipe, Pipe]:
        return (self.up, self.down)


class ShapingProxy:
    """The event loop: accept on ``listen``, connect each client to ``target``, shape both ways.

    ``clock`` is the time source for due times and accounting (``time.monotonic``).
    """

    def __init__(
        self,
        target: tuple[str, int],
        *,
        rtt_ms: float,
        mbit: float | None,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        setup_rtts: int = DEFAULT_SETUP_RTTS,
        window: int = DEFAULT_WINDOW,
        clock: Clock = time.monotonic,
    ) -> None:
        if rtt_ms < 0:
            raise ValueError(f"--rtt-ms {rtt_ms}: must not be negative")
        if mbit is not None and mbit <= 0:
            raise ValueError(f"--mbit {mbit}: must be positive")
        self.target = target
        self.rtt_s = rtt_ms / 1000
        self.mbit = mbit
        self.setup_rtts = setup_rtts
        self.window = window
        self.clock = clock
        bits = None if mbit is None else mbit * 1e6
        self.up_stats, self.down_stats = LinkStats(), LinkStats()
        self.up = Direction(self.rtt_s / 2, bits, self.up_stats)  # client -> server
        self.down = Direction(self.rtt_s / 2, bits, self.down_stats)
        self.connections_total = 0
        self._selector = selectors.DefaultSelector()
        self._listener = socket.create_server(listen, backlog=256)
        self._listener.setblocking(False)
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._connections: set[Connection] = set()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._stopping = False

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def stop(self) -> None:
        """Ask the loop to end (from another thread or a signal handler)."""
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def summary(self) -> dict[str, Any]:
        return {
            "rtt_ms": self.rtt_s * 1000,
            "mbit": self.mbit,
            "setup_rtts": self.setup_rtts,
            "connections": self.connections_total,
            "up": self.up_stats.summary(),
            "down": self.down_stats.summary(),
        }

    # -- the loop -------------------------------------------------------------------------------

    def serve(self) -> None:
        try:
            while not self._stopping:
                now = self.clock()  # one reading for both, or a piece falls between them
                self._refresh_interest(now)
                timeout = self._timeout(now)
                for key, events in self._selector.select(timeout):
                    self._on_event(key, events)
                now = self.clock()
                self.up.transmit(now)
                self.down.transmit(now)
                self._deliver_due()
        finally:
            for conn in list(self._connections):
                self._close(conn)
            self._selector.close()
            self._listener.close()
            self._wake_r.close()
            self._wake_w.close()

    def _timeout(self, now: float) -> float | None:
        """Seconds until the next piece is due or may leave (pieces already due that could not be
        written wait for writability instead); None: only sockets can wake the loop."""
        times = [
            due
            for conn in self._connections
            for pipe in conn.pipes()
            if (due := pipe.next_due()) is not None and due > now
        ]
        times += [t for d in (self.up, self.down) if (t := d.next_wake()) is not None]
        if not times:
            return None
        return max(0.0, min(times) - now)

    def _refresh_interest(self, now: float) -> None:
        for conn in self._connections:
            for sock, reading, writing in (
                (conn.client, conn.up.can_read(), self._wants_write(conn.down, now)),
                (conn.server, conn.down.can_read(), self._wants_write(conn.up, now)),
            ):
                events = (selectors.EVENT_READ if reading else 0) | (
                    selectors.EVENT_WRITE if writing else 0
                )
                key = self._selector.get_map().get(sock)
                if events == 0:
                    if key is not None:
                        self._selector.unregister(sock)
                elif key is None:
                    self._selector.register(sock, events, conn)
                elif key.events != events:
                    self._selector.modify(sock, events, conn)

    @staticmethod
    def _wants_write(pipe: Pipe, now: float) -> bool:
        """Wait for writability only when a due piece could not be written whole."""
        due = pipe.next_due()
        return due is not None and due <= now and pipe.queue[0][1] is not None

    def _on_event(self, key: selectors.SelectorKey, events: int) -> None:
        if key.data == "wake":
            with contextlib.suppress(OSError):
                self._wake_r.recv(64)
            return
        if key.data is None:
            self._accept()
            return
        conn: Connection = key.data
        if conn.closed:
            return
        if events & selectors.EVENT_READ:
            if key.fileobj is conn.client:
                self._read(conn, conn.up, self.up)
            else:
                self._read(conn, conn.down, self.down)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            for sock in (client, server):
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._connections.add(Connection(client, server, self, self.clock()))
            self.connections_total += 1

    def _read(self, conn: Connection, pipe: Pipe, direction: Direction) -> None:
        try:
            data = pipe.src.recv(READ_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(conn)
            return
        now = self.clock()
        pipe.push(data or None, now)
        direction.offer(pipe, now)

    def _deliver_due(self) -> None:
        for conn in list(self._connections):
            for pipe in conn.pipes():
                if conn.closed:
                    break
                self._write_due(conn, pipe)
            if not conn.closed and conn.up.dst_done and conn.down.dst_done:
                self._close(conn)

    def _write_due(self, conn: Connection, pipe: Pipe) -> None:
        direction = self.up if pipe is conn.up else self.down
        while pipe.queue and not conn.closed:
            due, view = pipe.queue[0]
            now = self.clock()
            if due > now:
                return
            if view is None:
                pipe.queue.popleft()
                pipe.dst_done = True
                with contextlib.suppress(OSError):
                    pipe.dst.shutdown(socket.SHUT_WR)
                return
            if not pipe.head_tried:  # how late the proxy itself is: its first try at the piece
                pipe.head_tried = True
                direction.record_write(due, now)
            try:
                sent = pipe.dst.send(view)
            except (BlockingIOError, InterruptedError):
                direction.stats.receiver_waits += 1
                return
            except OSError as err:
                if err.errno not in (errno.EPIPE, errno.ECONNRESET):
                    raise
                self._close(conn)
                return
            pipe.held -= sent
            if sent < len(view):  # the receiver is slow: the rest waits for writability
                pipe.queue[0] = (due, view[sent:])
                direction.stats.receiver_waits += 1
                return
            pipe.queue.popleft()
            pipe.head_tried = False

    def _close(self, conn: Connection) -> None:
        if conn.closed:
            return
        conn.closed = True
        conn.up.closed = conn.down.closed = True
        for sock in (conn.client, conn.server):
            if self._selector.get_map().get(sock) is not None:
                self._selector.unregister(sock)
            sock.close()
        self._connections.discard(conn)


# -- in its own process, for the benchmark ----------------------------------------------------


class ShapedLink:
    """``wan_proxy.py`` in a child process in front of ``target``; ``stats`` after the ``with``.

    ``endpoint`` is the URL clients use instead of the target's. The child reports its accounting
    and its process CPU seconds (``cpu_s``) when stopped.
    """

    def __init__(self, target_port: int, rtt_ms: float, mbit: float | None, **options: Any):
        self._argv = [
            sys.executable,
            str(Path(__file__).resolve()),
            *("--target", f"127.0.0.1:{target_port}", "--rtt-ms", str(rtt_ms)),
            *(("--mbit", str(mbit)) if mbit is not None else ()),
        ]
        for name, value in options.items():
            self._argv += [f"--{name.replace('_', '-')}", str(value)]
        self._proc: subprocess.Popen[str] | None = None
        self.port = 0
        self.stats: dict[str, Any] = {}

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ShapedLink:
        # A session of its own: its own scheduling group, whose priority it can raise.
        self._proc = subprocess.Popen(
            self._argv, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise SystemExit(f"the WAN proxy did not start (exit code {self._proc.wait()})")
        self.port = int(json.loads(line)["port"])
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        self._proc.send_signal(signal.SIGTERM)
        out = self._proc.stdout.read()
        self._proc.wait(30)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        self.stats = json.loads(lines[-1]) if lines else {}


def _raise_priority(change: int) -> int:
    """Apply ``change`` to this process's niceness where allowed; the niceness in effect.

    A real link costs the client's machine no CPU; this one does, and on a busy machine a late
    proxy is a longer RTT than asked for. Running it ahead of the clients keeps its writes on time
    (its own CPU seconds stay small and are reported). With Linux's autogroup scheduling, niceness
    counts only within a session's group, so ``ShapedLink`` starts the proxy in a session of its
    own and the group gets the same niceness.
    """
    try:
        niceness = os.nice(change)
    except OSError:
        niceness = os.nice(0)
    autogroup = Path("/proc/self/autogroup")
    if autogroup.exists():
        with contextlib.suppress(OSError):
            autogroup.write_text(str(niceness))
    return niceness


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return (host or "127.0.0.1", int(port))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", type=_address, required=True, help="host:port to forward to")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free)")
    parser.add_argument("--rtt-ms", type=float, required=True, help="round-trip time to add")
    parser.add_argument("--mbit", type=float, help="link rate in Mbit/s each way (none: unlimited)")
    parser.add_argument("--setup-rtts", type=int, default=DEFAULT_SETUP_RTTS)
    parser.add_argument("--window", type=int, default=DEFAULT_WINDOW)
    parser.add_argument(
        "--nice",
        type=int,
        default=PROXY_NICENESS,
        help="CPU priority change for the proxy (-10: ahead of what it measures; needs root)",
    )
    args = parser.parse_args(argv)
    niceness = _raise_priority(args.nice)
    proxy = ShapingProxy(
        args.target,
        rtt_ms=args.rtt_ms,
        mbit=args.mbit,
        listen=("127.0.0.1", args.port),
        setup_rtts=args.setup_rtts,
        window=args.window,
    )
    signal.signal(signal.SIGTERM, lambda *_: proxy.stop())
    signal.signal(signal.SIGINT, lambda *_: proxy.stop())
    print(json.dumps({"port": proxy.port}), flush=True)
    wall = time.perf_counter()
    proxy.serve()
    result = proxy.summary()
    result["cpu_s"] = round(time.process_time(), 3)
    result["niceness"] = niceness
    with contextlib.suppress(OSError):
        result["autogroup"] = Path("/proc/self/autogroup").read_text().strip()
    result["wall_s"] = round(time.perf_counter() - wall, 3)
    print(json.dumps(result), flush=True)
    return 0


def serve_in_thread(proxy: ShapingProxy) -> threading.Thread:
    """Run ``proxy`` in a daemon thread (tests); ``proxy.stop()`` ends it."""
    thread = threading.Thread(target=proxy.serve, name="wan-proxy", daemon=True)
    thread.start()
    return thread


if __name__ == "__main__":
    sys.exit(main())
