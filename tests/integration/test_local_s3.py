"""The bundled local S3 (SeaweedFS): serves signed requests only, on 127.0.0.1 only, keeps data,
keeps its port, and never leaves a weed process or socket file behind."""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import queue
import re
import shlex
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tdm_desktop.core.errors import BadInputError
from tdm_desktop.local_s3 import (
    CREDENTIALS_FILENAME,
    IDENTITIES_FILENAME,
    LocalS3,
    LocalS3Config,
    LocalS3Error,
    LocalS3Ports,
    choose_ports,
)
from tests.conftest import BUCKET

REPO = Path(__file__).resolve().parents[2]
LINUX_ONLY = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


# --- helpers -----------------------------------------------------------------------------------


def client_for(endpoint: str, access_key: str | None, secret_key: str | None, signed=True):
    config = Config(
        signature_version="s3v4" if signed else UNSIGNED,
        s3={"addressing_style": "path"},
        retries={"mode": "standard", "max_attempts": 1},
    )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name="us-east-1",
        config=config,
    )


def refusal(call) -> tuple[int, str]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"]


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def socket_files(ports) -> list[Path]:
    return [p for port in ports for p in Path("/tmp").glob(f"seaweedfs-*-{port}.sock")]


def _decode_proc_address(text: str) -> tuple[str, int]:
    address, port = text.split(":")
    raw = bytes.fromhex(address)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1]), int(port, 16)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words), int(port, 16)


def listening_sockets(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP listener and bound UDP socket of ``pid``, from /proc."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            match = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(fd))
        except OSError:
            continue
        if match:
            inodes.add(match.group(1))
    found = []
    for table, state_wanted in (("tcp", "0A"), ("tcp6", "0A"), ("udp", "07"), ("udp6", "07")):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes and fields[3] == state_wanted:
                found.append(_decode_proc_address(fields[1]))
    return found


class LineReader:
    """Reads a child's stdout lines in a thread, so a test can wait for one with a timeout."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def until(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} in: {self.lines}") from None
            if line is None:
                raise AssertionError(f"output ended before {pattern!r}: {self.lines}")
            self.lines.append(line)
            match = re.search(pattern, line)
            if match:
                return match


def child_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TDM_"))}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")  # the credentials land here
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg-data")
    env["PYTHONPATH"] = str(REPO / "src")
    return env


# --- the session server: serving, auth, binding, credentials ------------------------------------


def test_serves_objects_to_the_right_key_only(local_s3):
    good = client_for(local_s3.endpoint_url, local_s3.access_key, local_s3.secret_key)
    key = "system_actors/training_data/0042_european_30_male/0042_european_30_male_0.jpg"
    good.put_object(Bucket=BUCKET, Key=key, Body=b"jpeg bytes")
    assert good.get_object(Bucket=BUCKET, Key=key)["Body"].read() == b"jpeg bytes"

    wrong_secret = client_for(local_s3.endpoint_url, local_s3.access_key, "x" * 40)
    assert refusal(lambda: wrong_secret.get_object(Bucket=BUCKET, Key=key)) == (
        403,
        "SignatureDoesNotMatch",
    )
    assert refusal(lambda: wrong_secret.put_object(Bucket=BUCKET, Key="evil", Body=b"x"))[0] == 403
    unknown_key = client_for(local_s3.endpoint_url, "AKIAUNKNOWN000000000", local_s3.secret_key)
    assert refusal(lambda: unknown_key.list_objects_v2(Bucket=BUCKET))[0] == 403
    unsigned = client_for(local_s3.endpoint_url, None, None, signed=False)
    assert refusal(lambda: unsigned.get_object(Bucket=BUCKET, Key=key))[0] == 403
    assert refusal(lambda: unsigned.put_object(Bucket=BUCKET, Key="evil", Body=b"x"))[0] == 403
    keys = [o["Key"] for o in good.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert "evil" not in keys


def test_seaweed_store_puts_new_objects_only(seaweed_store):
    from tdm_desktop.core.errors import ObjectExistsError

    key = seaweed_store.key_for("0042_european_30_male", "0042_european_30_male_1.jpg")
    seaweed_store.put_new(key, b"first", "image/jpeg")
    with pytest.raises(ObjectExistsError):
        seaweed_store.put_new(key, b"second", "image/jpeg")
    assert seaweed_store.get_bytes(key) == b"first"
    assert seaweed_store.list_keys("system_actors/training_data/") == [key]


def test_env_points_boto3_at_the_server(local_s3, monkeypatch, tmp_path):
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name, value in local_s3.env().items():
        monkeypatch.setenv(name, value)
    from tdm_desktop.core.s3_store import make_s3_client

    client = make_s3_client()
    assert client.meta.endpoint_url == local_s3.endpoint_url
    assert BUCKET in [b["Name"] for b in client.list_buckets()["Buckets"]]


@LINUX_ONLY
def test_listens_on_loopback_only_and_on_chosen_ports(local_s3):
    listeners = listening_sockets(local_s3.pid)
    assert (local_s3.config.ip, local_s3.port) in listeners
    for address, port in listeners:
        assert ipaddress.ip_address(address).is_loopback, f"weed listens on {address}:{port}"
        assert port in local_s3.ports.all_ports(), f"weed opened unchosen port {port}"


def test_credentials_are_private_reused_and_kept_out_of_the_data_dir(local_s3):
    cred_file = local_s3.credentials_dir / CREDENTIALS_FILENAME
    for path in (cred_file, local_s3.credentials_dir / IDENTITIES_FILENAME):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    saved = json.loads(cred_file.read_text())
    assert saved == {"access_key": local_s3.access_key, "secret_key": local_s3.secret_key}
    again = LocalS3(
        LocalS3Config(data_dir=local_s3.config.data_dir), credentials_dir=cred_file.parent
    )
    assert (again.access_key, again.secret_key) == (local_s3.access_key, local_s3.secret_key)
    for path in local_s3.config.data_dir.rglob("*"):
        if path.is_file() and path.stat().st_size < 1_000_000:
            assert local_s3.secret_key.encode() not in path.read_bytes(), path


def test_a_broken_credentials_file_is_reported_and_kept(tmp_path):
    cred_file = tmp_path / CREDENTIALS_FILENAME
    cred_file.write_text("{not json")
    server = LocalS3(LocalS3Config(data_dir=tmp_path / "data"), credentials_dir=tmp_path)
    with pytest.raises(LocalS3Error) as caught:
        server.access_key  # noqa: B018
    assert str(caught.value).startswith(f"{cred_file}: not valid local S3 credentials")
    assert "\n" not in str(caught.value)
    assert cred_file.read_text() == "{not json"


# --- ports -------------------------------------------------------------------------------------


def test_a_taken_port_falls_back_to_a_free_one_loudly(local_s3, caplog):
    with caplog.at_level(logging.WARNING, logger="tdm_desktop.local_s3"):
        ports = choose_ports("127.0.0.1", local_s3.port)
    assert ports.s3 != local_s3.port
    assert not set(ports.all_ports()) & set(local_s3.ports.all_ports())
    assert f"port {local_s3.port} is taken; local S3 on 127.0.0.1:{ports.s3} instead" in (
        caplog.text
    )


def test_a_free_requested_port_is_used_with_its_neighbours(caplog):
    free = choose_ports("127.0.0.1", 0)  # a free set, then ask for exactly that port
    with caplog.at_level(logging.WARNING, logger="tdm_desktop.local_s3"):
        ports = choose_ports("127.0.0.1", free.s3)
    assert ports == LocalS3Ports(free.s3, free.s3 + 1, free.s3 + 2, free.s3 + 3, free.s3 + 4)
    assert caplog.text == ""


def test_a_port_without_room_for_its_grpc_companion_is_bad_input():
    with pytest.raises(BadInputError, match="local S3 port 60000: must be between 1 and 55535"):
        choose_ports("127.0.0.1", 60000)


# --- separate servers: restart, stop, start failures ----------------------------------------------


def test_data_and_port_survive_a_restart_and_stop_leaves_nothing(tmp_path, weed_path, caplog):
    config = LocalS3Config(data_dir=tmp_path / "s3", port=0)
    first = LocalS3(config, credentials_dir=tmp_path / "config", weed=weed_path)
    with first:
        port, pid, ports = first.port, first.pid, first.ports.all_ports()
        client = client_for(first.endpoint_url, first.access_key, first.secret_key)
        client.put_object(Bucket=BUCKET, Key="kept/across/restart.txt", Body=b"still here")
        assert socket_files(ports), "weed made no socket files: the check below proves nothing"
    assert not alive(pid)
    assert not group_exists(pid)
    assert socket_files(ports) == []

    again = LocalS3(
        LocalS3Config(data_dir=tmp_path / "s3", port=port),
        credentials_dir=tmp_path / "config",
        weed=weed_path,
    )
    with caplog.at_level(logging.WARNING, logger="tdm_desktop.local_s3"), again:
        assert again.port == port
        client = client_for(again.endpoint_url, again.access_key, again.secret_key)
        body = client.get_object(Bucket=BUCKET, Key="kept/across/restart.txt")["Body"].read()
        assert body == b"still here"
        second_pid = again.pid
    assert "taken" not in caplog.text
    assert not alive(second_pid)
    assert socket_files(ports) == []


def fake_weed(tmp_path: Path, body: str) -> str:
    path = tmp_path / "weed"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_weed_exiting_at_start_raises_with_its_log(tmp_path):
    weed = fake_weed(tmp_path, 'echo "F0101 master: cannot open volume dir"; exit 3')
    server = LocalS3(
        LocalS3Config(data_dir=tmp_path / "s3", port=0), credentials_dir=tmp_path, weed=weed
    )
    with pytest.raises(LocalS3Error) as caught:
        server.start(timeout=20)
    message = str(caught.value)
    assert "local S3 (weed) exited with code 3 while starting" in message
    assert "F0101 master: cannot open volume dir" in message
    assert "\n" not in message
    assert not server.running


def test_weed_not_answering_in_time_raises_and_is_killed(tmp_path):
    weed = fake_weed(tmp_path, "echo $$ > pid; exec sleep 60")
    server = LocalS3(
        LocalS3Config(data_dir=tmp_path / "s3", port=0), credentials_dir=tmp_path, weed=weed
    )
    with pytest.raises(LocalS3Error, match=r"did not answer a signed request in time"):
        server.start(timeout=1.5)
    pid = int((tmp_path / "s3" / "pid").read_text())
    assert not alive(pid)


# --- the process lifetime: CLI in the foreground, parent killed -----------------------------------


@LINUX_ONLY
def test_cli_serves_prints_the_env_and_stops_on_ctrl_c(local_s3, tmp_path):
    """``tdm-desktop local-s3`` on a taken port: says so, prints working exports, Ctrl+C stops."""
    command = ["local-s3", "--dir", str(tmp_path / "s3"), "--port", str(local_s3.port)]
    cli = subprocess.Popen(
        [sys.executable, "-m", "tdm_desktop", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(tmp_path),
        start_new_session=True,  # its own group, like a shell job: Ctrl+C goes to the group
    )
    try:
        out = LineReader(cli.stdout)
        endpoint = out.until(r"at (http://127\.0\.0\.1:(\d+)) \(port \d+ was taken\)", 60)
        weed_pid = int(out.until(r"weed pid (\d+)", 5).group(1))
        out.until(r"Press Ctrl\+C", 5)
        exports = dict(
            shlex.split(line.strip())[1].split("=", 1) for line in out.lines if "export " in line
        )
        assert exports["AWS_ENDPOINT_URL_S3"] == endpoint.group(1)
        client = client_for(
            exports["AWS_ENDPOINT_URL_S3"],
            exports["AWS_ACCESS_KEY_ID"],
            exports["AWS_SECRET_ACCESS_KEY"],
        )
        client.put_object(Bucket=BUCKET, Key="cli.txt", Body=b"ok")
        assert (tmp_path / "xdg-config" / "tdm-desktop" / CREDENTIALS_FILENAME).exists()

        os.killpg(cli.pid, signal.SIGINT)
        assert cli.wait(timeout=40) == 0
        out.until(r"Local S3 stopped\.", 5)
    finally:
        if cli.poll() is None:
            cli.kill()
    stderr = cli.stderr.read()
    assert f"port {local_s3.port} is taken; local S3 on {endpoint.group(1)[7:]} instead" in stderr
    assert not alive(weed_pid)
    assert socket_files([int(endpoint.group(2))]) == []


PARENT_SCRIPT = """
import sys, threading, time
from pathlib import Path
from tdm_desktop.local_s3 import LocalS3, LocalS3Config
server = LocalS3(LocalS3Config(Path(sys.argv[1]), port=0), credentials_dir=Path(sys.argv[2]))
starter = threading.Thread(target=server.start)  # a thread that ends: weed must outlive it
starter.start()
starter.join()
print(server.pid, *server.ports.all_ports(), flush=True)
time.sleep(120)
"""


@LINUX_ONLY
def test_weed_dies_with_its_parent_even_on_sigkill(tmp_path):
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT_SCRIPT, str(tmp_path / "s3"), str(tmp_path / "config")],
        stdout=subprocess.PIPE,
        text=True,
        env=child_env(tmp_path),
    )
    weed_pid, ports = 0, []
    try:
        numbers = [
            int(n) for n in LineReader(parent.stdout).until(r"^\d+( \d+)+$", 60).group(0).split()
        ]
        weed_pid, ports = numbers[0], numbers[1:]
        assert Path(f"/proc/{weed_pid}/comm").read_text().strip() == "weed"
        time.sleep(1.5)  # the starting thread is gone; weed must still be serving
        assert alive(weed_pid)

        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert wait_until(lambda: not alive(weed_pid), timeout=10), "weed outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        if weed_pid and alive(weed_pid):  # the test failed: leave no orphan behind
            os.kill(weed_pid, signal.SIGKILL)
            wait_until(lambda: not alive(weed_pid), timeout=10)
        for path in socket_files(ports):
            path.unlink(missing_ok=True)
