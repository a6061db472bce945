"""Batch scoring: predictions for a whole file (``cairn models predict``).

The input format comes from ``content_type`` or the file's extension: ``.json`` (the scoring
server's request body: ``dataframe_split``, ``dataframe_records``, ``instances`` or
``inputs``), ``.csv`` (a table with a header row) or ``.parquet``. The output format likewise:
``.json`` writes ``{"predictions": ...}``, ``.csv`` and ``.parquet`` a table with one column per
output (``prediction`` when the model returns a single unnamed column).

    >>> predict_file(model, "rows.csv", "predictions.parquet")   # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.errors import CairnError, InvalidParameter
from cairn.models.errors import InvalidModelInput

if TYPE_CHECKING:
    import pandas as pd

    from cairn.models.pyfunc import PyFuncModel

__all__ = ["FORMATS", "format_of", "predict_file", "read_input", "write_output"]

FORMATS = ("json", "csv", "parquet")


def format_of(path: str | os.PathLike[str] | None, given: str | None, default: str = "json") -> str:
    """The format named by ``given``, else by ``path``'s extension, else ``default``."""
    if given:
        fmt = given.lower()
    elif path is not None and Path(path).suffix:
        fmt = Path(path).suffix.lstrip(".").lower()
    else:
        fmt = default
    if fmt == "pq":
        fmt = "parquet"
    if fmt not in FORMATS:
        raise InvalidParameter(
            f"Unknown format {fmt!r} for {str(path)!r}; use one of {list(FORMATS)} "
            "(--content-type, or the file extension)"
        )
    return fmt


def read_input(
    model: PyFuncModel, path: str | os.PathLike[str] | None, fmt: str
) -> tuple[Any, Any]:
    """(data, params) from ``path`` (stdin when None) in format ``fmt``."""
    from cairn.models import payloads

    schema = model.metadata.get_input_schema()
    if path is None:
        raw = sys.stdin.buffer.read()
    else:
        source = Path(path)
        if source.is_dir():
            raise InvalidParameter(f"Input {str(source)!r} is a folder; give a file")
        if not source.is_file():
            raise InvalidParameter(f"Input file {str(source)!r} does not exist")
        raw = source.read_bytes()
    where = "stdin" if path is None else repr(str(path))
    try:
        if fmt == "json":
            return payloads.parse_json(raw, schema)
        if fmt == "csv":
            return payloads.parse_csv(raw, schema), None
        return payloads.parse_parquet(raw, schema), None
    except CairnError:
        raise
    except Exception as err:  # pandas/numpy surprises on odd input are still bad input
        raise InvalidModelInput(
            f"Cannot read {where} as model input: {type(err).__name__}: {err}"
        ) from err


def _as_frame(predictions: Any) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    if isinstance(predictions, pd.DataFrame):
        frame: pd.DataFrame = predictions
        return frame
    if isinstance(predictions, pd.Series):
        named: pd.DataFrame = predictions.to_frame(name=predictions.name or "prediction")
        return named
    array = np.asarray(predictions)
    table: pd.DataFrame
    if array.ndim <= 1:
        table = pd.DataFrame({"prediction": array.reshape(-1)})
    else:
        table = pd.DataFrame(array.reshape(len(array), -1)).rename(columns=str)
    return table


def write_output(predictions: Any, path: str | os.PathLike[str] | None, fmt: str) -> None:
    """Write ``predictions`` to ``path`` (stdout when None) in format ``fmt``."""
    from cairn.models.payloads import predictions_json

    if fmt == "json":
        data = predictions_json(predictions)
        if path is None:
            sys.stdout.buffer.write(data + b"\n")
            sys.stdout.flush()
        else:
            Path(path).write_bytes(data)
        return
    frame = _as_frame(predictions)
    if path is None:
        if fmt != "csv":
            raise InvalidParameter("Parquet output needs an output file (-o predictions.parquet)")
        frame.to_csv(sys.stdout, index=False)
        return
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)


def predict_file(
    model: PyFuncModel,
    input_path: str | os.PathLike[str] | None,
    output_path: str | os.PathLike[str] | None,
    input_format: str | None = None,
    output_format: str | None = None,
) -> None:
    """Score every row of ``input_path`` and write the predictions to ``output_path``."""
    in_fmt = format_of(input_path, input_format)
    out_fmt = format_of(output_path, output_format)
    data, params = read_input(model, input_path, in_fmt)
    try:
        predictions = model.predict(data, params)
    except CairnError:
        raise
    except Exception as err:  # the model's own failure on this input, as the server says it
        raise InvalidModelInput(
            f"The model failed on this input; check that it matches what the model expects. "
            f"{type(err).__name__}: {err}"
        ) from err
    write_output(predictions, output_path, out_fmt)
