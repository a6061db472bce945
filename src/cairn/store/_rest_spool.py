"""The offline spool: logged data a tracking server could not take, kept on local disk.

When a tracking server stays unreachable through the retries, the REST store appends the
log-batch requests it could not deliver here, fsynced, and says so in the error it raises.
Before its next write to that server (and on ``cairn sync``) it sends them, oldest first.

**Where.** One folder per server, ``<root>/<host>_<port>[_<path>]/``; the root is
``$CAIRN_SPOOL_DIR`` if set, else ``$XDG_CACHE_HOME/cairn/spool``, else
``~/.cache/cairn/spool``. For ``http://127.0.0.1:5000`` that is
``~/.cache/cairn/spool/127.0.0.1_5000/``, holding:

* ``pending.jsonl``: one log-batch request per line, in the order they were logged;
* ``rejected.jsonl``: entries the server refused when they were replayed (their run was
  deleted meanwhile, say), with the server's error, kept for a human to look at;
* ``server.json``: the tracking URI the folder belongs to (``cairn sync`` reads it);
* ``.lock``: locked (``flock``) by whoever appends or replays, so processes take turns.

**Format and crash safety.** A pending line is ``{"s":"P","kept_at":<ms>,"body":{...}}``
where ``body`` is the log-batch request exactly as it is sent. Appends write whole lines and
fsync before the caller is told the data was kept; a line torn by a crash mid-append is cut
off by the next append. Replay sends lines in order and, once the server acknowledged one,
flips its ``"P"`` to ``"D"`` in place (one byte, fsynced), so a replay cut short resumes after
the last acknowledged entry. When no line is left pending the file is removed. The one
duplicate possible is an entry whose acknowledgement arrived but whose flip never reached the
disk (the process died in between): its points are then stored twice.

    >>> spool = Spool("http://127.0.0.1:5000", root=Path("/tmp/spool"))
    >>> spool.directory
    PosixPath('/tmp/spool/127.0.0.1_5000')
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cairn.errors import (
    InvalidParameter,
    InvalidState,
    InvalidTrackingUri,
    ResourceNotFound,
)

if sys.platform != "win32":
    import fcntl

__all__ = ["Counts", "ReplayReport", "Spool", "find_spools", "spool_root"]

log = logging.getLogger("cairn.store.rest")

PENDING, DONE = b"P", b"D"
_PREFIX = b'{"s":"'
_STATUS_AT = len(_PREFIX)
#: Errors meaning the server refuses an entry for good: set it aside and go on.
_REFUSALS = (InvalidParameter, ResourceNotFound, InvalidState)
_thread_locks: dict[Path, threading.Lock] = {}
_thread_locks_guard = threading.Lock()

Body = Mapping[str, Any]


def spool_root() -> Path:
    """``$CAIRN_SPOOL_DIR``, else ``$XDG_CACHE_HOME/cairn/spool``, else
    ``~/.cache/cairn/spool``."""
    explicit = os.environ.get("CAIRN_SPOOL_DIR")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "cairn" / "spool"


def server_folder_name(uri: str) -> str:
    """``host_port[_path]`` of a tracking URI, safe as a folder name.

    >>> server_folder_name("https://track.example.com/team-a/")
    'track.example.com_443_team-a'
    """
    parts = urlsplit(uri)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    name = f"{parts.hostname or 'localhost'}_{port}"
    path = parts.path.strip("/")
    if path:
        name += "_" + path
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name)


@dataclass
class Counts:
    """How many log-batch requests, and what they held."""

    entries: int = 0
    metrics: int = 0
    params: int = 0
    tags: int = 0

    def add(self, body: Body) -> None:
        self.entries += 1
        self.metrics += len(body.get("metrics") or ())
        self.params += len(body.get("params") or ())
        self.tags += len(body.get("tags") or ())

    def describe(self) -> str:
        """``"1,200 metric points, 3 params and 1 tag"`` (the non-zero parts)."""
        parts = [
            f"{n:,} {noun}{'' if n == 1 else 's'}"
            for n, noun in (
                (self.metrics, "metric point"),
                (self.params, "param"),
                (self.tags, "tag"),
            )
            if n
        ]
        if not parts:
            return f"{self.entries:,} empty request{'' if self.entries == 1 else 's'}"
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass
class ReplayReport:
    """What one replay did: ``sent``, ``rejected`` (set aside in ``rejected.jsonl``),
    ``waiting`` entries left, and the error that ``stopped`` it early, if any."""

    sent: Counts = field(default_factory=Counts)
    rejected: Counts = field(default_factory=Counts)
    waiting: int = 0
    stopped: Exception | None = None
    first_rejection: str | None = None


class Spool:
    """The spool folder of one tracking server. Safe to use from many threads and processes.

    Args:
        server_uri: the tracking URI (``http(s)://host:port[/prefix]``).
        root: the spool root; default :func:`spool_root` (read when the store is created).
    """

    def __init__(self, server_uri: str, root: Path | None = None) -> None:
        self.server_uri = server_uri
        self.directory = (root or spool_root()) / server_folder_name(server_uri)
        self.path = self.directory / "pending.jsonl"
        self.rejected_path = self.directory / "rejected.jsonl"

    def has_pending(self) -> bool:
        """Whether entries may wait (one ``stat``; cheap enough before every write)."""
        return self.size() > 0

    def size(self) -> int:
        """Bytes in ``pending.jsonl`` (0 if there is none, or it cannot be read)."""
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    # -- appending ------------------------------------------------------------------------

    def append(self, bodies: Sequence[Body]) -> Counts:
        """Keep these log-batch requests, durably, after those already waiting."""
        counts = Counts()
        if not bodies:
            return counts
        now = int(time.time() * 1000)
        lines = []
        for body in bodies:
            counts.add(body)
            rest = json.dumps({"kept_at": now, "body": body}, separators=(",", ":"))
            lines.append(_PREFIX + PENDING + b'",' + rest[1:].encode() + b"\n")
        with self._locked():
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                _cut_torn_tail(fd)
                _write_all(fd, b"".join(lines))
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(self.directory)
        return counts

    # -- replaying ------------------------------------------------------------------------

    def replay(self, send: Callable[[dict[str, Any]], object]) -> ReplayReport:
        """Send waiting entries in order with ``send``, marking each done once it returns.

        An entry the server refuses for good (InvalidParameter, ResourceNotFound,
        InvalidState) is moved to ``rejected.jsonl`` and the replay goes on; any other error
        (the server unreachable again, credentials refused) stops it, leaving that entry and
        the rest waiting, and is returned in ``report.stopped``.
        """
        report = ReplayReport()
        if not self.path.exists():
            return report
        with self._locked():
            try:
                reader = self.path.open("rb")
            except FileNotFoundError:
                return report
            with reader, _rw_fd(self.path) as fd:
                offset = 0
                for line in reader:
                    start, offset = offset, offset + len(line)
                    if not _is_pending(line):
                        continue
                    if report.stopped is None:
                        self._replay_one(line, start, fd, send, report)
                    if report.stopped is not None:
                        report.waiting += 1
            if report.waiting == 0:
                self.path.unlink(missing_ok=True)
        if report.rejected.entries:
            log.warning(
                "cairn: the tracking server at %s refused %s replayed from the spool (first: "
                "%s); they were moved to %s",
                self.server_uri,
                report.rejected.describe(),
                report.first_rejection,
                self.rejected_path,
            )
        return report

    def _replay_one(
        self,
        line: bytes,
        start: int,
        fd: int,
        send: Callable[[dict[str, Any]], object],
        report: ReplayReport,
    ) -> None:
        try:
            body = json.loads(line)["body"]
        except (ValueError, KeyError, TypeError):  # damaged on disk: keep it for a human
            log.warning("cairn: setting aside an unreadable spool entry at byte %d", start)
            self._set_aside(line.decode(errors="replace"), "UNREADABLE", "unreadable entry")
            report.rejected.add({})
        else:
            try:
                send(body)
            except _REFUSALS as err:
                if isinstance(err, InvalidTrackingUri):  # a redirect: the URL, not the data
                    report.stopped = err
                    return
                self._set_aside(body, err.error_code, err.message)
                report.rejected.add(body)
                report.first_rejection = report.first_rejection or err.message
            except Exception as err:  # unreachable, credentials refused, a server fault
                report.stopped = err
                return
            else:
                report.sent.add(body)
        os.pwrite(fd, DONE, start + _STATUS_AT)
        _sync_data(fd)

    def _set_aside(self, body: object, error_code: str, message: str) -> None:
        record = {
            "rejected_at": int(time.time() * 1000),
            "error_code": error_code,
            "message": message,
            "body": body,
        }
        fd = os.open(self.rejected_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            _write_all(fd, json.dumps(record, separators=(",", ":")).encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)

    # -- locking --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """This server's spool, for this thread and process alone."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._record_server()
        with _thread_lock(self.directory):
            if sys.platform == "win32":  # pragma: no cover - no flock: threads only
                yield
                return
            fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the lock

    def _record_server(self) -> None:
        marker = self.directory / "server.json"
        if not marker.exists():
            temporary = marker.with_name(f".server.{os.getpid()}.{threading.get_ident()}")
            temporary.write_text(json.dumps({"uri": self.server_uri}) + "\n")
            temporary.replace(marker)


def find_spools(root: Path | None = None) -> list[Spool]:
    """The spool of every server that has one under ``root`` (default :func:`spool_root`)."""
    base = root or spool_root()
    found = []
    for marker in sorted(base.glob("*/server.json")):
        try:
            uri = json.loads(marker.read_text())["uri"]
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("cairn: ignoring unreadable spool marker %s", marker)
            continue
        spool = Spool(str(uri), base)
        if spool.directory == marker.parent:
            found.append(spool)
    return found


def _is_pending(line: bytes) -> bool:
    """A complete line whose status is pending (a torn last line is neither)."""
    return (
        line.endswith(b"\n")
        and line.startswith(_PREFIX)
        and line[_STATUS_AT : _STATUS_AT + 1] == PENDING
    )


def _thread_lock(directory: Path) -> threading.Lock:
    with _thread_locks_guard:
        return _thread_locks.setdefault(directory, threading.Lock())


def _after_fork() -> None:
    # A lock another thread held at the fork would stay held in the child forever.
    global _thread_locks_guard
    _thread_locks.clear()
    _thread_locks_guard = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


@contextlib.contextmanager
def _rw_fd(path: Path) -> Iterator[int]:
    # Not O_APPEND: Linux appends every pwrite of an O_APPEND descriptor at the end.
    fd = os.open(path, os.O_RDWR)
    try:
        yield fd
    finally:
        os.close(fd)


def _cut_torn_tail(fd: int) -> None:
    """Remove a last line left incomplete by a crash in the middle of an append."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return
    keep = os.pread(fd, size, 0).rfind(b"\n") + 1
    log.warning("cairn: cutting %d bytes of an incomplete spool entry", size - keep)
    os.ftruncate(fd, keep)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _sync_data(fd: int) -> None:
    sync = getattr(os, "fdatasync", os.fsync)
    sync(fd)


def _fsync_dir(directory: Path) -> None:
    """Make a new file's name durable too (POSIX; a no-op where directories cannot open)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
