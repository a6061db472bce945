"""``cairn.Client`` (MLflow's ``MlflowClient``): experiments and runs by id, log_batch, and the
immutability of the entities it returns."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

import cairn
from cairn.entities import Experiment, Metric, PagedList, Param, Run, RunTag, ViewType
from cairn.errors import (
    CairnError,
    ExperimentNotFound,
    InvalidParameter,
    InvalidState,
    ParamValueChanged,
    ResourceAlreadyExists,
    ResourceNotFound,
    RunNotFound,
)

MISSING_RUN_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def client() -> cairn.Client:
    return cairn.Client()


# -- names ----------------------------------------------------------------------------------


def test_client_and_mlflow_client_are_the_same_class() -> None:
    assert cairn.Client is cairn.MlflowClient


def test_mlflow_client_imports_from_tracking() -> None:
    from cairn.tracking import MlflowClient

    assert MlflowClient is cairn.Client
    assert cairn.tracking.MlflowClient is cairn.Client


def test_every_public_name_resolves() -> None:
    for name in cairn.__all__:
        assert getattr(cairn, name) is not None, name
    assert isinstance(cairn.start_run(), cairn.ActiveRun)
    cairn.end_run()


def test_mlflow_exception_is_the_root_error() -> None:
    from cairn.exceptions import MlflowException

    assert MlflowException is CairnError
    assert issubclass(RunNotFound, MlflowException)


def test_client_defaults_to_the_fluent_tracking_uri(mlruns: Path) -> None:
    assert cairn.Client().tracking_uri == mlruns.as_uri()
    with cairn.start_run() as run:
        pass
    assert cairn.Client().get_run(run.info.run_id).info.run_id == run.info.run_id


def test_client_with_explicit_uri_tracks_there(tmp_path: Path) -> None:
    other = cairn.Client(str(tmp_path / "other"))
    run = other.create_run("0")
    assert (tmp_path / "other" / "cairn.db").is_file()
    with pytest.raises(RunNotFound):
        cairn.Client().get_run(run.info.run_id)


# -- experiments ----------------------------------------------------------------------------


def test_create_and_get_experiment(client: cairn.Client) -> None:
    experiment_id = client.create_experiment("exp", tags={"k": "v"})
    experiment = client.get_experiment(experiment_id)
    assert isinstance(experiment, Experiment)
    assert (experiment.name, experiment.tags) == ("exp", {"k": "v"})
    assert client.get_experiment_by_name("exp") == experiment
    assert client.get_experiment_by_name("nope") is None


def test_create_experiment_duplicate_raises(client: cairn.Client) -> None:
    client.create_experiment("exp")
    with pytest.raises(ResourceAlreadyExists):
        client.create_experiment("exp")


def test_get_experiment_unknown_raises(client: cairn.Client) -> None:
    with pytest.raises(ExperimentNotFound):
        client.get_experiment("12345")


def test_search_experiments_returns_a_paged_list(client: cairn.Client) -> None:
    for i in range(5):
        client.create_experiment(f"e{i}")
    first = client.search_experiments(max_results=4, order_by=["name ASC"])
    assert isinstance(first, PagedList)
    assert [e.name for e in first] == ["Default", "e0", "e1", "e2"]
    assert first.token
    second = client.search_experiments(max_results=4, order_by=["name ASC"], page_token=first.token)
    assert [e.name for e in second] == ["e3", "e4"]
    assert second.token is None


def test_search_experiments_filter(client: cairn.Client) -> None:
    client.create_experiment("keep-1")
    client.create_experiment("drop-1")
    found = client.search_experiments(filter_string="name LIKE 'keep%'")
    assert [e.name for e in found] == ["keep-1"]


def test_delete_and_restore_experiment_with_its_runs(client: cairn.Client) -> None:
    experiment_id = client.create_experiment("exp")
    run = client.create_run(experiment_id)
    client.delete_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert [e.experiment_id for e in client.search_experiments(ViewType.DELETED_ONLY)] == [
        experiment_id
    ]
    client.restore_experiment(experiment_id)
    assert client.get_experiment(experiment_id).lifecycle_stage == "active"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"
    assert [r.info.run_id for r in client.search_runs([experiment_id])] == [run.info.run_id]


def test_restore_experiment_keeps_runs_deleted_before_it(client: cairn.Client) -> None:
    experiment_id = client.create_experiment("exp")
    deleted_first = client.create_run(experiment_id)
    kept = client.create_run(experiment_id)
    client.delete_run(deleted_first.info.run_id)
    client.delete_experiment(experiment_id)
    client.restore_experiment(experiment_id)
    assert client.get_run(kept.info.run_id).info.lifecycle_stage == "active"
    assert client.get_run(deleted_first.info.run_id).info.lifecycle_stage == "deleted"


def test_rename_experiment(client: cairn.Client) -> None:
    experiment_id = client.create_experiment("old")
    client.rename_experiment(experiment_id, "new")
    assert client.get_experiment(experiment_id).name == "new"
    assert client.get_experiment_by_name("old") is None


def test_rename_experiment_to_a_taken_name_raises(client: cairn.Client) -> None:
    client.create_experiment("taken")
    experiment_id = client.create_experiment("mine")
    with pytest.raises(ResourceAlreadyExists):
        client.rename_experiment(experiment_id, "taken")
    assert client.get_experiment(experiment_id).name == "mine"


def test_rename_deleted_experiment_raises(client: cairn.Client) -> None:
    experiment_id = client.create_experiment("mine")
    client.delete_experiment(experiment_id)
    with pytest.raises(InvalidState):
        client.rename_experiment(experiment_id, "other")


def test_experiment_tags(client: cairn.Client) -> None:
    experiment_id = client.create_experiment("exp")
    client.set_experiment_tag(experiment_id, "a", "1")
    client.set_experiment_tag(experiment_id, "a", "2")
    client.set_experiment_tag(experiment_id, "b", 3)
    assert client.get_experiment(experiment_id).tags == {"a": "2", "b": "3"}
    client.delete_experiment_tag(experiment_id, "a")
    assert client.get_experiment(experiment_id).tags == {"b": "3"}
    with pytest.raises(ResourceNotFound):
        client.delete_experiment_tag(experiment_id, "a")


# -- runs -----------------------------------------------------------------------------------


def test_create_run(client: cairn.Client) -> None:
    experiment_id = client.create_experiment("exp")
    run = client.create_run(
        experiment_id, start_time=1_700_000_000_000, tags={"k": "v"}, run_name="named"
    )
    assert isinstance(run, Run)
    assert run.info.experiment_id == experiment_id
    assert run.info.status == "RUNNING"
    assert run.info.start_time == 1_700_000_000_000
    assert run.info.end_time is None
    assert run.info.run_name == "named"
    assert run.data.tags["k"] == "v"
    assert run.data.tags["mlflow.runName"] == "named"
    assert client.get_run(run.info.run_id) == run


def test_create_run_user_comes_from_the_user_tag(client: cairn.Client) -> None:
    run = client.create_run("0", tags={"mlflow.user": "ada"})
    assert run.info.user_id == "ada"


def test_create_run_with_conflicting_name_tag_raises(client: cairn.Client) -> None:
    with pytest.raises(InvalidParameter):
        client.create_run("0", run_name="a", tags={"mlflow.runName": "b"})


def test_create_run_in_unknown_experiment_raises(client: cairn.Client) -> None:
    with pytest.raises(ExperimentNotFound):
        client.create_run("777")


def test_update_run_status_and_name(client: cairn.Client) -> None:
    run = client.create_run("0")
    client.update_run(run.info.run_id, status="FAILED", name="renamed")
    stored = client.get_run(run.info.run_id)
    assert stored.info.status == "FAILED"
    assert stored.info.run_name == "renamed"
    assert stored.data.tags["mlflow.runName"] == "renamed"


def test_set_terminated_defaults_to_finished_now(client: cairn.Client) -> None:
    run = client.create_run("0")
    client.set_terminated(run.info.run_id)
    info = client.get_run(run.info.run_id).info
    assert info.status == "FINISHED"
    assert info.end_time is not None
    assert info.end_time >= info.start_time


def test_set_terminated_with_status_and_end_time(client: cairn.Client) -> None:
    run = client.create_run("0", start_time=1000)
    client.set_terminated(run.info.run_id, status="KILLED", end_time=5000)
    info = client.get_run(run.info.run_id).info
    assert (info.status, info.end_time) == ("KILLED", 5000)


def test_set_terminated_with_unknown_status_is_rejected(client: cairn.Client) -> None:
    run = client.create_run("0")
    with pytest.raises((InvalidParameter, ValueError)):
        client.set_terminated(run.info.run_id, status="EXPLODED")
    assert client.get_run(run.info.run_id).info.status == "RUNNING"


def test_delete_and_restore_run(client: cairn.Client) -> None:
    run = client.create_run("0")
    client.delete_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs(["0"]) == []
    client.restore_run(run.info.run_id)
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"
    assert [r.info.run_id for r in client.search_runs(["0"])] == [run.info.run_id]


def test_get_run_unknown_raises(client: cairn.Client) -> None:
    with pytest.raises(RunNotFound):
        client.get_run(MISSING_RUN_ID)


def test_get_parent_run(client: cairn.Client) -> None:
    with cairn.start_run() as parent, cairn.start_run(nested=True) as child:
        pass
    found = client.get_parent_run(child.info.run_id)
    assert found is not None
    assert found.info.run_id == parent.info.run_id
    assert client.get_parent_run(parent.info.run_id) is None


def test_client_search_runs_with_filter_and_order(client: cairn.Client) -> None:
    for value in (0.3, 0.9, 0.5):
        run = client.create_run("0")
        client.log_metric(run.info.run_id, "acc", value, synchronous=True)
    found = client.search_runs("0", "metrics.acc > 0.4", order_by=["metrics.acc DESC"])
    assert [r.data.metrics["acc"] for r in found] == [0.9, 0.5]


# -- logging by id --------------------------------------------------------------------------


def test_client_logging_by_run_id(client: cairn.Client) -> None:
    run_id = client.create_run("0").info.run_id
    assert client.log_param(run_id, "p", 3) == 3
    client.log_metric(run_id, "m", 0.5, timestamp=100, step=2)
    client.set_tag(run_id, "t", "x")
    client.set_tag(run_id, "gone", "y")
    client.delete_tag(run_id, "gone")
    data = client.get_run(run_id).data
    assert data.params == {"p": "3"}
    assert data.metrics == {"m": 0.5}
    assert data.tags["t"] == "x"
    assert "gone" not in data.tags
    assert client.get_metric_history(run_id, "m") == [Metric("m", 0.5, 100, 2, run_id)]


def test_client_log_param_changed_value_raises(client: cairn.Client) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "p", 1)
    with pytest.raises(ParamValueChanged):
        client.log_param(run_id, "p", 2)


def test_client_logging_to_an_unknown_run_raises_at_the_call(client: cairn.Client) -> None:
    with pytest.raises(RunNotFound):
        client.log_metric(MISSING_RUN_ID, "m", 1.0)
    with pytest.raises(RunNotFound):
        client.log_param(MISSING_RUN_ID, "p", 1)
    with pytest.raises(RunNotFound):
        client.set_tag(MISSING_RUN_ID, "t", "v")


def test_client_delete_missing_tag_raises(client: cairn.Client) -> None:
    run_id = client.create_run("0").info.run_id
    with pytest.raises(ResourceNotFound):
        client.delete_tag(run_id, "never-set")


def test_metric_history_pages_through_many_points(client: cairn.Client) -> None:
    run_id = client.create_run("0").info.run_id
    metrics = [Metric("m", float(i), 1000 + i, i) for i in range(1000)]
    for start in range(0, 30_000, 1000):
        shifted = [Metric("m", m.value, m.timestamp, m.step + start) for m in metrics]
        client.log_batch(run_id, metrics=shifted)
    history = client.get_metric_history(run_id, "m")
    assert len(history) == 30_000
    assert [p.step for p in history] == list(range(30_000))


# -- log_batch ------------------------------------------------------------------------------


def test_log_batch_logs_metrics_params_and_tags(client: cairn.Client) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("acc", 0.1, 1000, 0), Metric("acc", 0.2, 2000, 1), Metric("n", 3, 0)],
        params=[Param("lr", "0.01"), Param("opt", "adam")],
        tags=[RunTag("team", "vision")],
    )
    data = client.get_run(run_id).data
    assert data.metrics == {"acc": 0.2, "n": 3.0}
    assert data.params == {"lr": "0.01", "opt": "adam"}
    assert data.tags["team"] == "vision"
    history = client.get_metric_history(run_id, "acc")
    assert [(m.value, m.timestamp, m.step) for m in history] == [(0.1, 1000, 0), (0.2, 2000, 1)]


def test_log_batch_synchronous_is_visible_at_once(client: cairn.Client) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_batch(run_id, metrics=[Metric("m", math.inf, 1, 0)], synchronous=True)
    assert client.get_run(run_id).data.metrics == {"m": math.inf}


_BAD_BATCHES = {
    "invalid metric key": {"metrics": [Metric("ok", 1.0, 0), Metric("bad key!", 2.0, 0)]},
    "bool metric value": {"metrics": [Metric("ok", 1.0, 0), Metric("flag", True, 0)]},
    "negative timestamp": {"metrics": [Metric("ok", 1.0, 0), Metric("m", 1.0, -5)]},
    "invalid param key": {"metrics": [Metric("ok", 1.0, 0)], "params": [Param("../p", "v")]},
    "param too long": {"metrics": [Metric("ok", 1.0, 0)], "params": [Param("p", "x" * 6001)]},
    "duplicate param": {"params": [Param("p", "1"), Param("p", "2")]},
    "invalid tag key": {"params": [Param("p", "1")], "tags": [RunTag("a//b", "v")]},
    "tag too long": {"params": [Param("p", "1")], "tags": [RunTag("t", "x" * 8001)]},
}


@pytest.mark.parametrize("synchronous", [True, False], ids=["sync", "async"])
@pytest.mark.parametrize("case", list(_BAD_BATCHES))
def test_log_batch_with_one_invalid_item_stores_nothing(
    client: cairn.Client, case: str, synchronous: bool
) -> None:
    run_id = client.create_run("0").info.run_id
    tags_before = client.get_run(run_id).data.tags
    with pytest.raises(InvalidParameter):
        client.log_batch(run_id, **_BAD_BATCHES[case], synchronous=synchronous)
    client.flush()
    data = client.get_run(run_id).data
    assert data.metrics == {}
    assert data.params == {}
    assert data.tags == tags_before
    assert client.get_metric_history(run_id, "ok") == []


@pytest.mark.parametrize("synchronous", [True, False], ids=["sync", "async"])
def test_log_batch_with_a_changed_param_stores_nothing(
    client: cairn.Client, synchronous: bool
) -> None:
    run_id = client.create_run("0").info.run_id
    client.log_param(run_id, "p", "1", synchronous=synchronous)
    with pytest.raises(ParamValueChanged):
        client.log_batch(
            run_id,
            metrics=[Metric("m", 1.0, 0)],
            params=[Param("q", "new"), Param("p", "2")],
            tags=[RunTag("t", "v")],
            synchronous=synchronous,
        )
    client.flush()
    data = client.get_run(run_id).data
    assert data.params == {"p": "1"}
    assert data.metrics == {}
    assert "t" not in data.tags


def test_log_batch_to_unknown_run_raises(client: cairn.Client) -> None:
    with pytest.raises(RunNotFound):
        client.log_batch(MISSING_RUN_ID, metrics=[Metric("m", 1.0, 0)])


# -- frozen entities ------------------------------------------------------------------------


def test_entities_are_frozen(client: cairn.Client) -> None:
    with cairn.start_run() as active:
        cairn.log_param("x", "0")
        cairn.log_metric("m", 1.0)
        cairn.set_tag("t", "v")
    run = client.get_run(active.info.run_id)
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.info.status = "FAILED"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.data = run.data  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        active.info.run_name = "other"  # type: ignore[misc]
    experiment = client.get_experiment("0")
    with pytest.raises(dataclasses.FrozenInstanceError):
        experiment.name = "renamed"  # type: ignore[misc]
    metric = client.get_metric_history(run.info.run_id, "m")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        metric.value = 2.0  # type: ignore[misc]


def test_run_data_mappings_refuse_changes(client: cairn.Client) -> None:
    with cairn.start_run() as active:
        cairn.log_param("x", "0")
        cairn.log_metric("m", 1.0)
    run = client.get_run(active.info.run_id)
    with pytest.raises(TypeError):
        run.data.params["x"] = 1  # type: ignore[index]
    with pytest.raises(TypeError):
        run.data.metrics["m"] = 2.0  # type: ignore[index]
    with pytest.raises(TypeError):
        run.data.tags["new"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        del run.data.params["x"]  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        run.data.params.update({"x": "1"})  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        run.data.metrics.pop("m")  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        run.data.tags.clear()  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        client.get_experiment("0").tags["k"] = "v"  # type: ignore[index]
    assert client.get_run(active.info.run_id).data.params == {"x": "0"}


def test_searched_runs_are_frozen_too() -> None:
    with cairn.start_run():
        cairn.log_param("x", "0")
    (run,) = cairn.search_runs(output_format="list")
    assert isinstance(run, Run)
    with pytest.raises(TypeError):
        run.data.params["x"] = "1"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.info.status = "KILLED"  # type: ignore[misc]


def test_frozen_mappings_compare_and_copy_like_dicts(client: cairn.Client) -> None:
    with cairn.start_run() as active:
        cairn.log_params({"a": "1", "b": "2"})
    params = client.get_run(active.info.run_id).data.params
    assert params == {"a": "1", "b": "2"}
    copy = dict(params)
    copy["c"] = "3"
    assert copy == {"a": "1", "b": "2", "c": "3"}
    assert params == {"a": "1", "b": "2"}
