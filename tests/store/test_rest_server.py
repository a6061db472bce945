"""The REST store against real servers on loopback ports: ``cairn server`` processes started
as a user starts them (stopped and restarted to play an outage), and a uvicorn server in a
thread whose app records the headers it receives."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import cairn
from cairn import _fluent
from cairn._http import USER_AGENT
from cairn.errors import AsyncLoggingError, TrackingServerUnavailable
from cairn.store import registry
from cairn.store.rest import RestTrackingStore
from tests._stores import close_stores_opened_since

pytestmark = pytest.mark.server

CAIRN = str(Path(sys.executable).with_name("cairn"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class CairnServer:
    """``cairn server`` over a folder, on a fixed port, so it can be stopped and restarted
    at the same address."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [CAIRN, "server", "--backend-store-uri", str(self.workdir / "mlruns")]
        command += ["--port", str(self.port)]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CAIRN_", "MLFLOW_"))}
        with (self.workdir / "server.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.workdir / "server.log").read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.05)
        raise AssertionError("cairn server did not become healthy")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Fast retries, a spool of the test's own, no credentials; fluent state reset after."""
    for name in list(os.environ):
        if name.startswith(("CAIRN_", "MLFLOW_")):
            monkeypatch.delenv(name)
    settings = {
        "CAIRN_SPOOL_DIR": str(tmp_path / "spool"),
        "CAIRN_HTTP_MAX_RETRIES": "1",
        "CAIRN_HTTP_BACKOFF_FACTOR": "0.05",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    stores_before = set(registry._stores)
    yield settings
    with contextlib.suppress(Exception):
        while cairn.active_run():
            cairn.end_run()
    _fluent._tracking_uri = None
    _fluent._experiment_id = None
    _fluent._client_instance = None
    _fluent._run_stack.set(())
    _fluent._open_runs.clear()
    close_stores_opened_since(stores_before)


@pytest.fixture
def server(tmp_path: Path, env: dict[str, str]) -> Iterator[CairnServer]:
    running = CairnServer(tmp_path)
    running.start()
    yield running
    running.stop()


def test_the_fluent_api_logs_to_a_tracking_server(server: CairnServer) -> None:
    cairn.set_tracking_uri(server.url)
    cairn.set_experiment("over-http")
    with cairn.start_run(run_name="first") as run:
        cairn.log_params({"lr": 0.1, "depth": 4})
        for step in range(1200):  # the background writer sends these as log-batch requests
            cairn.log_metric("loss", 1.0 / (step + 1), step=step)
        cairn.log_metrics({"acc": 0.9, "f1": float("nan")})
        cairn.set_tag("stage", "dev")
    frame = cairn.search_runs(experiment_names=["over-http"])
    assert list(frame["run_id"]) == [run.info.run_id]
    row = frame.iloc[0]
    assert row["status"] == "FINISHED" and row["tags.mlflow.runName"] == "first"
    assert (row["params.lr"], row["params.depth"], row["tags.stage"]) == ("0.1", "4", "dev")
    assert row["metrics.loss"] == 1.0 / 1200 and row["metrics.acc"] == 0.9
    history = cairn.Client().get_metric_history(run.info.run_id, "loss")
    assert [m.step for m in history] == list(range(1200))


def test_data_logged_while_the_server_is_down_arrives_once_it_is_back(
    server: CairnServer, env: dict[str, str]
) -> None:
    cairn.set_tracking_uri(server.url)
    run = cairn.start_run()
    run_id = run.info.run_id
    cairn.log_param("lr", 0.1)
    for step in range(100):
        cairn.log_metric("loss", float(step), step=step)
    cairn.flush()
    server.stop()
    for step in range(100, 350):
        cairn.log_metric("loss", float(step), step=step)
    with pytest.raises(AsyncLoggingError) as info:
        cairn.flush()
    spool = Path(env["CAIRN_SPOOL_DIR"]) / f"127.0.0.1_{server.port}" / "pending.jsonl"
    assert str(spool) in str(info.value) and "250 metric points were kept" in str(info.value)
    assert isinstance(info.value.__cause__, TrackingServerUnavailable)
    assert spool.exists()
    server.start()
    synced = subprocess.run(
        [CAIRN, "sync", "--tracking-uri", server.url],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )
    assert synced.returncode == 0, synced.stderr
    assert "sent 1 request (250 metric points)" in synced.stdout
    assert not spool.exists()
    cairn.end_run()
    history = cairn.Client().get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(350))
    assert cairn.get_run(run_id).info.status == "FINISHED"


# -- credentials ------------------------------------------------------------------------------


class HeaderRecorder:
    """ASGI middleware keeping the headers of every HTTP request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[dict[str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append({k.decode(): v.decode() for k, v in scope["headers"]})
        await self.app(scope, receive, send)


@pytest.fixture
def recording_server(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[str, HeaderRecorder]]:
    import uvicorn

    from cairn.server import ServerSettings, create_app

    settings = ServerSettings.for_uri(str(tmp_path / "recorded"))
    recorder = HeaderRecorder(create_app(settings))
    port = free_port()
    config = uvicorn.Config(
        recorder, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", recorder
    server.should_exit = True
    thread.join(timeout=30)
    settings.tracking_store.close()


def test_credentials_reach_the_server_as_mlflow_sends_them(
    recording_server: tuple[str, HeaderRecorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, recorder = recording_server
    store = RestTrackingStore(url)
    try:
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "t0ken")
        store.get_experiment("0")
        monkeypatch.setenv("CAIRN_TRACKING_USERNAME", "ada")
        monkeypatch.setenv("CAIRN_TRACKING_PASSWORD", "s3cret")
        run = store.create_run("0", "ada", 1)
        store.log_metric_points([(run.info.run_id, "m", 1.0, 1, 0)])
    finally:
        store.close()
    basic = "Basic " + base64.b64encode(b"ada:s3cret").decode()
    # get-experiment, create-run, server-info (is it a cairn server?), the points
    assert [h.get("authorization") for h in recorder.seen] == [
        "Bearer t0ken",
        basic,
        basic,
        basic,
    ]
    assert {h["user-agent"] for h in recorder.seen} == {USER_AGENT}
