"""Metrics, params, tags and inputs: what log_batch and the bulk path promise."""

from __future__ import annotations

import math
import threading

import pytest

from cairn.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from cairn.errors import InvalidParameter, ParamValueChanged, RunNotFound
from cairn.store.base import TrackingStore


def _run(store: TrackingStore) -> str:
    return store.create_run("0", "u", 1).info.run_id


def test_log_batch_stores_metrics_params_and_tags(store: TrackingStore) -> None:
    run_id = _run(store)
    store.log_batch(
        run_id,
        metrics=[Metric("loss", 0.5, 10, 1), Metric("acc", 0.9, 10, 1)],
        params=[Param("lr", "0.1"), Param("depth", "4")],
        tags=[RunTag("stage", "dev")],
    )
    data = store.get_run(run_id).data
    assert data.metrics == {"loss": 0.5, "acc": 0.9}
    assert data.params == {"lr": "0.1", "depth": "4"}
    assert data.tags["stage"] == "dev"


def test_param_logged_again_with_the_same_value_is_fine(store: TrackingStore) -> None:
    run_id = _run(store)
    store.log_batch(run_id, params=[Param("lr", "0.1")])
    store.log_batch(run_id, params=[Param("lr", "0.1")])
    assert store.get_run(run_id).data.params == {"lr": "0.1"}


def test_changed_param_is_rejected_and_the_batch_stores_nothing(store: TrackingStore) -> None:
    run_id = _run(store)
    store.log_batch(run_id, params=[Param("lr", "0.1")])
    with pytest.raises(ParamValueChanged, match="lr") as info:
        store.log_batch(
            run_id,
            metrics=[Metric("loss", 1.0, 1, 0)],
            params=[Param("new", "x"), Param("lr", "0.2")],
            tags=[RunTag("t", "v")],
        )
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    data = store.get_run(run_id).data
    assert data.params == {"lr": "0.1"}
    assert data.metrics == {}
    assert "t" not in data.tags


def test_duplicate_param_keys_with_different_values_in_one_batch(store: TrackingStore) -> None:
    run_id = _run(store)
    with pytest.raises(InvalidParameter, match="twice"):
        store.log_batch(run_id, params=[Param("a", "1"), Param("a", "2")])


def test_invalid_item_rejects_the_whole_batch(store: TrackingStore) -> None:
    run_id = _run(store)
    with pytest.raises(InvalidParameter, match="a//b"):
        store.log_batch(run_id, metrics=[Metric("ok", 1.0, 1, 0), Metric("a//b", 1.0, 1, 0)])
    assert store.get_run(run_id).data.metrics == {}


@pytest.mark.parametrize(
    ("metric", "message"),
    [
        (Metric("m", "high", 1, 0), "must be numbers"),  # type: ignore[arg-type]
        (Metric("m", True, 1, 0), "must be numbers"),  # type: ignore[arg-type]
        (Metric("m", 1.0, -1, 0), "timestamp"),
        (Metric("m", 1.0, 1, 1.5), "step"),  # type: ignore[arg-type]
        (Metric("bad key!", 1.0, 1, 0), "Invalid metric key"),
        (Metric("x" * 251, 1.0, 1, 0), "Invalid metric key"),
        # Beyond what a database column holds: refused, never an overflow at write time.
        (Metric("m", 1.0, 1, 2**63), "steps must be 64-bit integers"),
        (Metric("m", 1.0, 1, -(2**63) - 1), "steps must be 64-bit integers"),
        (Metric("m", 1.0, 2**63, 0), "non-negative 64-bit integers"),
        (Metric("m", 10**400, 1, 0), "too large for a 64-bit float"),  # type: ignore[arg-type]
    ],
)
def test_invalid_metrics_are_rejected(store: TrackingStore, metric: Metric, message: str) -> None:
    run_id = _run(store)
    with pytest.raises(InvalidParameter, match=message):
        store.log_batch(run_id, metrics=[metric])


def test_value_length_limits(store: TrackingStore) -> None:
    run_id = _run(store)
    store.log_batch(run_id, params=[Param("p", "x" * 6000)], tags=[RunTag("t", "y" * 8000)])
    with pytest.raises(InvalidParameter, match="6000"):
        store.log_batch(run_id, params=[Param("long", "x" * 6001)])
    with pytest.raises(InvalidParameter, match="8000"):
        store.log_batch(run_id, tags=[RunTag("long", "x" * 8001)])
    data = store.get_run(run_id).data
    assert "long" not in data.params and "long" not in data.tags


def test_logging_to_unknown_run_raises(store: TrackingStore) -> None:
    with pytest.raises(RunNotFound):
        store.log_batch("a" * 32, metrics=[Metric("m", 1.0, 1, 0)])
    with pytest.raises(RunNotFound):
        store.log_metric_points([("a" * 32, "m", 1.0, 1, 0)])


def test_tags_are_upserts_and_run_name_tag_renames_the_run(store: TrackingStore) -> None:
    run_id = _run(store)
    store.log_batch(run_id, tags=[RunTag("k", "1")])
    store.log_batch(run_id, tags=[RunTag("k", "2"), RunTag("mlflow.runName", "renamed")])
    run = store.get_run(run_id)
    assert run.data.tags["k"] == "2"
    assert run.info.run_name == "renamed"


def test_latest_metric_is_the_largest_step_then_timestamp(store: TrackingStore) -> None:
    run_id = _run(store)
    store.log_batch(run_id, metrics=[Metric("m", 5.0, 100, 5)])
    store.log_batch(run_id, metrics=[Metric("m", 1.0, 200, 1)])  # later, but an older step
    assert store.get_run(run_id).data.metrics["m"] == 5.0
    store.log_batch(run_id, metrics=[Metric("m", 7.0, 300, 5)])  # same step, newer time
    assert store.get_run(run_id).data.metrics["m"] == 7.0
    store.log_metric_points([(run_id, "m", 2.0, 50, 5), (run_id, "m", 3.0, 60, 6)])
    assert store.get_run(run_id).data.metrics["m"] == 3.0


def test_latest_metric_breaks_a_step_and_time_tie_by_the_largest_value(
    store: TrackingStore,
) -> None:
    """MLflow's order: step, then timestamp, then value; NaN loses a tie to any number."""
    run_id = _run(store)
    for value in (5.0, 7.0, 6.0):  # one call each, as a client logging them one by one
        store.log_batch(run_id, metrics=[Metric("m", value, 10, 2)])
    store.log_batch(run_id, metrics=[Metric("b", v, 10, 2) for v in (5.0, 7.0, 6.0)])
    store.log_batch(run_id, metrics=[Metric("i", math.inf, 10, 2), Metric("i", 5.0, 10, 2)])
    store.log_batch(run_id, metrics=[Metric("n", 1.0, 10, 2)])
    store.log_batch(run_id, metrics=[Metric("n", math.nan, 10, 2)])
    metrics = store.get_run(run_id).data.metrics
    assert metrics == {"m": 7.0, "b": 7.0, "i": math.inf, "n": 1.0}
    found = store.search_runs(["0"], "metrics.m = 7", max_results=10)
    assert [r.info.run_id for r in found] == [run_id]


def test_nan_and_infinities_round_trip(store: TrackingStore) -> None:
    run_id = _run(store)
    store.log_batch(
        run_id,
        metrics=[
            Metric("nan", math.nan, 1, 0),
            Metric("inf", math.inf, 1, 0),
            Metric("ninf", -math.inf, 1, 0),
        ],
    )
    metrics = store.get_run(run_id).data.metrics
    assert math.isnan(metrics["nan"])
    assert metrics["inf"] == math.inf and metrics["ninf"] == -math.inf
    history = store.get_metric_history(run_id, "nan")
    assert len(history) == 1 and math.isnan(history[0].value)


def test_metric_history_is_every_point_in_step_order(store: TrackingStore) -> None:
    run_id = _run(store)
    points = [(run_id, "loss", 1.0 / (s + 1), 1000 + s, s) for s in reversed(range(50))]
    store.log_metric_points(points)
    store.log_metric_points([(run_id, "loss", 9.0, 5000, 10)])  # a second point at step 10
    history = store.get_metric_history(run_id, "loss")
    assert len(history) == 51
    assert [m.step for m in history] == sorted(m.step for m in history)
    assert [m.value for m in history if m.step == 10] == [1.0 / 11, 9.0]
    assert all(m.key == "loss" and m.run_id == run_id for m in history)


def test_metric_history_pages(store: TrackingStore) -> None:
    run_id = _run(store)
    store.log_metric_points([(run_id, "m", float(s), 1, s) for s in range(25)])
    seen: list[int] = []
    token = None
    while True:
        page = store.get_metric_history(run_id, "m", max_results=10, page_token=token)
        seen.extend(m.step for m in page)
        token = page.token
        if not token:
            break
    assert seen == list(range(25))


def test_metric_history_of_an_unlogged_key_is_empty(store: TrackingStore) -> None:
    run_id = _run(store)
    assert store.get_metric_history(run_id, "never") == []
    with pytest.raises(RunNotFound):
        store.get_metric_history("b" * 32, "m")


def test_bulk_points_for_several_runs_land_in_their_runs(store: TrackingStore) -> None:
    a, b = _run(store), _run(store)
    store.log_metric_points(
        [(a, "m", 1.0, 1, 0), (b, "m", 2.0, 1, 0), (a, "m", 3.0, 2, 1), (b, "x", 4.0, 1, 0)]
    )
    assert store.get_run(a).data.metrics == {"m": 3.0}
    assert store.get_run(b).data.metrics == {"m": 2.0, "x": 4.0}


def test_summary_min_max_count_follow_every_write(store: TrackingStore) -> None:
    run_id = _run(store)
    store.log_metric_points([(run_id, "m", v, 1, i) for i, v in enumerate([3.0, math.nan, 1.0])])
    store.log_metric_points([(run_id, "m", 8.0, 2, 5), (run_id, "m", -2.0, 2, 4)])
    found = store.search_runs(
        ["0"], "metrics.m.min = -2 AND metrics.m.max = 8 AND metrics.m.count = 5"
    )
    assert [r.info.run_id for r in found] == [run_id]


def test_concurrent_writers_lose_nothing(store: TrackingStore) -> None:
    run_ids = [_run(store) for _ in range(4)]
    errors: list[BaseException] = []

    def write(run_id: str) -> None:
        try:
            for batch in range(20):
                store.log_metric_points(
                    [(run_id, "m", float(i), 1, batch * 50 + i) for i in range(50)]
                )
                store.log_batch(run_id, params=[Param(f"p{batch}", str(batch))])
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(r,)) for r in run_ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for run_id in run_ids:
        assert len(store.get_metric_history(run_id, "m")) == 1000
        assert len(store.get_run(run_id).data.params) == 20


def test_concurrent_batches_into_the_same_series_lose_nothing(store: TrackingStore) -> None:
    """Writers share one run and its keys, each sending many-key batches with the keys in its
    own order (on PostgreSQL, where writers run in parallel, a lock-order mistake deadlocks)."""
    run_id = _run(store)
    keys = [f"k{k:02d}" for k in range(30)]
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        order = keys[writer:] + keys[:writer]  # each writer starts at another key
        try:
            for batch in range(10):
                step = writer * 100 + batch
                metrics = [Metric(key, float(step), 1, step) for key in order]
                store.log_batch(run_id, metrics=metrics)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    expected = sorted(w * 100 + b for w in range(4) for b in range(10))
    for key in keys:
        history = store.get_metric_history(run_id, key)
        assert sorted(m.step for m in history) == expected
        assert all(m.value == float(m.step) for m in history)
    summary = store.get_run(run_id).data
    assert summary.metrics == dict.fromkeys(keys, 309.0)  # the largest step is the latest


def test_log_inputs_records_each_dataset_once(store: TrackingStore) -> None:
    run_id = _run(store)
    dataset = Dataset("iris", "abc123", "local", '{"uri": "iris.csv"}', '{"cols": 4}')
    item = DatasetInput(dataset, (InputTag("mlflow.data.context", "training"),))
    store.log_inputs(run_id, [item])
    store.log_inputs(run_id, [item])
    inputs = store.get_run(run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    assert inputs[0].dataset == dataset
    assert inputs[0].tags == (InputTag("mlflow.data.context", "training"),)
    found = store.search_runs(["0"], "datasets.name = 'iris' AND datasets.context = 'training'")
    assert [r.info.run_id for r in found] == [run_id]
    assert store.search_runs(["0"], "datasets.digest = 'other'") == []
