"""What every flavor's ``save_model`` and loader share.

A save runs in this order: :func:`prepare_dir` (refuse a non-empty target), the flavor writes
its model file, :func:`add_signature_and_example` (inferring a signature from the example and
the model's own prediction when none is given), :func:`copy_code_paths`, then
:func:`finish_save` writes ``MLmodel`` and the environment files.
"""

from __future__ import annotations

import importlib
import logging
import os
import platform
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from cairn.errors import InvalidParameter, ResourceAlreadyExists
from cairn.models.env import CONDA_FILE, PYTHON_ENV_FILE, process_requirements, write_env_files
from cairn.models.errors import FrameworkNotInstalled
from cairn.models.mlmodel import MLMODEL_FILE_NAME, Model

if TYPE_CHECKING:
    from cairn.models.pyfunc import LoadedModel
    from cairn.models.schema import ModelSignature

__all__ = [
    "CODE_DIR",
    "add_code_to_path",
    "add_signature_and_example",
    "copy_code_paths",
    "finish_save",
    "prepare_dir",
    "pyfunc_conf",
    "require",
]

log = logging.getLogger("cairn.models")

CODE_DIR = "code"
#: Requirements every model's pyfunc loader needs, besides its framework.
BASE_PACKAGES = ("numpy", "pandas")


def require(module: str, package: str, version: str | None, flavor: str) -> ModuleType:
    """Import ``module`` or raise FrameworkNotInstalled naming ``package==version``."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise FrameworkNotInstalled(package, version, flavor) from None


def prepare_dir(path: str | os.PathLike[str]) -> Path:
    """The absolute model directory, created; refuse one that exists and is not empty."""
    target = Path(path).absolute()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ResourceAlreadyExists(
            f"Cannot save a model to {str(target)!r}: it already exists and is not an empty "
            "folder. Choose a new path or remove the old model first."
        )
    target.mkdir(parents=True, exist_ok=True)
    return target


def new_model(mlflow_model: Model | None) -> Model:
    return mlflow_model if mlflow_model is not None else Model()


def add_signature_and_example(
    model: Model,
    model_dir: Path,
    signature: ModelSignature | bool | None,
    input_example: Any,
    predict: Callable[[Any, dict[str, Any] | None], Any] | None,
) -> None:
    """Save the example and set the signature: the given one, none when ``False``, else
    inferred from the example and ``predict``'s output on it (the inputs alone when the
    prediction fails, as MLflow does)."""
    from cairn.models.example import save_example

    example = save_example(model, input_example, model_dir)
    if signature is False:
        return
    if signature is not None and signature is not True:
        model.signature = signature
        return
    if example is None:
        return
    from cairn.models.enforce import enforce_params, enforce_schema
    from cairn.models.schema import ModelSignature
    from cairn.models.signature import infer_params_schema, infer_schema

    try:
        inputs = infer_schema(example.data)
    except InvalidParameter as err:
        log.warning("Could not infer a signature from the input example: %s", err.message)
        return
    params = infer_params_schema(example.params) if example.params else None
    outputs = None
    if predict is not None:
        try:
            data = enforce_schema(example.data, inputs)
            output = predict(data, enforce_params(example.params, params) or None)
            if not inputs.is_tensor_spec() and getattr(output, "ndim", 0) == 1:
                import pandas as pd

                # Row-wise predictions of a table: one unnamed column, as MLflow records them.
                output = pd.Series(output)
            outputs = infer_schema(output)
        except Exception as err:  # a user model may raise anything; the signature is optional
            log.warning("Could not infer the output signature from the example: %s", err)
    model.signature = ModelSignature(inputs, outputs, params)


def copy_code_paths(
    code_paths: Sequence[str | os.PathLike[str]] | None, model_dir: Path
) -> str | None:
    """Copy files/folders into ``<model>/code/`` (``__pycache__`` left out); return ``"code"``
    or None when there is nothing to copy."""
    if not code_paths:
        return None
    if isinstance(code_paths, str | os.PathLike):
        raise InvalidParameter("code_paths must be a list of paths, not a single path")
    target = model_dir / CODE_DIR
    target.mkdir(exist_ok=True)
    for item in code_paths:
        source = Path(item)
        if source.is_dir():
            shutil.copytree(
                source, target / source.name, ignore=shutil.ignore_patterns("__pycache__")
            )
        elif source.is_file():
            shutil.copy2(source, target / source.name)
        else:
            raise InvalidParameter(f"code path {str(source)!r} does not exist")
    return CODE_DIR


def add_code_to_path(loaded: LoadedModel, conf: dict[str, Any]) -> None:
    """Put the model's ``code/`` folder on ``sys.path``, if the load policy allows it."""
    code = conf.get("code")
    if not code:
        return
    folder = loaded.file(code)
    loaded.policy.check_code(f"the Python code shipped in {str(folder)!r}")
    entry = str(folder)
    if entry not in sys.path:
        sys.path.insert(0, entry)


def pyfunc_conf(
    loader_module: str, data: str | None, code: str | None, **extra: Any
) -> dict[str, Any]:
    """The ``python_function`` flavor entry, with the keys MLflow writes."""
    conf: dict[str, Any] = {
        "loader_module": loader_module,
        "python_version": platform.python_version(),
        "env": {"conda": CONDA_FILE, "virtualenv": PYTHON_ENV_FILE},
    }
    if data is not None:
        conf["model_path"] = data
    if code is not None:
        conf["code"] = code
    conf.update(extra)
    return conf


def finish_save(
    model: Model,
    model_dir: Path,
    packages: Sequence[str],
    pip_requirements: Any,
    extra_pip_requirements: Any,
    metadata: dict[str, Any] | None,
) -> None:
    """Write ``MLmodel`` and the environment files for a model needing ``packages``."""
    from cairn.models.env import pinned_requirements

    if metadata is not None:
        model.metadata = metadata
    model.model_size_bytes = sum(p.stat().st_size for p in model_dir.rglob("*") if p.is_file())
    model.save(model_dir / MLMODEL_FILE_NAME)
    defaults = pinned_requirements([*packages, *BASE_PACKAGES])
    write_env_files(
        model_dir, process_requirements(defaults, pip_requirements, extra_pip_requirements)
    )
