"""Content digests of datasets: cheap, stable, and bounded in cost.

Only a sample is hashed (the first rows, at most ``MAX_ELEMENTS`` values), together with the
full shape, column names and dtypes. Two datasets that differ only past the sample and have the
same shape get the same digest; that is the price of hashing a billion-row frame in
milliseconds, and the same trade MLflow makes.

    >>> import numpy as np
    >>> a = np.arange(12).reshape(4, 3)
    >>> array_digest({"features": a}) == array_digest({"features": a.copy()})
    True
    >>> array_digest({"features": a}) == array_digest({"features": a + 1})
    False
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["MAX_ELEMENTS", "MAX_ROWS", "array_digest", "frame_digest"]

MAX_ROWS = 10_000
MAX_ELEMENTS = 1_000_000
#: Hex digits kept: MLflow's digests are 8 long, and the store allows 36.
LENGTH = 8


def _sample_rows(num_rows: int, row_size: int) -> int:
    return max(1, min(MAX_ROWS, num_rows, MAX_ELEMENTS // max(1, row_size)))


def frame_digest(frame: pd.DataFrame) -> str:
    """The digest of a DataFrame: its shape, columns, dtypes and first rows' values."""
    import pandas as pd

    sample = frame.head(_sample_rows(len(frame), len(frame.columns)))
    try:
        rows = pd.util.hash_pandas_object(sample, index=False).to_numpy()
    except (TypeError, ValueError):
        # Unhashable cells (lists, dicts) are hashed through their text.
        rows = pd.util.hash_pandas_object(sample.astype(str), index=False).to_numpy()
    hasher = hashlib.sha256(rows.tobytes())
    header = [list(frame.shape), [str(c) for c in frame.columns], [str(t) for t in frame.dtypes]]
    hasher.update(json.dumps(header).encode())
    return hasher.hexdigest()[:LENGTH]


def array_digest(arrays: Mapping[str, np.ndarray | None]) -> str:
    """The digest of named arrays (features, targets...): names, shapes, dtypes and a
    bounded prefix of each one's values."""
    hasher = hashlib.sha256()
    for name in sorted(arrays):
        array = arrays[name]
        if array is not None:
            hasher.update(json.dumps([name, list(array.shape), str(array.dtype)]).encode())
            hasher.update(_prefix_bytes(array))
    return hasher.hexdigest()[:LENGTH]


def _prefix_bytes(array: Any) -> bytes:
    import numpy as np

    array = np.atleast_1d(array)
    row_size = int(np.prod(array.shape[1:])) if array.ndim > 1 else 1
    rows = array[: _sample_rows(len(array), row_size)]
    flat = np.ascontiguousarray(rows).reshape(-1)[:MAX_ELEMENTS]
    if flat.dtype.hasobject:
        # Object arrays hold pointers; their values' text is what is stable.
        return repr(flat.tolist()).encode()
    data: bytes = flat.tobytes()
    return data
