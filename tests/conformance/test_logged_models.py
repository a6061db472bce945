"""Logged models (MLflow 3.x): creation, status, tags, params, metrics, run outputs, search."""

from __future__ import annotations

import math
import re

import pytest

from cairn.entities import LifecycleStage, Metric, ModelInput, ModelOutput, Param
from cairn.errors import (
    ExperimentNotFound,
    InvalidFilter,
    InvalidParameter,
    ParamValueChanged,
    ResourceNotFound,
    RunNotFound,
)
from cairn.store.base import TrackingStore


def _run(store: TrackingStore, experiment_id: str = "0") -> str:
    return store.create_run(experiment_id, "u", 1).info.run_id


def test_create_logged_model_returns_a_pending_model(store: TrackingStore) -> None:
    exp_id = store.create_experiment("e")
    experiment = store.get_experiment(exp_id)
    run_id = _run(store, exp_id)
    model = store.create_logged_model(
        exp_id,
        name="model",
        source_run_id=run_id,
        tags=[("mlflow.user", "ada")],
        params={"alpha": "0.5"},
        model_type="sklearn",
    )
    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    assert (model.experiment_id, model.name, model.source_run_id) == (exp_id, "model", run_id)
    assert model.status == "LOGGED_MODEL_PENDING"
    assert model.model_type == "sklearn"
    assert model.artifact_uri == (
        f"{experiment.artifact_location}/models/{model.model_id}/artifacts"
    )
    assert model.tags == {"mlflow.user": "ada"}
    assert model.params == {"alpha": "0.5"}
    assert model.metrics == () and model.registrations == ()
    assert model.creation_timestamp_ms == model.last_updated_timestamp_ms > 0
    assert model.lifecycle_stage == LifecycleStage.ACTIVE
    assert model.model_uri == f"models:/{model.model_id}"
    assert store.get_logged_model(model.model_id) == model


def test_a_model_without_a_name_gets_a_generated_one(store: TrackingStore) -> None:
    model = store.create_logged_model("0")
    assert model.name.count("-") == 2
    assert store.create_logged_model("0").model_id != model.model_id


@pytest.mark.parametrize("name", ["", "a/b", "a:b", "a.b", "100%", 'say"', "it's"])
def test_model_names_with_forbidden_characters_are_rejected(
    store: TrackingStore, name: str
) -> None:
    with pytest.raises(InvalidParameter, match="model name"):
        store.create_logged_model("0", name=name)
    assert store.search_logged_models(["0"]) == []


def test_models_in_unknown_or_deleted_experiments_are_rejected(store: TrackingStore) -> None:
    with pytest.raises(ExperimentNotFound):
        store.create_logged_model("9999")
    exp_id = store.create_experiment("gone")
    store.delete_experiment(exp_id)
    with pytest.raises(InvalidParameter, match="deleted"):
        store.create_logged_model(exp_id)


def test_invalid_tags_and_params_reject_the_creation(store: TrackingStore) -> None:
    with pytest.raises(InvalidParameter, match="a//b"):
        store.create_logged_model("0", tags=[("a//b", "x")])
    with pytest.raises(InvalidParameter, match="6000"):
        store.create_logged_model("0", params=[("p", "x" * 6001)])
    with pytest.raises(InvalidParameter, match="twice"):
        store.create_logged_model("0", params=[("p", "1"), ("p", "2")])
    assert store.search_logged_models(["0"]) == []


def test_unknown_model_raises_resource_not_found(store: TrackingStore) -> None:
    missing = "m-" + "0" * 32
    with pytest.raises(ResourceNotFound) as info:
        store.get_logged_model(missing)
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    for call in (
        lambda: store.finalize_logged_model(missing, "LOGGED_MODEL_READY"),
        lambda: store.delete_logged_model(missing),
        lambda: store.set_logged_model_tags(missing, {"k": "v"}),
        lambda: store.delete_logged_model_tag(missing, "k"),
        lambda: store.log_logged_model_params(missing, {"k": "v"}),
    ):
        with pytest.raises(ResourceNotFound):
            call()


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("LOGGED_MODEL_READY", "LOGGED_MODEL_READY"),
        ("READY", "LOGGED_MODEL_READY"),
        ("failed", "LOGGED_MODEL_UPLOAD_FAILED"),
        (3, "LOGGED_MODEL_UPLOAD_FAILED"),
        ("LOGGED_MODEL_PENDING", "LOGGED_MODEL_PENDING"),
    ],
)
def test_finalize_sets_the_status(store: TrackingStore, given: str | int, stored: str) -> None:
    model = store.create_logged_model("0")
    finalized = store.finalize_logged_model(model.model_id, given)  # type: ignore[arg-type]
    assert finalized.status == stored
    assert finalized.last_updated_timestamp_ms >= model.last_updated_timestamp_ms
    assert store.get_logged_model(model.model_id).status == stored


@pytest.mark.parametrize("status", ["DONE", "LOGGED_MODEL_STATUS_UNSPECIFIED", 0, 7])
def test_finalize_rejects_unknown_statuses(store: TrackingStore, status: str | int) -> None:
    model = store.create_logged_model("0")
    with pytest.raises(InvalidParameter, match="status"):
        store.finalize_logged_model(model.model_id, status)
    assert store.get_logged_model(model.model_id).status == "LOGGED_MODEL_PENDING"


def test_delete_is_soft(store: TrackingStore) -> None:
    model = store.create_logged_model("0", name="m")
    store.delete_logged_model(model.model_id)
    with pytest.raises(ResourceNotFound):
        store.get_logged_model(model.model_id)
    deleted = store.get_logged_model(model.model_id, allow_deleted=True)
    assert deleted.lifecycle_stage == LifecycleStage.DELETED
    assert deleted.name == "m"
    assert store.search_logged_models(["0"]) == []
    store.delete_logged_model(model.model_id)  # again: nothing to do


def test_a_deleted_model_cannot_be_changed(store: TrackingStore) -> None:
    model = store.create_logged_model("0", tags={"k": "v"})
    store.delete_logged_model(model.model_id)
    for call in (
        lambda: store.finalize_logged_model(model.model_id, "READY"),
        lambda: store.set_logged_model_tags(model.model_id, {"k": "w"}),
        lambda: store.delete_logged_model_tag(model.model_id, "k"),
        lambda: store.log_logged_model_params(model.model_id, {"p": "1"}),
    ):
        with pytest.raises(InvalidParameter, match="deleted"):
            call()
    assert store.get_logged_model(model.model_id, allow_deleted=True).tags == {"k": "v"}


def test_tags_are_upserts_and_can_be_deleted(store: TrackingStore) -> None:
    model = store.create_logged_model("0", tags={"a": "1"})
    store.set_logged_model_tags(model.model_id, [("a", "2"), ("mlflow.model.isExternal", "true")])
    assert store.get_logged_model(model.model_id).tags == {
        "a": "2",
        "mlflow.model.isExternal": "true",
    }
    store.delete_logged_model_tag(model.model_id, "mlflow.model.isExternal")
    assert store.get_logged_model(model.model_id).tags == {"a": "2"}
    with pytest.raises(ResourceNotFound, match="tag"):
        store.delete_logged_model_tag(model.model_id, "mlflow.model.isExternal")


def test_registrations_come_from_the_model_versions_tag(store: TrackingStore) -> None:
    model = store.create_logged_model("0")
    versions = '[{"name": "iris", "version": "1"}, {"name": "iris", "version": "2"}]'
    store.set_logged_model_tags(model.model_id, {"mlflow.modelVersions": versions})
    registrations = store.get_logged_model(model.model_id).registrations
    assert [(r.name, r.version) for r in registrations] == [("iris", "1"), ("iris", "2")]


def test_params_are_immutable(store: TrackingStore) -> None:
    model = store.create_logged_model("0", params={"a": "1"})
    store.log_logged_model_params(model.model_id, {"a": "1", "b": "2"})
    assert store.get_logged_model(model.model_id).params == {"a": "1", "b": "2"}
    with pytest.raises(ParamValueChanged, match="'a'"):
        store.log_logged_model_params(model.model_id, [("c", "3"), ("a", "changed")])
    assert store.get_logged_model(model.model_id).params == {"a": "1", "b": "2"}


def test_returned_models_are_immutable(store: TrackingStore) -> None:
    model = store.create_logged_model("0", tags={"k": "v"})
    with pytest.raises(AttributeError):
        model.status = "LOGGED_MODEL_READY"  # type: ignore[misc]
    with pytest.raises(TypeError):
        model.tags["k"] = "changed"  # type: ignore[index]


# -- run outputs and metrics ------------------------------------------------------------------


def test_log_outputs_fills_the_runs_model_outputs(store: TrackingStore) -> None:
    run_id = _run(store)
    first = store.create_logged_model("0", source_run_id=run_id)
    second = store.create_logged_model("0", source_run_id=run_id)
    assert store.get_run(run_id).outputs.model_outputs == ()
    store.log_outputs(run_id, [ModelOutput(first.model_id, 0)])
    store.log_outputs(run_id, [ModelOutput(second.model_id, 5), ModelOutput(first.model_id, 0)])
    outputs = store.get_run(run_id).outputs.model_outputs
    assert outputs == (ModelOutput(first.model_id, 0), ModelOutput(second.model_id, 5))
    [found] = store.search_runs(["0"])
    assert found.outputs.model_outputs == outputs


def test_log_outputs_checks_the_run_and_the_models(store: TrackingStore) -> None:
    run_id = _run(store)
    model = store.create_logged_model("0")
    with pytest.raises(ResourceNotFound):
        store.log_outputs(run_id, [ModelOutput(model.model_id), ModelOutput("m-" + "1" * 32)])
    assert store.get_run(run_id).outputs.model_outputs == ()
    with pytest.raises(RunNotFound):
        store.log_outputs("f" * 32, [ModelOutput(model.model_id)])
    store.delete_run(run_id)
    with pytest.raises(InvalidParameter, match="deleted"):
        store.log_outputs(run_id, [ModelOutput(model.model_id)])


def test_log_inputs_records_the_models_a_run_used_once_each(store: TrackingStore) -> None:
    run_id = _run(store)
    first = store.create_logged_model("0")
    second = store.create_logged_model("0")
    store.log_inputs(run_id, models=[ModelInput(second.model_id)])
    store.log_inputs(run_id, models=[ModelInput(first.model_id), ModelInput(second.model_id)])
    expected = tuple(sorted((ModelInput(first.model_id), ModelInput(second.model_id)), key=str))
    inputs = store.get_run(run_id).inputs
    assert tuple(sorted(inputs.model_inputs, key=str)) == expected
    assert inputs.dataset_inputs == ()
    [found] = store.search_runs(["0"])
    assert tuple(sorted(found.inputs.model_inputs, key=str)) == expected


def test_model_inputs_must_name_models_that_exist(store: TrackingStore) -> None:
    run_id = _run(store)
    model = store.create_logged_model("0")
    with pytest.raises(ResourceNotFound):
        store.log_inputs(run_id, models=[ModelInput(model.model_id), ModelInput("m-" + "2" * 32)])
    with pytest.raises(ResourceNotFound):
        store.log_inputs(run_id, models=[ModelInput("not a model id")])
    assert store.get_run(run_id).inputs.model_inputs == ()


def test_metrics_with_a_model_id_are_the_models_metrics_too(store: TrackingStore) -> None:
    run_id = _run(store)
    model = store.create_logged_model("0")
    store.log_batch(
        run_id,
        metrics=[
            Metric("acc", 0.5, 10, 0, model_id=model.model_id),
            Metric(
                "acc", 0.75, 20, 1, dataset_name="val", dataset_digest="d1", model_id=model.model_id
            ),
            Metric("loss", math.nan, 20, 1, model_id=model.model_id),
            Metric("other", 1.0, 20, 1),
        ],
        params=[Param("p", "1")],
    )
    assert store.get_run(run_id).data.metrics["acc"] == 0.75
    assert [p.value for p in store.get_metric_history(run_id, "acc")] == [0.5, 0.75]
    metrics = store.get_logged_model(model.model_id).metrics
    assert [(m.key, m.step, m.run_id, m.model_id) for m in metrics] == [
        ("acc", 0, run_id, model.model_id),
        ("acc", 1, run_id, model.model_id),
        ("loss", 1, run_id, model.model_id),
    ]
    assert (metrics[1].value, metrics[1].dataset_name, metrics[1].dataset_digest) == (
        0.75,
        "val",
        "d1",
    )
    assert metrics[0].dataset_name is None
    assert math.isnan(metrics[2].value)


def test_the_same_model_point_logged_twice_is_kept_once(store: TrackingStore) -> None:
    run_id = _run(store)
    model = store.create_logged_model("0")
    point = Metric("acc", 0.5, 10, 0, model_id=model.model_id)
    store.log_batch(run_id, metrics=[point, point])
    store.log_batch(run_id, metrics=[point])
    assert len(store.get_logged_model(model.model_id).metrics) == 1
    # The run's history appends what one call logs; a model-tagged point the run already
    # holds (MLflow's log_model logs them again) is not appended once more.
    assert len(store.get_metric_history(run_id, "acc")) == 2


def test_a_metric_for_an_unknown_model_rejects_the_whole_batch(store: TrackingStore) -> None:
    run_id = _run(store)
    with pytest.raises(ResourceNotFound, match="m-"):
        store.log_batch(
            run_id,
            metrics=[Metric("ok", 1.0, 1, 0), Metric("acc", 1.0, 1, 0, model_id="m-" + "2" * 32)],
        )
    assert store.get_run(run_id).data.metrics == {}


def test_metric_dataset_fields_are_validated(store: TrackingStore) -> None:
    run_id = _run(store)
    model = store.create_logged_model("0")
    with pytest.raises(InvalidParameter, match="dataset_digest"):
        store.log_batch(
            run_id,
            metrics=[Metric("a", 1.0, 1, 0, dataset_digest="x" * 37, model_id=model.model_id)],
        )


# -- search -----------------------------------------------------------------------------------


def _ids(models: list[object]) -> list[str]:
    return [m.model_id for m in models]  # type: ignore[attr-defined]


@pytest.fixture
def three(store: TrackingStore) -> dict[str, str]:
    """Three models in a fresh experiment: a (READY, acc 0.9), b (acc 0.7), c (no metric)."""
    exp_id = store.create_experiment("search")
    run_id = _run(store, exp_id)
    ids = {"exp": exp_id}
    for name, kind in (("a", "sklearn"), ("b", "torch"), ("c", "sklearn")):
        ids[name] = store.create_logged_model(
            exp_id,
            name=name,
            source_run_id=run_id,
            model_type=kind,
            tags={"team": f"team-{name}"},
            params={"depth": str(ord(name))},
        ).model_id
    store.finalize_logged_model(ids["a"], "READY")
    store.log_batch(
        run_id,
        metrics=[
            Metric("acc", 0.2, 1, 0, dataset_name="train", model_id=ids["a"]),
            Metric("acc", 0.9, 2, 1, dataset_name="val", model_id=ids["a"]),
            Metric("acc", 0.95, 1, 0, dataset_name="train", model_id=ids["b"]),
            Metric("acc", 0.7, 2, 1, dataset_name="val", dataset_digest="v2", model_id=ids["b"]),
        ],
    )
    return ids


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("name = 'a'", ["a"]),
        ("name LIKE '%'", ["a", "b", "c"]),
        ("attributes.model_type = 'sklearn'", ["a", "c"]),
        ("status = 'READY'", ["a"]),
        ("status = 'LOGGED_MODEL_PENDING'", ["b", "c"]),
        ("status IN ('READY', 'PENDING')", ["a", "b", "c"]),
        ("status != 'LOGGED_MODEL_READY'", ["b", "c"]),
        ("metrics.acc > 0.8", ["a"]),
        ("metrics.acc <= 0.9", ["a", "b"]),
        ("params.depth = '98'", ["b"]),
        ("tags.team ILIKE 'TEAM-%' AND model_type != 'torch'", ["a", "c"]),
        ("creation_time > 0 AND last_updated_timestamp > 0", ["a", "b", "c"]),
        ("creation_timestamp < 0", []),
    ],
)
def test_search_logged_models_filters(
    store: TrackingStore, three: dict[str, str], filter_string: str, expected: list[str]
) -> None:
    found = store.search_logged_models([three["exp"]], filter_string)
    assert sorted(m.name for m in found) == expected


def test_search_by_model_id_and_source_run(store: TrackingStore, three: dict[str, str]) -> None:
    found = store.search_logged_models([three["exp"]], f"model_id IN ('{three['b']}', 'x')")
    assert _ids(found) == [three["b"]]
    run_id = store.get_logged_model(three["a"]).source_run_id
    assert len(store.search_logged_models([three["exp"]], f"source_run_id = '{run_id}'")) == 3


def test_datasets_scope_metric_filters(store: TrackingStore, three: dict[str, str]) -> None:
    exp = [three["exp"]]
    train = [{"dataset_name": "train"}]
    # On "train", b's latest acc is 0.95 and a's is 0.2.
    assert _ids(store.search_logged_models(exp, "metrics.acc > 0.8", datasets=train)) == [
        three["b"]
    ]
    # With datasets and no metric filter: the models with any metric on those datasets.
    only_v2 = [{"dataset_name": "val", "dataset_digest": "v2"}]
    assert _ids(store.search_logged_models(exp, datasets=only_v2)) == [three["b"]]
    with pytest.raises(InvalidParameter, match="dataset_name"):
        store.search_logged_models(exp, datasets=[{"dataset_digest": "v2"}])


def test_search_orders_by_metrics_with_missing_values_last(
    store: TrackingStore, three: dict[str, str]
) -> None:
    exp = [three["exp"]]
    by_acc = store.search_logged_models(exp, order_by=[{"field_name": "metrics.acc"}])
    assert _ids(by_acc) == [three["b"], three["a"], three["c"]]
    by_acc_desc = store.search_logged_models(
        exp, order_by=[{"field_name": "metrics.acc", "ascending": False}]
    )
    assert _ids(by_acc_desc) == [three["a"], three["b"], three["c"]]
    on_train = store.search_logged_models(
        exp,
        order_by=[{"field_name": "metrics.acc", "ascending": False, "dataset_name": "train"}],
    )
    assert _ids(on_train) == [three["b"], three["a"], three["c"]]
    by_name = store.search_logged_models(exp, order_by=["name DESC"])
    assert [m.name for m in by_name] == ["c", "b", "a"]
    by_param = store.search_logged_models(exp, order_by=[{"field_name": "params.depth"}])
    assert [m.name for m in by_param] == ["a", "b", "c"]


def test_search_default_order_is_newest_first_then_id(
    store: TrackingStore, three: dict[str, str]
) -> None:
    found = store.search_logged_models([three["exp"]])
    keys = [(-m.creation_timestamp_ms, m.model_id) for m in found]
    assert keys == sorted(keys) and len(keys) == 3


def test_search_pages(store: TrackingStore, three: dict[str, str]) -> None:
    exp = [three["exp"]]
    order = [{"field_name": "name"}]
    first = store.search_logged_models(exp, max_results=2, order_by=order)
    assert [m.name for m in first] == ["a", "b"] and first.token
    second = store.search_logged_models(exp, max_results=2, order_by=order, page_token=first.token)
    assert [m.name for m in second] == ["c"] and second.token is None
    with pytest.raises(InvalidParameter, match="page token"):
        store.search_logged_models(exp, page_token="garbage")
    with pytest.raises(InvalidParameter, match="max_results"):
        store.search_logged_models(exp, max_results=0)


def test_search_is_scoped_to_experiments(store: TrackingStore, three: dict[str, str]) -> None:
    other = store.create_logged_model("0", name="a")
    assert _ids(store.search_logged_models(["0"], "name = 'a'")) == [other.model_id]
    both = store.search_logged_models(["0", three["exp"], "not-an-id"], "name = 'a'")
    assert sorted(_ids(both)) == sorted([other.model_id, three["a"]])
    assert store.search_logged_models([]) == []


def test_search_returns_whole_models(store: TrackingStore, three: dict[str, str]) -> None:
    [found] = store.search_logged_models([three["exp"]], "name = 'a'")
    assert found == store.get_logged_model(three["a"])
    assert len(found.metrics) == 2 and found.params == {"depth": "97"}


@pytest.mark.parametrize(
    ("filter_string", "order_by"),
    [
        ("datasets.name = 'x'", None),
        ("metrics.acc > 'high'", None),
        ("status = 'DONE'", None),
        ("status LIKE 'R%'", None),
        ("tags.team IS NULL", None),
        ("bogus = 'x'", None),
        (None, [{"field_name": "bogus"}]),
        (None, ["datasets.name"]),
    ],
)
def test_bad_searches_raise_invalid_filter(
    store: TrackingStore, filter_string: str | None, order_by: list[object] | None
) -> None:
    with pytest.raises(InvalidFilter):
        store.search_logged_models(["0"], filter_string, order_by=order_by)  # type: ignore[arg-type]


def test_order_by_items_need_a_field_name(store: TrackingStore) -> None:
    with pytest.raises(InvalidParameter, match="field_name"):
        store.search_logged_models(["0"], order_by=[{"ascending": True}])


# -- housekeeping -----------------------------------------------------------------------------


@pytest.mark.sql_only
def test_purging_an_experiment_removes_its_models(store: TrackingStore) -> None:
    exp_id = store.create_experiment("doomed")
    run_id = _run(store, exp_id)
    model = store.create_logged_model(exp_id, tags={"k": "v"}, params={"p": "1"})
    store.log_outputs(run_id, [ModelOutput(model.model_id)])
    store.log_batch(run_id, metrics=[Metric("acc", 1.0, 1, 0, model_id=model.model_id)])
    store.delete_experiment(exp_id)
    store.purge_run(run_id)
    store.purge_experiment(exp_id)
    with pytest.raises(ResourceNotFound):
        store.get_logged_model(model.model_id, allow_deleted=True)


@pytest.mark.sql_only
def test_purging_a_run_keeps_the_models_it_output(store: TrackingStore) -> None:
    run_id = _run(store)
    model = store.create_logged_model("0", source_run_id=run_id)
    store.log_outputs(run_id, [ModelOutput(model.model_id)])
    store.log_batch(run_id, metrics=[Metric("acc", 1.0, 1, 0, model_id=model.model_id)])
    store.delete_run(run_id)
    store.purge_run(run_id)
    kept = store.get_logged_model(model.model_id)
    assert kept.source_run_id == run_id and len(kept.metrics) == 1


def test_relogging_a_run_metric_for_a_model_does_not_duplicate_the_run_history(
    store: TrackingStore,
) -> None:
    # What MLflow's log_model does: the run's metrics again, each tagged with the new model.
    run_id = store.create_run("0", "u", 1).info.run_id
    store.log_batch(run_id, metrics=[Metric("acc", 0.9, 100, 3)])
    model = store.create_logged_model("0", source_run_id=run_id)
    store.log_batch(run_id, metrics=[Metric("acc", 0.9, 100, 3, model_id=model.model_id)])
    assert [(m.step, m.value) for m in store.get_metric_history(run_id, "acc")] == [(3, 0.9)]
    assert [m.key for m in store.get_logged_model(model.model_id).metrics] == ["acc"]
