"""Input examples: saved beside the model as JSON, in MLflow's layout.

``input_example.json`` holds the example and ``serving_input_example.json`` the same data as a
scoring-server request body; ``MLmodel``'s ``saved_input_example_info`` says which is which::

    type: dataframe          # or ndarray, json_object
    pandas_orient: split     # dataframes only
    artifact_path: input_example.json
    serving_input_path: serving_input_example.json

An example given as a ``(data, params)`` tuple also stores its params (``"params": "true"``
in the info, ``{"inputs": ..., "params": ...}`` in the file).

    >>> import pandas as pd
    >>> example = InputExample(pd.DataFrame({"a": [1.0], "b": ["x"]}))
    >>> example.info["type"], example.json_example
    ('dataframe', '{"columns": ["a", "b"], "data": [[1.0, "x"]]}')
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cairn.errors import InvalidParameter
from cairn.models.mlmodel import file_in

if TYPE_CHECKING:
    from cairn.models.mlmodel import Model

__all__ = ["InputExample", "JSONEncoder", "read_example", "save_example"]

EXAMPLE_FILE = "input_example.json"
SERVING_EXAMPLE_FILE = "serving_input_example.json"


class JSONEncoder(json.JSONEncoder):
    """JSON for numpy and pandas values: arrays to lists, bytes to base64, dates to ISO."""

    def default(self, o: Any) -> Any:
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, bytes | bytearray):
            return base64.encodebytes(bytes(o)).decode("ascii")
        if isinstance(o, np.datetime64):
            return str(np.datetime_as_string(o))
        if isinstance(o, pd.Timestamp | dt.date | dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


class InputExample:
    """An example prepared for saving: ``data`` (as the model takes it), ``params``, the JSON
    texts and the ``info`` mapping for ``MLmodel``."""

    def __init__(self, example: Any) -> None:
        params = None
        if isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], dict):
            example, params = example
        self.data = copy.deepcopy(example)
        self.params = params
        self.info: dict[str, Any] = {"artifact_path": EXAMPLE_FILE}
        if params:
            self.info["params"] = "true"
        payload: Any
        serving: dict[str, Any]
        data = self.data
        if isinstance(data, pd.DataFrame):
            split = data.astype(object).where(data.notna(), None).to_dict(orient="split")
            del split["index"]
            if [*data.columns] == [*range(data.shape[1])]:
                del split["columns"]
            payload, serving = split, {"dataframe_split": split}
            self.info.update(
                type="dataframe", pandas_orient="split" if "columns" in split else "values"
            )
        elif isinstance(data, np.ndarray) or (
            isinstance(data, dict)
            and data
            and all(isinstance(v, np.ndarray) for v in data.values())
        ):
            payload = _ndarray_payload(data)
            serving = {"inputs": payload}
            self.info["type"] = "ndarray"
        elif isinstance(data, dict | list) or np.isscalar(data) or isinstance(data, dt.datetime):
            payload, serving = data, {"inputs": data}
            self.info["type"] = "json_object"
        else:
            raise InvalidParameter(
                f"Unsupported input example type {type(data).__name__}; use a pandas DataFrame, "
                "a numpy array, a dict of arrays, a dict, a list or a scalar"
            )
        if params:
            payload = {"inputs": payload, "params": params}
            serving = {**serving, "params": params}
        self.json_example = json.dumps(payload, cls=JSONEncoder)
        self.json_serving = json.dumps(serving, cls=JSONEncoder, indent=2)
        self.info["serving_input_path"] = SERVING_EXAMPLE_FILE

    def save(self, model_dir: Path) -> None:
        (model_dir / EXAMPLE_FILE).write_text(self.json_example, encoding="utf-8")
        (model_dir / SERVING_EXAMPLE_FILE).write_text(self.json_serving, encoding="utf-8")


def _ndarray_payload(data: Any) -> Any:
    def clean(array: np.ndarray[Any, Any]) -> Any:
        if array.dtype.kind == "f":
            # MLflow writes missing numbers as null, not NaN (which is not JSON).
            return (
                [None if v != v else v for v in array.ravel().tolist()]
                if array.ndim == 1
                else [clean(row) for row in array]
            )
        return array.tolist()

    if isinstance(data, dict):
        return {k: clean(v) for k, v in data.items()}
    return clean(data)


def save_example(model: Model, example: Any, model_dir: Path) -> InputExample | None:
    """Write ``example`` into ``model_dir`` and record it in ``model``; None for no example."""
    if example is None:
        return None
    prepared = InputExample(example)
    prepared.save(model_dir)
    model.saved_input_example_info = prepared.info
    return prepared


def read_example(model: Model, model_dir: Path) -> Any:
    """The example saved with ``model`` (a DataFrame, array, dict...), or None."""
    info = model.saved_input_example_info
    if not info:
        return None
    path = file_in(model_dir, info.get("artifact_path", EXAMPLE_FILE))
    if not path.is_file():
        return None
    payload = json.loads(path.read_text(encoding="utf-8"))
    if info.get("params"):
        payload = payload.get("inputs")
    kind = info.get("type")
    schema = model.get_input_schema()
    if kind == "dataframe":
        from cairn.models.payloads import frame_from_split

        return frame_from_split(payload, schema)
    if kind == "ndarray":
        from cairn.models.payloads import parse_inputs

        return parse_inputs(payload, schema)
    return payload
