"""Signature inference: a :class:`~cairn.models.schema.ModelSignature` from example data.

The rules are MLflow's, so a model logged by either tool gets the same signature:

* a pandas DataFrame gives named columns (a column holding None/NaN is optional);
* a Series gives one column; a list of scalars one unnamed column;
* a numpy array gives one unnamed tensor (first dimension variable), a dict of arrays named
  tensors;
* a dict of scalars/lists, or a list of dicts, gives named columns (nested values become
  ``Array``/``Object``; keys missing or None in some items are optional);
* a scalar gives one unnamed column.

    >>> import pandas as pd
    >>> sig = infer_signature(pd.DataFrame({"a": [1.0, None], "b": ["x", "y"]}), [0, 1])
    >>> sig.inputs
    ['a': double (optional), 'b': string (required)]
    >>> sig.outputs
    [long (required)]
    >>> infer_signature(params={"temperature": 0.5}).params
    ['temperature': double (default: 0.5)]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from cairn.errors import InvalidParameter
from cairn.models.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    FieldType,
    Map,
    ModelSignature,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)

__all__ = ["infer_params_schema", "infer_schema", "infer_signature"]

_SCALAR_TYPES: dict[type, DataType] = {
    bool: DataType.boolean,
    np.bool_: DataType.boolean,
    int: DataType.long,
    np.int64: DataType.long,
    np.int32: DataType.integer,
    float: DataType.double,
    np.float64: DataType.double,
    np.float32: DataType.float,
    str: DataType.string,
    np.str_: DataType.string,
    bytes: DataType.binary,
    np.bytes_: DataType.binary,
    bytearray: DataType.binary,
}


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: Mapping[str, Any] | None = None
) -> ModelSignature:
    """The signature of a model taking ``model_input``, returning ``model_output`` and
    accepting ``params`` at predict time; any of them may be None.

    Raises InvalidParameter when a value has no schema type (an arbitrary object, say).
    """
    inputs = infer_schema(model_input) if model_input is not None else None
    outputs = infer_schema(model_output) if model_output is not None else None
    return ModelSignature(inputs, outputs, infer_params_schema(params) if params else None)


def infer_schema(data: Any) -> Schema:
    """The schema of one dataset (see the module docstring for the rules)."""
    if isinstance(data, list) and not data:
        return Schema([ColSpec(DataType.string)])  # MLflow's choice for an empty list
    if isinstance(data, pd.DataFrame):
        return Schema(
            [ColSpec(_column_type(data[c]), str(c), _required(data[c])) for c in data.columns]
        )
    if isinstance(data, pd.Series):
        name = None if data.name is None else str(data.name)
        return Schema([ColSpec(_column_type(data), name, _required(data) if name else True)])
    if isinstance(data, np.ndarray):
        return Schema([TensorSpec(data.dtype, _tensor_shape(data))])
    if _is_sparse(data):
        return Schema([TensorSpec(data.data.dtype, _tensor_shape(data))])
    if isinstance(data, dict):
        if data and all(isinstance(v, np.ndarray) for v in data.values()):
            return Schema([TensorSpec(v.dtype, _tensor_shape(v), str(k)) for k, v in data.items()])
        if not all(isinstance(k, str) for k in data):
            raise InvalidParameter("Cannot infer a schema: the dictionary keys are not all strings")
        return Schema([ColSpec(_value_type(v), k, _required_value(v)) for k, v in data.items()])
    if isinstance(data, list) and all(isinstance(item, dict) for item in data):
        columns: dict[str, list[Any]] = {}
        for item in data:
            for key, value in item.items():
                columns.setdefault(str(key), []).append(value)
        return Schema(
            [
                ColSpec(
                    _merge_items(values),
                    key,
                    all(item.get(key) is not None for item in data),
                )
                for key, values in columns.items()
            ]
        )
    if isinstance(data, list):
        item_type = _value_type(data)
        assert isinstance(item_type, Array | AnyType)
        return Schema([ColSpec(item_type.dtype if isinstance(item_type, Array) else item_type)])
    return Schema([ColSpec(_value_type(data))])


def infer_params_schema(params: Mapping[str, Any]) -> ParamSchema:
    """A params schema from example values: scalars, 1-D lists, datetimes or dicts."""
    if not isinstance(params, Mapping):
        raise InvalidParameter(f"params must be a dict, not {type(params).__name__}")
    specs = []
    for name, value in params.items():
        if isinstance(value, list | np.ndarray):
            array = np.asarray(value)
            if array.ndim != 1:
                raise InvalidParameter(f"Param {name!r}: only scalars and 1-D lists are supported")
            specs.append(ParamSpec(name, _numpy_type(array.dtype), list(value), (-1,)))
        elif isinstance(value, dict):
            specs.append(ParamSpec(name, _value_type(value), value))
        elif isinstance(value, dt.date | np.datetime64):
            specs.append(ParamSpec(name, DataType.datetime, value))
        elif np.isscalar(value):
            specs.append(ParamSpec(name, _numpy_type(np.asarray(value).dtype), value))
        else:
            raise InvalidParameter(
                f"Param {name!r}: cannot infer a type for {type(value).__name__}; params are "
                "scalars, 1-D lists or dicts"
            )
    return ParamSchema(specs)


# -- helpers ------------------------------------------------------------------------------------


def _is_sparse(data: Any) -> bool:
    module = type(data).__module__
    return module.startswith("scipy.sparse") and hasattr(data, "data") and hasattr(data, "shape")


def _tensor_shape(data: Any) -> tuple[int, ...]:
    shape = list(data.shape)
    if shape:
        shape[0] = -1
    return tuple(shape)


def _is_missing(value: Any) -> bool:
    if isinstance(value, float):
        return bool(np.isnan(value))
    return value is None or value is pd.NA or value is pd.NaT


def _required(col: pd.Series) -> bool:
    return not bool(col.isna().any())


def _required_value(value: Any) -> bool:
    if isinstance(value, list):
        return not any(_is_missing(v) for v in value)
    return not _is_missing(value)


def _numpy_type(dtype: Any) -> DataType:
    kind, size = dtype.kind, dtype.itemsize
    if kind == "b":
        return DataType.boolean
    if kind in "iu":
        if size < 4 or (kind == "i" and size == 4):
            return DataType.integer
        if size < 8 or (kind == "i" and size == 8):
            return DataType.long
    elif kind == "f":
        return DataType.float if size <= 4 else DataType.double
    elif kind == "U":
        return DataType.string
    elif kind == "S":
        return DataType.binary
    elif kind == "M":
        return DataType.datetime
    raise InvalidParameter(f"Cannot infer a schema type for values of dtype {dtype}")


def _column_type(col: pd.Series) -> FieldType:
    if isinstance(col.dtype, pd.StringDtype):
        return DataType.string
    if col.dtype.kind == "O":
        col = col.infer_objects()
    if col.dtype.kind != "O" and not isinstance(col.dtype, pd.StringDtype):
        return _numpy_type(col.dtype)
    if isinstance(col.dtype, pd.StringDtype):
        return DataType.string
    try:
        item = _value_type(col.to_list())
    except InvalidParameter:
        if pd.api.types.is_string_dtype(col):
            return DataType.string
        raise
    return item.dtype if isinstance(item, Array) else item


def _value_type(value: Any) -> FieldType:
    if _is_missing(value) or (isinstance(value, list | dict) and not value):
        return AnyType()
    if isinstance(value, dict):
        props = []
        for key, item in value.items():
            item_type = _value_type(item)
            props.append(Property(str(key), item_type, not isinstance(item_type, AnyType)))
        return Object(props)
    if isinstance(value, list | np.ndarray):
        merged = _merge_items(list(value))
        return Array(merged)
    scalar = _SCALAR_TYPES.get(type(value))
    if scalar is not None:
        return scalar
    if isinstance(value, dt.date | np.datetime64 | pd.Timestamp):
        return DataType.datetime
    raise InvalidParameter(
        f"Cannot infer a schema type for {value!r} ({type(value).__name__}); supported: "
        "pandas DataFrames and Series, numpy arrays, dicts of arrays, lists, dicts and scalars"
    )


def _merge_items(values: list[Any]) -> FieldType:
    """The common type of list items; None items are skipped, Object keys may differ."""
    result: FieldType = None
    for value in values:
        current = _value_type(value)
        if isinstance(current, AnyType):
            continue
        result = current if result is None else _merge(result, current)
    return AnyType() if result is None else result


def _merge(left: FieldType, right: FieldType) -> FieldType:
    if left == right:
        return left
    if isinstance(left, Object) and isinstance(right, Object):
        by_name = {p.name: p for p in left.properties}
        other = {p.name: p for p in right.properties}
        props = []
        for name in sorted(set(by_name) | set(other)):
            a, b = by_name.get(name), other.get(name)
            if a is not None and b is not None:
                props.append(Property(name, _merge(a.dtype, b.dtype), a.required and b.required))
            else:
                kept = a or b
                assert kept is not None
                props.append(Property(name, kept.dtype, False))
        return Object(props)
    if isinstance(left, Array) and isinstance(right, Array):
        return Array(_merge(left.dtype, right.dtype))
    if isinstance(left, Map) and isinstance(right, Map):
        return Map(_merge(left.value_type, right.value_type))
    raise InvalidParameter(
        f"Cannot infer a schema: the values mix types {left!r} and {right!r}; make them uniform"
    )
