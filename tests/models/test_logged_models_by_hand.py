"""Logged models built without a flavor: ``initialize_logged_model``, ``log_model_params``,
``set_logged_model_tags``, ``delete_logged_model_tag``, ``finalize_logged_model``,
``create_external_model`` and ``log_outputs``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

import cairn
from cairn import _model_links
from cairn.entities import LoggedModelStatus, ModelOutput
from cairn.errors import InvalidParameter, ParamValueChanged, ResourceNotFound
from cairn.models.uri import resolve_model_uri


@pytest.fixture(autouse=True)
def no_active_model() -> Iterator[None]:
    _model_links._reset()
    yield
    _model_links._reset()


def test_initialize_then_finalize_a_model() -> None:
    cairn.set_experiment("by-hand")
    with cairn.start_run() as run:
        model = cairn.initialize_logged_model(
            name="ranker", tags={"team": "search"}, params={"k": 10}, model_type="agent"
        )
    assert model.status == "LOGGED_MODEL_PENDING"
    assert (model.name, model.model_type) == ("ranker", "agent")
    assert model.source_run_id == run.info.run_id
    assert model.experiment_id == run.info.experiment_id
    assert model.tags["team"] == "search" and "mlflow.user" in model.tags
    assert dict(model.params) == {"k": "10"}
    assert cairn.last_logged_model() == model
    ready = cairn.finalize_logged_model(model.model_id, "READY")
    assert ready.status == "LOGGED_MODEL_READY"
    failed = cairn.finalize_logged_model(
        model.model_id, LoggedModelStatus.LOGGED_MODEL_UPLOAD_FAILED
    )
    assert failed.status == "LOGGED_MODEL_UPLOAD_FAILED"
    with pytest.raises(InvalidParameter):
        cairn.finalize_logged_model(model.model_id, "DONE")


def test_initialize_outside_a_run_uses_the_current_experiment() -> None:
    experiment = cairn.set_experiment("no-run")
    model = cairn.initialize_logged_model()
    assert model.experiment_id == experiment.experiment_id
    assert model.source_run_id is None
    assert model.name  # generated
    other = cairn.create_experiment("explicit")
    assert cairn.initialize_logged_model(experiment_id=other).experiment_id == other


def test_model_params_and_tags() -> None:
    model = cairn.initialize_logged_model(name="m")
    cairn.log_model_params({"lr": 0.1, "layers": 3}, model_id=model.model_id)
    cairn.log_model_params({"lr": 0.1}, model_id=model.model_id)  # the same value: fine
    with pytest.raises(ParamValueChanged):
        cairn.log_model_params({"lr": 0.2}, model_id=model.model_id)
    cairn.set_logged_model_tags(model.model_id, {"stage": "dev", "n": 1})
    cairn.set_logged_model_tags(model.model_id, {"stage": "prod"})
    cairn.delete_logged_model_tag(model.model_id, "n")
    found = cairn.get_logged_model(model.model_id)
    assert dict(found.params) == {"lr": "0.1", "layers": "3"}
    assert found.tags["stage"] == "prod" and "n" not in found.tags
    with pytest.raises(ResourceNotFound):
        cairn.delete_logged_model_tag(model.model_id, "n")
    with pytest.raises(ResourceNotFound):
        cairn.set_logged_model_tags("m-" + "0" * 32, {"a": "b"})


def test_log_model_params_defaults_to_the_active_model() -> None:
    with pytest.raises(InvalidParameter, match="active model"):
        cairn.log_model_params({"a": 1})
    model = cairn.initialize_logged_model(name="m")
    cairn.set_active_model(model_id=model.model_id)
    cairn.log_model_params({"a": 1})
    assert dict(cairn.get_logged_model(model.model_id).params) == {"a": "1"}


def test_create_external_model_is_ready_and_describes_itself() -> None:
    cairn.set_experiment("external")
    model = cairn.create_external_model(name="agent", tags={"vendor": "x"}, params={"t": 0.2})
    assert model.status == "LOGGED_MODEL_READY"
    assert model.tags["mlflow.model.isExternal"] == "true" and model.tags["vendor"] == "x"
    assert dict(model.params) == {"t": "0.2"}
    assert cairn.last_logged_model() == model
    meta = yaml.safe_load((resolve_model_uri(model.model_uri).path / "MLmodel").read_text())
    assert meta["model_id"] == model.model_id
    assert meta["metadata"] == {"mlflow.model.isExternal": True}
    assert meta["flavors"] == {}


def test_log_outputs_records_the_runs_models_and_links_later_metrics_at_that_step() -> None:
    with cairn.start_run() as run:
        model = cairn.initialize_logged_model(name="m")
        cairn.log_metric("before", 1.0, step=2)  # not linked: logged before the output
        assert cairn.log_outputs([ModelOutput(model.model_id, step=2)]) is None
        cairn.log_metric("acc", 0.9, step=2)
        cairn.log_metrics({"f1": 0.8, "auc": 0.7}, step=2)
        cairn.log_metric("acc", 0.95, step=3)  # another step: not linked
    outputs = cairn.get_run(run.info.run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outputs] == [(model.model_id, 2)]
    linked = {(m.key, m.value, m.step) for m in cairn.get_logged_model(model.model_id).metrics}
    assert linked == {("acc", 0.9, 2), ("f1", 0.8, 2), ("auc", 0.7, 2)}
    history = cairn.Client().get_metric_history(run.info.run_id, "acc")
    assert [(p.value, p.step) for p in history] == [(0.9, 2), (0.95, 3)]  # no duplicates
    assert cairn.get_run(run.info.run_id).inputs.model_inputs == ()  # an output, not an input


def test_metrics_after_log_model_at_its_step_are_linked(logistic: object) -> None:
    with cairn.start_run() as run:
        info = cairn.sklearn.log_model(logistic, name="clf")
        cairn.log_metric("test_acc", 0.8)
    metrics = [(m.key, m.run_id) for m in cairn.get_logged_model(info.model_id).metrics]
    assert metrics == [("test_acc", run.info.run_id)]


def test_a_resumed_run_links_metrics_to_the_models_it_produced() -> None:
    with cairn.start_run() as run:
        model = cairn.initialize_logged_model(name="m")
        cairn.log_outputs([ModelOutput(model.model_id, step=0)])
    _model_links.outputs_by_run.clear()  # as a new process would start
    with cairn.start_run(run_id=run.info.run_id):
        cairn.log_metric("late", 1.5)
    assert [m.key for m in cairn.get_logged_model(model.model_id).metrics] == ["late"]


def test_log_outputs_without_models_and_with_bad_items() -> None:
    cairn.log_outputs()  # starts a run, as MLflow does, and records nothing
    run = cairn.active_run()
    assert run is not None
    assert cairn.get_run(run.info.run_id).outputs.model_outputs == ()
    with pytest.raises(InvalidParameter, match="ModelOutput"):
        cairn.log_outputs(["m-123"])
    with pytest.raises(ResourceNotFound):
        cairn.log_outputs([ModelOutput("m-" + "0" * 32, 0)])
