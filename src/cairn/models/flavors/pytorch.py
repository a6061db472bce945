"""The PyTorch flavor: weights plus an importable model class, or a ``torch.export`` archive.

    >>> import cairn.pytorch
    >>> cairn.pytorch.save_model(net, "model", init_kwargs={"hidden": 16})   # doctest: +SKIP
    >>> cairn.pytorch.load_model("model")(torch.randn(2, 4))                 # doctest: +SKIP

``serialization_format``:

* ``"state_dict"`` (default, safe): ``data/state_dict.pt`` holds the weights (read back with
  ``torch.load(weights_only=True)``, which refuses anything but tensors and containers) and
  ``MLmodel`` names the class (``module:QualName``) and the keyword arguments that rebuild it
  (``init_kwargs``, JSON). The class must be importable by module name: from an installed
  package, or from ``code_paths`` shipped with the model.
* ``"pt2"``: ``data/model.pt2`` from ``torch.export`` (needs ``input_example``), the format
  MLflow 3 uses by default, so MLflow loads it. ``torch.export.load`` unpickles parts of the
  archive, so loading it needs ``allow_pickle=True``; so do MLflow's pickled ``model.pth``.
"""

from __future__ import annotations

import importlib
import json
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

FLAVOR_NAME = "pytorch"
DATA_DIR = "data"
STATE_DICT = "state_dict.pt"
FORMATS = ("state_dict", "pt2")
#: Pickle modules MLflow may name in ``pickle_module_info.txt``; no other is ever imported.
_PICKLE_MODULES = ("pickle", "cloudpickle", "mlflow.pytorch.pickle_module")


def save_model(
    pytorch_model: Any,
    path: str | os.PathLike[str],
    *,
    serialization_format: str = "state_dict",
    init_kwargs: dict[str, Any] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    metadata: dict[str, Any] | None = None,
    mlflow_model: Model | None = None,
) -> None:
    """Save a ``torch.nn.Module``.

    Args:
        pytorch_model: the module (its ``forward`` takes one tensor).
        serialization_format: ``"state_dict"`` (default) or ``"pt2"`` (see the module doc).
        init_kwargs: JSON-able keyword arguments rebuilding the module with its class
            (``state_dict`` format); the rebuilt module is checked at save time.
        The other arguments are those of :func:`cairn.sklearn.save_model`.

    Raises:
        InvalidParameter: the class is not importable (defined in ``__main__``), it cannot be
            rebuilt from ``init_kwargs``, or ``pt2`` comes without an input example.
    """
    import torch

    if serialization_format not in FORMATS:
        raise InvalidParameter(
            f"serialization_format must be one of {list(FORMATS)}, not {serialization_format!r}"
        )
    model_dir = _common.prepare_dir(path)
    model = _common.new_model(mlflow_model)
    (model_dir / DATA_DIR).mkdir()
    conf: dict[str, Any] = {"serialization_format": serialization_format}
    if serialization_format == "state_dict":
        conf.update(_save_state_dict(pytorch_model, model_dir / DATA_DIR, init_kwargs or {}))
    else:
        _save_pt2(pytorch_model, model_dir / DATA_DIR / "model.pt2", input_example)

    def predict(data: Any, params: dict[str, Any] | None) -> Any:
        return _Wrapper(pytorch_model).predict(data, params)

    _common.add_signature_and_example(model, model_dir, signature, input_example, predict)
    code = _common.copy_code_paths(code_paths, model_dir)
    model.add_flavor("python_function", **_common.pyfunc_conf("mlflow.pytorch", DATA_DIR, code))
    model.add_flavor(
        FLAVOR_NAME,
        model_data=DATA_DIR,
        pytorch_version=str(torch.__version__),
        code=code,
        **conf,
    )
    _common.finish_save(
        model, model_dir, ["torch"], pip_requirements, extra_pip_requirements, metadata
    )


def _class_ref(cls: type) -> str:
    if cls.__module__ == "__main__" or "<locals>" in cls.__qualname__:
        raise InvalidParameter(
            f"Cannot save {cls.__qualname__} by reference: it is defined in a script or a "
            "function, so no other process can import it. Move it into a module (shipped with "
            "code_paths=['my_module.py'] if it is not installed), or save with "
            "serialization_format='pt2'."
        )
    return f"{cls.__module__}:{cls.__qualname__}"


def _save_state_dict(module: Any, data_dir: Path, init_kwargs: dict[str, Any]) -> dict[str, Any]:
    import torch

    ref = _class_ref(type(module))
    try:
        json.dumps(init_kwargs)
    except TypeError as err:
        raise InvalidParameter(f"init_kwargs must be JSON-serializable: {err}") from None
    state = module.state_dict()
    try:
        # Rebuilding now turns a wrong init_kwargs into an error at save time, not at load.
        rebuilt = type(module)(**init_kwargs)
        rebuilt.load_state_dict(state)
    except Exception as err:
        raise InvalidParameter(
            f"{ref} cannot be rebuilt with init_kwargs={init_kwargs!r} and these weights: "
            f"{err}. Pass the constructor arguments as init_kwargs."
        ) from None
    torch.save(state, data_dir / STATE_DICT)
    return {"model_class": ref, "init_kwargs": init_kwargs, "state_dict": STATE_DICT}


def _save_pt2(module: Any, target: Path, example: Any) -> None:
    import numpy as np
    import torch

    if isinstance(example, tuple):
        example = example[0]
    if example is None:
        raise InvalidParameter("serialization_format='pt2' needs an input_example to trace with")
    if hasattr(example, "to_numpy"):
        example = example.to_numpy(dtype=np.float32)
    tensor = torch.as_tensor(np.asarray(example))
    exported = torch.export.export(
        module.eval(), (tensor,), dynamic_shapes=({0: torch.export.Dim.DYNAMIC},)
    )
    torch.export.save(exported, str(target))


def log_model(
    pytorch_model: Any,
    name: str | None = None,
    *,
    artifact_path: str | None = None,
    serialization_format: str = "state_dict",
    init_kwargs: dict[str, Any] | None = None,
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
    """Log a PyTorch module as a logged model of the active run (see :func:`save_model`)."""
    from cairn.models._log import log_model as _log

    def save(target: Path, mlflow_model: Model) -> None:
        save_model(
            pytorch_model,
            target,
            serialization_format=serialization_format,
            init_kwargs=init_kwargs,
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
    allow_pickle: bool | None = None,
    allow_code: bool | None = None,
    trusted_types: Iterable[str] | None = None,
) -> Any:
    """The ``torch.nn.Module`` saved at ``model_uri``, in eval mode, on the CPU.

    Raises:
        PickleNotAllowed: a ``pt2`` archive or pickled module without ``allow_pickle=True``.
        ModelCodeNotAllowed: the class ships in the model's code of an unverified model.
        ModelFormatError: the class named in the file is not a torch module, or the weights
            do not fit it.
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
    torch = _common.require("torch", "torch", conf.get("pytorch_version"), FLAVOR_NAME)
    data = loaded.file(conf.get("model_data", DATA_DIR))
    fmt = conf.get("serialization_format")
    if fmt not in (None, "state_dict", "pt2", "pickle"):  # None: MLflow before 3 (pickle)
        raise ModelFormatError(
            f"Unknown PyTorch serialization_format {fmt!r} in the MLmodel file; cairn reads "
            "'state_dict', 'pt2' and 'pickle'"
        )
    if fmt == "state_dict":
        _common.add_code_to_path(loaded, conf)
        module = _rebuild(conf, torch)
        try:
            state = torch.load(data / str(conf.get("state_dict", STATE_DICT)), weights_only=True)
            module.load_state_dict(state)
        except Exception as err:  # torch's unpickler raises several kinds for a bad file
            raise ModelFormatError(
                f"Cannot read the weights in {str(data)!r}: {type(err).__name__}: {err}"
            ) from None
        return module.eval()
    if (data / "model.pt2").is_file() or fmt == "pt2":
        loaded.policy.check_pickle(f"the torch.export archive {str(data / 'model.pt2')!r}")
        return torch.export.load(str(data / "model.pt2")).module()
    pickled = data / "model.pth" if data.is_dir() else data
    loaded.policy.check_pickle(f"the pickled PyTorch model {str(pickled)!r}")
    _common.add_code_to_path(loaded, conf)
    info = data / "pickle_module_info.txt"
    name = info.read_text().strip() if info.is_file() else "pickle"
    if name not in _PICKLE_MODULES:
        raise ModelFormatError(f"Refusing pickle module {name!r} named by the model")
    if name.startswith("mlflow."):
        name = "cloudpickle"  # MLflow's module re-exports cloudpickle; cairn never imports mlflow
    module = torch.load(pickled, weights_only=False, pickle_module=importlib.import_module(name))
    return module.eval()


def _rebuild(conf: dict[str, Any], torch: Any) -> Any:
    ref = str(conf.get("model_class", ""))
    module_name, _, qualname = ref.partition(":")
    if not module_name or not qualname:
        raise ModelFormatError(f"Malformed model_class {ref!r}; expected 'module:QualName'")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as err:
        raise ModelFormatError(
            f"Cannot import the model class {ref!r}: {err}. Install the package defining it, "
            "or save the model with code_paths that ship its module."
        ) from None
    if not (isinstance(target, type) and issubclass(target, torch.nn.Module)):
        raise ModelFormatError(f"Refusing model_class {ref!r}: it is not a torch.nn.Module")
    kwargs = conf.get("init_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise ModelFormatError(f"init_kwargs must be a mapping, not {kwargs!r}")
    try:
        return target(**kwargs)
    except Exception as err:  # the class's own constructor, with arguments the file holds
        raise ModelFormatError(
            f"Cannot rebuild {ref} with the init_kwargs {kwargs!r} of the MLmodel file: "
            f"{type(err).__name__}: {err}"
        ) from None


class _Wrapper:
    def __init__(self, module: Any) -> None:
        self.raw_model = module

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd
        import torch

        if isinstance(data, pd.DataFrame):
            array = data.to_numpy(dtype=np.float32)
        elif isinstance(data, np.ndarray):
            array = data
        else:
            raise InvalidParameter(
                "The PyTorch flavor predicts on a pandas DataFrame or a numpy array, not "
                f"{type(data).__name__}"
            )
        with torch.no_grad():
            output = self.raw_model(torch.from_numpy(np.ascontiguousarray(array)), **(params or {}))
        result = output.detach().cpu().numpy()
        return pd.DataFrame(result) if isinstance(data, pd.DataFrame) else result


def load_pyfunc(loaded: LoadedModel, model_config: dict[str, Any]) -> _Wrapper:
    """The pyfunc implementation (used by ``cairn.pyfunc.load_model``)."""
    return _Wrapper(_load(loaded))
