"""The scikit-learn flavor: round trips, the MLmodel layout, and MLflow as the judge in both
directions (same model, predictions compared exactly)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import cairn
import cairn.pyfunc
import cairn.sklearn
from tests.models.conftest import MLFLOW_REQS


def test_save_then_load_gives_an_equal_estimator(tmp_path: Path, iris: Any, logistic: Any) -> None:
    X, _ = iris
    cairn.sklearn.save_model(logistic, tmp_path / "m")
    loaded = cairn.sklearn.load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(X), logistic.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), logistic.predict_proba(X))


def test_model_directory_holds_mlflow_files_with_installed_versions(
    tmp_path: Path, iris: Any, logistic: Any
) -> None:
    import sklearn
    import skops

    X, _ = iris
    cairn.sklearn.save_model(logistic, tmp_path / "m", input_example=X.head(3))
    names = {p.name for p in (tmp_path / "m").iterdir()}
    assert names == {
        "MLmodel",
        "model.skops",
        "requirements.txt",
        "python_env.yaml",
        "conda.yaml",
        "input_example.json",
        "serving_input_example.json",
    }
    mlmodel = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert mlmodel["flavors"]["sklearn"]["serialization_format"] == "skops"
    assert mlmodel["flavors"]["sklearn"]["pickled_model"] == "model.skops"
    assert mlmodel["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    assert mlmodel["cairn_version"] == cairn.__version__
    assert len(mlmodel["model_uuid"]) == 32
    assert mlmodel["utc_time_created"]
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert f"scikit-learn=={sklearn.__version__}" in requirements
    assert f"skops=={skops.__version__}" in requirements
    assert not any(r.startswith(("cairn", "mlflow")) for r in requirements)
    python_env = yaml.safe_load((tmp_path / "m" / "python_env.yaml").read_text())
    assert python_env["dependencies"] == ["-r requirements.txt"]
    example = json.loads((tmp_path / "m" / "input_example.json").read_text())
    assert example["columns"] == list(X.columns)


def test_pip_requirements_replace_and_extra_requirements_extend(
    tmp_path: Path, logistic: Any
) -> None:
    cairn.sklearn.save_model(logistic, tmp_path / "a", pip_requirements=["scikit-learn"])
    cairn.sklearn.save_model(logistic, tmp_path / "b", extra_pip_requirements=["requests>=2"])
    assert (tmp_path / "a" / "requirements.txt").read_text().splitlines() == ["scikit-learn"]
    extended = (tmp_path / "b" / "requirements.txt").read_text().splitlines()
    assert extended[-1] == "requests>=2"
    assert any(r.startswith("scikit-learn==") for r in extended)


def test_saving_into_a_non_empty_folder_is_refused(tmp_path: Path, logistic: Any) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "other.txt").write_text("x")
    with pytest.raises(cairn.CairnError, match="already exists and is not an empty folder"):
        cairn.sklearn.save_model(logistic, tmp_path / "m")


def test_pyfunc_predict_fn_chooses_the_method(tmp_path: Path, iris: Any, logistic: Any) -> None:
    X, _ = iris
    cairn.sklearn.save_model(logistic, tmp_path / "m", pyfunc_predict_fn="predict_proba")
    proba = cairn.pyfunc.load_model(tmp_path / "m").predict(X)
    np.testing.assert_allclose(proba, logistic.predict_proba(X))


def test_mlflow_loads_cairns_model_and_predicts_the_same(
    tmp_path: Path, iris: Any, forest: Any
) -> None:
    import mlflow.pyfunc
    import mlflow.sklearn

    X, _ = iris
    cairn.sklearn.save_model(forest, tmp_path / "m", input_example=X.head(5))
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    ours = cairn.pyfunc.load_model(tmp_path / "m", trusted_types=["sklearn.tree._tree.Tree"])
    np.testing.assert_array_equal(theirs.predict(X), ours.predict(X))
    assert (
        theirs.metadata.get_input_schema().to_dict() == ours.metadata.get_input_schema().to_dict()
    )
    estimator = mlflow.sklearn.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(estimator.predict(X), forest.predict(X))


def test_cairn_loads_mlflows_model_and_predicts_the_same(
    tmp_path: Path, iris: Any, forest: Any
) -> None:
    import mlflow.pyfunc
    import mlflow.sklearn

    X, _ = iris
    mlflow.sklearn.save_model(
        forest,
        str(tmp_path / "m"),
        input_example=X.head(5),
        skops_trusted_types=["sklearn.tree._tree.Tree"],
        pip_requirements=MLFLOW_REQS,
    )
    ours = cairn.pyfunc.load_model(tmp_path / "m", trusted_types=["sklearn.tree._tree.Tree"])
    theirs = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    assert ours.metadata.mlflow_version and ours.metadata.cairn_version is None
    pd.testing.assert_frame_equal(ours.input_example, X.head(5))


def test_signature_json_is_identical_to_mlflows(tmp_path: Path, iris: Any, logistic: Any) -> None:
    import mlflow.sklearn

    X, _ = iris
    frame = X.head(4).assign(name=["a", None, "c", "d"], count=[1, 2, 3, 4])
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    pipe = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["name"]), remainder="passthrough"
        ),
        __import__("sklearn.linear_model").linear_model.LinearRegression(),
    ).fit(frame.fillna("z"), [1.0, 2.0, 3.0, 4.0])
    cairn.sklearn.save_model(pipe, tmp_path / "c", input_example=frame.fillna("z"))
    mlflow.sklearn.save_model(
        pipe, str(tmp_path / "m"), input_example=frame.fillna("z"), pip_requirements=MLFLOW_REQS
    )
    ours = yaml.safe_load((tmp_path / "c" / "MLmodel").read_text())["signature"]
    theirs = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())["signature"]
    assert ours == theirs
    ours_example = json.loads((tmp_path / "c" / "serving_input_example.json").read_text())
    theirs_example = json.loads((tmp_path / "m" / "serving_input_example.json").read_text())
    assert ours_example == theirs_example


def test_cloudpickle_format_needs_the_pickle_opt_in(
    tmp_path: Path, iris: Any, logistic: Any
) -> None:
    from cairn.models.errors import PickleNotAllowed

    X, _ = iris
    cairn.sklearn.save_model(logistic, tmp_path / "m", serialization_format="cloudpickle")
    with pytest.raises(PickleNotAllowed, match="allow_pickle=True"):
        cairn.sklearn.load_model(tmp_path / "m")
    loaded = cairn.sklearn.load_model(tmp_path / "m", allow_pickle=True)
    np.testing.assert_array_equal(loaded.predict(X), logistic.predict(X))


def test_mlflow_pickle_model_loads_only_with_the_environment_switch(
    tmp_path: Path, iris: Any, logistic: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.sklearn

    from cairn.models.errors import PickleNotAllowed

    X, _ = iris
    mlflow.sklearn.save_model(
        logistic,
        str(tmp_path / "m"),
        serialization_format="cloudpickle",
        pip_requirements=MLFLOW_REQS,
    )
    with pytest.raises(PickleNotAllowed, match="CAIRN_ALLOW_PICKLE"):
        cairn.pyfunc.load_model(tmp_path / "m")
    monkeypatch.setenv("CAIRN_ALLOW_PICKLE", "true")
    np.testing.assert_array_equal(
        cairn.pyfunc.load_model(tmp_path / "m").predict(X), logistic.predict(X)
    )
