"""The LightGBM flavor: Boosters in LightGBM's native text format, scikit-learn-API models
(``LGBMClassifier``...) with skops, as MLflow saves them.

    >>> import cairn.lightgbm
    >>> cairn.lightgbm.save_model(booster, "model", input_example=X[:5])   # doctest: +SKIP
    >>> cairn.lightgbm.load_model("model").predict(X)                     # doctest: +SKIP

A native ``model.lgb`` holds trees and parameters only, so loading it runs no code. skops files
follow the rules of :mod:`cairn.models.trust`: LightGBM's own classes are outside skops'
default trusted set, so an unverified ``LGBMClassifier`` needs ``trusted_types`` (the error
lists them), while one loaded through its ``models:/``/``runs:/`` URI needs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.models.errors import ModelFormatError
from cairn.models.flavors import _common
from cairn.models.flavors._lgb_check import check_model_text
from cairn.models.mlmodel import Model

if TYPE_CHECKING:
    from cairn.models._log import ModelInfo
    from cairn.models.pyfunc import LoadedModel
    from cairn.models.schema import ModelSignature

__all__ = ["FLAVOR_NAME", "load_model", "log_model", "save_model"]

FLAVOR_NAME = "lightgbm"
BOOSTER = "lightgbm.basic.Booster"


def save_model(
    lgb_model: Any,
    path: str | os.PathLike[str],
    *,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    metadata: dict[str, Any] | None = None,
    mlflow_model: Model | None = None,
) -> None:
    """Save a ``lightgbm.Booster`` (native ``model.lgb``) or scikit-learn-API model
    (``model.skops``). The arguments are those of :func:`cairn.sklearn.save_model`.

    Example::

        cairn.lightgbm.save_model(lgb.train(params, dataset), "model", input_example=X[:5])
    """
    import lightgbm as lgb

    model_dir = _common.prepare_dir(path)
    model = _common.new_model(mlflow_model)
    model_class = f"{type(lgb_model).__module__}.{type(lgb_model).__name__}"
    trusted: list[str] | None = None
    if isinstance(lgb_model, lgb.Booster):
        data_file, fmt = "model.lgb", None
        lgb_model.save_model(str(model_dir / data_file))
    else:
        import skops.io

        data_file, fmt = "model.skops", "skops"
        skops.io.dump(lgb_model, model_dir / data_file)
        trusted = sorted(skops.io.get_untrusted_types(file=model_dir / data_file))

    def predict(data: Any, params: dict[str, Any] | None) -> Any:
        return lgb_model.predict(data)

    _common.add_signature_and_example(model, model_dir, signature, input_example, predict)
    code = _common.copy_code_paths(code_paths, model_dir)
    model.add_flavor("python_function", **_common.pyfunc_conf("mlflow.lightgbm", data_file, code))
    conf: dict[str, Any] = {
        "lgb_version": lgb.__version__,
        "data": data_file,
        "model_class": model_class,
        "code": code,
    }
    if fmt is not None:
        conf.update(serialization_format=fmt, skops_trusted_types=trusted or None)
    model.add_flavor(FLAVOR_NAME, **conf)
    packages = ["lightgbm"] + (["skops", "scikit-learn"] if fmt else [])
    _common.finish_save(
        model, model_dir, packages, pip_requirements, extra_pip_requirements, metadata
    )


def log_model(
    lgb_model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
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
    """Log a LightGBM model as a logged model of the active run (see :func:`save_model`)."""
    from cairn.models._log import log_model as _log

    def save(target: Path, mlflow_model: Model) -> None:
        save_model(
            lgb_model,
            target,
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
    trusted_types: Iterable[str] | None = None,
    allow_pickle: bool | None = None,
    allow_code: bool | None = None,
) -> Any:
    """The LightGBM model saved at ``model_uri``.

    Raises UntrustedTypes for an unverified scikit-learn-API model whose types were not
    passed as ``trusted_types``, PickleNotAllowed for MLflow's pickled models.
    """
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
    lgb = _common.require("lightgbm", "lightgbm", conf.get("lgb_version"), FLAVOR_NAME)
    _common.add_code_to_path(loaded, conf)
    data = loaded.file(conf.get("data", "model.lgb"))
    what = f"the LightGBM model {str(data)!r}"
    if conf.get("model_class", BOOSTER) == BOOSTER:
        return _load_booster(lgb, data, what)
    fmt = str(conf.get("serialization_format", "cloudpickle"))
    if fmt == "skops":
        return loaded.policy.load_skops(data, what)
    loaded.policy.check_pickle(f"{what} ({fmt})")
    from cairn.models.flavors.sklearn import load_pickle

    return load_pickle(data, fmt == "cloudpickle")


def _load_booster(lgb: Any, data: Path, what: str) -> Any:
    """A Booster from a text model, checked first: LightGBM aborts the process on some
    malformed trees instead of raising (see :mod:`._lgb_check`)."""
    try:
        text = data.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelFormatError(f"Cannot read {what}: the file is missing") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ModelFormatError(
            f"Cannot read {what}: it is not a LightGBM text model ({err})"
        ) from None
    try:
        check_model_text(text)
        return lgb.Booster(model_str=text)
    except (ValueError, lgb.basic.LightGBMError) as err:
        raise ModelFormatError(f"Cannot read {what}: it is corrupted ({err})") from None


class _Wrapper:
    def __init__(self, model: Any) -> None:
        self.raw_model = model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.raw_model.predict(data, **(params or {}))


def load_pyfunc(loaded: LoadedModel, model_config: dict[str, Any]) -> _Wrapper:
    """The pyfunc implementation (used by ``cairn.pyfunc.load_model``)."""
    return _Wrapper(_load(loaded))
