"""The REST store when its server is down: data is kept on local disk (the spool), reported,
and sent exactly once when the server is back, also through the background writer.

The server is the real app, served in-process; :class:`Switch` stands in for it going down
(every request refused) and coming back, at the exact request a test chooses, which a live
server cannot do on demand. ``test_rest_server.py`` does the same with a real server process.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cairn.entities import Metric, Param, RunTag
from cairn.errors import (
    AsyncLoggingError,
    CairnError,
    InvalidTrackingUri,
    ParamValueChanged,
    StoreError,
    TrackingServerUnavailable,
)
from cairn.server import ServerSettings, create_app
from cairn.server.testing import InProcessTransport
from cairn.store import _rest_http
from cairn.store._rest_batch import RunItems, requests_for
from cairn.store._rest_codec import metric_json, run_from_json
from cairn.store._rest_http import RetryPolicy
from cairn.store._rest_spool import Spool, find_spools, server_folder_name, spool_root
from cairn.store.rest import RestTrackingStore
from cairn.store.writer import AsyncWriter

URL = "http://testserver"


class Switch(httpx.BaseTransport):
    """Passes requests to the app, or refuses them all while ``down``; ``fail_after`` lets
    that many more log-batch requests through, then goes down; log-batch requests whose
    number (from 1) is in ``errors_at`` get a 500 answer."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.down = False
        self.fail_after: int | None = None
        self.batches = 0
        self.requests = 0
        self.errors_at: set[int] = set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        is_batch = request.url.path.endswith("/runs/log-batch")
        if is_batch and self.fail_after is not None:
            if self.fail_after == 0:
                self.down = True
            self.fail_after -= 1
        if self.down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        if is_batch:
            self.batches += 1
            if self.batches in self.errors_at:
                return httpx.Response(500, json={"error_code": "INTERNAL_ERROR", "message": "db"})
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@dataclass
class Served:
    store: RestTrackingStore
    switch: Switch
    spool_dir: Path

    @property
    def spool(self) -> Spool:
        return self.store.spool

    def pending_lines(self) -> list[dict[str, object]]:
        if not self.spool.path.exists():
            return []
        return [json.loads(line) for line in self.spool.path.read_text().splitlines()]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = ServerSettings.for_uri(str(tmp_path / "server"))
    switch = Switch(InProcessTransport(create_app(settings)))
    client = httpx.Client(transport=switch, base_url=URL)
    store = RestTrackingStore(
        URL,
        http_client=client,
        retry_policy=RetryPolicy(max_retries=1, backoff_factor=0.0, jitter=0.0),
        spool_dir=tmp_path / "spool",
        sleep=lambda seconds: None,
        metric_series=False,  # these tests count MLflow log-batch requests
    )
    yield Served(store, switch, tmp_path / "spool")
    store.close()
    client.close()
    settings.tracking_store.close()


def _points(run_id: str, steps: range, key: str = "m") -> list[tuple[str, str, float, int, int]]:
    return [(run_id, key, float(s), 1000 + s, s) for s in steps]


def _steps(store: RestTrackingStore, run_id: str, key: str = "m") -> list[int]:
    return [m.step for m in store.get_metric_history(run_id, key)]


# -- the store ------------------------------------------------------------------------------


def test_writes_while_the_server_is_down_are_kept_and_sent_once_it_is_back(
    served: Served,
) -> None:
    store = served.store
    run_id = store.create_run("0", "u", 1).info.run_id
    served.switch.down = True
    with pytest.raises(TrackingServerUnavailable) as info:
        store.log_metric_points(_points(run_id, range(2500)))
    message = str(info.value)
    assert "2,500 metric points were kept on local disk" in message
    assert str(served.spool.path) in message and f"cairn sync --tracking-uri {URL}" in message
    assert [len(line["body"]["metrics"]) for line in served.pending_lines()] == [1000, 1000, 500]  # type: ignore[index]
    served.switch.down = False
    store.log_batch(run_id, params=[Param("lr", "0.1")])
    assert _steps(store, run_id) == list(range(2500))
    assert store.get_run(run_id).data.params == {"lr": "0.1"}
    assert not served.spool.path.exists()


def test_kept_data_goes_before_later_writes(served: Served) -> None:
    store = served.store
    run_id = store.create_run("0", "u", 1).info.run_id
    served.switch.down = True
    with pytest.raises(TrackingServerUnavailable, match="1 tag was kept"):
        store.log_batch(run_id, tags=[RunTag("stage", "first")])
    with pytest.raises(TrackingServerUnavailable, match="1 tag was kept"):
        store.log_batch(run_id, tags=[RunTag("stage", "second")])
    served.switch.down = False
    store.log_batch(run_id, tags=[RunTag("stage", "third")], metrics=[Metric("m", 1.0, 5, 0)])
    assert store.get_run(run_id).data.tags["stage"] == "third"


def test_ending_a_run_sends_what_was_kept_first(served: Served) -> None:
    store = served.store
    run_id = store.create_run("0", "u", 1).info.run_id
    served.switch.down = True
    with pytest.raises(TrackingServerUnavailable):
        store.log_metric_points(_points(run_id, range(3)))
    with pytest.raises(TrackingServerUnavailable, match="waits on local disk"):
        store.update_run_info(run_id, status="FINISHED", end_time=9)
    served.switch.down = False
    assert store.update_run_info(run_id, status="FINISHED", end_time=9).status == "FINISHED"
    assert _steps(store, run_id) == [0, 1, 2]


def test_a_replay_cut_short_resumes_after_the_last_acknowledged_entry(served: Served) -> None:
    store = served.store
    run_id = store.create_run("0", "u", 1).info.run_id
    served.switch.down = True
    with pytest.raises(TrackingServerUnavailable):
        store.log_metric_points(_points(run_id, range(3000)))
    served.switch.down = False
    served.switch.fail_after = 1  # the server takes one request, then is gone again
    report = store.sync()
    assert (report.sent.entries, report.waiting) == (1, 2)
    assert isinstance(report.stopped, TrackingServerUnavailable)
    assert [line["s"] for line in served.pending_lines()] == ["D", "P", "P"]
    served.switch.down, served.switch.fail_after = False, None
    report = store.sync()
    assert (report.sent.entries, report.sent.metrics, report.waiting) == (2, 2000, 0)
    assert _steps(store, run_id) == list(range(3000))
    assert not served.spool.path.exists()


def test_entries_the_server_refuses_on_replay_are_set_aside(served: Served) -> None:
    store = served.store
    kept = store.create_run("0", "u", 1).info.run_id
    doomed = store.create_run("0", "u", 2).info.run_id
    served.switch.down = True
    for run_id in (doomed, kept):
        with pytest.raises(TrackingServerUnavailable):
            store.log_metric_points(_points(run_id, range(2)))
    served.switch.down = False
    store.delete_run(doomed)
    report = store.sync()
    assert (report.sent.entries, report.rejected.entries, report.waiting) == (1, 1, 0)
    assert report.first_rejection is not None and "deleted" in report.first_rejection
    [rejected] = [json.loads(line) for line in served.spool.rejected_path.read_text().splitlines()]
    assert rejected["error_code"] == "INVALID_PARAMETER_VALUE"
    assert rejected["body"]["run_id"] == doomed
    assert _steps(store, kept) == [0, 1]


def test_a_call_repeated_after_failing_halfway_sends_only_what_is_missing(
    served: Served,
) -> None:
    store = served.store
    run_id = store.create_run("0", "u", 1).info.run_id
    points = _points(run_id, range(3000))  # three requests
    served.switch.errors_at = {2, 4}  # the second request, then the third on the first retry
    for _ in range(2):
        with pytest.raises(StoreError, match="db"):
            store.log_metric_points(points)
    store.log_metric_points(points)  # as the background writer retries a transient failure
    assert served.switch.batches == 5
    assert _steps(store, run_id) == list(range(3000))


def test_errors_other_than_an_unreachable_server_keep_nothing(served: Served) -> None:
    with pytest.raises(CairnError, match="not found"):
        served.store.log_metric_points(_points("a" * 32, range(2)))
    assert not served.spool.path.exists()


def test_more_params_than_one_request_holds_are_checked_before_anything_is_written(
    served: Served,
) -> None:
    store = served.store
    run_id = store.create_run("0", "u", 1).info.run_id
    params = [Param(f"p{i}", str(i)) for i in range(150)]
    store.log_batch(run_id, params=params)
    params[120] = Param("p120", "changed")
    with pytest.raises(ParamValueChanged, match="p120"):
        store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)], params=params)
    data = store.get_run(run_id).data
    assert data.metrics == {} and data.params["p120"] == "120"


def test_garbage_collection_is_refused_with_directions(served: Served) -> None:
    with pytest.raises(CairnError, match="cairn gc") as info:
        served.store.purge_run("a" * 32)
    assert info.value.error_code == "NOT_IMPLEMENTED"


# -- through the background writer ----------------------------------------------------------


@pytest.fixture
def writer(served: Served) -> Iterator[AsyncWriter]:
    writer = AsyncWriter(served.store, flush_interval=60)
    yield writer
    served.switch.down = False
    writer.close(timeout=10)


def test_the_writer_reports_the_spool_and_nothing_is_written_twice(
    served: Served, writer: AsyncWriter
) -> None:
    store = served.store
    a = store.create_run("0", "u", 1).info.run_id
    b = store.create_run("0", "u", 2).info.run_id
    served.switch.down = True
    # Points of two runs, and three calls to one run: when the store fails them, the writer
    # writes them again run by run and call by call (see _rest_batch.Delivered).
    writer.put_metrics(_points(a, range(1500)) + _points(b, range(700)))
    writer.put_batch(a, {"lr": "0.1"}, {"stage": "one"}, _points(a, range(1500, 1510), "x"))
    writer.put_batch(a, {"depth": "3"}, {"stage": "two"}, _points(a, range(1510, 1520), "x"))
    writer.put_batch(a, {}, {"stage": "three"}, [])
    with pytest.raises(AsyncLoggingError, match="kept on local disk") as info:
        writer.flush()
    assert str(served.spool.path) in str(info.value)
    kept = [line["body"] for line in served.pending_lines()]
    assert sum(len(body["metrics"]) for body in kept) == 1500 + 700 + 20  # type: ignore[index, arg-type]
    served.switch.down = False
    writer.flush()  # the writer dropped what the store kept: nothing to retry in memory
    assert store.sync().waiting == 0
    assert _steps(store, a) == list(range(1500))
    assert _steps(store, b) == list(range(700))
    assert _steps(store, a, "x") == list(range(1500, 1520))
    data = store.get_run(a).data
    assert data.params == {"lr": "0.1", "depth": "3"}
    assert data.tags["stage"] == "three"


def test_a_run_refused_midway_does_not_make_the_others_points_arrive_twice(
    served: Served, writer: AsyncWriter
) -> None:
    store = served.store
    a = store.create_run("0", "u", 1).info.run_id
    b = store.create_run("0", "u", 2).info.run_id
    c = store.create_run("0", "u", 3).info.run_id
    store.delete_run(b)
    writer.put_metrics(_points(a, range(10)) + _points(b, range(10)) + _points(c, range(10)))
    with pytest.raises(AsyncLoggingError, match="deleted"):
        writer.flush()
    assert _steps(store, a) == list(range(10))
    assert _steps(store, c) == list(range(10))


def test_data_that_cannot_be_kept_on_disk_stays_queued_in_the_writer(
    tmp_path: Path, served: Served, writer: AsyncWriter
) -> None:
    store = served.store
    run_id = store.create_run("0", "u", 1).info.run_id
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    store.spool = Spool(URL, blocker)  # its folder cannot be created
    served.switch.down = True
    writer.put_metrics(_points(run_id, range(5)))
    with pytest.raises(AsyncLoggingError, match="CAIRN_SPOOL_DIR") as info:
        writer.flush()
    assert isinstance(info.value.__cause__, StoreError)
    served.switch.down = False
    # Retried from memory: the writer keeps retrying transient failures (recording each one)
    # until the server is back, so the first flush may still report some made meanwhile.
    with contextlib.suppress(AsyncLoggingError):
        writer.flush()
    writer.flush()
    assert _steps(store, run_id) == list(range(5))


def test_a_forked_child_gets_connections_of_its_own(served: Served) -> None:
    own = RestTrackingStore(URL, spool_dir=served.spool_dir)
    try:
        before, injected = own._http.client, served.store._http.client
        _rest_http._after_fork()  # what os.fork runs in the child
        assert own._http.client is not before
        assert served.store._http.client is injected  # a caller's client stays the caller's
    finally:
        before.close()
        own.close()


# -- the spool itself -----------------------------------------------------------------------


def test_a_torn_last_line_is_cut_by_the_next_append(tmp_path: Path) -> None:
    spool = Spool(URL, tmp_path)
    body = {"run_id": "r", "metrics": [], "params": [], "tags": [{"key": "k", "value": "v"}]}
    spool.append([body])
    with spool.path.open("ab") as out:
        out.write(b'{"s":"P","kept_at":1,"body":{"run_')  # a crash in the middle of a write
    spool.append([body])
    sent: list[object] = []
    report = spool.replay(sent.append)
    assert sent == [body, body] and report.sent.tags == 2
    assert not spool.path.exists()


def test_a_damaged_entry_is_set_aside_and_a_redirect_stops_the_replay(tmp_path: Path) -> None:
    spool = Spool(URL, tmp_path)
    body = {"run_id": "r", "metrics": [], "params": [], "tags": []}
    spool.append([body])
    with spool.path.open("ab") as out:
        out.write(b'{"s":"P",not json}\n')
    spool.append([body])

    def redirected(sent: object) -> None:
        raise InvalidTrackingUri("the server redirects to https://elsewhere")

    report = spool.replay(redirected)
    assert isinstance(report.stopped, InvalidTrackingUri) and report.waiting == 3
    sent: list[object] = []
    report = spool.replay(sent.append)
    assert sent == [body, body] and report.rejected.entries == 1
    [damaged] = [json.loads(line) for line in spool.rejected_path.read_text().splitlines()]
    assert damaged["error_code"] == "UNREADABLE" and "not json" in damaged["body"]
    assert not spool.path.exists()


def test_where_the_spool_lives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CAIRN_SPOOL_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert spool_root() == tmp_path / "home" / ".cache" / "cairn" / "spool"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert spool_root() == tmp_path / "xdg" / "cairn" / "spool"
    monkeypatch.setenv("CAIRN_SPOOL_DIR", str(tmp_path / "explicit"))
    assert spool_root() == tmp_path / "explicit"
    assert server_folder_name("http://127.0.0.1:5000") == "127.0.0.1_5000"
    assert server_folder_name("http://[::1]:80/a b/") == "-1_80_a-b"
    Spool("https://track.example.com/team").append([{"run_id": "r", "metrics": []}])
    [found] = find_spools()
    assert found.server_uri == "https://track.example.com/team"
    assert found.path == tmp_path / "explicit" / "track.example.com_443_team" / "pending.jsonl"


# -- requests and answers -------------------------------------------------------------------


def test_batches_are_split_within_the_protocol_limits_params_first() -> None:
    items = RunItems(
        "r",
        metrics=[metric_json("m", float(i), 1, i) for i in range(2500)],
        params=[(f"p{i}", "v") for i in range(150)],
        tags=[(f"t{i}", "v") for i in range(150)],
    )
    bodies = requests_for(items)
    for body in bodies:
        counts = [len(body[k]) for k in ("metrics", "params", "tags")]
        assert counts[0] <= 1000 and counts[1] <= 100 and counts[2] <= 100 and sum(counts) <= 1000
    assert len(bodies[0]["params"]) == 100
    assert [m["step"] for b in bodies for m in b["metrics"]] == list(range(2500))
    assert [p["key"] for b in bodies for p in b["params"]] == [f"p{i}" for i in range(150)]
    assert len(requests_for(RunItems("r", params=[("a", "1")]))) == 1


def test_runs_are_read_leniently() -> None:
    run = run_from_json(
        {
            "info": {
                "run_uuid": "abc",
                "experiment_id": "1",
                "start_time": "1700000000000",
                "end_time": 0,
                "unknown": True,
            },
            "data": {
                "metrics": [
                    {"key": "loss", "value": "NaN", "timestamp": "5", "step": "2"},
                    {"key": "acc", "value": "-Infinity", "timestamp": 7},
                ],
                "tags": [{"key": "mlflow.runName", "value": "bold-owl-42"}],
            },
        }
    )
    info = run.info
    assert (info.run_id, info.run_name, info.status) == ("abc", "bold-owl-42", "RUNNING")
    assert (info.start_time, info.end_time) == (1_700_000_000_000, None)
    assert math.isnan(run.data.metrics["loss"]) and run.data.metrics["acc"] == -math.inf
    assert run.data.metric_steps == {"loss": (2, 5), "acc": (0, 7)}


# -- cairn's columnar bulk endpoint ------------------------------------------------------------


@pytest.fixture
def bulk(tmp_path: Path) -> Iterator[Served]:
    """A store that sends metric points as columnar series (what it does with cairn servers)."""
    settings = ServerSettings.for_uri(str(tmp_path / "server"))
    switch = Switch(InProcessTransport(create_app(settings)))
    client = httpx.Client(transport=switch, base_url=URL)
    store = RestTrackingStore(
        URL,
        http_client=client,
        retry_policy=RetryPolicy(max_retries=1, backoff_factor=0.0, jitter=0.0),
        spool_dir=tmp_path / "spool",
        sleep=lambda seconds: None,
    )
    yield Served(store, switch, tmp_path / "spool")
    store.close()
    client.close()
    settings.tracking_store.close()


def test_a_cairn_server_gets_points_as_whole_series_in_one_request(bulk: Served) -> None:
    run_id = bulk.store.create_run("0", "u", 1).info.run_id
    sent_before = bulk.switch.requests
    bulk.store.log_metric_points(
        [*_points(run_id, range(5000)), (run_id, "nan", float("nan"), 1, 0)]
    )
    # One request for the server's capabilities, one for all 5,001 points.
    assert bulk.switch.requests - sent_before == 2
    assert _steps(bulk.store, run_id) == list(range(5000))
    assert math.isnan(bulk.store.get_run(run_id).data.metrics["nan"])


def test_series_for_an_unreachable_server_are_kept_and_sent_later(bulk: Served) -> None:
    run_id = bulk.store.create_run("0", "u", 1).info.run_id
    bulk.store.log_metric_points(_points(run_id, range(10)))  # learns the server speaks series
    bulk.switch.down = True
    with pytest.raises(TrackingServerUnavailable, match="kept on local disk"):
        bulk.store.log_metric_points(_points(run_id, range(10, 2500)))
    bulk.switch.down = False
    bulk.store.sync()
    assert _steps(bulk.store, run_id) == list(range(2500))
