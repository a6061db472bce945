"""Model packaging: the MLmodel format, signatures, flavors, model URIs and serving.

What lives where:

==========================  ========================================================
module                      concept
==========================  ========================================================
``mlmodel``                 the ``MLmodel`` file (:class:`Model`)
``schema``, ``signature``   signatures: specs, JSON layout, inference
``enforce``, ``payloads``   signature enforcement; scoring request/response bodies
``example``, ``env``        input examples; requirements and environment files
``trust``                   digests, pickle opt-in, skops trust (DESIGN decision 9)
``uri``                     ``runs:/``, ``models:/``, paths and URLs to local folders
``pyfunc``, ``flavors/``    one predict for every model; one module per framework
``serving``, ``predict``    the scoring server; batch scoring
``envs``                    ``--env-manager virtualenv``
==========================  ========================================================

Names resolve lazily, so ``import cairn.models`` loads neither numpy nor a framework::

    >>> from cairn.models import infer_signature, Model
    >>> infer_signature([1.0, 2.0]).inputs
    [double (required)]
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cairn.models._log import ModelInfo
    from cairn.models.mlmodel import Model
    from cairn.models.schema import (
        AnyType,
        Array,
        ColSpec,
        DataType,
        Map,
        ModelSignature,
        Object,
        ParamSchema,
        ParamSpec,
        Property,
        Schema,
        TensorSpec,
    )
    from cairn.models.signature import infer_signature

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "Model",
    "ModelInfo",
    "ModelSignature",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
    "infer_signature",
]

_WHERE = {
    "ModelInfo": "cairn.models._log",
    "Model": "cairn.models.mlmodel",
    "infer_signature": "cairn.models.signature",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'cairn.models' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE.get(name, "cairn.models.schema")), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
