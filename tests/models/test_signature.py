"""Signatures: inference matches MLflow's JSON exactly; enforcement converts safely and
refuses clearly."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cairn.models import ColSpec, ModelSignature, ParamSchema, ParamSpec, Schema, TensorSpec
from cairn.models.enforce import enforce_params, enforce_schema
from cairn.models.errors import InvalidModelInput, ModelFormatError
from cairn.models.signature import infer_signature

EXAMPLES: dict[str, tuple[Any, Any]] = {
    "dataframe": (
        pd.DataFrame({"a": [1.0, 2.0], "b": [1, 2], "c": ["x", "y"], "d": [True, False]}),
        np.array([0, 1]),
    ),
    "optional column": (pd.DataFrame({"a": [1.0, np.nan], "s": ["x", None]}), None),
    "int32 and float32": (
        pd.DataFrame({"i": np.array([1, 2], dtype=np.int32), "f": np.float32([1, 2])}),
        None,
    ),
    "ndarray": (np.zeros((3, 4), dtype=np.float32), np.zeros(3, dtype=np.int64)),
    "dict of arrays": ({"x": np.zeros((2, 3)), "y": np.ones((2,), dtype=np.int64)}, None),
    "list of scalars": ([1.5, 2.5], ["a", "b"]),
    "scalar": ("hello", 3),
    "dict of scalars and lists": ({"q": "what", "ids": [1, 2], "nested": {"k": 1.0}}, None),
    "list of records": (
        [{"a": 1, "b": "x"}, {"a": 2, "b": None, "c": [1.0]}],
        [{"label": "p", "score": 0.9}],
    ),
    "series": (pd.Series([1.0, 2.0], name="v"), pd.DataFrame({"p": [0.1, 0.2]})),
    "datetimes": (pd.DataFrame({"t": pd.to_datetime(["2024-01-01", "2024-01-02"])}), None),
}


@pytest.mark.parametrize("case", sorted(EXAMPLES))
def test_inferred_signature_json_matches_mlflow(case: str) -> None:
    import mlflow.models

    data, output = EXAMPLES[case]
    ours = infer_signature(data, output).to_dict()
    theirs = mlflow.models.infer_signature(data, output).to_dict()
    assert ours == theirs


def test_params_schema_json_matches_mlflow() -> None:
    import mlflow.models

    params = {"temperature": 0.5, "top_k": 3, "stop": ["a", "b"], "flag": True, "name": "x"}
    ours = infer_signature(params=params).to_dict()
    theirs = mlflow.models.infer_signature(params=params).to_dict()
    assert ours == theirs


def test_signature_written_by_mlflow_reads_back_equal() -> None:
    import mlflow.models
    from mlflow.types.schema import Array, Map, Object, Property
    from mlflow.types.schema import ColSpec as MColSpec
    from mlflow.types.schema import Schema as MSchema

    theirs = mlflow.models.ModelSignature(
        inputs=MSchema(
            [
                MColSpec(Array("string"), "tags"),
                MColSpec(Object([Property("k", "double"), Property("o", "long", False)]), "obj"),
                MColSpec(Map("long"), "counts", required=False),
                MColSpec("datetime", "when"),
            ]
        )
    ).to_dict()
    assert ModelSignature.from_dict(theirs).to_dict() == theirs


def test_malformed_signature_json_is_a_format_error() -> None:
    with pytest.raises(ModelFormatError, match="Malformed schema JSON"):
        ModelSignature.from_dict({"inputs": "[not json"})
    with pytest.raises(ModelFormatError, match="Unknown column type"):
        ModelSignature.from_dict({"inputs": '[{"type": "quaternion"}]'})


# -- enforcement ---------------------------------------------------------------------------------

COLUMNS = Schema([ColSpec("double", "a"), ColSpec("long", "b"), ColSpec("string", "c", False)])


def test_columns_are_reordered_and_extra_ones_dropped() -> None:
    frame = pd.DataFrame({"extra": [0], "b": [2], "a": [1.5]})
    result = enforce_schema(frame, COLUMNS)
    assert list(result.columns) == ["a", "b"]


def test_missing_required_column_is_named() -> None:
    with pytest.raises(InvalidModelInput, match=r"missing required column\(s\) \['b'\]"):
        enforce_schema(pd.DataFrame({"a": [1.0]}), COLUMNS)


def test_ints_become_floats_silently_when_exact() -> None:
    result = enforce_schema(pd.DataFrame({"a": [1, 2], "b": [3, 4]}), COLUMNS)
    assert result["a"].dtype == np.float64
    assert result["a"].tolist() == [1.0, 2.0]


def test_int_too_large_for_an_exact_float_is_refused() -> None:
    with pytest.raises(InvalidModelInput, match="Incompatible type for column 'a'"):
        enforce_schema(pd.DataFrame({"a": [2**60], "b": [1]}), COLUMNS)


def test_floats_are_not_truncated_into_ints() -> None:
    with pytest.raises(InvalidModelInput, match=r"column 'b'.*long.*float64"):
        enforce_schema(pd.DataFrame({"a": [1.0], "b": [1.5]}), COLUMNS)


def test_float_column_with_missing_values_gets_a_hint() -> None:
    with pytest.raises(InvalidModelInput, match="cannot hold missing values"):
        enforce_schema(pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, None]}), COLUMNS)


def test_text_where_numbers_are_declared_is_refused() -> None:
    with pytest.raises(InvalidModelInput, match=r"column 'a'.*double"):
        enforce_schema(pd.DataFrame({"a": ["x"], "b": [1]}), COLUMNS)


def test_dicts_and_records_become_tables() -> None:
    assert enforce_schema({"a": 1.0, "b": 2}, COLUMNS).shape == (1, 2)
    assert enforce_schema([{"a": 1.0, "b": 2}, {"a": 2.0, "b": 3}], COLUMNS).shape == (2, 2)


def test_unnamed_columns_check_their_count() -> None:
    schema = Schema([ColSpec("double"), ColSpec("double")])
    with pytest.raises(InvalidModelInput, match="2 unnamed column"):
        enforce_schema(np.zeros((3, 1)), schema)
    assert enforce_schema(np.zeros((3, 2)), schema).shape == (3, 2)


TENSOR = Schema([TensorSpec(np.float64, (-1, 3))])


def test_tensor_shape_mismatch_is_refused_with_both_shapes() -> None:
    with pytest.raises(InvalidModelInput, match=r"\(2, 4\).*\(-1, 3\)"):
        enforce_schema(np.zeros((2, 4)), TENSOR)


def test_tensor_int_input_is_widened_to_float() -> None:
    result = enforce_schema(np.arange(6).reshape(2, 3), TENSOR)
    assert result.dtype == np.float64


def test_tensor_narrowing_is_refused() -> None:
    schema = Schema([TensorSpec(np.float32, (-1, 3))])
    with pytest.raises(InvalidModelInput, match=r"float64.*float32"):
        enforce_schema(np.zeros((1, 3)), schema)


def test_named_tensors_need_every_name() -> None:
    schema = Schema([TensorSpec(np.float64, (-1,), "x"), TensorSpec(np.float64, (-1,), "y")])
    with pytest.raises(InvalidModelInput, match=r"missing tensor\(s\) \['y'\]"):
        enforce_schema({"x": np.zeros(2)}, schema)


def test_params_get_defaults_and_safe_conversions() -> None:
    schema = ParamSchema(
        [ParamSpec("t", "double", 0.5), ParamSpec("k", "long", 3), ParamSpec("s", "string", "x")]
    )
    assert enforce_params({"t": 1}, schema) == {"t": 1.0, "k": 3, "s": "x"}
    with pytest.raises(InvalidModelInput, match="'k': expected long"):
        enforce_params({"k": "three"}, schema)


def test_list_params_and_datetimes() -> None:
    schema = ParamSchema(
        [ParamSpec("ids", "long", [1], (-1,)), ParamSpec("when", "datetime", None)]
    )
    result = enforce_params({"ids": [4, 5], "when": "2024-03-01"}, schema)
    assert result == {"ids": [4, 5], "when": dt.date(2024, 3, 1)}


def test_params_without_a_params_schema_are_ignored(caplog: pytest.LogCaptureFixture) -> None:
    assert enforce_params({"x": 1}, None) == {}
    assert "declares no params" in caplog.text


def test_a_column_given_twice_is_named() -> None:
    schema = Schema([ColSpec("double", "x")])
    twice = pd.concat([pd.DataFrame({"x": [1.0]}), pd.DataFrame({"x": [2.0]})], axis=1)
    with pytest.raises(InvalidModelInput, match=r"column\(s\) \['x'\] more than once"):
        enforce_schema(twice, schema)


def test_an_optional_column_left_empty_is_accepted_but_a_required_one_is_not() -> None:
    schema = Schema([ColSpec("double", "x"), ColSpec("double", "opt", required=False)])
    out = enforce_schema(pd.DataFrame({"x": [1.0], "opt": [None]}), schema)
    assert out["opt"].dtype == np.float64 and out["opt"].isna().all()
    with pytest.raises(InvalidModelInput, match="declares long"):
        enforce_schema(pd.DataFrame({"x": [None]}), Schema([ColSpec("long", "x")]))


def test_datetime_param_defaults_are_datetimes_and_written_back_as_text() -> None:
    spec = ParamSpec("when", "datetime", "2020-01-01T00:00:00")
    assert spec.default == dt.datetime(2020, 1, 1)
    assert spec.to_dict()["default"] == "2020-01-01T00:00:00"
    assert ParamSpec.from_dict(spec.to_dict()) == spec
    given = enforce_params({}, ParamSchema([spec]))
    assert given == {"when": dt.datetime(2020, 1, 1)}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("names", "string", None, (-1,)), "the default None is not a list of string"),
        (("n", "long", "x"), "the default 'x' is not of type long"),
        (("b", "boolean", 1), "the default 1 is not of type boolean"),
        (("big", "long", 2**70), "does not fit long"),
        (("small", "integer", 2**40), "does not fit integer"),
        (("l", "string", ["a", 3], (-1,)), "expected string, got int 3"),
    ],
)
def test_a_param_default_that_breaks_its_type_is_refused(args: Any, message: str) -> None:
    with pytest.raises(ModelFormatError, match=message):
        ParamSpec(*args)


# -- request payloads (the scoring server's conversions) ---------------------------------------


def _parse(body: dict[str, Any], schema: Schema) -> Any:
    from cairn.models.payloads import parse_json

    return parse_json(json.dumps(body), schema)[0]


@pytest.mark.parametrize(
    ("schema", "body", "message"),
    [
        (
            Schema([ColSpec("float", "a")]),
            {"dataframe_records": [{"a": 1e300}]},
            "values too large for float, such as 1e+300",
        ),
        (
            Schema([ColSpec("float", "a"), ColSpec("float", "b")]),
            {"dataframe_split": {"columns": ["a", "b"], "data": [[1e300, 1.0]]}},
            "Column 'a' must hold float",
        ),
        (
            Schema([ColSpec("integer", "a")]),
            {"dataframe_records": [{"a": 2**40}]},
            "such as 1099511627776",
        ),
        (
            Schema([ColSpec("boolean", "b")]),
            {"dataframe_records": [{"b": 1}]},
            "must hold boolean values, as the model's signature declares; it holds int64 "
            "values such as 1",
        ),
        (
            Schema([ColSpec("datetime", "t")]),
            {"dataframe_records": [{"t": 1600000000}]},
            "must hold datetimes as text",
        ),
        (
            Schema([TensorSpec(np.dtype("float32"), (-1, 2))]),
            {"inputs": [[1, 2], [3, True]]},
            "it holds booleans, which cannot become float32",
        ),
        (
            Schema([TensorSpec(np.dtype("float32"), (-1, 2))]),
            {"inputs": [["1", "2"]]},
            "it holds text",
        ),
        (
            Schema([TensorSpec(np.dtype("int64"), (-1, 2))]),
            {"inputs": [[1.5, 2]]},
            "cannot become int64 without changing a value",
        ),
    ],
    ids=[
        "float-overflow",
        "float-overflow-fast-path",
        "int-range",
        "bool-from-int",
        "datetime-from-int",
        "tensor-bool",
        "tensor-text",
        "tensor-fraction",
    ],
)
def test_payload_values_that_would_change_are_refused(
    schema: Schema, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidModelInput, match=re.escape(message)):
        _parse(body, schema)


def test_payload_numbers_convert_when_nothing_changes() -> None:
    floats = _parse(
        {"inputs": [[1, 2], [3, 4]]}, Schema([TensorSpec(np.dtype("float32"), (-1, 2))])
    )
    assert floats.dtype == np.float32 and floats.tolist() == [[1, 2], [3, 4]]
    ints = _parse({"inputs": [[1.0, 2.0]]}, Schema([TensorSpec(np.dtype("int64"), (-1, 2))]))
    assert ints.dtype == np.int64
    frame = _parse(
        {"dataframe_records": [{"t": "2024-01-31T12:00:00"}]}, Schema([ColSpec("datetime", "t")])
    )
    assert frame["t"].iloc[0] == pd.Timestamp("2024-01-31T12:00:00")
