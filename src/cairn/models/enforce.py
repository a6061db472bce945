"""Signature enforcement: make predict input fit the model's signature, or say why it cannot.

:func:`enforce_schema` runs before every pyfunc ``predict``. It follows MLflow's rules: named
columns are looked up by name (extra ones are ignored, missing required ones are an error) and
reordered as the signature lists them; tensors must have the declared rank and fixed
dimensions. Safe conversions happen silently: integers widen, ``float32`` widens to
``float64``, integers become floats when every value is exactly representable (MLflow allows
this only for 0/1 values; cairn allows it whenever nothing is lost). Lossy conversions
(``float`` to ``int``, ``float64`` to ``float32``, text to numbers) are errors that name the
column and both types.

    >>> import pandas as pd
    >>> from cairn.models.schema import ColSpec, Schema
    >>> schema = Schema([ColSpec("double", "a"), ColSpec("long", "b")])
    >>> enforce_schema(pd.DataFrame({"b": [1], "a": [2], "extra": ["x"]}), schema).dtypes.to_dict()
    {'a': dtype('float64'), 'b': dtype('int64')}
    >>> enforce_schema(pd.DataFrame({"a": [1.5]}), schema)
    Traceback (most recent call last):
    ...
    cairn.models.errors.InvalidModelInput: The input is missing required column(s) ['b'] ...
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from cairn.models.errors import InvalidModelInput
from cairn.models.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    FieldType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
)

__all__ = ["enforce_param", "enforce_params", "enforce_schema"]

log = logging.getLogger("cairn.models")

#: Largest integers a float type holds exactly (its mantissa bits).
_EXACT_INT = {4: 2**24, 8: 2**53}


def enforce_schema(data: Any, schema: Schema) -> Any:
    """``data`` converted to what ``schema`` declares.

    Column-based schemas give a DataFrame (from a DataFrame, Series, dict, list, array or
    scalar); tensor-based ones a numpy array (unnamed) or a dict of arrays (named).

    Raises:
        InvalidModelInput: a missing column or tensor, a wrong type or shape.
    """
    if schema.is_tensor_spec():
        return _enforce_tensors(data, schema)
    frame = _to_frame(data, schema)
    if schema.has_input_names():
        return _enforce_named_columns(frame, schema)
    if frame.shape[1] < len(schema.inputs):
        raise InvalidModelInput(
            f"The model's signature declares {len(schema.inputs)} unnamed column(s) but the "
            f"input has {frame.shape[1]}."
        )
    out = {}
    for position, spec in enumerate(schema.inputs):
        name = frame.columns[position]
        assert isinstance(spec, ColSpec)
        out[name] = _enforce_column(str(name), frame.iloc[:, position], spec)
    result: pd.DataFrame = pd.DataFrame(out, index=frame.index)
    return result


def enforce_params(params: Mapping[str, Any] | None, schema: ParamSchema | None) -> dict[str, Any]:
    """Params checked against ``schema``: unknown ones dropped (with a warning, as MLflow
    does), missing ones set to their default, values converted when safe.

    Raises:
        InvalidModelInput: params that are not a dict, or a value of the wrong type or shape.
    """
    if params is not None and not isinstance(params, Mapping):
        raise InvalidModelInput(f"params must be a JSON object, not {type(params).__name__}")
    if schema is None:
        if params:
            log.warning(
                "Ignoring params %s: the model's signature declares no params", sorted(params)
            )
        return {}
    given = dict(params or {})
    known = {p.name for p in schema.params}
    if unknown := sorted(set(given) - known):
        log.warning("Ignoring params %s; the model accepts %s", unknown, sorted(known))
    result: dict[str, Any] = {}
    errors = []
    for spec in schema.params:
        if spec.name not in given:
            result[spec.name] = spec.default
            continue
        try:
            result[spec.name] = enforce_param(given[spec.name], spec)
        except (InvalidModelInput, TypeError, ValueError) as err:
            errors.append(f"{spec.name!r}: {err}")
    if errors:
        raise InvalidModelInput("Invalid params: " + "; ".join(errors))
    return result


# -- columns ------------------------------------------------------------------------------------


def _to_frame(data: Any, schema: Schema) -> Any:
    """``data`` as a DataFrame (typed Any: pandas' constructor overloads are loose)."""
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    try:
        if isinstance(data, dict):
            nested = any(isinstance(s.type, Array | Object | Map) for s in schema.inputs)
            if nested or all(
                np.isscalar(v)
                or v is None
                or (isinstance(v, list) and all(isinstance(i, str) for i in v))
                for v in data.values()
            ):
                return pd.DataFrame([data])
            return pd.DataFrame(
                {k: np.asarray(v).tolist() if np.ndim(v) > 1 else v for k, v in data.items()}
            )
        if isinstance(data, list | np.ndarray):
            return pd.DataFrame(data)
        if np.isscalar(data):
            return pd.DataFrame([data])
    except ValueError as err:
        raise InvalidModelInput(f"The input does not form a table: {err}") from None
    raise InvalidModelInput(
        f"The model's signature is column-based, so it takes a table (a pandas DataFrame, a "
        f"dict of columns or a list of records), not {type(data).__name__}."
    )


def _enforce_named_columns(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    specs = [s for s in schema.inputs if isinstance(s, ColSpec)]
    if _already_conforms(frame, specs):
        return frame
    if frame.columns.has_duplicates:
        twice = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InvalidModelInput(f"The input has the column(s) {twice} more than once")
    present = set(frame.columns)
    missing = [s.name for s in specs if s.required and s.name not in present]
    if missing:
        given = [str(c) for c in frame.columns]
        raise InvalidModelInput(
            f"The input is missing required column(s) {missing} declared in the model's "
            f"signature; it has {given}."
        )
    names = [s.name for s in specs if s.name in present]
    if extra := [str(c) for c in frame.columns if c not in set(names)]:
        log.debug("Ignoring input columns %s that the model's signature does not declare", extra)
    out = {}
    unchanged = list(frame.columns) == names
    for spec in specs:
        if spec.name not in present:
            continue
        column = frame[spec.name]
        converted = _enforce_column(str(spec.name), column, spec)
        unchanged = unchanged and converted is column
        out[spec.name] = converted
    # The common case (already right) costs no copy: the serving hot path depends on it.
    return frame if unchanged else pd.DataFrame(out, index=frame.index)


def _already_conforms(frame: pd.DataFrame, specs: list[ColSpec]) -> bool:
    """The serving hot path: columns in signature order, each with its numpy type already."""
    if len(frame.columns) != len(specs) or any(
        c != s.name for c, s in zip(frame.columns, specs, strict=True)
    ):
        return False
    for dtype, spec in zip(frame.dtypes.tolist(), specs, strict=True):
        t = spec.type
        if not isinstance(t, DataType) or t in (
            DataType.string,
            DataType.binary,
            DataType.datetime,
        ):
            return False
        if dtype != t.to_numpy():
            return False
    return True


def _enforce_column(name: str, values: pd.Series, spec: ColSpec) -> pd.Series:
    dtype = spec.type
    if isinstance(dtype, DataType):
        if not spec.required and values.dtype == object and values.isna().all():
            # An optional column left empty: floats say so with NaN; other types keep None.
            floats = dtype in (DataType.float, DataType.double)
            return values.astype(dtype.to_numpy()) if floats else values
        return _enforce_datatype(name, values, dtype)
    if isinstance(dtype, AnyType):
        return values
    for position, value in enumerate(values):
        _check_value(value, dtype, f"column {name!r}, row {position}", spec.required)
    return values


def _enforce_datatype(name: str, values: pd.Series, t: DataType) -> pd.Series:
    vdtype = values.dtype
    if isinstance(vdtype, pd.StringDtype):
        if t in (DataType.string, DataType.binary):
            return values
        raise _incompatible(name, "string", t)
    is_object = vdtype == np.dtype(object)
    if is_object and t not in (DataType.string, DataType.binary):
        values = values.infer_objects()
        vdtype = values.dtype
        is_object = vdtype == np.dtype(object)
    if t is DataType.string:
        if is_object:
            return values
        raise _incompatible(name, vdtype, t)
    if t is DataType.binary:
        if is_object or vdtype.kind == "S":
            return values
        raise _incompatible(name, vdtype, t)
    if t is DataType.datetime:
        if vdtype.kind == "M" or is_object:
            try:
                return values.astype("datetime64[ns]")
            except (TypeError, ValueError) as err:
                raise InvalidModelInput(
                    f"Column {name!r} must hold timezone-naive datetimes: {err}"
                ) from None
        raise _incompatible(name, vdtype, t)
    if t is DataType.boolean and is_object:
        return values  # None stays None; converting would turn it into False
    target = t.to_numpy()
    if vdtype == target:
        return values
    if _is_safe_cast(values.to_numpy(), target):
        return values.astype(target)
    raise _incompatible(name, vdtype, t, _hint(values, target))


def _is_safe_cast(array: np.ndarray[Any, Any], target: np.dtype[Any]) -> bool:
    source = array.dtype
    if source.kind == target.kind:
        return bool(source.itemsize <= target.itemsize)
    if source.kind == "b":
        return False
    if source.kind == "u" and target.kind == "i":
        return bool(source.itemsize < target.itemsize)
    if source.kind in "iu" and target.kind == "f":
        if source.itemsize < target.itemsize or not array.size:
            return True
        # Widening is exact for every value below the float's mantissa limit.
        limit = _EXACT_INT[target.itemsize]
        return bool(np.abs(array).max() <= limit)
    return False


def _hint(values: pd.Series, target: np.dtype[Any]) -> str:
    if (
        values.dtype.kind == "f"
        and target.kind in "iu"
        and values.hasnans
        and bool(((values.dropna() % 1) == 0).all())
    ):
        return (
            " Hint: integer columns cannot hold missing values, so pandas made this one float; "
            "declare the column as double in the signature if it may have missing values."
        )
    return ""


def _incompatible(name: str, got: Any, want: DataType, hint: str = "") -> InvalidModelInput:
    return InvalidModelInput(
        f"Incompatible type for column {name!r}: the signature declares {want.name} but the "
        f"input holds {got}, which cannot be converted without loss.{hint}"
    )


def _check_value(value: Any, dtype: FieldType, where: str, required: bool = True) -> None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        if required and not isinstance(dtype, AnyType):
            raise InvalidModelInput(f"Missing value at {where}, which is required")
        return
    if isinstance(dtype, AnyType):
        return
    if isinstance(dtype, DataType):
        if not _value_matches(value, dtype):
            raise InvalidModelInput(
                f"Expected {dtype.name} at {where}, got {type(value).__name__} {value!r}"
            )
        return
    if isinstance(dtype, Array):
        if not isinstance(value, list | np.ndarray | tuple):
            raise InvalidModelInput(f"Expected a list at {where}, got {type(value).__name__}")
        for i, item in enumerate(value):
            _check_value(item, dtype.dtype, f"{where}[{i}]")
        return
    if isinstance(dtype, Object | Map) and not isinstance(value, dict):
        raise InvalidModelInput(f"Expected an object at {where}, got {type(value).__name__}")
    if isinstance(dtype, Map):
        for key, item in value.items():
            _check_value(item, dtype.value_type, f"{where}[{key!r}]")
        return
    if isinstance(dtype, Object):
        props = {p.name: p for p in dtype.properties}
        if unknown := sorted(set(value) - set(props)):
            raise InvalidModelInput(f"Unexpected key(s) {unknown} at {where}")
        for prop in dtype.properties:
            if prop.name in value:
                _check_value(value[prop.name], prop.dtype, f"{where}.{prop.name}", prop.required)
            elif prop.required:
                raise InvalidModelInput(f"Missing required key {prop.name!r} at {where}")


def _value_matches(value: Any, dtype: DataType) -> bool:
    if dtype is DataType.boolean:
        return isinstance(value, bool | np.bool_)
    if dtype in (DataType.integer, DataType.long):
        return isinstance(value, int | np.integer) and not isinstance(value, bool)
    if dtype in (DataType.float, DataType.double):
        return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
            value, bool
        )
    if dtype is DataType.string:
        return isinstance(value, str)
    if dtype is DataType.binary:
        return isinstance(value, bytes | bytearray | str)
    return isinstance(value, dt.date | np.datetime64 | pd.Timestamp | str)


# -- tensors ------------------------------------------------------------------------------------


def _enforce_tensors(data: Any, schema: Schema) -> Any:
    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if schema.has_input_names():
        if isinstance(data, pd.DataFrame):
            data = {str(c): data[c] for c in data.columns}
        if isinstance(data, np.ndarray) and len(specs) == 1:
            data = {specs[0].name: data}
        if not isinstance(data, dict):
            raise InvalidModelInput(
                "The model's signature declares named tensors "
                f"{[s.name for s in specs]}, so it takes a dict of arrays, not "
                f"{type(data).__name__}."
            )
        missing = [s.name for s in specs if s.name not in data]
        if missing:
            raise InvalidModelInput(
                f"The input is missing tensor(s) {missing}; it has {sorted(map(str, data))}."
            )
        return {s.name: _enforce_tensor(data[s.name], s) for s in specs if s.name is not None}
    spec = specs[0]
    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise InvalidModelInput("The input DataFrame is empty")
        if data.shape[1] == 1:
            return _enforce_tensor(data.iloc[:, 0], spec)
        if spec.shape != (-1, data.shape[1]):
            raise InvalidModelInput(
                f"The input has {data.shape[1]} columns, so the model's tensor must have shape "
                f"(-1, {data.shape[1]}); its signature declares {spec.shape}."
            )
        return _enforce_tensor(data.to_numpy(), spec)
    if isinstance(data, pd.Series | list | tuple | np.ndarray):
        return _enforce_tensor(data, spec)
    raise InvalidModelInput(
        "The model's signature declares an unnamed tensor, so it takes a numpy array (or a "
        f"nested list), not {type(data).__name__}."
    )


def _enforce_tensor(values: Any, spec: TensorSpec) -> np.ndarray[Any, Any]:
    if isinstance(values, pd.Series):
        first = values.iloc[0] if len(values) else None
        if isinstance(first, list | np.ndarray):
            try:
                values = np.vstack(values.to_list()).reshape(
                    tuple(
                        len(values) if d == -1 and i == 0 else d for i, d in enumerate(spec.shape)
                    )
                )
            except ValueError as err:
                raise InvalidModelInput(
                    f"Cannot reshape column values to the tensor shape {spec.shape}: {err}"
                ) from None
        else:
            values = values.to_numpy()
            if spec.shape == (-1, 1):
                values = values.reshape(-1, 1)
    array = np.asarray(values)
    if array.dtype == object and spec.type != np.dtype(object):
        try:
            array = array.astype(spec.type)
        except (TypeError, ValueError) as err:
            raise InvalidModelInput(f"Cannot convert the input to {spec.type}: {err}") from None
    label = f"tensor {spec.name!r}" if spec.name else "the input tensor"
    if spec.type == np.dtype(object) and spec.shape == (-1,):
        return array
    if len(array.shape) != len(spec.shape) or any(
        want not in (-1, got) for want, got in zip(spec.shape, array.shape, strict=True)
    ):
        raise InvalidModelInput(
            f"Shape of {label} is {array.shape}, but the model's signature declares "
            f"{spec.shape} (-1 = any size)."
        )
    if array.dtype == spec.type or (array.dtype.kind == "U" and spec.type.kind == "U"):
        return array
    if _is_safe_cast(array, spec.type):
        return array.astype(spec.type)
    raise InvalidModelInput(
        f"The dtype of {label} is {array.dtype}, but the model's signature declares "
        f"{spec.type}, and the conversion would lose information."
    )


# -- params -------------------------------------------------------------------------------------

_PARAM_CONVERSIONS = {
    DataType.long: (DataType.integer,),
    DataType.float: (DataType.integer, DataType.long),
    DataType.double: (DataType.integer, DataType.long, DataType.float),
}


def enforce_param(value: Any, spec: ParamSpec) -> Any:
    """``value`` as ``spec`` declares it (a datetime from ISO text, a float from an int).

    Raises:
        InvalidModelInput: a value of the wrong type or shape.
    """
    if spec.shape == (-1,):
        if not isinstance(value, list | tuple | np.ndarray) or np.ndim(value) != 1:
            raise InvalidModelInput(f"expected a 1-D list, got {value!r}")
        return [_enforce_param_value(v, spec.dtype) for v in value]
    if isinstance(spec.dtype, Object):
        _check_value(value, spec.dtype, f"param {spec.name!r}")
        return value
    return _enforce_param_value(value, spec.dtype)


def _enforce_param_value(value: Any, dtype: Any) -> Any:
    if value is None:
        return None
    if dtype is DataType.datetime:
        converted = np.datetime64(value).item()
        if isinstance(converted, int):
            raise InvalidModelInput(f"{value!r} is not a date or datetime")
        return converted
    if not np.isscalar(value):
        raise InvalidModelInput(f"expected a scalar {dtype.name}, got {value!r}")
    kind = _value_kind(value)
    if dtype is DataType.integer and kind is DataType.long:
        kind = DataType.integer  # a Python int is MLflow's integer too
    if kind in (dtype, *_PARAM_CONVERSIONS.get(dtype, ())):
        if isinstance(value, int | np.integer) and dtype in (DataType.integer, DataType.long):
            limits = np.iinfo(dtype.to_numpy())
            if not limits.min <= int(value) <= limits.max:
                raise InvalidModelInput(f"{value!r} does not fit {dtype.name}")
        return dtype.to_python()(value)
    raise InvalidModelInput(f"expected {dtype.name}, got {type(value).__name__} {value!r}")


def _value_kind(value: Any) -> DataType | None:
    if isinstance(value, bool | np.bool_):
        return DataType.boolean
    if isinstance(value, np.int32):
        return DataType.integer
    if isinstance(value, int | np.integer):
        return DataType.long
    if isinstance(value, np.float32):
        return DataType.float
    if isinstance(value, float | np.floating):
        return DataType.double
    if isinstance(value, str):
        return DataType.string
    if isinstance(value, bytes):
        return DataType.binary
    return None
