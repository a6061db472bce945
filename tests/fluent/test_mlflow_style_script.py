"""``import cairn as mlflow`` runs a typical MLflow tutorial script unchanged: the iris
RandomForest quick start, run as a script in its own interpreter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cairn

QUICKSTART = """\
import json

import cairn as mlflow
from sklearn import datasets
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

X, y = datasets.load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=42)

mlflow.set_experiment("MLflow Quickstart")

for n_estimators, max_depth in [(2, 1), (50, 4), (10, 2)]:
    params = {"n_estimators": n_estimators, "max_depth": max_depth, "random_state": 8888}
    with mlflow.start_run():
        mlflow.log_params(params)
        model = RandomForestClassifier(**params)
        model.fit(X_train, y_train)
        y_pred = model.predict(X_test)
        accuracy = accuracy_score(y_test, y_pred)
        mlflow.log_metric("accuracy", accuracy)
        mlflow.log_metric("f1", f1_score(y_test, y_pred, average="macro"))
        mlflow.set_tag("Training Info", "Basic RF model for iris data")

last = mlflow.last_active_run()
client = mlflow.MlflowClient()
assert client.get_run(last.info.run_id).info.status == "FINISHED"

runs = mlflow.search_runs(order_by=["metrics.accuracy DESC"])
best = runs.iloc[0]
print(f"best run {best.run_id}: accuracy {best['metrics.accuracy']:.3f}")
print(json.dumps({
    "experiment_id": mlflow.get_experiment_by_name("MLflow Quickstart").experiment_id,
    "run_ids": list(runs["run_id"]),
    "accuracy": list(runs["metrics.accuracy"]),
    "n_estimators": list(runs["params.n_estimators"]),
    "tags": list(runs["tags.Training Info"]),
}))
"""


def test_iris_quickstart_runs_unchanged(mlruns: Path, run_python: Callable[..., Any]) -> None:
    result = run_python(QUICKSTART, env={"MLFLOW_TRACKING_URI": str(mlruns)})
    accuracy = result["accuracy"]
    assert len(result["run_ids"]) == 3
    assert accuracy == sorted(accuracy, reverse=True)
    assert all(0.0 <= a <= 1.0 for a in accuracy)
    assert sorted(result["n_estimators"]) == ["10", "2", "50"]
    assert result["tags"] == ["Basic RF model for iris data"] * 3
    experiment = cairn.get_experiment_by_name("MLflow Quickstart")
    assert experiment is not None
    assert experiment.experiment_id == result["experiment_id"]
    stored = cairn.search_runs(
        experiment_names=["MLflow Quickstart"], order_by=["metrics.accuracy DESC"]
    )
    assert list(stored["run_id"]) == result["run_ids"]
    assert set(stored["status"]) == {"FINISHED"}
    for run_id in result["run_ids"]:
        run = cairn.get_run(run_id)
        assert set(run.data.params) == {"n_estimators", "max_depth", "random_state"}
        assert set(run.data.metrics) == {"accuracy", "f1"}
