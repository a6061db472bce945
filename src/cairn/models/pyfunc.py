"""``python_function``: one ``predict`` in front of every model, whatever its framework.

:func:`load_model` opens any model cairn or MLflow saved with a flavor cairn knows
(scikit-learn, XGBoost, LightGBM, PyTorch, custom :class:`PythonModel`) and returns a
:class:`PyFuncModel` whose ``predict`` enforces the model's signature first::

    >>> import cairn.pyfunc
    >>> model = cairn.pyfunc.load_model("runs:/<run_id>/model")     # doctest: +SKIP
    >>> model.predict(frame)                                        # doctest: +SKIP

Which code a model runs on load is decided by the caller (see :mod:`cairn.models.trust`):
``allow_pickle``, ``allow_code`` and ``trusted_types`` are the switches.

Custom models subclass :class:`PythonModel`::

    class AddN(cairn.pyfunc.PythonModel):
        def __init__(self, n):
            self.n = n

        def predict(self, context, model_input, params=None):
            return model_input + self.n
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from cairn.models.errors import UnsupportedFlavor
from cairn.models.mlmodel import Model, file_in
from cairn.models.trust import LoadPolicy, verify_digest
from cairn.models.uri import ResolvedModel, resolve_model_uri

__all__ = [
    "FLAVOR_NAME",
    "LoadedModel",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "load_model",
    "open_model",
]

log = logging.getLogger("cairn.models")

FLAVOR_NAME = "python_function"

#: ``loader_module`` values of the python_function flavor -> the cairn module loading them.
#: Only these are imported: a loader named by the file is never imported as such.
LOADERS = {
    "mlflow.sklearn": "cairn.models.flavors.sklearn",
    "mlflow.xgboost": "cairn.models.flavors.xgboost",
    "mlflow.lightgbm": "cairn.models.flavors.lightgbm",
    "mlflow.pytorch": "cairn.models.flavors.pytorch",
    "mlflow.pyfunc.model": "cairn.models.flavors.pyfunc",
}
for _alias in ("sklearn", "xgboost", "lightgbm", "pytorch"):
    LOADERS[f"cairn.{_alias}"] = LOADERS[f"mlflow.{_alias}"]
LOADERS["cairn.pyfunc"] = LOADERS["mlflow.pyfunc.model"]
#: Estimator methods returning one output row per input row (``score`` does not).
ROW_WISE_METHODS = frozenset(
    {"predict", "predict_proba", "predict_log_proba", "decision_function", "transform"}
)
#: Loaders whose models predict each row independently of the others.
ROW_WISE_LOADERS = frozenset(
    {"mlflow.sklearn", "mlflow.xgboost", "mlflow.lightgbm", "cairn.sklearn", "cairn.xgboost"}
    | {"cairn.lightgbm"}
)


class PythonModel:
    """Base class of custom models: override :meth:`predict`, optionally :meth:`load_context`.

    cairn saves an instance by reference (its class, importable by module name, plus its
    attributes as JSON or skops), never by pickle; a ``cloudpickle`` copy is added for MLflow.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once after loading: read ``context.artifacts`` (name -> local path)."""

    def predict(
        self, context: PythonModelContext, model_input: Any, params: dict[str, Any] | None = None
    ) -> Any:
        """Return predictions for ``model_input`` (after signature enforcement)."""
        raise NotImplementedError(f"{type(self).__name__} must implement predict()")

    @property
    def predict_type_hints(self) -> TypeHints:
        """What MLflow's loader reads before converting input: cairn models declare no type
        hints, so MLflow passes input through as it does for its own untyped models."""
        return TypeHints()


class TypeHints(NamedTuple):
    """The input and output type hints of ``predict`` (always None for cairn's models)."""

    input: Any = None
    output: Any = None


@dataclass
class PythonModelContext:
    """What :meth:`PythonModel.load_context` and ``predict`` receive.

    Attributes:
        artifacts: artifact name -> absolute local path inside the loaded model directory.
        model_config: configuration given when saving, updated by the loader's.
    """

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


class Predictor(Protocol):
    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any: ...


@dataclass(frozen=True)
class LoadedModel:
    """An opened model directory: its metadata, where it is, and the load policy."""

    meta: Model
    path: Path
    policy: LoadPolicy
    resolved: ResolvedModel

    def flavor(self, name: str) -> dict[str, Any]:
        """The configuration of flavor ``name``. Raises UnsupportedFlavor if absent."""
        config = self.meta.flavors.get(name)
        if config is None:
            raise UnsupportedFlavor(
                f"The model at {self.resolved.uri!r} has no {name!r} flavor; its flavors are "
                f"{sorted(self.meta.flavors)}. Load it with cairn.pyfunc.load_model, or with "
                "the module of one of those flavors."
            )
        return config

    def file(self, relative: object) -> Path:
        """``relative`` (a path the MLmodel file names) inside the model directory; see
        :func:`~cairn.models.mlmodel.file_in`."""
        return file_in(self.path, relative)


def open_model(
    model_uri: str | os.PathLike[str],
    dst_path: str | os.PathLike[str] | None = None,
    *,
    allow_pickle: bool | None = None,
    allow_code: bool | None = None,
    trusted_types: Iterable[str] | None = None,
    tracking_uri: str | None = None,
    expected_digest: str | None = None,
) -> LoadedModel:
    """Resolve ``model_uri``, read its ``MLmodel`` and decide the load policy.

    A model whose store recorded a digest is checked against it here: a match makes the
    model *verified*; a mismatch raises :class:`~cairn.models.errors.ModelTampered`.
    ``expected_digest`` supplies that digest for a copy resolved elsewhere (the process that
    started this one looked it up in the store).
    """
    resolved = resolve_model_uri(model_uri, dst_path, tracking_uri)
    meta = Model.load(resolved.path)
    verified = False
    digest = resolved.expected_digest or expected_digest
    if digest:
        verify_digest(resolved.path, digest, f"model {resolved.uri!r}")
        verified = True
    policy = LoadPolicy.create(allow_pickle, allow_code, trusted_types, verified)
    return LoadedModel(meta, resolved.path, policy, resolved)


class PyFuncModel:
    """A loaded model behind one :meth:`predict`.

    Attributes:
        metadata: the model's :class:`~cairn.models.mlmodel.Model` (its MLmodel file).
        model_path: the local directory it was loaded from.
    """

    def __init__(self, loaded: LoadedModel, impl: Predictor) -> None:
        self._loaded = loaded
        self._impl = impl
        self.metadata = loaded.meta
        self.model_path = loaded.path
        self._input_schema = loaded.meta.get_input_schema()
        self._params_schema = loaded.meta.get_params_schema()

    @property
    def model_id(self) -> str | None:
        return self.metadata.model_id

    @property
    def loader_module(self) -> str:
        return str(self.metadata.flavors[FLAVOR_NAME].get("loader_module"))

    def predict(self, data: Any, params: Mapping[str, Any] | None = None) -> Any:
        """Predictions for ``data``, enforced against the signature first.

        Raises:
            InvalidModelInput: ``data`` or ``params`` do not fit the signature.
        """
        data, checked = self.prepare(data, params)
        return self.predict_prepared(data, checked)

    def prepare(
        self, data: Any, params: Mapping[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """``(data, params)`` enforced against the signature: :meth:`predict` minus the model
        call, so a server can check each request alone and score several together."""
        from cairn.models.enforce import enforce_params, enforce_schema

        if self._input_schema is not None:
            data = enforce_schema(data, self._input_schema)
        return data, enforce_params(params, self._params_schema)

    def predict_prepared(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Call the model on input that :meth:`prepare` returned."""
        return self._impl.predict(data, params=params or None)

    @property
    def row_wise(self) -> bool:
        """Whether each output row depends on its input row only, so that several inputs can
        be scored in one call and the output split back (true for the tree and linear
        frameworks; never assumed for custom or neural models)."""
        conf = self.metadata.flavors[FLAVOR_NAME]
        method = str(conf.get("predict_fn", "predict"))
        return self.loader_module in ROW_WISE_LOADERS and method in ROW_WISE_METHODS

    @property
    def input_example(self) -> Any:
        """The input example saved with the model, or None."""
        return self.metadata.load_input_example(self.model_path)

    def unwrap_python_model(self) -> Any:
        """The :class:`PythonModel` instance of a custom model."""
        inner = getattr(self._impl, "python_model", None)
        if inner is None:
            raise UnsupportedFlavor("This model is not a custom PythonModel")
        return inner

    def get_raw_model(self) -> Any:
        """The framework's own model object (an estimator, a Booster, a torch module)."""
        return getattr(self._impl, "raw_model", self._impl)

    def __repr__(self) -> str:
        return f"<PyFuncModel {self.loader_module} from {str(self.model_path)!r}>"


def load_model(
    model_uri: str | os.PathLike[str],
    dst_path: str | os.PathLike[str] | None = None,
    *,
    allow_pickle: bool | None = None,
    allow_code: bool | None = None,
    trusted_types: Iterable[str] | None = None,
    model_config: Mapping[str, Any] | None = None,
    suppress_warnings: bool = False,
    expected_digest: str | None = None,
) -> PyFuncModel:
    """Load any model with a ``python_function`` flavor cairn supports.

    Args:
        model_uri: a local path, ``runs:/``, ``models:/<model_id>``, ``mlflow-artifacts:/``
            or an fsspec URL (see :mod:`cairn.models.uri`).
        dst_path: where remote models are downloaded (default: a temporary folder).
        allow_pickle: accept pickle-based content (runs code from the file).
        allow_code: accept Python code shipped in the model even when its origin is unknown.
        trusted_types: skops types to accept beyond skops' default trusted set.
        model_config: configuration passed to custom models (``context.model_config``).
        suppress_warnings: accepted for MLflow compatibility; cairn warns little anyway.
        expected_digest: the digest the store recorded for this model, when ``model_uri`` is
            a copy fetched elsewhere (see :func:`open_model`).

    Raises:
        ModelNotFound, ModelFormatError, UnsupportedFlavor, FrameworkNotInstalled,
        PickleNotAllowed, ModelCodeNotAllowed, UntrustedTypes, ModelTampered.

    Example::

        model = cairn.pyfunc.load_model("models:/m-0a1b...", trusted_types=[...])
        model.predict(pandas_frame)
    """
    loaded = open_model(
        model_uri,
        dst_path,
        allow_pickle=allow_pickle,
        allow_code=allow_code,
        trusted_types=trusted_types,
        expected_digest=expected_digest,
    )
    return load_opened(loaded, model_config)


def load_opened(loaded: LoadedModel, model_config: Mapping[str, Any] | None = None) -> PyFuncModel:
    """The :class:`PyFuncModel` of an already opened model directory."""
    meta = loaded.meta
    conf = meta.flavors.get(FLAVOR_NAME)
    if conf is None:
        raise UnsupportedFlavor(
            f"The model at {loaded.resolved.uri!r} has no python_function flavor (its flavors: "
            f"{sorted(meta.flavors)}), so it has no generic predict. Load it with its own "
            "flavor's load_model instead."
        )
    loader = str(conf.get("loader_module", ""))
    module_name = LOADERS.get(loader)
    if module_name is None:
        supported = ", ".join(sorted(k for k in LOADERS if k.startswith("mlflow.")))
        raise UnsupportedFlavor(
            f"The model at {loaded.resolved.uri!r} is loaded by {loader!r} (flavors: "
            f"{sorted(meta.flavors)}), which cairn cannot load. cairn loads models whose "
            f"python_function loader is one of: {supported}. Load this one with MLflow."
        )
    module = importlib.import_module(module_name)
    impl = module.load_pyfunc(loaded, dict(model_config or {}))
    return PyFuncModel(loaded, impl)
