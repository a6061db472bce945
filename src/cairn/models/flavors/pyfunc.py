"""Custom models: a :class:`~cairn.models.pyfunc.PythonModel` with artifacts and code paths.

    >>> import cairn.pyfunc
    >>> cairn.pyfunc.save_model("model", python_model=AddN(n=5),          # doctest: +SKIP
    ...                         artifacts={"vocab": "vocab.txt"}, code_paths=["add_n.py"])
    >>> cairn.pyfunc.load_model("model", allow_code=True).predict(frame)    # doctest: +SKIP

How the instance is stored, so that loading it never unpickles:

* its class by reference, ``module:QualName`` (the module is installed, or shipped in
  ``code_paths``; a class defined in ``__main__`` cannot be referenced);
* its attributes (``vars(instance)``) as ``python_model_state.json`` when they are plain
  JSON, else with skops in ``python_model_state.skops``;
* a ``cloudpickle`` copy in ``python_model.pkl``, the file MLflow loads, which cairn reads only
  when there is no reference and the caller passed ``allow_pickle=True``.

Loading restores the attributes on a new instance without calling ``__init__`` (as unpickling
does), then calls ``load_context`` with the artifacts' local paths. Code shipped with the model
runs only for verified models or with ``allow_code=True``; a class that is not a
``PythonModel`` subclass (a plain callable, say) counts as such code too.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.errors import InvalidParameter
from cairn.models.errors import ModelFormatError, UnsupportedFlavor
from cairn.models.flavors import _common
from cairn.models.mlmodel import Model
from cairn.models.pyfunc import PyFuncModel, PythonModel, PythonModelContext

if TYPE_CHECKING:
    from cairn.models._log import ModelInfo
    from cairn.models.pyfunc import LoadedModel
    from cairn.models.schema import ModelSignature

__all__ = ["load_model", "log_model", "save_model"]

log = logging.getLogger("cairn.models")

REFERENCE_KEY = "cairn_python_model"
PICKLE_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"


def save_model(
    path: str | os.PathLike[str],
    python_model: Any = None,
    *,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    mlflow_model: Model | None = None,
) -> None:
    """Save a custom model.

    Args:
        path: a new (or empty) folder.
        python_model: a :class:`PythonModel` instance whose class is importable.
        artifacts: name -> local file or folder, copied into ``artifacts/`` and handed to
            ``load_context`` as ``context.artifacts[name]`` (a local path) on load.
        code_paths: files or folders with the model's code, copied into ``code/`` and put on
            ``sys.path`` when the model loads.
        model_config: a mapping available as ``context.model_config``.
        The other arguments are those of :func:`cairn.sklearn.save_model`.

    Raises:
        InvalidParameter: no python_model, a missing artifact, an unserializable state.
    """
    if python_model is None:
        raise InvalidParameter("save_model needs python_model=<a PythonModel instance>")
    if not callable(getattr(python_model, "predict", None)):
        raise InvalidParameter(
            f"python_model must have a predict(context, model_input, params=None) method; "
            f"{type(python_model).__name__} has none"
        )
    model_dir = _common.prepare_dir(path)
    model = _common.new_model(mlflow_model)
    extra: dict[str, Any] = {}
    packages = ["cloudpickle"]
    reference = _save_reference(python_model, model_dir)
    if reference is not None:
        extra[REFERENCE_KEY] = reference
        if str(reference.get("state", "")).endswith(".skops"):
            packages.append("skops")
    if _save_pickle(python_model, model_dir):
        import cloudpickle  # type: ignore[import-untyped]

        extra.update(python_model=PICKLE_FILE, cloudpickle_version=cloudpickle.__version__)
    if reference is None and "python_model" not in extra:
        raise InvalidParameter(
            f"{type(python_model).__name__} can be saved neither by reference nor by cloudpickle"
        )
    if artifacts:
        extra["artifacts"] = _copy_artifacts(artifacts, model_dir)
    if model_config:
        extra["model_config"] = dict(model_config)

    context = PythonModelContext(
        {k: str(Path(model_dir, v["path"])) for k, v in extra.get("artifacts", {}).items()},
        dict(model_config or {}),
    )

    def predict(data: Any, params: dict[str, Any] | None) -> Any:
        python_model.load_context(context)
        return _call_predict(python_model, context, data, params)

    _common.add_signature_and_example(model, model_dir, signature, input_example, predict)
    code = _common.copy_code_paths(code_paths, model_dir)
    model.add_flavor(
        "python_function", **_common.pyfunc_conf("mlflow.pyfunc.model", None, code, **extra)
    )
    _common.finish_save(
        model, model_dir, packages, pip_requirements, extra_pip_requirements, metadata
    )


def _save_reference(python_model: Any, model_dir: Path) -> dict[str, Any] | None:
    cls = type(python_model)
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        log.warning(
            "%s is defined in a script or function, so it is saved only with cloudpickle; "
            "loading it will need allow_pickle=True. Define it in a module to avoid that.",
            cls.__qualname__,
        )
        return None
    reference: dict[str, Any] = {"class": f"{cls.__module__}:{cls.__qualname__}"}
    state = dict(getattr(python_model, "__dict__", {}))
    if not state:
        return reference
    try:
        text = json.dumps(state)
    except (TypeError, ValueError):
        text = None
    if text is not None:
        (model_dir / "python_model_state.json").write_text(text, encoding="utf-8")
        reference["state"] = "python_model_state.json"
        return reference
    try:
        import skops.io

        skops.io.dump(state, model_dir / "python_model_state.skops")
    except Exception as err:  # skops refuses what it cannot represent
        log.warning(
            "The attributes of %s are neither JSON nor skops-serializable (%s); it is saved "
            "only with cloudpickle, and loading it will need allow_pickle=True.",
            cls.__qualname__,
            err,
        )
        (model_dir / "python_model_state.skops").unlink(missing_ok=True)
        return None
    reference["state"] = "python_model_state.skops"
    return reference


def _save_pickle(python_model: Any, model_dir: Path) -> bool:
    try:
        import cloudpickle
    except ImportError:
        log.info("cloudpickle is not installed: MLflow will not be able to load this model")
        return False
    try:
        with (model_dir / PICKLE_FILE).open("wb") as stream:
            cloudpickle.dump(python_model, stream)
    except Exception as err:  # the MLflow copy is optional; cairn's reference is enough
        log.warning("Could not write the cloudpickle copy MLflow reads: %s", err)
        (model_dir / PICKLE_FILE).unlink(missing_ok=True)
        return False
    return True


def _copy_artifacts(
    artifacts: Mapping[str, str | os.PathLike[str]], model_dir: Path
) -> dict[str, dict[str, str]]:
    root = model_dir / ARTIFACTS_DIR
    root.mkdir()
    saved = {}
    for name, source in artifacts.items():
        text = os.fspath(source)
        from cairn.artifacts.uri import local_path_from_uri

        local = local_path_from_uri(text)
        if local is None:
            raise InvalidParameter(
                f"Artifact {name!r}: {text!r} is not a local path; download it first"
            )
        src = Path(local)
        if not src.exists():
            raise InvalidParameter(f"Artifact {name!r}: {text!r} does not exist")
        target = root / src.name
        if target.exists():
            target = root / f"{name}-{src.name}"
        if src.is_dir():
            shutil.copytree(src, target)
        else:
            shutil.copy2(src, target)
        saved[name] = {"path": target.relative_to(model_dir).as_posix(), "uri": text}
    return saved


def log_model(
    name: str | None = None,
    python_model: Any = None,
    *,
    artifact_path: str | None = None,
    artifacts: Mapping[str, str | os.PathLike[str]] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    registered_model_name: str | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    tags: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    run_id: str | None = None,
) -> ModelInfo:
    """Log a custom model as a logged model of the active run (see :func:`save_model`).

    Example::

        with cairn.start_run():
            info = cairn.pyfunc.log_model(name="model", python_model=AddN(n=5),
                                          code_paths=["add_n.py"])
        cairn.pyfunc.load_model(info.model_uri).predict(frame)   # verified: no switch needed
    """
    from cairn.models._log import log_model as _log

    def save(target: Path, mlflow_model: Model) -> None:
        save_model(
            target,
            python_model,
            artifacts=artifacts,
            code_paths=code_paths,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            model_config=model_config,
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
    allow_pickle: bool | None = None,
    allow_code: bool | None = None,
    trusted_types: Iterable[str] | None = None,
    model_config: Mapping[str, Any] | None = None,
    suppress_warnings: bool = False,
) -> PyFuncModel:
    """Load any supported model behind one ``predict``.

    See :func:`cairn.models.pyfunc.load_model` for the arguments.
    """
    from cairn.models.pyfunc import load_model as _load

    return _load(
        model_uri,
        dst_path,
        allow_pickle=allow_pickle,
        allow_code=allow_code,
        trusted_types=trusted_types,
        model_config=model_config,
        suppress_warnings=suppress_warnings,
    )


class _Wrapper:
    def __init__(self, python_model: Any, context: PythonModelContext) -> None:
        self.python_model = python_model
        self.raw_model = python_model
        self.context = context

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return _call_predict(self.python_model, self.context, data, params)


def _call_predict(model: Any, context: PythonModelContext, data: Any, params: Any) -> Any:
    """Call ``predict(context, data[, params])``, or ``predict(data[, params])`` for models
    written without the context argument (MLflow 3 accepts both)."""
    try:
        parameters = inspect.signature(model.predict).parameters
    except (TypeError, ValueError):
        return model.predict(context, data)
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    positional = [n for n, p in parameters.items() if n != "params" and p.kind in kinds]
    args = (context, data) if len(positional) >= 2 else (data,)
    if "params" in parameters:
        return model.predict(*args, params=params)
    return model.predict(*args)


def load_pyfunc(loaded: LoadedModel, model_config: dict[str, Any]) -> _Wrapper:
    """The pyfunc implementation (used by ``cairn.pyfunc.load_model``)."""
    conf = loaded.flavor("python_function")
    if conf.get("model_code_path"):
        raise UnsupportedFlavor(
            "This model was logged with MLflow's models-from-code, which runs the logged script "
            "to build the model; cairn does not load such models. Load it with MLflow."
        )
    _common.add_code_to_path(loaded, conf)
    reference = conf.get(REFERENCE_KEY)
    if isinstance(reference, dict) and reference.get("class"):
        python_model = _from_reference(loaded, reference)
    else:
        pickled = loaded.file(conf.get("python_model", PICKLE_FILE))
        loaded.policy.check_pickle(f"the cloudpickled Python model {str(pickled)!r}")
        from cairn.models.flavors.sklearn import load_pickle

        python_model = load_pickle(pickled, cloud=True)
    artifacts = {
        name: str(loaded.file(info.get("path")))
        for name, info in (conf.get("artifacts") or {}).items()
        if isinstance(info, dict)
    }
    config = {**(conf.get("model_config") or {}), **model_config}
    context = PythonModelContext(artifacts, config)
    if hasattr(python_model, "load_context"):
        python_model.load_context(context)
    return _Wrapper(python_model, context)


def _from_reference(loaded: LoadedModel, reference: dict[str, Any]) -> Any:
    ref = str(reference["class"])
    module_name, _, qualname = ref.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as err:
        raise ModelFormatError(
            f"Cannot import the model class {ref!r}: {err}. Install the package defining it, "
            "or save the model with code_paths shipping its module."
        ) from None
    if not isinstance(target, type):
        raise ModelFormatError(f"Refusing {ref!r}: a model reference must name a class")
    if not issubclass(target, PythonModel):
        # Only PythonModel subclasses are built without an explicit code opt-in: any other
        # class named by the file could be anything.
        loaded.policy.check_code(f"the class {ref!r}, which is not a cairn PythonModel")
    instance: Any = object.__new__(target)
    state_file = reference.get("state")
    if state_file:
        path = loaded.file(state_file)
        if path.suffix == ".json":
            state = json.loads(path.read_text(encoding="utf-8"))
        else:
            state = loaded.policy.load_skops(path, f"the model state {str(path)!r}")
        if not isinstance(state, dict):
            raise ModelFormatError(f"{path} must hold a mapping of attributes")
        instance.__dict__.update(state)
    return instance
