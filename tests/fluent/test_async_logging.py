"""Asynchronous logging: calls return before the write, flush makes it durable, synchronous=True
commits at once, background failures surface as AsyncLoggingError, and CAIRN_ASYNC_LOGGING
switches the default.

What the fluent API queued is observed through a second client on the same database (its own
store and writer, so its reads do not flush the first one's queue) or another process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import cairn
from cairn.entities import Metric
from cairn.errors import AsyncLoggingError, InvalidParameter, ParamValueChanged
from cairn.store.writer import AsyncWriter


@pytest.fixture
def writer() -> AsyncWriter:
    """The background writer behind the fluent API, set to write only when asked to (by a
    flush or a full queue), so that what is queued stays queued while a test looks."""
    writer = cairn.Client().writer
    writer.flush_interval = 60.0
    return writer


def _data(client: cairn.Client, run_id: str) -> tuple[dict[str, float], dict[str, str], set[str]]:
    data = client.get_run(run_id).data
    return dict(data.metrics), dict(data.params), set(data.tags)


def test_logging_returns_before_the_data_is_written(mlruns: Path, writer: AsyncWriter) -> None:
    run = cairn.start_run()
    run_id = run.info.run_id
    cairn.log_metric("m", 1.0)
    cairn.log_metrics({"n": 2.0})
    cairn.log_param("p", "1")
    cairn.log_params({"q": "2"})
    cairn.set_tag("t", "v")
    cairn.set_tags({"u": "w"})
    observer = cairn.Client(f"sqlite:///{mlruns / 'cairn.db'}")  # created after the calls
    metrics, params, tags = _data(observer, run_id)
    assert metrics == {}
    assert params == {}
    assert not {"t", "u"} & tags
    assert writer.pending() > 0


def test_flush_makes_queued_data_visible(observer: cairn.Client, writer: AsyncWriter) -> None:
    run_id = cairn.start_run().info.run_id
    cairn.log_metric("m", 1.0, step=0)
    cairn.log_metric("m", 2.0, step=1)
    cairn.log_param("p", "1")
    cairn.set_tag("t", "v")
    assert _data(observer, run_id)[0] == {}
    cairn.flush()
    metrics, params, tags = _data(observer, run_id)
    assert metrics == {"m": 2.0}
    assert params == {"p": "1"}
    assert "t" in tags
    assert [p.value for p in observer.get_metric_history(run_id, "m")] == [1.0, 2.0]


def test_flush_async_logging_is_flush() -> None:
    assert cairn.flush_async_logging is cairn.flush


def test_end_run_writes_what_the_run_queued(observer: cairn.Client, writer: AsyncWriter) -> None:
    with cairn.start_run() as run:
        cairn.log_metric("m", 1.0)
    assert _data(observer, run.info.run_id)[0] == {"m": 1.0}
    assert observer.get_run(run.info.run_id).info.status == "FINISHED"


def test_reads_through_the_logging_client_see_queued_data(writer: AsyncWriter) -> None:
    with cairn.start_run() as run:
        cairn.log_metric("m", 1.0)
        cairn.log_param("p", "x")
        assert writer.pending() > 0
        data = cairn.get_run(run.info.run_id).data
        assert data.metrics == {"m": 1.0}
        assert data.params == {"p": "x"}


_SYNCHRONOUS_CALLS: dict[str, Callable[[], Any]] = {
    "log_metric": lambda: cairn.log_metric("m", 1.0, synchronous=True),
    "log_metrics": lambda: cairn.log_metrics({"m": 1.0}, synchronous=True),
    "log_param": lambda: cairn.log_param("m", "1", synchronous=True),
    "log_params": lambda: cairn.log_params({"m": "1"}, synchronous=True),
    "set_tag": lambda: cairn.set_tag("m", "1", synchronous=True),
    "set_tags": lambda: cairn.set_tags({"m": "1"}, synchronous=True),
}


@pytest.mark.parametrize("call", list(_SYNCHRONOUS_CALLS))
def test_synchronous_true_commits_before_returning(
    observer: cairn.Client, writer: AsyncWriter, call: str
) -> None:
    run_id = cairn.start_run().info.run_id
    _SYNCHRONOUS_CALLS[call]()
    metrics, params, tags = _data(observer, run_id)
    assert "m" in metrics or "m" in params or "m" in tags


def test_synchronous_writes_are_visible_from_another_process_at_once(
    mlruns: Path, writer: AsyncWriter, run_python: Callable[..., Any]
) -> None:
    run_id = cairn.start_run().info.run_id
    cairn.log_metric("sync_metric", 1.0, synchronous=True)
    cairn.log_param("sync_param", "yes", synchronous=True)
    cairn.set_tag("sync_tag", "yes", synchronous=True)
    cairn.log_metric("queued_metric", 2.0)
    cairn.log_param("queued_param", "later")
    seen = run_python(
        "import json, cairn\n"
        f"data = cairn.Client().get_run({run_id!r}).data\n"
        "print(json.dumps([dict(data.metrics), dict(data.params), sorted(data.tags)]))\n",
        env={"CAIRN_TRACKING_URI": str(mlruns)},
    )
    metrics, params, tags = seen
    assert metrics == {"sync_metric": 1.0}
    assert params == {"sync_param": "yes"}
    assert "sync_tag" in tags


def _queue_a_write_to_a_deleted_run(observer: cairn.Client) -> str:
    """Start a run, delete it through the observer, then log to it asynchronously."""
    run_id = cairn.start_run().info.run_id
    cairn.log_metric("m", 1.0)
    cairn.flush()
    observer.delete_run(run_id)
    cairn.log_metric("m", 2.0)  # the run is known to this client: queued without a check
    return run_id


def test_background_write_error_is_raised_at_flush(
    observer: cairn.Client, writer: AsyncWriter
) -> None:
    run_id = _queue_a_write_to_a_deleted_run(observer)
    with pytest.raises(AsyncLoggingError) as caught:
        cairn.flush()
    assert isinstance(caught.value.__cause__, InvalidParameter)
    assert run_id in str(caught.value)
    cairn.flush()  # reported once
    observer.restore_run(run_id)
    cairn.end_run()


def test_background_write_error_is_raised_at_the_next_logging_call(
    observer: cairn.Client, writer: AsyncWriter
) -> None:
    run_id = _queue_a_write_to_a_deleted_run(observer)
    assert writer.request_flush().wait(10)  # the writer fails in the background
    with pytest.raises(AsyncLoggingError) as caught:
        cairn.log_metric("m", 3.0)
    assert isinstance(caught.value.__cause__, InvalidParameter)
    observer.restore_run(run_id)
    cairn.end_run()


def test_background_write_error_is_raised_at_the_next_param_call(
    observer: cairn.Client, writer: AsyncWriter
) -> None:
    run_id = _queue_a_write_to_a_deleted_run(observer)
    assert writer.request_flush().wait(10)
    with pytest.raises(AsyncLoggingError) as caught:
        cairn.log_param("p", "1")
    assert caught.value.__cause__ is not None
    observer.restore_run(run_id)
    cairn.end_run()


def test_background_write_error_is_raised_at_end_run(
    observer: cairn.Client, writer: AsyncWriter
) -> None:
    run_id = _queue_a_write_to_a_deleted_run(observer)
    with pytest.raises(AsyncLoggingError) as caught:
        cairn.end_run()
    assert isinstance(caught.value.__cause__, InvalidParameter)
    assert cairn.active_run() is None
    assert observer.get_run(run_id).data.metrics == {"m": 1.0}


def test_param_rejected_in_the_background_is_raised_at_end_run(
    observer: cairn.Client, writer: AsyncWriter
) -> None:
    run_id = cairn.start_run().info.run_id
    observer.log_param(run_id, "p", "theirs", synchronous=True)  # another writer got there first
    cairn.log_param("p", "mine")  # unknown to this process: queued
    with pytest.raises(AsyncLoggingError) as caught:
        cairn.end_run()
    assert isinstance(caught.value.__cause__, ParamValueChanged)
    assert cairn.active_run() is None
    stored = observer.get_run(run_id)
    assert stored.data.params == {"p": "theirs"}
    assert stored.info.status == "FINISHED"  # ended anyway


def test_background_write_error_escapes_the_with_block(
    observer: cairn.Client, writer: AsyncWriter
) -> None:
    def train() -> None:
        with cairn.start_run() as run:
            observer.log_param(run.info.run_id, "p", "theirs", synchronous=True)
            cairn.log_param("p", "mine")

    with pytest.raises(AsyncLoggingError):
        train()
    assert cairn.active_run() is None


def test_a_rejected_batch_stores_none_of_its_items(
    observer: cairn.Client, writer: AsyncWriter
) -> None:
    run_id = cairn.start_run().info.run_id
    client = cairn.Client()
    client.log_param(run_id, "first", "1")  # this client has now read the run's params
    observer.log_param(run_id, "p", "theirs", synchronous=True)  # another process, later
    client.log_batch(
        run_id,
        metrics=[Metric("m", 1.0, 0)],
        params=[cairn.entities.Param("p", "mine")],
    )
    with pytest.raises(AsyncLoggingError):
        cairn.flush()
    metrics, params = _data(observer, run_id)[:2]
    assert metrics == {}  # log_batch is all or nothing
    assert params == {"first": "1", "p": "theirs"}


def test_a_param_changed_by_another_process_before_first_use_fails_at_the_call(
    observer: cairn.Client, writer: AsyncWriter
) -> None:
    run_id = cairn.start_run().info.run_id
    observer.log_param(run_id, "p", "theirs", synchronous=True)
    with pytest.raises(ParamValueChanged):
        cairn.Client().log_batch(
            run_id, metrics=[Metric("m", 1.0, 0)], params=[cairn.entities.Param("p", "mine")]
        )
    assert _data(observer, run_id)[0] == {}


def test_flush_waits_for_a_batch_the_writer_is_already_writing(
    observer: cairn.Client, writer: AsyncWriter
) -> None:
    run_id = cairn.start_run().info.run_id
    observer.get_run(run_id)  # open the observer's store now, to look right after the flush
    client = cairn.Client()
    # Past the writer's high-water mark (50,000 queued points) the writer wakes up and takes
    # the queue itself; the last points start 9,000 new series, which take a while to write.
    for start in range(0, 51_000, 1000):
        client.log_batch(run_id, metrics=[Metric("m", 0.5, 1, start + i) for i in range(1000)])
    for start in range(0, 9000, 1000):
        late = [Metric(f"late_{start + i}", 0.5, 1, 0) for i in range(1000)]
        client.log_batch(run_id, metrics=late)
    deadline = time.monotonic() + 30
    while writer.pending() and time.monotonic() < deadline:
        time.sleep(0.0005)  # until the writer has taken everything off the queue
    cairn.flush()
    assert len(observer.get_run(run_id).data.metrics) == 9001
    assert len(observer.get_metric_history(run_id, "m")) == 51_000


@pytest.mark.parametrize("value", ["false", "0", "no", "off", "FALSE"])
def test_cairn_async_logging_false_makes_logging_synchronous(
    monkeypatch: pytest.MonkeyPatch, observer: cairn.Client, writer: AsyncWriter, value: str
) -> None:
    monkeypatch.setenv("CAIRN_ASYNC_LOGGING", value)
    run_id = cairn.start_run().info.run_id
    cairn.log_metric("m", 1.0)
    cairn.log_param("p", "1")
    cairn.set_tag("t", "v")
    metrics, params, tags = _data(observer, run_id)
    assert metrics == {"m": 1.0}
    assert params == {"p": "1"}
    assert "t" in tags
    assert writer.pending() == 0


def test_synchronous_false_still_queues_when_async_logging_is_off(
    monkeypatch: pytest.MonkeyPatch, observer: cairn.Client, writer: AsyncWriter
) -> None:
    monkeypatch.setenv("CAIRN_ASYNC_LOGGING", "false")
    run_id = cairn.start_run().info.run_id
    cairn.log_metric("m", 1.0, synchronous=False)
    assert _data(observer, run_id)[0] == {}
    cairn.flush()
    assert _data(observer, run_id)[0] == {"m": 1.0}


def test_async_logging_is_the_default(observer: cairn.Client, writer: AsyncWriter) -> None:
    assert cairn.Client().asynchronous is True
    run_id = cairn.start_run().info.run_id
    cairn.log_metric("m", 1.0)
    assert _data(observer, run_id)[0] == {}
