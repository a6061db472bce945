"""The XGBoost flavor: Boosters and scikit-learn-API models in XGBoost's native format.

    >>> import cairn.xgboost
    >>> cairn.xgboost.save_model(booster, "model", input_example=X[:5])   # doctest: +SKIP
    >>> cairn.xgboost.load_model("model").predict(xgboost.DMatrix(X))    # doctest: +SKIP

The files are MLflow's: ``model.<format>`` (``ubj`` by default, or ``json``) and an ``xgboost``
flavor entry with ``data``, ``model_class``, ``model_format`` and ``xgb_version``. Native files
hold trees and parameters only, so loading them runs no code. The class named in the file is
only instantiated if it is an XGBoost model class.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.errors import InvalidParameter
from cairn.models.errors import ModelFormatError
from cairn.models.flavors import _common
from cairn.models.mlmodel import Model

if TYPE_CHECKING:
    from cairn.models._log import ModelInfo
    from cairn.models.pyfunc import LoadedModel
    from cairn.models.schema import ModelSignature

__all__ = ["FLAVOR_NAME", "load_model", "log_model", "save_model"]

FLAVOR_NAME = "xgboost"
_FORMATS = ("ubj", "json")


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    *,
    model_format: str = "ubj",
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    metadata: dict[str, Any] | None = None,
    mlflow_model: Model | None = None,
) -> None:
    """Save an ``xgboost.Booster`` or scikit-learn-API model (``XGBClassifier``...).

    ``model_format`` is ``"ubj"`` (binary, default) or ``"json"``; the other arguments are
    those of :func:`cairn.sklearn.save_model`.

    Example::

        cairn.xgboost.save_model(XGBRegressor().fit(X, y), "model", input_example=X[:5])
    """
    import xgboost as xgb

    if model_format not in _FORMATS:
        raise InvalidParameter(
            f"model_format must be one of {list(_FORMATS)}, not {model_format!r}"
        )
    model_dir = _common.prepare_dir(path)
    model = _common.new_model(mlflow_model)
    data_file = f"model.{model_format}"
    xgb_model.save_model(str(model_dir / data_file))
    model_class = f"{type(xgb_model).__module__}.{type(xgb_model).__name__}"

    def predict(data: Any, params: dict[str, Any] | None) -> Any:
        return _Wrapper(xgb_model).predict(data, params)

    _common.add_signature_and_example(model, model_dir, signature, input_example, predict)
    code = _common.copy_code_paths(code_paths, model_dir)
    model.add_flavor("python_function", **_common.pyfunc_conf("mlflow.xgboost", data_file, code))
    model.add_flavor(
        FLAVOR_NAME,
        xgb_version=xgb.__version__,
        data=data_file,
        model_class=model_class,
        model_format=model_format,
        code=code,
    )
    _common.finish_save(
        model, model_dir, ["xgboost"], pip_requirements, extra_pip_requirements, metadata
    )


def log_model(
    xgb_model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    model_format: str = "ubj",
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    registered_model_name: str | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    metadata: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    run_id: str | None = None,
) -> ModelInfo:
    """Log an XGBoost model as a logged model of the active run (see :func:`save_model`)."""
    from cairn.models._log import log_model as _log

    def save(target: Path, mlflow_model: Model) -> None:
        save_model(
            xgb_model,
            target,
            model_format=model_format,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            code_paths=code_paths,
            metadata=metadata,
            mlflow_model=mlflow_model,
        )

    return _log(
        save,
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        params=params,
        tags=tags,
        model_type=model_type,
        step=step,
        run_id=run_id,
    )


def load_model(
    model_uri: str | os.PathLike[str],
    dst_path: str | os.PathLike[str] | None = None,
    *,
    allow_code: bool | None = None,
    trusted_types: Iterable[str] | None = None,
    allow_pickle: bool | None = None,
) -> Any:
    """The XGBoost model (Booster or scikit-learn-API object) saved at ``model_uri``."""
    from cairn.models.pyfunc import open_model

    return _load(
        open_model(
            model_uri,
            dst_path,
            allow_pickle=allow_pickle,
            allow_code=allow_code,
            trusted_types=trusted_types,
        )
    )


def _load(loaded: LoadedModel) -> Any:
    conf = loaded.flavor(FLAVOR_NAME)
    xgb = _common.require("xgboost", "xgboost", conf.get("xgb_version"), FLAVOR_NAME)
    _common.add_code_to_path(loaded, conf)
    cls = _model_class(str(conf.get("model_class", "xgboost.core.Booster")), xgb)
    model = cls()
    data = loaded.file(conf.get("data", "model.xgb"))
    try:
        model.load_model(str(data))
    except (xgb.core.XGBoostError, UnicodeDecodeError, ValueError) as err:
        raise ModelFormatError(
            f"Cannot read the XGBoost model {str(data)!r}: it is corrupted or not an XGBoost "
            f"model file ({str(err).splitlines()[0]})"
        ) from None
    return model


def _model_class(qualified: str, xgb: Any) -> Any:
    """The XGBoost class named in the file; anything else is refused (the file names it)."""
    module_name, _, class_name = qualified.rpartition(".")
    if module_name.split(".")[0] != "xgboost":
        raise ModelFormatError(f"Refusing model_class {qualified!r}: not an XGBoost class")
    try:
        cls = getattr(importlib.import_module(module_name), class_name, None)
    except ImportError:
        cls = None
    if not isinstance(cls, type) or not issubclass(cls, xgb.Booster | xgb.XGBModel):
        raise ModelFormatError(f"Refusing model_class {qualified!r}: not an XGBoost model class")
    return cls


class _Wrapper:
    def __init__(self, model: Any) -> None:
        self.raw_model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import xgboost as xgb

        params = dict(params or {})
        if isinstance(self.raw_model, xgb.Booster):
            return self.raw_model.predict(xgb.DMatrix(data), **params)
        return self.raw_model.predict(data, **params)


def load_pyfunc(loaded: LoadedModel, model_config: dict[str, Any]) -> _Wrapper:
    """The pyfunc implementation (used by ``cairn.pyfunc.load_model``)."""
    return _Wrapper(_load(loaded))
