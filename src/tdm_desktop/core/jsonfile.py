"""Safe reading and writing of the small JSON data files (manifests, prompt metadata).

- Writes are atomic: a temp file in the same folder is written, flushed and fsynced, then
  ``os.replace``d over the target and the folder is fsynced. A reader (or a crash) sees the old
  file or the new one, never a mix; on any failure the temp file is removed.
- ``file_lock(path)`` is the lock beside a file (``path + ".lock"``). Writers take it and re-read
  the file under it, so two processes editing one file lose nothing. It is an OS lock (``flock`` on
  Unix), released by the kernel when its holder dies, so a stale ``.lock`` file never blocks.
- ``read_json_object`` turns every way a file can be unreadable into ``error_cls(path, problem)``.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import filelock

from tdm_desktop.core.errors import DataFileError, TdmError
from tdm_desktop.core.json_render import render

logger = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 30.0
MAX_DEPTH = 64  # levels of nesting a value of a key this app does not know may have
TOO_DEEP = "invalid JSON: nested too deeply"


def atomic_write_bytes(path: Path | str, data: bytes, mode: int | None = None) -> None:
    """Replace ``path``'s content with ``data`` atomically and durably.

    The file keeps its permission bits (or gets ``mode``); a new file gets ``0o666 & ~umask``.
    """
    path = Path(path)
    temp = write_synced_temp(path, data, _mode_for(path) if mode is None else mode)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    logger.debug("wrote %s (%d bytes)", path, len(data))


def create_new_bytes(path: Path | str, data: bytes, mode: int | None = None) -> None:
    """Create ``path`` holding ``data``, atomically and durably; never replace an existing file
    (``FileExistsError``). The content appears whole: a synced temp file is hard-linked into
    place (where hard links are not supported, it is moved there after a check)."""
    path = Path(path)
    temp = write_synced_temp(path, data, _mode_for(path) if mode is None else mode)
    try:
        try:
            os.link(temp, path)
        except FileExistsError:
            raise
        except OSError:  # no hard links on this file system
            if path.exists():
                raise FileExistsError(errno.EEXIST, "File exists", str(path)) from None
            os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    logger.debug("created %s (%d bytes)", path, len(data))


def write_synced_temp(path: Path, data: bytes, mode: int) -> Path:
    """Write ``data`` to a new temp file beside ``path`` with ``mode``, fsynced; return its path.

    The caller moves it into place (``os.replace``, or ``os.link`` for create-only).
    """
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(name, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def remove_stale_temp_files(path: Path | str) -> int:
    """Remove the temp files that killed writers of ``path`` left; returns how many.

    Call it only while holding ``file_lock(path)``: every writer of ``path`` holds that lock for
    the whole of ``atomic_write_bytes``, so any temp file of ``path`` found then is abandoned.
    """
    path = Path(path)
    removed = 0
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
            removed += 1
    if removed:
        logger.info("removed %d temp files left by an interrupted write of %s", removed, path)
    return removed


def file_lock(path: Path | str) -> filelock.FileLock:
    """The lock beside ``path`` (``path + ".lock"``), waiting at most 30 s to acquire it."""
    return filelock.FileLock(str(path) + ".lock", timeout=LOCK_TIMEOUT_S)


@contextlib.contextmanager
def locked(path: Path | str) -> Iterator[None]:
    """Hold ``file_lock(path)``; a timeout becomes a one-line ``TdmError`` naming the file."""
    lock = file_lock(path)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise TdmError(
            f"{path}: another program has been editing this file for {LOCK_TIMEOUT_S:.0f} s "
            f"(lock {lock.lock_file}); try again"
        ) from None
    try:
        yield
    finally:
        lock.release()


def dump_json(obj: Any) -> bytes:
    """``obj`` as UTF-8 JSON: 2-space indent, non-ASCII kept as is, trailing newline.

    The bytes of ``json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\\n"``,
    rendered by ``core.json_render`` (several times faster on a big document)."""
    return (render(obj) + "\n").encode("utf-8")


def read_json_object(path: Path | str, error_cls: type[DataFileError]) -> dict[str, Any]:
    """Read ``path`` as a JSON object, else raise ``error_cls(path, problem)``."""
    return parse_json_object(path, read_bytes(path, error_cls), error_cls)


def read_bytes(path: Path | str, error_cls: type[DataFileError]) -> bytes:
    """The raw bytes of ``path``; a missing or unreadable file raises ``error_cls``."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise error_cls(path, "file not found") from None
    except IsADirectoryError:
        raise error_cls(path, "is a folder, not a file") from None
    except OSError as exc:
        raise error_cls(path, f"cannot be read: {exc.strerror or exc}") from None


def parse_json_object(
    path: Path | str, data: bytes, error_cls: type[DataFileError]
) -> dict[str, Any]:
    """Parse ``data`` (the bytes of ``path``) as a JSON object, strictly.

    Rejected, each with its own message: an empty file, bytes that are not UTF-8, invalid or
    truncated JSON (with line and column), NaN/Infinity, a key repeated in one object, and a top
    level that is not an object.
    """
    if not data.strip():
        raise error_cls(path, "file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error_cls(path, f"is not UTF-8 text (invalid byte at offset {exc.start})") from None
    try:
        obj = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise error_cls(path, _describe_decode_error(exc, text)) from None
    except _StrictJsonError as exc:
        raise error_cls(path, str(exc)) from None
    except RecursionError:  # arrays or objects nested more deeply than Python's stack allows
        raise error_cls(path, TOO_DEEP) from None
    if not isinstance(obj, dict):
        raise error_cls(path, f"top level must be a JSON object {{...}}, got {_json_type(obj)}")
    return obj


class _StrictJsonError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    obj = {}  # some key is repeated: name the first one seen twice
    for key, value in pairs:
        if key in obj:
            raise _StrictJsonError(
                f"invalid JSON: key {json.dumps(key)} appears twice in one object"
            )
        obj[key] = value
    return obj


def _reject_constant(name: str) -> Any:
    raise _StrictJsonError(f"invalid JSON: {name} is not a JSON number")


def _describe_decode_error(exc: json.JSONDecodeError, text: str) -> str:
    where = f"line {exc.lineno}, column {exc.colno}"
    if exc.pos >= len(text.rstrip()):
        return f"invalid JSON: the file ends early at {where} (truncated?): {exc.msg}"
    return f"invalid JSON at {where}: {exc.msg}"


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    if isinstance(value, bool) or value is None:
        return names[type(value)]
    if isinstance(value, int | float):
        return "a number"
    return names.get(type(value), type(value).__name__)


def nested_too_deeply(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests arrays/objects more than ``limit`` levels (checked without
    recursion, so a value that would exhaust the stack when copied or printed is caught first)."""
    if not isinstance(value, dict | list):
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_current_umask()


def _current_umask() -> int:
    # os.umask() can only be read by setting it, which races with other threads; Linux shows it.
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a folder for fsync; os.replace is already durable there.
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
