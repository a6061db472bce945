"""The scikit-learn flavor: estimators saved with skops, never pickle (unless asked).

    >>> import cairn.sklearn
    >>> info = cairn.sklearn.log_model(clf, name="model", input_example=X[:5])  # doctest: +SKIP
    >>> cairn.sklearn.load_model(info.model_uri).predict(X)                    # doctest: +SKIP

The files are MLflow's: ``model.skops`` and an ``sklearn`` flavor entry with
``pickled_model``, ``serialization_format: skops``, ``sklearn_version`` and
``skops_trusted_types``. cairn writes into that last key the types skops does not trust by
default that this model uses, so that MLflow (which reads its trust list from the file) loads
cairn's models; cairn itself never reads it (see :mod:`cairn.models.trust`).

Saving always works, whatever types the estimator uses. Loading a model of unknown origin
whose skops file uses types outside skops' default trusted set needs ``trusted_types=[...]``;
loading it through its ``models:/``/``runs:/`` URI needs nothing. ``serialization_format=
"cloudpickle"`` (or MLflow's pickle models) load only with ``allow_pickle=True``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
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

FLAVOR_NAME = "sklearn"
SKOPS = "skops"
FORMATS = (SKOPS, "cloudpickle", "pickle")
_FILES = {SKOPS: "model.skops", "cloudpickle": "model.pkl", "pickle": "model.pkl"}


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    *,
    serialization_format: str = SKOPS,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    metadata: dict[str, Any] | None = None,
    pyfunc_predict_fn: str = "predict",
    mlflow_model: Model | None = None,
    skops_trusted_types: Sequence[str] | None = None,
) -> None:
    """Save a scikit-learn estimator (or pipeline) as a model directory at ``path``.

    Args:
        sk_model: a fitted estimator.
        path: a new (or empty) folder.
        serialization_format: ``"skops"`` (default, safe), ``"cloudpickle"`` or ``"pickle"``
            (loading those needs ``allow_pickle=True``).
        signature: a ModelSignature; None infers it from ``input_example``; False for none.
        input_example: a few rows of input (DataFrame, array, dict, list).
        pip_requirements / extra_pip_requirements: replace / extend the inferred ones.
        code_paths: local files or folders the model's code needs, copied into ``code/``.
        metadata: free-form mapping stored in ``MLmodel``.
        pyfunc_predict_fn: the method pyfunc's ``predict`` calls (``predict_proba``...).
        mlflow_model: the :class:`~cairn.models.mlmodel.Model` to fill (used by log_model).
        skops_trusted_types: accepted for MLflow compatibility; cairn records the types the
            model needs itself.

    Raises:
        ResourceAlreadyExists: ``path`` exists and is not empty.
        InvalidParameter: an unknown format, or an object skops cannot serialize.

    Example::

        cairn.sklearn.save_model(clf, "model", input_example=X_train[:5])
    """
    import sklearn

    if serialization_format not in FORMATS:
        raise InvalidParameter(
            f"Unknown serialization_format {serialization_format!r}; use one of {list(FORMATS)}"
        )
    if pyfunc_predict_fn not in PREDICT_FNS:
        raise InvalidParameter(
            f"Unknown pyfunc_predict_fn {pyfunc_predict_fn!r}; use one of {sorted(PREDICT_FNS)}"
        )
    model_dir = _common.prepare_dir(path)
    model = _common.new_model(mlflow_model)
    data_file = _FILES[serialization_format]
    trusted = _dump(sk_model, model_dir / data_file, serialization_format)
    if skops_trusted_types:
        trusted = sorted(set(trusted) | set(skops_trusted_types))

    def predict(data: Any, params: dict[str, Any] | None) -> Any:
        return getattr(sk_model, pyfunc_predict_fn)(data)

    can_predict = hasattr(sk_model, pyfunc_predict_fn)
    _common.add_signature_and_example(
        model, model_dir, signature, input_example, predict if can_predict else None
    )
    code = _common.copy_code_paths(code_paths, model_dir)
    if can_predict:
        model.add_flavor(
            "python_function",
            **_common.pyfunc_conf("mlflow.sklearn", data_file, code, predict_fn=pyfunc_predict_fn),
        )
    model.add_flavor(
        FLAVOR_NAME,
        pickled_model=data_file,
        sklearn_version=sklearn.__version__,
        serialization_format=serialization_format,
        code=code,
        skops_trusted_types=trusted or None,
    )
    packages = ["scikit-learn", SKOPS if serialization_format == SKOPS else "cloudpickle"]
    _common.finish_save(
        model, model_dir, packages, pip_requirements, extra_pip_requirements, metadata
    )


def _dump(sk_model: Any, target: Path, fmt: str) -> list[str]:
    """Write the estimator; return the skops types it uses beyond the default trusted set."""
    if fmt != SKOPS:
        import pickle

        if fmt == "cloudpickle":
            import cloudpickle  # type: ignore[import-untyped]

            with target.open("wb") as stream:
                cloudpickle.dump(sk_model, stream, protocol=pickle.DEFAULT_PROTOCOL)
        else:
            with target.open("wb") as stream:
                pickle.dump(sk_model, stream, protocol=pickle.DEFAULT_PROTOCOL)
        return []
    import skops.io

    try:
        skops.io.dump(sk_model, target)
    except Exception as err:  # skops raises TypeError, PicklingError... for what it cannot hold
        target.unlink(missing_ok=True)
        raise InvalidParameter(
            f"skops cannot serialize this {type(sk_model).__name__}: {err}. skops supports "
            "scikit-learn objects and classes defined at module level; use "
            "serialization_format='cloudpickle' only if you accept that loading it will "
            "require allow_pickle=True."
        ) from None
    untrusted: list[str] = skops.io.get_untrusted_types(file=target)
    return sorted(untrusted)


def log_model(
    sk_model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    serialization_format: str = SKOPS,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    registered_model_name: str | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    metadata: dict[str, Any] | None = None,
    pyfunc_predict_fn: str = "predict",
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    run_id: str | None = None,
    skops_trusted_types: Sequence[str] | None = None,
) -> ModelInfo:
    """Log an estimator as a logged model of the active run (see :func:`save_model`).

    Returns a :class:`~cairn.models._log.ModelInfo`; ``info.model_uri`` loads the model.
    ``registered_model_name`` raises RegistryNotAvailable until cairn has a registry.

    Example::

        with cairn.start_run():
            info = cairn.sklearn.log_model(clf, name="model", input_example=X[:5])
        clf2 = cairn.sklearn.load_model(info.model_uri)
    """
    from cairn.models._log import log_model as _log

    def save(path: Path, mlflow_model: Model) -> None:
        save_model(
            sk_model,
            path,
            serialization_format=serialization_format,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            code_paths=code_paths,
            metadata=metadata,
            pyfunc_predict_fn=pyfunc_predict_fn,
            mlflow_model=mlflow_model,
            skops_trusted_types=skops_trusted_types,
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
    """The scikit-learn estimator saved at ``model_uri`` (any URI of :mod:`cairn.models.uri`).

    Raises:
        UntrustedTypes: an unverified model uses skops types outside the trusted set; the
            error lists them (pass them as ``trusted_types``).
        PickleNotAllowed: a pickle/cloudpickle model without ``allow_pickle=True``.
        ModelTampered, ModelNotFound, ModelFormatError, FrameworkNotInstalled.
    """
    from cairn.models.pyfunc import open_model

    loaded = open_model(
        model_uri,
        dst_path,
        allow_pickle=allow_pickle,
        allow_code=allow_code,
        trusted_types=trusted_types,
    )
    return _load_estimator(loaded)


def _load_estimator(loaded: LoadedModel) -> Any:
    conf = loaded.flavor(FLAVOR_NAME)
    _common.require("sklearn", "scikit-learn", conf.get("sklearn_version"), FLAVOR_NAME)
    _common.add_code_to_path(loaded, conf)
    data = loaded.file(conf.get("pickled_model", "model.pkl"))
    fmt = str(conf.get("serialization_format", "pickle"))
    what = f"the scikit-learn model {str(data)!r}"
    if fmt == SKOPS:
        _common.require("skops.io", SKOPS, None, FLAVOR_NAME)
        return loaded.policy.load_skops(data, what)
    if fmt not in FORMATS:
        raise InvalidParameter(f"{what} has unknown serialization format {fmt!r}")
    loaded.policy.check_pickle(f"{what} ({fmt})")
    return load_pickle(data, fmt == "cloudpickle")


def load_pickle(path: Path, cloud: bool) -> Any:
    """Unpickle ``path``; callers check the load policy first."""
    import pickle

    with path.open("rb") as stream:
        if cloud:
            import cloudpickle

            return cloudpickle.load(stream)
        return pickle.load(stream)  # the caller opted in (allow_pickle)


#: What an MLmodel file may name as the pyfunc's predict method (the file is data, so it
#: may not pick an arbitrary attribute of the estimator).
PREDICT_FNS = frozenset(
    {
        "predict",
        "predict_proba",
        "predict_log_proba",
        "predict_joint_log_proba",
        "decision_function",
        "score",
        "score_samples",
        "transform",
    }
)


class _Wrapper:
    def __init__(self, estimator: Any, predict_fn: str) -> None:
        if predict_fn not in PREDICT_FNS:
            raise ModelFormatError(
                f"Refusing predict_fn {predict_fn!r} named by the MLmodel file; it may name "
                f"one of {sorted(PREDICT_FNS)}"
            )
        self.raw_model = estimator
        method = getattr(estimator, predict_fn, None)
        if not callable(method):
            raise ModelFormatError(
                f"The model's {type(estimator).__name__} has no {predict_fn} method, which the "
                "MLmodel file names as predict_fn"
            )
        self._predict: Callable[[Any], Any] = method

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._predict(data)


def load_pyfunc(loaded: LoadedModel, model_config: dict[str, Any]) -> _Wrapper:
    """The pyfunc implementation (used by ``cairn.pyfunc.load_model``)."""
    conf = loaded.flavor("python_function")
    return _Wrapper(_load_estimator(loaded), str(conf.get("predict_fn", "predict")))
