"""The fluent functions added for MLflow 3 parity take MLflow's parameters, and datasets are
described and accepted as MLflow describes them (the real ``mlflow`` package is the judge)."""

from __future__ import annotations

import inspect
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

import cairn
import cairn.data

NAMES = [
    "log_input",
    "log_inputs",
    "log_metric",
    "log_metrics",
    "restore_run",
    "restore_experiment",
    "delete_experiment_tag",
    "get_parent_run",
    "is_tracking_uri_set",
    "load_table",
    "flush_artifact_async_logging",
    "initialize_logged_model",
    "finalize_logged_model",
    "create_external_model",
    "log_model_params",
    "set_logged_model_tags",
    "delete_logged_model_tag",
    "log_outputs",
    "set_active_model",
    "get_active_model_id",
    "clear_active_model",
]


def _shape(function: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize("name", NAMES)
def test_parameters_match_mlflow(name: str) -> None:
    import mlflow

    assert _shape(getattr(cairn, name)) == _shape(getattr(mlflow, name))


@pytest.mark.parametrize("name", ["from_pandas", "from_numpy", "get_source"])
def test_data_functions_take_mlflows_parameters(name: str) -> None:
    import mlflow.data

    ours = [p for p, _, _ in _shape(getattr(cairn.data, name))]
    assert ours == [p for p, _, _ in _shape(getattr(mlflow.data, name))]


def test_schema_and_profile_of_a_frame_match_mlflows() -> None:
    import mlflow.data

    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "t": [0.1, 0.2, 0.3]})
    ours = cairn.data.from_pandas(frame, source="data.csv", targets="t").to_dict()
    theirs = mlflow.data.from_pandas(frame, source="data.csv", targets="t").to_dict()
    for key in ("name", "source", "source_type", "profile"):
        assert ours[key] == theirs[key], key
    assert json.loads(ours["schema"] or "") == json.loads(theirs["schema"])


def test_schema_of_arrays_matches_mlflows() -> None:
    import mlflow.data

    features, targets = np.arange(12).reshape(4, 3), np.array([0, 1, 0, 1])
    ours = cairn.data.from_numpy(features, source="x.npy", targets=targets).to_dict()
    theirs = mlflow.data.from_numpy(features, source="x.npy", targets=targets).to_dict()
    assert json.loads(ours["schema"] or "") == json.loads(theirs["schema"])
    ours_profile = json.loads(ours["profile"] or "")
    assert {k: v for k, v in ours_profile.items() if k in json.loads(theirs["profile"])} == (
        json.loads(theirs["profile"])
    )


def test_log_input_accepts_mlflows_dataset_objects() -> None:
    import mlflow.data

    ds = mlflow.data.from_pandas(pd.DataFrame({"x": [1.0, 2.0]}), source="x.csv", name="theirs")
    with cairn.start_run() as run:
        cairn.log_input(ds, context="training")
        cairn.log_metric("loss", 0.5, dataset=ds)
    (item,) = cairn.get_run(run.info.run_id).inputs.dataset_inputs
    assert (item.dataset.name, item.dataset.digest) == ("theirs", ds.digest)
    assert (item.dataset.source_type, item.dataset.source) == ("local", '{"uri": "x.csv"}')
    assert cairn.data.get_source(item).uri == "x.csv"
