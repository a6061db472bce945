"""Fixtures of the ``cairn server`` compatibility tests.

A real ``cairn server`` subprocess (one per test session, over a fresh folder) and the real
``mlflow`` client pointed at it. The server is started with the same command a user types,
waited for on ``/health`` and stopped with SIGTERM at the end, which must shut it down
gracefully. Tests share the server, so each one works in experiments of its own (``unique``).

The mlflow client is configured for tests: no telemetry, and no retries, so that a server
error fails the test at once instead of being retried for minutes (§0 of the protocol
reference: the client retries 5xx answers with backoff).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests._stores import close_stores_opened_since

# Read by mlflow when it is imported (telemetry starts then), so set before any test module
# of this folder imports it.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

CAIRN = str(Path(sys.executable).with_name("cairn"))

#: The mlflow client's settings for every test here.
MLFLOW_TEST_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
}

#: Warnings that mlflow's own code raises while it runs (its type-hint and schema hints, its
#: deprecations); everything else, cairn's warnings included, stays an error.
THIRD_PARTY_WARNINGS = (
    "ignore::UserWarning:mlflow.*",
    "ignore::FutureWarning:mlflow.*",
    "ignore::DeprecationWarning:mlflow.*",
    "ignore::PendingDeprecationWarning:mlflow.*",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            for spec in THIRD_PARTY_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))


def unique(prefix: str) -> str:
    """A name no other test (or earlier session on a reused folder) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# -- a real server process ------------------------------------------------------------------


@dataclass
class Server:
    """One running ``cairn server``."""

    url: str
    backend: str
    workdir: Path
    log: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_env() -> dict[str, str]:
    # The server must not pick up what the test process set for its mlflow client
    # (mlflow.set_tracking_uri exports MLFLOW_TRACKING_URI, for instance).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "CAIRN_"))}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _wait_healthy(server: Server, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"cairn server exited with {server.process.returncode} before it was healthy:\n"
                + server.log_tail()
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"cairn server not healthy after {timeout}s:\n{server.log_tail()}")


def stop_server(server: Server, timeout: float = 30) -> int:
    """SIGTERM, then wait for the graceful shutdown; returns the exit status."""
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
            raise AssertionError(
                f"cairn server did not stop within {timeout}s of SIGTERM:\n{server.log_tail()}"
            ) from None
    return process.returncode


def assert_stopped_cleanly(server: Server, returncode: int) -> None:
    # uvicorn re-raises the signal it caught once shutdown is complete, so a graceful stop
    # ends with -SIGTERM (or 0); anything else is a crash.
    assert returncode in (0, -signal.SIGTERM), (
        f"cairn server exited with {returncode}:\n{server.log_tail()}"
    )
    log = server.log.read_text(errors="replace")
    assert "Application shutdown complete" in log, server.log_tail()


@contextlib.contextmanager
def running_server(
    workdir: Path,
    backend: str,
    artifacts_destination: str | None = None,
    *,
    extra_args: tuple[str, ...] = (),
    startup_timeout: float = 60,
) -> Iterator[Server]:
    """``cairn server --backend-store-uri BACKEND`` on a free port, stopped on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = workdir / f"cairn-server-{port}.log"
    command = [CAIRN, "server", "--backend-store-uri", backend, "--host", "127.0.0.1"]
    command += ["--port", str(port), *extra_args]
    if artifacts_destination is not None:
        command += ["--artifacts-destination", artifacts_destination]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, env=_server_env()
        )
    server = Server(f"http://127.0.0.1:{port}", backend, workdir, log, process)
    try:
        _wait_healthy(server, startup_timeout)
        yield server
    finally:
        returncode = stop_server(server)
    assert_stopped_cleanly(server, returncode)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The session's ``cairn server`` over a fresh folder (SQLite + proxied artifacts)."""
    workdir = tmp_path_factory.mktemp("cairn-server")
    with running_server(workdir, str(workdir / "mlruns")) as running:
        yield running


@pytest.fixture
def mlflow_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mlflow client's test settings, for this test only (cairn reads some MLFLOW_*
    variables too, so nothing is left behind for other tests)."""
    for name, value in MLFLOW_TEST_ENV.items():
        monkeypatch.setenv(name, value)


def _reset_mlflow() -> None:
    import mlflow
    from mlflow.tracking import fluent

    with contextlib.suppress(Exception):
        while mlflow.active_run() is not None:
            mlflow.end_run()
    fluent._active_experiment_id = None
    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # also unsets MLFLOW_TRACKING_URI


@pytest.fixture
def mlflow_state(mlflow_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No active run, experiment or tracking URI in the mlflow client before or after."""
    # mlflow exports its state as environment variables (set_tracking_uri sets
    # MLFLOW_TRACKING_URI, set_experiment MLFLOW_EXPERIMENT_ID); setting then deleting each
    # makes monkeypatch put back exactly what was there before the test, absent included.
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    _reset_mlflow()
    yield
    _reset_mlflow()


@pytest.fixture
def tracking_uri(server: Server, mlflow_state: None) -> str:
    """The server's URL, set as the mlflow client's tracking URI for this test only."""
    import mlflow

    mlflow.set_tracking_uri(server.url)
    return server.url


@pytest.fixture(scope="session")
def cairn_reader(server: Server) -> Iterator[object]:
    """cairn's own client on the server's backend folder: what the store really holds."""
    import cairn
    from cairn.store import registry

    before = set(registry._stores)
    client = cairn.Client(tracking_uri=server.backend)
    yield client
    close_stores_opened_since(before)


@pytest.fixture
def api(server: Server) -> Iterator[httpx.Client]:
    """A raw HTTP client on the session's server."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
