"""Datasets built from numpy arrays (:func:`from_numpy`).

>>> import numpy as np
>>> ds = from_numpy(np.zeros((4, 3)), source="x.npy", targets=np.array([0, 1, 0, 1]))
>>> ds.name, ds.source_type, ds.features.shape
('dataset', 'local', (4, 3))
>>> import json; json.loads(ds.profile)["num_rows"]
4
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cairn.data._digest import array_digest
from cairn.data.dataset import Dataset
from cairn.data.sources import DatasetSource, resolve_source
from cairn.errors import CairnError, InvalidParameter

if TYPE_CHECKING:
    import numpy as np

    Arrays = np.ndarray | dict[str, np.ndarray]

__all__ = ["NumpyDataset", "from_numpy"]

_log = logging.getLogger("cairn")


class NumpyDataset(Dataset):
    """Features (an array, or a dict of named arrays) and optional targets."""

    def __init__(
        self,
        features: Arrays,
        source: DatasetSource,
        targets: Arrays | None = None,
        name: str | None = None,
        digest: str | None = None,
    ) -> None:
        self._features = features
        self._targets = targets
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        named = {**_named("features", self._features), **_named("targets", self._targets)}
        return array_digest(named)

    @property
    def features(self) -> Arrays:
        return self._features

    @property
    def targets(self) -> Arrays | None:
        return self._targets

    def _make_schema(self) -> str | None:
        """MLflow's layout: ``{"mlflow_tensorspec": {"features": <schema JSON>, "targets":
        <schema JSON> or null}}``; None when an array has no schema type."""
        try:
            parts = {"features": _schema_json(self._features), "targets": None}
            if self._targets is not None:
                parts["targets"] = _schema_json(self._targets)
        except CairnError as err:
            _log.debug("No schema for dataset %r: %s", self.name, err)
            return None
        return json.dumps({"mlflow_tensorspec": parts})

    def _make_profile(self) -> str | None:
        """``num_rows`` and ``num_elements`` of the features, then MLflow's per-array
        ``features_shape``/``features_size``/``features_nbytes`` (and ``targets_*``)."""
        arrays = [a for a in _named("features", self._features).values() if a is not None]
        profile: dict[str, Any] = {
            "num_rows": len(arrays[0]) if arrays[0].ndim else 1,
            "num_elements": sum(int(a.size) for a in arrays),
        }
        for role, value in (("features", self._features), ("targets", self._targets)):
            if value is not None:
                profile.update(_sizes(role, value))
        return json.dumps(profile)


def _named(role: str, value: Arrays | None) -> dict[str, np.ndarray | None]:
    if isinstance(value, Mapping):
        return {f"{role}.{k}": v for k, v in value.items()}
    return {role: value}


def _sizes(role: str, value: Arrays) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {
            f"{role}_shape": {k: list(v.shape) for k, v in value.items()},
            f"{role}_size": {k: int(v.size) for k, v in value.items()},
            f"{role}_nbytes": {k: int(v.nbytes) for k, v in value.items()},
        }
    return {
        f"{role}_shape": list(value.shape),
        f"{role}_size": int(value.size),
        f"{role}_nbytes": int(value.nbytes),
    }


def _schema_json(value: Arrays) -> str:
    from cairn.models.signature import infer_schema

    return infer_schema(dict(value) if isinstance(value, Mapping) else value).to_json()


def _as_arrays(value: Any, role: str) -> Arrays:
    import numpy as np

    if isinstance(value, Mapping):
        if not value:
            raise InvalidParameter(f"from_numpy: {role} is an empty dict")
        return {str(k): np.asarray(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value
    raise InvalidParameter(
        f"from_numpy: {role} must be a numpy array or a dict of arrays, not {type(value).__name__}"
    )


def from_numpy(
    features: Any,
    source: Any = None,
    targets: Any = None,
    name: str | None = None,
    digest: str | None = None,
) -> NumpyDataset:
    """A dataset of numpy arrays to log with :func:`cairn.log_input`.

    Args:
        features: an array, or a dict of named arrays.
        source: where it came from: a path, a URI or a
            :class:`~cairn.data.sources.DatasetSource`; by default, the running code.
        targets: an array, or a dict of named arrays.
        name: defaults to ``"dataset"``.
        digest: defaults to a hash of the content (see :mod:`cairn.data._digest`).

    Raises InvalidParameter for features or targets that are not arrays.
    """
    features = _as_arrays(features, "features")
    targets = None if targets is None else _as_arrays(targets, "targets")
    return NumpyDataset(features, resolve_source(source), targets, name, digest)
