"""Datasets a run uses: build one with :func:`from_pandas` or :func:`from_numpy`, record it
with :func:`cairn.log_input` (MLflow's ``mlflow.data``).

    >>> import pandas as pd
    >>> import cairn.data
    >>> ds = cairn.data.from_pandas(pd.DataFrame({"x": [1, 2]}), source="x.csv", name="x")
    >>> ds.name, ds.source.uri
    ('x', 'x.csv')

Names resolve lazily: ``import cairn.data`` loads neither pandas nor numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cairn.data.dataset import Dataset, get_source
    from cairn.data.numpy_dataset import NumpyDataset, from_numpy
    from cairn.data.pandas_dataset import PandasDataset, from_pandas
    from cairn.data.sources import DatasetSource

__all__ = [
    "Dataset",
    "DatasetSource",
    "NumpyDataset",
    "PandasDataset",
    "from_numpy",
    "from_pandas",
    "get_source",
]

_WHERE = {
    "Dataset": "cairn.data.dataset",
    "get_source": "cairn.data.dataset",
    "DatasetSource": "cairn.data.sources",
    "NumpyDataset": "cairn.data.numpy_dataset",
    "from_numpy": "cairn.data.numpy_dataset",
    "PandasDataset": "cairn.data.pandas_dataset",
    "from_pandas": "cairn.data.pandas_dataset",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'cairn.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
