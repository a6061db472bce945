"""The errors of model packaging, loading and serving, under :class:`~cairn.errors.CairnError`.

::

    CairnError
    ├── InvalidParameter                INVALID_PARAMETER_VALUE 400
    │   ├── ModelFormatError            (no MLmodel file, a malformed or newer-format one)
    │   ├── UnsupportedFlavor           (a flavor or loader cairn cannot load)
    │   ├── InvalidModelInput           (predict input that breaks the model's signature)
    │   └── UnsafeModelError            (loading would run code; needs an explicit opt-in)
    │       ├── PickleNotAllowed        (pickle / cloudpickle / torch pt2 content)
    │       ├── ModelCodeNotAllowed     (Python code shipped inside the model)
    │       └── UntrustedTypes          (skops types outside the trusted set; ``.types``)
    ├── ResourceNotFound                RESOURCE_DOES_NOT_EXIST 404
    │   └── ModelNotFound               (a model URI that resolves to nothing)
    ├── InvalidState                    INVALID_STATE           400
    │   └── ModelTampered               (files differ from the digest recorded at log time)
    ├── FrameworkNotInstalled           INVALID_STATE           400 (names the pip package)
    └── RegistryNotAvailable            NOT_IMPLEMENTED         501

Every message says what to do next: which flag to pass, which package to install, which
column is missing.

    >>> err = UntrustedTypes("x.skops", ["sklearn.tree._tree.Tree"])
    >>> err.types
    ['sklearn.tree._tree.Tree']
    >>> isinstance(err, UnsafeModelError)
    True
"""

from __future__ import annotations

from collections.abc import Sequence

from cairn.errors import CairnError, InvalidParameter, InvalidState, ResourceNotFound

__all__ = [
    "FrameworkNotInstalled",
    "InvalidModelInput",
    "ModelCodeNotAllowed",
    "ModelFormatError",
    "ModelNotFound",
    "ModelTampered",
    "PickleNotAllowed",
    "RegistryNotAvailable",
    "UnsafeModelError",
    "UnsupportedFlavor",
    "UntrustedTypes",
]

#: The switches a user can flip, named once so every message says the same thing.
PICKLE_SWITCH = "allow_pickle=True (CLI: --allow-pickle; environment: CAIRN_ALLOW_PICKLE=true)"
CODE_SWITCH = (
    "allow_code=True (CLI: --allow-code; environment: CAIRN_ALLOW_MODEL_CODE=true), "
    "or allow_pickle=True"
)


class ModelFormatError(InvalidParameter):
    """A model directory cairn cannot read: no ``MLmodel``, a malformed or newer one."""


class UnsupportedFlavor(InvalidParameter):
    """The model's flavors or ``loader_module`` are not ones cairn can load."""


class InvalidModelInput(InvalidParameter):
    """Predict input that does not match the model's signature, or a malformed request."""


class UnsafeModelError(InvalidParameter):
    """Loading this model would run code from it; the caller has not opted in."""


class PickleNotAllowed(UnsafeModelError):
    """Pickle-based content (pickle, cloudpickle, torch ``pt2``) without ``allow_pickle``."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"Refusing to load {what}: it is pickle-based, and unpickling runs arbitrary code "
            "from the file. Load it only if you trust whoever wrote it, by passing "
            f"{PICKLE_SWITCH}. Models saved by cairn use safe formats (skops, native "
            "XGBoost/LightGBM files, PyTorch weights) and need no such switch."
        )


class ModelCodeNotAllowed(UnsafeModelError):
    """Python code shipped inside a model of unknown origin, without ``allow_code``."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"Refusing to load {what}: importing it runs Python code shipped inside the model, "
            "and this model's origin cannot be verified (it was not loaded through a models:/ "
            "or runs:/ URI whose content digest matches the one recorded when it was logged). "
            f"If you trust it, pass {CODE_SWITCH}."
        )


class UntrustedTypes(UnsafeModelError):
    """A skops file referencing types outside skops' default trusted set.

    Attributes:
        types: the fully qualified names of the untrusted types, sorted.
    """

    types: list[str]

    def __init__(self, what: str, types: Sequence[str]) -> None:
        names = sorted(set(types))
        listed = ", ".join(repr(t) for t in names)
        super().__init__(
            f"Refusing to load {what}: it references types outside skops' default trusted "
            f"set: {listed}. Loading them can run code from those types. If you trust this "
            f"model, list them: trusted_types={names!r} (CLI: --trusted-type NAME, repeated), "
            "or load it through its models:/ or runs:/ URI so that the digest recorded at log "
            "time vouches for it.",
            types=names,
        )


class ModelNotFound(ResourceNotFound):
    """A model URI that resolves to nothing."""


class ModelTampered(InvalidState):
    """A logged model whose files no longer match the digest recorded when it was logged."""


class FrameworkNotInstalled(CairnError):
    """The model's framework is not importable; the message names the package to install."""

    error_code = "INVALID_STATE"

    def __init__(self, package: str, version: str | None, flavor: str) -> None:
        # A local label ("2.13.0+cu130") names a build PyPI does not serve: ask for the release.
        version = version.split("+")[0] if version else version
        spec = f"{package}=={version}" if version else package
        super().__init__(
            f"This model needs the {flavor} flavor's framework, which is not installed. "
            f"Install it with: pip install '{spec}'"
            + (" (the version the model was saved with)" if version else ""),
            package=package,
            version=version,
        )


class RegistryNotAvailable(CairnError):
    """The model registry is not part of cairn yet."""

    error_code = "NOT_IMPLEMENTED"

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} needs the model registry, which cairn does not have yet. Log the model "
            "without it and load it by its models:/<model_id> URI (returned by log_model as "
            "model_info.model_uri) or runs:/<run_id>/<name>."
        )
