"""Runs: creation, lookup, updates, soft deletion."""

from __future__ import annotations

import pytest

from cairn.entities import LifecycleStage, RunTag
from cairn.errors import (
    ExperimentNotFound,
    InvalidParameter,
    ResourceNotFound,
    RunNotFound,
)
from cairn.store.base import TrackingStore


def test_create_run_returns_a_running_run(store: TrackingStore) -> None:
    exp_id = store.create_experiment("e")
    run = store.create_run(exp_id, "ada", 1_700_000_000_000, [RunTag("k", "v")], "first")
    info = run.info
    assert len(info.run_id) == 32 and info.run_uuid == info.run_id
    assert (info.experiment_id, info.user_id, info.run_name) == (exp_id, "ada", "first")
    assert info.status == "RUNNING" and info.end_time is None
    assert info.start_time == 1_700_000_000_000
    assert info.lifecycle_stage == LifecycleStage.ACTIVE
    assert info.artifact_uri.endswith(f"/{exp_id}/{info.run_id}/artifacts")
    assert run.data.tags == {"k": "v", "mlflow.runName": "first"}
    assert store.get_run(info.run_id) == run


def test_run_without_a_name_gets_a_generated_one(store: TrackingStore) -> None:
    run = store.create_run("0", "u", 1)
    assert run.info.run_name.count("-") == 2
    assert run.data.tags["mlflow.runName"] == run.info.run_name


def test_run_name_from_the_run_name_tag(store: TrackingStore) -> None:
    run = store.create_run("0", "u", 1, [RunTag("mlflow.runName", "tagged")])
    assert run.info.run_name == "tagged"


def test_conflicting_run_name_and_tag_are_rejected(store: TrackingStore) -> None:
    with pytest.raises(InvalidParameter, match="runName"):
        store.create_run("0", "u", 1, [RunTag("mlflow.runName", "a")], run_name="b")


def test_run_in_unknown_experiment_is_rejected(store: TrackingStore) -> None:
    with pytest.raises(ExperimentNotFound):
        store.create_run("9999", "u", 1)


def test_unknown_run_raises_run_not_found(store: TrackingStore) -> None:
    with pytest.raises(RunNotFound) as info:
        store.get_run("0" * 32)
    assert info.value.run_id == "0" * 32
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_update_run_info_sets_status_end_time_and_name(store: TrackingStore) -> None:
    run = store.create_run("0", "u", 1, run_name="before")
    info = store.update_run_info(run.info.run_id, status="FINISHED", end_time=5, run_name="after")
    assert (info.status, info.end_time, info.run_name) == ("FINISHED", 5, "after")
    assert store.get_run(run.info.run_id).data.tags["mlflow.runName"] == "after"


def test_update_run_info_rejects_unknown_status(store: TrackingStore) -> None:
    run = store.create_run("0", "u", 1)
    with pytest.raises(InvalidParameter, match="status"):
        store.update_run_info(run.info.run_id, status="DONE")
    assert store.get_run(run.info.run_id).info.status == "RUNNING"


def test_delete_and_restore_run(store: TrackingStore) -> None:
    run = store.create_run("0", "u", 1)
    store.delete_run(run.info.run_id)
    assert store.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.DELETED
    assert store.search_runs(["0"]) == []
    store.restore_run(run.info.run_id)
    assert [r.info.run_id for r in store.search_runs(["0"])] == [run.info.run_id]


def test_writes_to_a_deleted_run_are_rejected_and_store_nothing(store: TrackingStore) -> None:
    from cairn.entities import Metric, Param

    run = store.create_run("0", "u", 1)
    store.delete_run(run.info.run_id)
    with pytest.raises(InvalidParameter, match="deleted"):
        store.log_batch(run.info.run_id, [Metric("m", 1.0, 1, 0)], [Param("p", "1")])
    with pytest.raises(InvalidParameter, match="deleted"):
        store.log_metric_points([(run.info.run_id, "m", 1.0, 1, 0)])
    data = store.get_run(run.info.run_id).data
    assert data.metrics == {} and data.params == {}


def test_delete_unknown_run_raises(store: TrackingStore) -> None:
    with pytest.raises(RunNotFound):
        store.delete_run("f" * 32)


def test_delete_tag(store: TrackingStore) -> None:
    run = store.create_run("0", "u", 1, [RunTag("k", "v")])
    store.delete_tag(run.info.run_id, "k")
    assert "k" not in store.get_run(run.info.run_id).data.tags
    with pytest.raises(ResourceNotFound):
        store.delete_tag(run.info.run_id, "k")
    with pytest.raises(ResourceNotFound):
        store.delete_tag(run.info.run_id, "never-existed")


def test_returned_entities_are_immutable(store: TrackingStore) -> None:
    run = store.create_run("0", "u", 1, [RunTag("k", "v")])
    with pytest.raises(AttributeError):
        run.info.status = "FINISHED"  # type: ignore[misc]
    with pytest.raises(TypeError):
        run.data.tags["k"] = "changed"  # type: ignore[index]
    assert store.get_run(run.info.run_id).data.tags["k"] == "v"


def test_a_run_of_a_deleted_experiment_cannot_be_restored_alone(store: TrackingStore) -> None:
    from cairn.errors import InvalidState

    exp_id = store.create_experiment("closed")
    run_id = store.create_run(exp_id, "u", 1).info.run_id
    store.delete_experiment(exp_id)
    with pytest.raises(InvalidState, match="restore the experiment"):
        store.restore_run(run_id)
    assert store.get_run(run_id).info.lifecycle_stage == LifecycleStage.DELETED
