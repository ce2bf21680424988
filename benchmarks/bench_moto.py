"""What the benchmarks on ``moto_server`` share: its fake credentials, a free loopback port, and
the server in a process of its own (so its CPU is not the benchmark's)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def use_fake_aws() -> None:
    """moto's credentials, set before any client is made (never a real account's)."""
    os.environ.update(FAKE_AWS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto(port: int) -> subprocess.Popen:
    """``moto_server`` on 127.0.0.1:``port``, once it accepts connections."""
    server = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("moto_server did not start")
