"""Scoring payloads: request bodies to model input, predictions to JSON (MLflow's protocol).

A JSON request holds exactly one of these keys, plus optional ``params``:

* ``dataframe_split``: ``{"columns": [...], "data": [[...], ...]}`` (``index`` optional);
* ``dataframe_records``: ``[{"col": value, ...}, ...]``;
* ``instances``: a list of rows (TF-serving row format);
* ``inputs``: columns or a tensor (TF-serving columnar format).

CSV (``text/csv``) and Parquet (``application/vnd.apache.parquet``) bodies are tables. When the
model has a signature, values are converted to its types here, losslessly or not at all: a
value that does not fit is an :class:`~cairn.models.errors.InvalidModelInput` naming the
column, which the scoring server answers with 400.

    >>> from cairn.models.schema import ColSpec, Schema
    >>> schema = Schema([ColSpec("double", "a"), ColSpec("string", "b")])
    >>> body = b'{"dataframe_split": {"columns": ["a", "b"], "data": [[1, "x"]]}}'
    >>> data, params = parse_json(body, schema)
    >>> data.dtypes.to_dict()["a"], params
    (dtype('float64'), None)
    >>> predictions_json([0.5, 1.5])
    b'{"predictions": [0.5, 1.5]}'
"""

from __future__ import annotations

import base64
import io
import json
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd

try:
    import orjson as _orjson
except ImportError:  # optional: the standard library parses the same JSON, more slowly
    _orjson = None  # type: ignore[assignment]

from cairn.models.enforce import _EXACT_INT
from cairn.models.errors import InvalidModelInput
from cairn.models.example import JSONEncoder
from cairn.models.schema import ColSpec, DataType, Schema, TensorSpec

__all__ = [
    "FORMATS",
    "cast_frame",
    "frame_from_records",
    "frame_from_split",
    "parse_csv",
    "parse_inputs",
    "parse_json",
    "parse_parquet",
    "predictions_json",
    "to_jsonable",
]

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_FLOAT_TYPES = (DataType.float, DataType.double)
_NUMERIC = frozenset({*_FLOAT_TYPES, DataType.integer, DataType.long})


def parse_json(body: bytes | str, schema: Schema | None) -> tuple[Any, dict[str, Any] | None]:
    """(model input, params) from a JSON request body.

    Raises:
        InvalidModelInput: not JSON, not an object with exactly one input key, or values
            that do not fit the schema.
    """
    decoded = _loads(body)
    if not isinstance(decoded, dict):
        raise InvalidModelInput(
            f"The request body must be a JSON object with exactly one of the keys "
            f"{list(FORMATS)} (plus optional 'params'); got a JSON {type(decoded).__name__}."
        )
    keys = [k for k in decoded if k in FORMATS]
    unknown = sorted(set(decoded) - set(FORMATS) - {"params"})
    if len(keys) != 1 or unknown:
        found = sorted(decoded)
        raise InvalidModelInput(
            f"The request body must hold exactly one of the keys {list(FORMATS)} (plus optional "
            f"'params'); it holds {found}."
        )
    params = decoded.get("params")
    if params is not None and not isinstance(params, dict):
        raise InvalidModelInput(f"'params' must be a JSON object, not {type(params).__name__}")
    key = keys[0]
    value = decoded[key]
    if key == "dataframe_split":
        return frame_from_split(value, schema), params
    if key == "dataframe_records":
        return frame_from_records(value, schema), params
    if key == "instances":
        return parse_instances(value, schema), params
    return parse_inputs(value, schema), params


def _loads(body: bytes | str) -> Any:
    """Parse JSON with orjson when installed (several times faster on large batches), else
    the standard library; NaN/Infinity literals, which MLflow's client may send, fall back."""
    if _orjson is not None:
        try:
            return _orjson.loads(body)
        except _orjson.JSONDecodeError:
            pass
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidModelInput(f"The request body is not valid JSON: {err}") from None


def frame_from_split(payload: Any, schema: Schema | None) -> pd.DataFrame:
    """A DataFrame from pandas' ``split`` layout, converted to ``schema``'s types."""
    if not isinstance(payload, dict) or "data" not in payload:
        raise InvalidModelInput(
            "'dataframe_split' must be an object with 'data' (a list of rows) and optionally "
            f"'columns' and 'index'; got {_describe(payload)}."
        )
    if extra := sorted(set(payload) - {"columns", "data", "index"}):
        raise InvalidModelInput(f"'dataframe_split' has unexpected key(s) {extra}")
    data, columns = payload["data"], payload.get("columns")
    if not isinstance(data, list):
        raise InvalidModelInput(
            f"'dataframe_split.data' must be a list of rows, got {_describe(data)}"
        )
    _check_split_shape(data, columns, payload.get("index"))
    fast = _fast_numeric_frame(data, columns, payload.get("index"), schema)
    if fast is not None:
        return fast
    try:
        frame = pd.DataFrame(data=data, columns=columns, index=payload.get("index"))
    except (ValueError, TypeError) as err:
        raise InvalidModelInput(f"'dataframe_split' does not form a table: {err}") from None
    return cast_frame(frame, schema)


def _check_split_shape(data: list[Any], columns: Any, index: Any) -> None:
    """Refuse a ``split`` table pandas would quietly reshape: short rows padded with NaN, one
    row repeated along a longer index, or two columns of the same name."""
    if columns is not None:
        if not isinstance(columns, list):
            raise InvalidModelInput(
                f"'dataframe_split.columns' must be a list of names, got {_describe(columns)}"
            )
        if twice := sorted(name for name, n in Counter(map(str, columns)).items() if n > 1):
            raise InvalidModelInput(f"'dataframe_split.columns' names {twice} more than once")
    if all(isinstance(row, list) for row in data):
        width = len(columns) if columns is not None else len(data[0]) if data else 0
        for number, row in enumerate(data):
            if len(row) != width:
                raise InvalidModelInput(
                    f"Row {number} of 'dataframe_split.data' has {_count(len(row), 'value')}, "
                    f"but the table has {_count(width, 'column')}"
                )
    elif any(isinstance(row, list) for row in data) or (columns is not None and len(columns) != 1):
        raise InvalidModelInput(
            "'dataframe_split.data' must be a list of rows (lists), or of single values for a "
            "table of one column"
        )
    if index is not None and (not isinstance(index, list) or len(index) != len(data)):
        count = len(index) if isinstance(index, list) else _describe(index)
        raise InvalidModelInput(
            f"'dataframe_split.index' must hold one label per row: {len(data)} rows, "
            f"index of {count}"
        )


def frame_from_records(payload: Any, schema: Schema | None) -> pd.DataFrame:
    """A DataFrame from a list of records, converted to ``schema``'s types."""
    if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
        raise InvalidModelInput(
            "'dataframe_records' must be a list of objects (one per row), got "
            f"{_describe(payload)}."
        )
    try:
        frame = pd.DataFrame.from_records(payload) if payload else pd.DataFrame()
    except (ValueError, TypeError) as err:
        raise InvalidModelInput(f"'dataframe_records' does not form a table: {err}") from None
    return cast_frame(frame, schema)


def parse_instances(payload: Any, schema: Schema | None) -> Any:
    """TF-serving row format: a list of rows (objects become columns)."""
    if not isinstance(payload, list):
        raise InvalidModelInput(f"'instances' must be a list of rows, got {_describe(payload)}")
    if payload and all(isinstance(row, dict) for row in payload):
        if schema is not None and not schema.is_tensor_spec():
            return frame_from_records(payload, schema)
        columns: dict[str, list[Any]] = {}
        for row in payload:
            for key, value in row.items():
                columns.setdefault(str(key), []).append(value)
        lengths = {len(v) for v in columns.values()}
        if len(lengths) > 1:
            raise InvalidModelInput("Every instance must hold the same keys")
        return parse_inputs(columns, schema)
    return parse_inputs(payload, schema)


def parse_inputs(payload: Any, schema: Schema | None) -> Any:
    """TF-serving columnar format: a tensor, a dict of tensors or columns, records, scalars."""
    if schema is None:
        if isinstance(payload, dict):
            return {k: _array(v, None, k) for k, v in payload.items()}
        if isinstance(payload, list) and payload and all(isinstance(r, dict) for r in payload):
            return frame_from_records(payload, None)
        return _array(payload, None, "inputs")
    if schema.is_tensor_spec():
        specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
        if schema.has_input_names():
            if not isinstance(payload, dict):
                raise InvalidModelInput(
                    f"'inputs' must map the tensor names {[s.name for s in specs]} to arrays, "
                    f"got {_describe(payload)}"
                )
            by_name = {s.name: s for s in specs}
            return {k: _array(v, by_name.get(k), k) for k, v in payload.items()}
        return _array(payload, specs[0], "inputs")
    if isinstance(payload, list) and payload and all(isinstance(r, dict) for r in payload):
        return frame_from_records(payload, schema)
    names = schema.input_names()
    if isinstance(payload, dict):
        scalars = all(np.isscalar(v) or v is None for v in payload.values())
        try:
            frame = pd.DataFrame([payload]) if scalars else pd.DataFrame(payload)
        except ValueError as err:
            raise InvalidModelInput(f"'inputs' columns do not form a table: {err}") from None
        return cast_frame(frame, schema)
    if isinstance(payload, list) and len(names) == 1 and schema.has_input_names():
        return cast_frame(pd.DataFrame({names[0]: payload}), schema)
    if isinstance(payload, list):
        return cast_frame(pd.DataFrame(payload), schema)
    return cast_frame(pd.DataFrame([payload]), schema)


def parse_csv(body: bytes | str, schema: Schema | None) -> pd.DataFrame:
    """A DataFrame from CSV text with a header row."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as err:
        raise InvalidModelInput(f"The CSV body is not UTF-8 text: {err}") from None
    dtypes: dict[Any, Any] = {}
    if schema is not None and schema.has_input_names() and not schema.is_tensor_spec():
        # Text columns stay text ("007" is not 7); the rest is converted after parsing.
        dtypes = {
            s.name: object
            for s in schema.inputs
            if isinstance(s, ColSpec) and s.type in (DataType.string, DataType.binary)
        }
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=dtypes or None)
    except (ValueError, pd.errors.ParserError) as err:
        raise InvalidModelInput(
            f"The request body is not a CSV table with a header row: {err}"
        ) from None
    return cast_frame(frame, schema)


def parse_parquet(body: bytes, schema: Schema | None) -> pd.DataFrame:
    """A DataFrame from a Parquet file's bytes."""
    try:
        frame = pd.read_parquet(io.BytesIO(body))
    except Exception as err:  # pyarrow raises many kinds; all mean "not Parquet"
        raise InvalidModelInput(f"The request body is not a Parquet file: {err}") from None
    return cast_frame(frame, schema)


def cast_frame(frame: pd.DataFrame, schema: Schema | None) -> pd.DataFrame:
    """``frame`` with each column converted to its declared type, losslessly.

    Columns the schema does not declare are left alone (enforcement ignores them later).
    """
    if schema is None or schema.is_tensor_spec():
        return frame
    if schema.has_input_names():
        pairs = [(s.name, s) for s in schema.inputs if s.name in frame.columns]
    else:
        pairs = list(zip(frame.columns[: len(schema.inputs)], schema.inputs, strict=False))
    for name, spec in pairs:
        if isinstance(spec, ColSpec) and isinstance(spec.type, DataType):
            converted = _cast_column(str(name), frame[name], spec.type)
            if converted is not frame[name]:
                frame[name] = converted
    return frame


def _cast_column(name: str, col: pd.Series, t: DataType) -> pd.Series:
    if t is DataType.string:
        return col
    if t is DataType.binary:
        try:
            return col.map(lambda x: x if x is None else base64.b64decode(x))
        except (ValueError, TypeError) as err:
            raise InvalidModelInput(f"Column {name!r} must hold base64 text: {err}") from None
    if t is DataType.datetime:
        if col.dtype.kind in "iufb":
            # pandas would read 1600000000 as nanoseconds after 1970: ask for text instead.
            raise InvalidModelInput(
                f"Column {name!r} must hold datetimes as text (ISO 8601, such as "
                f"'2024-01-31T12:00:00'); it holds {col.dtype} values such as {col.tolist()[0]!r}."
            )
        try:
            return pd.to_datetime(col).astype("datetime64[ns]")
        except (ValueError, TypeError) as err:
            raise InvalidModelInput(f"Column {name!r} must hold datetimes: {err}") from None
    if t is DataType.boolean:
        if col.dtype == bool or (col.dtype == object and col.map(_is_bool_or_none).all()):
            return col
        raise _not_convertible(name, col, t)
    target = t.to_numpy()
    if col.dtype == target:
        return col
    if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
        if not col.map(lambda x: x is None or isinstance(x, int | float)).all():
            raise _not_convertible(name, col, t)
        col = pd.to_numeric(col)
    values = col.to_numpy()
    if col.dtype.kind == "b":
        raise _not_convertible(name, col, t)
    if target.kind == "f":
        if (
            col.dtype.kind in "iu"
            and values.size
            and np.abs(values).max() > _EXACT_INT[target.itemsize]
        ):
            raise _not_convertible(name, col, t)
        narrowed = _narrow_floats(values, target)
        if narrowed is None:
            too_large = _first_overflow(values, target)
            raise InvalidModelInput(
                f"Column {name!r} must hold {t.name} values, as the model's signature declares; "
                f"it holds values too large for {t.name}, such as {too_large}."
            )
        return pd.Series(narrowed, index=col.index, name=col.name)
    if col.dtype.kind == "f" and (
        np.isnan(values).any() or not np.array_equal(values, np.trunc(values))
    ):
        raise _not_convertible(name, col, t)
    try:
        converted = col.astype(target)
    except (ValueError, OverflowError) as err:
        raise InvalidModelInput(f"Column {name!r} does not fit {t.name}: {err}") from None
    if not np.array_equal(converted.to_numpy(), values):
        raise _not_convertible(name, col, t)
    return converted


def _is_bool_or_none(value: Any) -> bool:
    return value is None or isinstance(value, bool | np.bool_)


def _not_convertible(name: str, col: pd.Series, t: DataType) -> InvalidModelInput:
    misfits = [v for v in col.tolist() if not _fits(v, t)][:1]
    example = f" such as {misfits[0]!r}" if misfits else ""
    return InvalidModelInput(
        f"Column {name!r} must hold {t.name} values, as the model's signature declares; "
        f"it holds {col.dtype} values{example}."
    )


def _fits(value: Any, t: DataType) -> bool:
    if value is None:
        return True
    if t is DataType.boolean:
        return isinstance(value, bool | np.bool_)
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return False
    if t in _FLOAT_TYPES:
        return True
    if isinstance(value, float | np.floating) and not float(value).is_integer():
        return False
    info = np.iinfo(t.to_numpy())
    return bool(info.min <= value <= info.max)


def _first_overflow(values: np.ndarray[Any, Any], target: np.dtype[Any]) -> Any:
    limit = float(np.finfo(target).max)
    return next(v for v in values.tolist() if abs(v) > limit and np.isfinite(v))


def _fast_numeric_frame(
    data: list[Any], columns: Any, index: Any, schema: Schema | None
) -> pd.DataFrame | None:
    """The common scoring request (every declared column numeric, values well formed), built
    column by column with numpy instead of pandas' row-wise inference: several times faster.

    Returns None whenever anything is unusual; the general path then builds the frame and
    names the offending column in its error.
    """
    if schema is None or index is not None or not isinstance(columns, list) or not data:
        return None
    if schema.is_tensor_spec() or not schema.has_input_names():
        return None
    specs = [s for s in schema.inputs if isinstance(s, ColSpec)]
    if not all(s.type in _NUMERIC for s in specs):  # repeated columns were refused before
        return None
    if _holds_bool_nested(data):  # numpy would read True as 1.0; the general path refuses it
        return None
    if columns == [s.name for s in specs] and len({s.type for s in specs}) == 1:
        uniform: pd.DataFrame | None = _uniform_frame(data, columns, specs[0].type.to_numpy())
        if uniform is not None:
            return uniform
    positions = {c: i for i, c in enumerate(columns)}
    if any(s.required and s.name not in positions for s in specs):
        return None
    try:
        transposed = list(zip(*data, strict=True))
    except (TypeError, ValueError):
        return None
    if len(transposed) != len(columns):
        return None
    out: dict[Any, Any] = {}
    for spec in specs:
        if spec.name not in positions:
            continue
        array = np.array(transposed[positions[spec.name]])
        converted = _cast_numeric(array, spec.type.to_numpy())
        if converted is None:
            return None
        out[spec.name] = converted
    frame: pd.DataFrame = pd.DataFrame(out, copy=False)
    return frame


def _uniform_frame(data: list[Any], columns: list[Any], target: np.dtype[Any]) -> Any:
    """One 2-D block when every column has the same numeric type: the cheapest frame.

    The array is built without a dtype so that text ("5.1") is seen as text, not parsed.
    """
    try:
        array = np.array(data)
    except (ValueError, TypeError):
        return None
    if array.ndim != 2 or array.shape[1] != len(columns):
        return None
    converted = _cast_numeric(array.ravel(), target)
    if converted is None:
        return None
    return pd.DataFrame(converted.reshape(array.shape), columns=columns, copy=False)


def _cast_numeric(array: np.ndarray[Any, Any], target: np.dtype[Any]) -> Any:
    """``array`` as ``target`` when no value changes, else None."""
    kind = array.dtype.kind
    if array.ndim != 1 or kind not in "iuf" or not array.size:
        return None
    if array.dtype == target:
        return array
    if target.kind == "f":
        if kind in "iu" and np.abs(array).max() > _EXACT_INT[target.itemsize]:
            return None
        return _narrow_floats(array, target)
    if kind == "f" and (np.isnan(array).any() or not np.array_equal(array, np.trunc(array))):
        return None
    converted = array.astype(target)
    return converted if np.array_equal(converted, array) else None


def _narrow_floats(array: np.ndarray[Any, Any], target: np.dtype[Any]) -> Any:
    """``array`` as floats of ``target``, or None when a finite value would become infinite
    (1e300 does not fit a float32). Rounding to the narrower type is expected: JSON numbers
    arrive as float64."""
    with np.errstate(over="ignore"):
        converted = array.astype(target)
    if target.itemsize < array.dtype.itemsize and (np.isinf(converted) & np.isfinite(array)).any():
        return None
    return converted


def _array(value: Any, spec: TensorSpec | None, name: str) -> Any:
    """``value`` as an array of the tensor's type. Numbers convert when no value changes
    (floats may round to a narrower float); text, booleans and numbers never convert into
    one another, as numpy alone would do."""
    try:
        array = np.array(value)
    except (ValueError, TypeError) as err:
        want = f" of {spec.type}" if spec is not None else ""
        raise InvalidModelInput(f"'{name}' is not a uniform array{want}: {err}") from None
    if spec is None or array.dtype == spec.type:
        return array
    target = np.dtype(spec.type)
    if target.kind in "iuf" and array.dtype.kind in "iuf" and not _holds_bool_nested(value):
        converted = _cast_numeric(array.ravel(), target) if array.size else array.astype(target)
        if converted is not None:
            return converted.reshape(array.shape)
    elif (target.kind in "US" and array.dtype.kind in "US") or target.kind == "O":
        return array.astype(target)
    elif target.kind == "b" and array.dtype.kind == "b":
        return array
    raise InvalidModelInput(
        f"'{name}' must be an array of {target}, as the model's signature declares; it holds "
        f"{_kind_name(array, value)}, which cannot become {target} without changing a value"
    )


def _holds_bool_nested(value: Any) -> bool:
    """Whether nested lists hold a JSON boolean anywhere (numpy would count True as 1)."""
    if not isinstance(value, list):
        return value is True or value is False
    kinds = set(map(type, value))  # per list rather than per value: 20x faster on tensors
    if bool in kinds:
        return True
    return list in kinds and any(_holds_bool_nested(item) for item in value if type(item) is list)


def _kind_name(array: np.ndarray[Any, Any], value: Any) -> str:
    if _holds_bool_nested(value):
        return "booleans"
    return {"U": "text", "S": "bytes", "O": "mixed values", "b": "booleans"}.get(
        array.dtype.kind, f"{array.dtype} values"
    )


def _count(number: int, noun: str) -> str:
    """>>> _count(1, "value"), _count(3, "column")
    ('1 value', '3 columns')
    """
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _describe(value: Any) -> str:
    return f"a JSON {type(value).__name__}" if not isinstance(value, dict) else "an object"


def to_jsonable(predictions: Any) -> Any:
    """Predictions as JSON-ready values, shaped as MLflow's scoring server returns them."""
    if isinstance(predictions, np.ndarray):
        return predictions.tolist()
    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, pd.Series):
        return predictions.to_frame().to_dict(orient="records")
    if isinstance(predictions, dict):
        return {k: to_jsonable(v) for k, v in predictions.items()}
    return predictions


def predictions_json(predictions: Any) -> bytes:
    """``{"predictions": ...}`` as UTF-8 JSON bytes."""
    return json.dumps({"predictions": to_jsonable(predictions)}, cls=JSONEncoder).encode()
