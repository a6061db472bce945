"""XGBoost, LightGBM, PyTorch and custom pyfunc models: round trips and MLflow both ways."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import cairn
import cairn.lightgbm
import cairn.pyfunc
import cairn.pytorch
import cairn.xgboost
from cairn.models.errors import (
    FrameworkNotInstalled,
    ModelCodeNotAllowed,
    PickleNotAllowed,
    UntrustedTypes,
)

# -- XGBoost ------------------------------------------------------------------------------------


def test_xgboost_booster_and_sklearn_api_round_trip_natively(tmp_path: Path, iris: Any) -> None:
    import xgboost as xgb

    X, y = iris
    booster = xgb.train({"objective": "multi:softprob", "num_class": 3}, xgb.DMatrix(X, y), 5)
    classifier = xgb.XGBClassifier(n_estimators=5).fit(X, y)
    cairn.xgboost.save_model(booster, tmp_path / "b", input_example=X.head(3))
    cairn.xgboost.save_model(classifier, tmp_path / "c", model_format="json")
    assert (tmp_path / "b" / "model.ubj").is_file() and (tmp_path / "c" / "model.json").is_file()
    np.testing.assert_array_equal(
        cairn.xgboost.load_model(tmp_path / "b").predict(xgb.DMatrix(X)),
        booster.predict(xgb.DMatrix(X)),
    )
    loaded = cairn.xgboost.load_model(tmp_path / "c")
    assert isinstance(loaded, xgb.XGBClassifier)
    np.testing.assert_array_equal(loaded.predict(X), classifier.predict(X))
    np.testing.assert_array_equal(
        cairn.pyfunc.load_model(tmp_path / "b").predict(X), booster.predict(xgb.DMatrix(X))
    )


def test_xgboost_models_cross_between_mlflow_and_cairn(tmp_path: Path, iris: Any) -> None:
    import mlflow.pyfunc
    import mlflow.xgboost
    import xgboost as xgb

    X, y = iris
    classifier = xgb.XGBClassifier(n_estimators=5).fit(X, y)
    cairn.xgboost.save_model(classifier, tmp_path / "c", input_example=X.head(2))
    mlflow.xgboost.save_model(classifier, str(tmp_path / "m"), pip_requirements=["xgboost"])
    for path in ("c", "m"):
        ours = cairn.pyfunc.load_model(tmp_path / path).predict(X)
        theirs = mlflow.pyfunc.load_model(str(tmp_path / path)).predict(X)
        np.testing.assert_array_equal(ours, theirs)


def test_xgboost_model_class_named_by_the_file_must_be_xgboost(tmp_path: Path, iris: Any) -> None:
    import xgboost as xgb

    X, y = iris
    cairn.xgboost.save_model(xgb.XGBClassifier(n_estimators=2).fit(X, y), tmp_path / "c")
    path = tmp_path / "c" / "MLmodel"
    data = yaml.safe_load(path.read_text())
    data["flavors"]["xgboost"]["model_class"] = "subprocess.Popen"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(cairn.CairnError, match="not an XGBoost class"):
        cairn.xgboost.load_model(tmp_path / "c")
    data["flavors"]["xgboost"]["model_class"] = "xgboost.no_such_module.Model"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(cairn.CairnError, match="not an XGBoost model class"):
        cairn.xgboost.load_model(tmp_path / "c")


def test_xgboost_file_with_a_damaged_byte_is_a_format_error(tmp_path: Path, iris: Any) -> None:
    import xgboost as xgb

    X, y = iris
    cairn.xgboost.save_model(xgb.XGBClassifier(n_estimators=2).fit(X, y), tmp_path / "c")
    (data,) = [p for p in (tmp_path / "c").iterdir() if p.name.startswith("model.")]
    damaged = bytearray(data.read_bytes())
    for offset in range(len(damaged) // 3, len(damaged) // 3 + 64):
        damaged[offset] = 0xFF  # not UTF-8, not a valid UBJSON marker
    data.write_bytes(bytes(damaged))
    with pytest.raises(cairn.CairnError, match="Cannot read the XGBoost model"):
        cairn.pyfunc.load_model(tmp_path / "c")


# -- LightGBM -----------------------------------------------------------------------------------


def test_lightgbm_booster_is_native_and_mlflow_reads_it(tmp_path: Path, iris: Any) -> None:
    import lightgbm as lgb
    import mlflow.pyfunc

    X, y = iris
    params = {"objective": "multiclass", "num_class": 3, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=5)
    cairn.lightgbm.save_model(booster, tmp_path / "b", input_example=X.head(2))
    assert (tmp_path / "b" / "model.lgb").read_text().startswith("tree")
    ours = cairn.pyfunc.load_model(tmp_path / "b").predict(X)
    np.testing.assert_array_equal(ours, booster.predict(X))
    np.testing.assert_array_equal(ours, mlflow.pyfunc.load_model(str(tmp_path / "b")).predict(X))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda text: text[: len(text) // 2], "runs past the end"),
        (lambda text: text.replace("\nleft_child=", "Zleft_child=", 1), "malformed line"),
        (lambda text: text.replace("\nleft_child=", "\nleft_chilx=", 1), "has no left_child"),
        (lambda text: "", "does not start with"),
    ],
    ids=["truncated", "stray-byte", "missing-field", "empty"],
)
def test_a_damaged_lightgbm_file_is_an_error_not_a_crash(
    tmp_path: Path, iris: Any, damage: Any, reason: str
) -> None:
    import lightgbm as lgb

    X, y = iris
    params = {"objective": "multiclass", "num_class": 3, "verbose": -1}
    booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=5)
    cairn.lightgbm.save_model(booster, tmp_path / "b")
    data = tmp_path / "b" / "model.lgb"
    data.write_text(damage(data.read_text()))
    # In a child process: unchecked, LightGBM ends the process on these files (std::terminate),
    # which would take the test run down with it.
    script = (
        "import sys, cairn.pyfunc\n"
        "from cairn.models.errors import ModelFormatError\n"
        "try:\n"
        f"    cairn.pyfunc.load_model({str(tmp_path / 'b')!r})\n"
        "except ModelFormatError as err:\n"
        "    print(err)\n"
    )
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert child.returncode == 0, child.stderr
    assert "Cannot read the LightGBM model" in child.stdout
    assert reason in child.stdout


def test_lightgbm_sklearn_api_uses_skops_and_the_trust_rules(tmp_path: Path, iris: Any) -> None:
    import lightgbm as lgb
    import mlflow.lightgbm

    X, y = iris
    classifier = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
    cairn.lightgbm.save_model(classifier, tmp_path / "c")
    with pytest.raises(UntrustedTypes) as caught:
        cairn.lightgbm.load_model(tmp_path / "c")
    loaded = cairn.lightgbm.load_model(tmp_path / "c", trusted_types=caught.value.types)
    np.testing.assert_array_equal(loaded.predict(X), classifier.predict(X))
    np.testing.assert_array_equal(
        mlflow.lightgbm.load_model(str(tmp_path / "c")).predict(X), classifier.predict(X)
    )
    with cairn.start_run():
        info = cairn.lightgbm.log_model(classifier, name="lgbm")
    np.testing.assert_array_equal(
        cairn.pyfunc.load_model(info.model_uri).predict(X), classifier.predict(X)
    )


# -- PyTorch ------------------------------------------------------------------------------------


def test_pytorch_state_dict_round_trip(tmp_path: Path) -> None:
    import torch

    from tests.models.torch_models import TinyNet

    net = TinyNet(features=4, hidden=6)
    X = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    cairn.pytorch.save_model(net, tmp_path / "n", init_kwargs={"hidden": 6}, input_example=X)
    conf = yaml.safe_load((tmp_path / "n" / "MLmodel").read_text())["flavors"]["pytorch"]
    assert conf["model_class"] == "tests.models.torch_models:TinyNet"
    assert conf["serialization_format"] == "state_dict"
    loaded = cairn.pytorch.load_model(tmp_path / "n")
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
        np.testing.assert_array_equal(loaded(torch.from_numpy(X)).numpy(), expected)
    np.testing.assert_array_equal(cairn.pyfunc.load_model(tmp_path / "n").predict(X), expected)
    # The signature is tensor-based (inferred from an array), so a table becomes an array.
    frame_out = cairn.pyfunc.load_model(tmp_path / "n").predict(pd.DataFrame(X))
    np.testing.assert_array_equal(frame_out, expected)


def test_pytorch_wrong_init_kwargs_fail_at_save_time(tmp_path: Path) -> None:
    from tests.models.torch_models import TinyNet

    with pytest.raises(cairn.CairnError, match="cannot be rebuilt"):
        cairn.pytorch.save_model(TinyNet(hidden=6), tmp_path / "n")  # hidden=8 by default


def test_pytorch_class_from_a_script_cannot_be_saved_by_reference(tmp_path: Path) -> None:
    import torch

    class Local(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    with pytest.raises(cairn.CairnError, match="serialization_format='pt2'"):
        cairn.pytorch.save_model(Local(), tmp_path / "n")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"init_kwargs": {"hidden": 6, "colour": "red"}}, "Cannot rebuild .*TypeError"),
        ({"serialization_format": "zzz"}, "Unknown PyTorch serialization_format 'zzz'"),
    ],
    ids=["init-kwargs", "format"],
)
def test_pytorch_mlmodel_that_cannot_be_followed_is_a_format_error(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    from cairn.models.errors import ModelFormatError
    from tests.models.torch_models import TinyNet

    cairn.pytorch.save_model(TinyNet(hidden=6), tmp_path / "n", init_kwargs={"hidden": 6})
    path = tmp_path / "n" / "MLmodel"
    data = yaml.safe_load(path.read_text())
    data["flavors"]["pytorch"].update(change)
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ModelFormatError, match=message):
        cairn.pyfunc.load_model(tmp_path / "n")


@pytest.mark.slow
def test_pytorch_pt2_crosses_between_mlflow_and_cairn(tmp_path: Path) -> None:
    import mlflow.pytorch
    import torch

    from tests.models.torch_models import TinyNet

    net = TinyNet()
    X = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    cairn.pytorch.save_model(net, tmp_path / "c", serialization_format="pt2", input_example=X)
    with pytest.raises(PickleNotAllowed, match=r"torch.export"):
        cairn.pytorch.load_model(tmp_path / "c")
    with torch.no_grad():
        expected = net(torch.from_numpy(X)).numpy()
    theirs = mlflow.pytorch.load_model(str(tmp_path / "c"))
    np.testing.assert_allclose(theirs(torch.from_numpy(X)).detach().numpy(), expected, rtol=1e-6)
    mlflow.pytorch.save_model(net, str(tmp_path / "m"), input_example=X, pip_requirements=["torch"])
    ours = cairn.pyfunc.load_model(tmp_path / "m", allow_pickle=True).predict(X)
    np.testing.assert_allclose(ours, expected, rtol=1e-6)


def test_missing_framework_error_names_package_and_version(
    tmp_path: Path, iris: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import xgboost as xgb

    X, y = iris
    cairn.xgboost.save_model(xgb.XGBClassifier(n_estimators=2).fit(X, y), tmp_path / "c")
    monkeypatch.setitem(sys.modules, "xgboost", None)  # as if it were not installed
    with pytest.raises(FrameworkNotInstalled, match=rf"pip install 'xgboost=={xgb.__version__}'"):
        cairn.pyfunc.load_model(tmp_path / "c")


def test_missing_framework_hint_leaves_out_a_local_build_label() -> None:
    error = FrameworkNotInstalled("torch", "2.13.0+cu130", "pytorch")
    assert "pip install 'torch==2.13.0'" in error.message


# -- custom Python models -----------------------------------------------------------------------


def test_python_model_with_artifacts_and_params(tmp_path: Path) -> None:
    from cairn.models import infer_signature
    from tests.models.torch_models import Scaled

    (tmp_path / "offset.txt").write_text("10")
    signature = infer_signature(np.zeros((2, 2)), np.zeros((2, 2)), params={"scale": 1.0})
    cairn.pyfunc.save_model(
        tmp_path / "m",
        Scaled(2.0),
        artifacts={"offset": tmp_path / "offset.txt"},
        signature=signature,
    )
    model = cairn.pyfunc.load_model(tmp_path / "m")
    data = np.array([[1.0, 2.0]])
    np.testing.assert_array_equal(model.predict(data), [[12.0, 14.0]])
    np.testing.assert_array_equal(model.predict(data, params={"scale": 2.0}), [[14.0, 18.0]])
    assert model.unwrap_python_model().factor == 2.0
    conf = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())["flavors"]["python_function"]
    assert conf["loader_module"] == "mlflow.pyfunc.model"
    assert conf["cairn_python_model"]["class"] == "tests.models.torch_models:Scaled"
    assert conf["artifacts"]["offset"]["path"] == "artifacts/offset.txt"


CODE = textwrap.dedent(
    """
    import cairn.pyfunc

    class AddN(cairn.pyfunc.PythonModel):
        def __init__(self, n):
            self.n = n

        def predict(self, context, model_input, params=None):
            return model_input + self.n
    """
)


@pytest.fixture
def add_n_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A model class in a file of its own, imported from it, then forgotten again."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "add_n_model.py").write_text(CODE)
    monkeypatch.syspath_prepend(str(source))
    import add_n_model

    yield add_n_model, source / "add_n_model.py"
    sys.modules.pop("add_n_model", None)


def _forget(module_name: str, folder: Path) -> None:
    sys.modules.pop(module_name, None)
    sys.path[:] = [p for p in sys.path if p != str(folder)]


def test_code_paths_ship_the_class_and_need_trust_when_unverified(
    tmp_path: Path, add_n_module: Any
) -> None:
    module, source = add_n_module
    cairn.pyfunc.save_model(tmp_path / "m", module.AddN(5), code_paths=[source])
    _forget("add_n_model", source.parent)
    with pytest.raises(ModelCodeNotAllowed, match="allow_code=True"):
        cairn.pyfunc.load_model(tmp_path / "m")
    model = cairn.pyfunc.load_model(tmp_path / "m", allow_code=True)
    assert model.predict(np.array([1, 2])).tolist() == [6, 7]


def test_logged_python_model_with_code_loads_through_its_verified_uri(
    add_n_module: Any,
) -> None:
    module, source = add_n_module
    with cairn.start_run():
        info = cairn.pyfunc.log_model(
            name="adder", python_model=module.AddN(1), code_paths=[source]
        )
    _forget("add_n_model", source.parent)
    assert cairn.pyfunc.load_model(info.model_uri).predict(np.array([1])).tolist() == [2]


def test_mlflow_loads_cairns_python_model_and_the_reverse(
    tmp_path: Path, add_n_module: Any
) -> None:
    import mlflow.pyfunc

    module, source = add_n_module
    cairn.pyfunc.save_model(tmp_path / "c", module.AddN(3), code_paths=[source])
    assert mlflow.pyfunc.load_model(str(tmp_path / "c")).predict(np.array([1])).tolist() == [4]

    class Doubler(mlflow.pyfunc.PythonModel):
        # No type hints: MLflow would try (and warn about) type-hint validation.
        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return model_input * 2

    mlflow.pyfunc.save_model(str(tmp_path / "m"), python_model=Doubler(), pip_requirements=[])
    with pytest.raises(PickleNotAllowed):
        cairn.pyfunc.load_model(tmp_path / "m")
    doubled = cairn.pyfunc.load_model(tmp_path / "m", allow_pickle=True).predict(np.array([3]))
    assert doubled.tolist() == [6]


def test_python_model_defined_in_a_script_is_saved_for_pickle_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Inline(cairn.pyfunc.PythonModel):
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return model_input

    cairn.pyfunc.save_model(tmp_path / "m", Inline())
    assert "saved only with cloudpickle" in caplog.text
    with pytest.raises(PickleNotAllowed):
        cairn.pyfunc.load_model(tmp_path / "m")
    assert cairn.pyfunc.load_model(tmp_path / "m", allow_pickle=True).predict([1]) == [1]
