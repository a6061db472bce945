"""Permanent removal of soft-deleted runs, experiments and logged models (what ``cairn gc``
builds on)."""

from __future__ import annotations

import pytest

from cairn.entities import Metric, ModelInput, ModelOutput, Param, ViewType
from cairn.errors import InvalidState, ResourceNotFound, RunNotFound
from cairn.store.base import TrackingStore


@pytest.mark.sql_only
def test_purge_run_removes_it_and_everything_it_logged(store: TrackingStore) -> None:
    keep = store.create_run("0", "u", 1).info.run_id
    gone = store.create_run("0", "u", 2).info.run_id
    model = store.create_logged_model("0")
    for run_id in (keep, gone):
        store.log_batch(run_id, [Metric("m", 1.0, 1, 0)], [Param("p", "1")])
        store.log_inputs(run_id, models=[ModelInput(model.model_id)])
    with pytest.raises(InvalidState, match="not deleted"):
        store.purge_run(gone)
    store.delete_run(gone)
    assert store.deleted_run_ids() == [gone]
    store.purge_run(gone)
    with pytest.raises(RunNotFound):
        store.get_run(gone)
    assert store.deleted_run_ids() == []
    assert store.get_run(keep).data.metrics == {"m": 1.0}
    assert store.get_run(keep).inputs.model_inputs == (ModelInput(model.model_id),)
    assert len(store.get_metric_history(keep, "m")) == 1


@pytest.mark.sql_only
def test_deleted_run_ids_respects_age(store: TrackingStore) -> None:
    run_id = store.create_run("0", "u", 1).info.run_id
    store.delete_run(run_id)
    assert store.deleted_run_ids(older_than_ms=0) == [run_id]
    assert store.deleted_run_ids(older_than_ms=3_600_000) == []


@pytest.mark.sql_only
def test_purge_experiment_needs_it_deleted_and_empty(store: TrackingStore) -> None:
    exp_id = store.create_experiment("temp")
    run_id = store.create_run(exp_id, "u", 1).info.run_id
    with pytest.raises(InvalidState):
        store.purge_experiment(exp_id)
    store.delete_experiment(exp_id)
    with pytest.raises(InvalidState, match="runs"):
        store.purge_experiment(exp_id)
    store.purge_run(run_id)
    store.purge_experiment(exp_id)
    assert exp_id not in {e.experiment_id for e in store.search_experiments(ViewType.ALL)}
    store.create_experiment("temp")  # the name is free again


@pytest.mark.sql_only
def test_purge_logged_model_removes_it_and_what_it_holds_but_not_its_run(
    store: TrackingStore,
) -> None:
    run_id = store.create_run("0", "u", 1).info.run_id
    keep = store.create_logged_model("0", name="keep", source_run_id=run_id)
    gone = store.create_logged_model(
        "0", name="gone", source_run_id=run_id, tags={"t": "1"}, params={"p": "1"}
    )
    store.log_batch(run_id, [Metric("acc", 0.5, 1, 0, model_id=gone.model_id)])
    store.log_outputs(run_id, [ModelOutput(keep.model_id), ModelOutput(gone.model_id)])
    store.log_inputs(run_id, models=[ModelInput(keep.model_id), ModelInput(gone.model_id)])
    with pytest.raises(InvalidState, match="not deleted"):
        store.purge_logged_model(gone.model_id)
    store.delete_logged_model(gone.model_id)
    assert store.deleted_logged_model_ids() == [gone.model_id]
    assert store.deleted_logged_model_ids(older_than_ms=3_600_000) == []

    store.purge_logged_model(gone.model_id)
    with pytest.raises(ResourceNotFound):
        store.get_logged_model(gone.model_id, allow_deleted=True)
    assert store.deleted_logged_model_ids() == []
    run = store.get_run(run_id)
    assert run.data.metrics == {"acc": 0.5}  # the run's own history stays
    assert [o.model_id for o in run.outputs.model_outputs] == [keep.model_id]
    assert [i.model_id for i in run.inputs.model_inputs] == [keep.model_id]
    assert store.get_logged_model(keep.model_id).name == "keep"
