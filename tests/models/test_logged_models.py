"""``log_model`` records MLflow 3.x logged models: id, run link, params, metrics, status."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import yaml

import cairn
import cairn.sklearn
from cairn.models.errors import RegistryNotAvailable


def test_log_model_creates_a_ready_logged_model_linked_to_its_run(iris: Any, logistic: Any) -> None:
    X, _ = iris
    cairn.set_experiment("models")
    with cairn.start_run() as run:
        cairn.log_param("C", 1.0)
        cairn.log_metric("accuracy", 0.9, step=0)
        cairn.log_metric("accuracy", 0.95, step=1)
        info = cairn.sklearn.log_model(
            logistic,
            name="clf",
            input_example=X.head(2),
            params={"extra": "yes"},
            tags={"team": "vision"},
            model_type="classifier",
        )
    model = cairn.get_logged_model(info.model_id)
    assert model.model_id.startswith("m-") and len(model.model_id) == 34
    assert model.status == "LOGGED_MODEL_READY"
    assert model.name == "clf" and model.model_type == "classifier"
    assert model.source_run_id == run.info.run_id
    assert model.experiment_id == run.info.experiment_id
    assert dict(model.params) == {"C": "1.0", "extra": "yes"}
    assert model.tags["team"] == "vision" and "mlflow.user" in model.tags
    assert [(m.key, m.value, m.step) for m in model.metrics] == [("accuracy", 0.9, 0)]
    outputs = cairn.get_run(run.info.run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outputs] == [(info.model_id, 0)]
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.model_uri_for_run == f"runs:/{run.info.run_id}/clf"
    assert info.signature is not None and info.flavors["sklearn"]["serialization_format"] == "skops"


def test_metrics_measured_on_another_runs_model_make_it_an_input(logistic: Any) -> None:
    cairn.set_experiment("evaluations")
    with cairn.start_run() as training:
        info = cairn.sklearn.log_model(logistic, name="clf")
        cairn.log_metric("train_acc", 0.9, model_id=info.model_id)  # its own output
    with cairn.start_run() as evaluation:
        cairn.log_metric("test_acc", 0.8, model_id=info.model_id)
        cairn.log_metrics({"test_f1": 0.7, "test_auc": 0.75}, model_id=info.model_id)
    inputs = cairn.get_run(evaluation.info.run_id).inputs.model_inputs
    assert [i.model_id for i in inputs] == [info.model_id]
    assert cairn.get_run(training.info.run_id).inputs.model_inputs == ()
    metrics = {m.key: m.value for m in cairn.get_logged_model(info.model_id).metrics}
    assert metrics == {"train_acc": 0.9, "test_acc": 0.8, "test_f1": 0.7, "test_auc": 0.75}


def test_mlmodel_of_a_logged_model_names_model_and_run(logistic: Any) -> None:
    with cairn.start_run() as run:
        info = cairn.sklearn.log_model(logistic, name="clf")
    from cairn.models.uri import resolve_model_uri

    meta = yaml.safe_load((resolve_model_uri(info.model_uri).path / "MLmodel").read_text())
    assert meta["model_id"] == info.model_id == meta["model_uuid"]
    assert meta["run_id"] == run.info.run_id
    assert meta["artifact_path"].endswith(f"models/{info.model_id}/artifacts")


def test_search_and_get_find_logged_models(logistic: Any) -> None:
    cairn.set_experiment("search")
    with cairn.start_run():
        first = cairn.sklearn.log_model(logistic, name="first")
        second = cairn.sklearn.log_model(logistic, name="second")
    found = cairn.search_logged_models(filter_string="name = 'second'", output_format="list")
    assert [m.model_id for m in found] == [second.model_id]
    frame = cairn.search_logged_models()
    assert isinstance(frame, pd.DataFrame)
    assert set(frame["model_id"]) == {first.model_id, second.model_id}
    assert set(frame["status"]) == {"LOGGED_MODEL_READY"}
    last = cairn.last_logged_model()
    assert last is not None and last.model_id == second.model_id


def test_log_model_without_a_run_logs_to_the_current_experiment(logistic: Any) -> None:
    experiment = cairn.set_experiment("no-run")
    info = cairn.sklearn.log_model(logistic, name="standalone")
    model = cairn.get_logged_model(info.model_id)
    assert model.source_run_id is None and model.experiment_id == experiment.experiment_id
    assert cairn.sklearn.load_model(info.model_uri).coef_.shape == logistic.coef_.shape


def test_registered_model_name_is_refused_until_the_registry_exists(logistic: Any) -> None:
    with cairn.start_run(), pytest.raises(RegistryNotAvailable, match="model registry"):
        cairn.sklearn.log_model(logistic, name="clf", registered_model_name="prod-clf")
    assert cairn.search_logged_models(output_format="list") == []


def test_failed_save_marks_the_model_upload_failed() -> None:
    with cairn.start_run(), pytest.raises(cairn.CairnError, match="skops cannot serialize"):
        cairn.sklearn.log_model((x for x in [1]), name="broken")
    (model,) = cairn.search_logged_models(output_format="list")
    assert model.status == "LOGGED_MODEL_UPLOAD_FAILED"


def test_name_and_artifact_path_are_the_same_argument(logistic: Any) -> None:
    with cairn.start_run():
        info = cairn.sklearn.log_model(logistic, artifact_path="legacy")
    assert info.name == "legacy"
