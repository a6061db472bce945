"""Start and stop the two tracking servers the server workloads talk to.

    with running_server(spec, store_dir, log_path) as server:
        ...  # server.url is http://127.0.0.1:<port>, answering GET /health

``cairn server`` serves a store folder; ``mlflow server`` (from ``bench/.venv-mlflow``) serves
``sqlite:///<store>/mlflow.db`` with its artifacts in ``<store>/art``. Both listen on a free
loopback port with the same number of worker processes. A server counts as started when it
answers ``GET /health`` **and** its processes have gone quiet: MLflow's server keeps starting
background job consumers for ~10 s after it first answers, using 1-2 cores, which would slow the
first seconds of whatever runs against it.

Each server runs in a session of its own, so stopping it reaches every process it started
(uvicorn workers, MLflow's uvicorn child and job consumers): SIGTERM to the group, then SIGKILL
if it has not exited after a grace period. The context manager stops the server however the
block ends (a failed workload, Ctrl-C, or the SIGTERM that ``run.py`` turns into
``SystemExit``).

Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

TOOLS = ("cairn", "mlflow")
HOST = "127.0.0.1"
START_TIMEOUT_S = 120.0
STOP_GRACE_S = 20.0
#: "Quiet": the server's processes used at most this share of one core over a window.
SETTLE_CPU_SHARE = 0.05
SETTLE_WINDOW_S = 1.0
SETTLE_TIMEOUT_S = 60.0
_START_ATTEMPTS = 3


class ServerError(RuntimeError):
    """A server did not start, or a workload against it failed (with the server log's tail)."""


@dataclass(frozen=True)
class ServerSpec:
    """How to start one tool's server: its executable, worker count and environment."""

    tool: str
    #: ``bin/cairn`` or ``bin/mlflow`` of the tool's virtualenv.
    executable: Path
    workers: int
    env: Mapping[str, str]

    def store_uri(self, store: Path) -> str:
        """The backend store URI for the store folder ``store``."""
        if self.tool == "mlflow":
            return f"sqlite:///{store / 'mlflow.db'}"
        return str(store / "mlruns")

    def command(self, store: Path, port: int) -> list[str]:
        """The command line serving ``store`` on ``port``."""
        common = ["--backend-store-uri", self.store_uri(store), "--host", HOST]
        common += ["--port", str(port), "--workers", str(self.workers)]
        if self.tool == "mlflow":
            common += ["--default-artifact-root", str(store / "art")]
        return [str(self.executable), "server", *common]

    def process_env(self) -> dict[str, str]:
        """The server's environment: MLflow starts ``uvicorn`` by name, so its venv comes first
        on PATH."""
        env = dict(self.env)
        env["PATH"] = f"{self.executable.parent}{os.pathsep}{env.get('PATH', '')}"
        return env


def spec_for(tool: str, python: Path, workers: int, env: Mapping[str, str]) -> ServerSpec:
    """The server of ``tool``, installed beside the interpreter ``python``."""
    if tool not in TOOLS:
        raise ValueError(f"unknown tool {tool!r}; expected one of {TOOLS}")
    return ServerSpec(tool, python.with_name(tool), workers, env)


@dataclass(frozen=True)
class Server:
    """A running server."""

    tool: str
    url: str
    pid: int
    log: Path

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines the server printed."""
        return _tail(self.log, lines)


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def is_healthy(url: str) -> bool:
    """Whether ``GET <url>/health`` answers 200."""
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
            return int(answer.status) == 200
    except (OSError, urllib.error.URLError):
        return False


def group_cpu_seconds(pgid: int) -> float:
    """The CPU time (user + system) used so far by the live processes of group ``pgid``."""
    ticks = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state, ppid, pgrp, ... utime (12th), stime (13th).
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_until_quiet(pgid: int, timeout_s: float = SETTLE_TIMEOUT_S) -> float:
    """Wait until group ``pgid`` uses at most :data:`SETTLE_CPU_SHARE` of a core over
    :data:`SETTLE_WINDOW_S`; return the seconds waited. Gives up quietly after ``timeout_s``
    (and where ``/proc`` is missing)."""
    if not os.path.isdir("/proc"):
        return 0.0
    start = time.monotonic()
    used = group_cpu_seconds(pgid)
    while time.monotonic() - start < timeout_s:
        time.sleep(SETTLE_WINDOW_S)
        now = group_cpu_seconds(pgid)
        if now - used <= SETTLE_CPU_SHARE * SETTLE_WINDOW_S:
            break
        used = now
    return time.monotonic() - start


def stop(process: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM the process group of ``process``, then SIGKILL it if it outlives ``grace_s``."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)
    # The group may hold children (uvicorn workers) that outlived their parent: kill them too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _start(spec: ServerSpec, store: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start the server and wait until it is healthy; stop it and raise if it is not."""
    port = free_port()
    url = f"http://{HOST}:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(
            spec.command(store, port),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=store,
            env=spec.process_env(),
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not is_healthy(url):
            if process.poll() is not None:
                raise ServerError(
                    f"{spec.tool} server exited with {process.returncode} before answering "
                    f"/health:\n{_tail(log, 20)}"
                )
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{spec.tool} server not healthy after {START_TIMEOUT_S:.0f} s:\n"
                    f"{_tail(log, 20)}"
                )
            time.sleep(0.1)
        wait_until_quiet(process.pid)
    except BaseException:
        stop(process)
        raise
    return process, url


@contextlib.contextmanager
def running_server(spec: ServerSpec, store: Path, log: Path) -> Iterator[Server]:
    """Serve ``store`` (created if missing) for the duration of the ``with`` block.

    A server that exits early (e.g. its port was taken meanwhile) is retried on another port.
    An error inside the block is re-raised as :class:`ServerError` with the server log's tail
    appended; the server is stopped in every case.
    """
    store.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, _START_ATTEMPTS + 1):
        try:
            process, url = _start(spec, store, log)
            break
        except ServerError:
            if attempt == _START_ATTEMPTS:
                raise
    try:
        yield Server(spec.tool, url, process.pid, log)
    except Exception as err:
        if process.poll() is not None:
            state = f"the {spec.tool} server had exited with {process.returncode}"
        else:
            state = f"the {spec.tool} server was still running"
        raise ServerError(f"{err}\n({state}; its log ends with:)\n{_tail(log, 15)}") from err
    finally:
        stop(process)
