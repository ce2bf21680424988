"""An S3 endpoint that accepts connections and never answers: every command finishes within its
bound (here TDM_S3_TIMEOUT=2) and says which request timed out; nothing is lost or written."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tdm_desktop.core.s3_timeouts import S3Timeouts
from tests.cli_helpers import error_lines, run_process
from tests.factories import make_actor

REPO = Path(__file__).resolve().parents[2]
ACTOR = "0042_european_30_male"
PREFIX = f"system_actors/training_data/{ACTOR}/"


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A real socket server on 127.0.0.1 that accepts every connection and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            held.append(connection)  # kept open, never read from nor written to

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(5)
    for connection in held:
        connection.close()
    server.close()


def cli(data_dir: Path, endpoint: str, *argv: str) -> subprocess.CompletedProcess[str]:
    # 20 prompts x 6 attempts x 30 s, as before the bound, would take an hour
    return run_process(data_dir, "--endpoint-url", endpoint, *argv, timeout=45, TDM_S3_TIMEOUT="2")


def errors(result: subprocess.CompletedProcess[str]) -> list[str]:
    return error_lines(result.stderr)


def test_every_command_gives_up_on_a_silent_s3_within_its_bound(data_dir, store, silent_endpoint):
    names = make_actor(data_dir, store, count=3)
    manifest = data_dir / "actor_manifests" / "0042_manifest.json"
    before = manifest.read_bytes()
    no_answer = f"got no answer from {silent_endpoint}"

    audit = cli(data_dir, silent_endpoint, "audit", "42")
    assert audit.returncode == 1
    assert "INCOMPLETE" in audit.stdout and f"ListObjectsV2 {no_answer}" in audit.stdout
    assert (
        "(1 attempt; each request is bounded to 2 s: --s3-timeout or TDM_S3_TIMEOUT" in audit.stdout
    )

    repair = cli(data_dir, silent_endpoint, "repair", "42", "--drop-dangling")
    assert repair.returncode == 1
    assert errors(repair)[-1].startswith("tdm-desktop: error: actor 0042: not repaired")
    assert f"ListObjectsV2 {no_answer}" in errors(repair)[-1]

    delete = cli(data_dir, silent_endpoint, "delete", "42", names[0])
    assert delete.returncode == 1
    assert f"KEPT     {names[0]}: Timeout: DeleteObjects {no_answer}" in delete.stdout

    generate = cli(data_dir, silent_endpoint, "generate", "42", "--all")
    assert generate.returncode == 1
    failed = [line for line in generate.stdout.splitlines() if line.startswith("FAILED")]
    assert len(failed) >= 10 and f"PutObject {no_answer}" in failed[0]
    assert all("not sent: S3 did not answer an earlier request" in line for line in failed[1:])

    (data_dir / "actor_manifests" / "0043_manifest.json").write_text(
        json.dumps(
            {
                "character_id": "0043",
                "character_name": "0043_x",
                "training_data": [{"filename": "0043_x_0.jpg", "status": "local_only"}],
            }
        )
    )
    migrate = cli(data_dir, silent_endpoint, "migrate", "43")
    assert migrate.returncode == 1 and f"ListObjectsV2 {no_answer}" in errors(migrate)[-1]

    assert manifest.read_bytes() == before  # nothing lost, nothing written
    assert store.list_keys(PREFIX) == [PREFIX + name for name in names]
    assert not (data_dir / "actor_manifests" / "0043_manifest.json.sync-era").exists()


@pytest.mark.parametrize("total", [1, 2, 10, 29.9, 30, 60, 300])
def test_one_request_with_all_its_attempts_fits_the_bound(total):
    timeouts = S3Timeouts(total)
    backoff = 3.0 if timeouts.attempts > 1 else 0.0
    worst = timeouts.attempts * (timeouts.connect_timeout + timeouts.read_timeout) + backoff
    assert worst <= total + 1e-9
    assert 0 < timeouts.connect_timeout <= 5 and timeouts.read_timeout > 0
    assert timeouts.retries == timeouts.attempts - 1


def test_the_default_bound_is_60_seconds_with_three_attempts():
    assert S3Timeouts.parse(None) == S3Timeouts(60.0)
    assert S3Timeouts().attempts == 3
