"""Model signatures: what a model takes and returns, in MLflow's JSON layout.

A :class:`ModelSignature` holds an input :class:`Schema`, an output :class:`Schema` and an
optional :class:`ParamSchema`. A schema is either *column-based* (a list of :class:`ColSpec`:
name, :class:`DataType` or nested :class:`Array`/:class:`Object`/:class:`Map`/:class:`AnyType`,
required or optional) or *tensor-based* (a list of :class:`TensorSpec`: numpy dtype and shape,
``-1`` marking a variable dimension).

In an ``MLmodel`` file the signature is stored exactly as MLflow stores it: each part is a JSON
*string* of specs, so either tool reads the other's files::

    >>> sig = ModelSignature(
    ...     inputs=Schema([ColSpec("double", "a"), ColSpec("string", "b", required=False)]),
    ...     outputs=Schema([ColSpec("long")]),
    ... )
    >>> sig.to_dict()["inputs"][:50]
    '[{"type": "double", "name": "a", "required": true}'
    >>> ModelSignature.from_dict(sig.to_dict()) == sig
    True
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from enum import Enum
from typing import Any

import numpy as np

from cairn.models.errors import InvalidModelInput, ModelFormatError

__all__ = [
    "AnyType",
    "Array",
    "ColSpec",
    "DataType",
    "Map",
    "ModelSignature",
    "Object",
    "ParamSchema",
    "ParamSpec",
    "Property",
    "Schema",
    "TensorSpec",
]


class DataType(Enum):
    """Column types, named and numbered as in MLflow (``DataType.double.name == "double"``)."""

    boolean = 1
    integer = 2
    long = 3
    float = 4
    double = 5
    string = 6
    binary = 7
    datetime = 8

    def __repr__(self) -> str:
        return self.name

    def to_numpy(self) -> np.dtype[Any]:
        """The numpy dtype values of this type are held in."""
        return np.dtype(_NUMPY[self])

    def to_pandas(self) -> Any:
        """The pandas column dtype (``object`` for strings and bytes)."""
        return object if self in (DataType.string, DataType.binary) else self.to_numpy()

    def to_python(self) -> type:
        """The Python type a param of this type is converted to."""
        return _PYTHON[self]


_NUMPY = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "str",
    DataType.binary: "bytes",
    DataType.datetime: "datetime64[ns]",
}
_PYTHON: dict[DataType, type] = {
    DataType.boolean: bool,
    DataType.integer: int,
    DataType.long: int,
    DataType.float: float,
    DataType.double: float,
    DataType.string: str,
    DataType.binary: bytes,
    DataType.datetime: object,
}


def _data_type(value: Any, what: str) -> DataType:
    if isinstance(value, DataType):
        return value
    try:
        return DataType[str(value)]
    except KeyError:
        known = ", ".join(t.name for t in DataType)
        raise ModelFormatError(f"Unknown {what} type {value!r}; expected one of {known}") from None


# -- nested types -------------------------------------------------------------------------------

FieldType = Any  # DataType | Array | Object | Map | AnyType; Any keeps mypy readable here


def _type_to_dict(dtype: FieldType) -> dict[str, Any]:
    if isinstance(dtype, DataType):
        return {"type": dtype.name}
    result: dict[str, Any] = dtype.to_dict()
    return result


def _type_from_dict(spec: dict[str, Any]) -> FieldType:
    kind = spec.get("type")
    if kind == "array":
        return Array(_type_from_dict(_require_dict(spec, "items")))
    if kind == "object":
        props = _require_dict(spec, "properties")
        return Object(
            [
                Property(name, _type_from_dict(p), bool(p.get("required", True)))
                for name, p in props.items()
            ]
        )
    if kind == "map":
        return Map(_type_from_dict(_require_dict(spec, "values")))
    if kind == "any":
        return AnyType()
    return _data_type(kind, "column")


def _require_dict(spec: dict[str, Any], key: str) -> dict[str, Any]:
    value = spec.get(key)
    if not isinstance(value, dict):
        raise ModelFormatError(f"Malformed type spec {spec!r}: {key!r} must be an object")
    return value


class AnyType:
    """Any JSON value, ``None`` included; not validated."""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "any"}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyType)

    def __hash__(self) -> int:
        return hash("any")

    def __repr__(self) -> str:
        return "Any"


class Array:
    """A list whose items all have ``dtype``."""

    def __init__(self, dtype: FieldType) -> None:
        self.dtype = _data_type(dtype, "array item") if isinstance(dtype, str) else dtype

    def to_dict(self) -> dict[str, Any]:
        return {"type": "array", "items": _type_to_dict(self.dtype)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Array) and self.dtype == other.dtype

    def __hash__(self) -> int:
        return hash(("array", repr(self.dtype)))

    def __repr__(self) -> str:
        return f"Array({self.dtype!r})"


class Property:
    """One named field of an :class:`Object`."""

    def __init__(self, name: str, dtype: FieldType, required: bool = True) -> None:
        self.name = name
        self.dtype = _data_type(dtype, "property") if isinstance(dtype, str) else dtype
        self.required = required

    def to_dict(self) -> dict[str, Any]:
        return {self.name: {**_type_to_dict(self.dtype), "required": self.required}}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Property) and (self.name, self.dtype, self.required) == (
            other.name,
            other.dtype,
            other.required,
        )

    def __hash__(self) -> int:
        return hash((self.name, repr(self.dtype), self.required))

    def __repr__(self) -> str:
        return f"{self.name}: {self.dtype!r} ({'required' if self.required else 'optional'})"


class Object:
    """A dict with known keys; properties are kept sorted by name, as MLflow does."""

    def __init__(self, properties: Sequence[Property]) -> None:
        names = [p.name for p in properties]
        if not names or len(set(names)) != len(names):
            raise ModelFormatError(f"An object needs distinct, non-empty properties: {names}")
        self.properties = sorted(properties, key=lambda p: p.name)

    def to_dict(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for prop in self.properties:
            merged.update(prop.to_dict())
        return {"type": "object", "properties": merged}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Object) and self.properties == other.properties

    def __hash__(self) -> int:
        return hash(tuple(self.properties))

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self.properties)) + "}"


class Map:
    """A dict from string keys to values of ``value_type``."""

    def __init__(self, value_type: FieldType) -> None:
        self.value_type = (
            _data_type(value_type, "map value") if isinstance(value_type, str) else value_type
        )

    def to_dict(self) -> dict[str, Any]:
        return {"type": "map", "values": _type_to_dict(self.value_type)}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Map) and self.value_type == other.value_type

    def __hash__(self) -> int:
        return hash(("map", repr(self.value_type)))

    def __repr__(self) -> str:
        return f"Map(str -> {self.value_type!r})"


# -- specs --------------------------------------------------------------------------------------


class ColSpec:
    """One column: its type, optional name, and whether it must be present."""

    def __init__(self, type: FieldType, name: str | None = None, required: bool = True) -> None:
        self.type = _data_type(type, "column") if isinstance(type, str) else type
        self.name = name
        self.required = required

    def to_dict(self) -> dict[str, Any]:
        result = _type_to_dict(self.type)
        if self.name is not None:
            result["name"] = self.name
        result["required"] = self.required
        return result

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> ColSpec:
        required = spec.get("required")
        return cls(_type_from_dict(spec), spec.get("name"), True if required is None else required)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ColSpec) and (self.type, self.name, self.required) == (
            other.type,
            other.name,
            other.required,
        )

    def __hash__(self) -> int:
        return hash((repr(self.type), self.name, self.required))

    def __repr__(self) -> str:
        flag = "required" if self.required else "optional"
        return f"{self.name!r}: {self.type!r} ({flag})" if self.name else f"{self.type!r} ({flag})"


class TensorSpec:
    """One tensor: numpy dtype, shape (``-1`` = variable dimension) and optional name."""

    required = True

    def __init__(self, type: Any, shape: Sequence[int], name: str | None = None) -> None:
        dtype = np.dtype(type)
        # MLflow stores flexible types without their size ("str", not "<U5").
        if dtype.kind == "U":
            dtype = np.dtype("str")
        elif dtype.kind == "S":
            dtype = np.dtype("bytes")
        self.type = dtype
        self.shape = tuple(int(d) for d in shape)
        self.name = name

    def to_dict(self) -> dict[str, Any]:
        spec = {"dtype": self.type.name, "shape": list(self.shape)}
        if self.name is None:
            return {"type": "tensor", "tensor-spec": spec}
        return {"name": self.name, "type": "tensor", "tensor-spec": spec}

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> TensorSpec:
        info = _require_dict(spec, "tensor-spec")
        try:
            return cls(np.dtype(info["dtype"]), info["shape"], spec.get("name"))
        except (KeyError, TypeError) as err:
            raise ModelFormatError(f"Malformed tensor spec {spec!r}: {err}") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TensorSpec) and (self.type, self.shape, self.name) == (
            other.type,
            other.shape,
            other.name,
        )

    def __hash__(self) -> int:
        return hash((str(self.type), self.shape, self.name))

    def __repr__(self) -> str:
        text = f"Tensor({self.type.name!r}, {self.shape!r})"
        return f"{self.name!r}: {text}" if self.name else text


Spec = ColSpec | TensorSpec


class Schema:
    """A list of column specs or of tensor specs (never both); all named or all unnamed."""

    def __init__(self, inputs: Sequence[Spec]) -> None:
        specs = list(inputs)
        if not specs:
            raise ModelFormatError("A schema needs at least one column or tensor")
        if len({type(s) for s in specs}) > 1:
            raise ModelFormatError("A schema cannot mix column specs and tensor specs")
        named = [s.name is not None for s in specs]
        if any(named) and not all(named):
            raise ModelFormatError("A schema's inputs must be all named or all unnamed")
        self.inputs = specs

    def __iter__(self) -> Iterator[Spec]:
        return iter(self.inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def is_tensor_spec(self) -> bool:
        return isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return self.inputs[0].name is not None

    def input_names(self) -> list[str | int]:
        return [s.name if s.name is not None else i for i, s in enumerate(self.inputs)]

    def required_input_names(self) -> list[str | int]:
        return [n for n, s in zip(self.input_names(), self.inputs, strict=True) if s.required]

    def to_dict(self) -> list[dict[str, Any]]:
        return [s.to_dict() for s in self.inputs]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Schema:
        try:
            items = json.loads(text)
        except ValueError as err:
            raise ModelFormatError(f"Malformed schema JSON {text[:200]!r}: {err}") from None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ModelFormatError(f"A schema is a JSON list of specs, not {text[:200]!r}")
        return cls(
            [
                TensorSpec.from_dict(i) if i.get("type") == "tensor" else ColSpec.from_dict(i)
                for i in items
            ]
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and self.inputs == other.inputs

    def __hash__(self) -> int:
        return hash(tuple(self.inputs))

    def __repr__(self) -> str:
        return repr(self.inputs)


class ParamSpec:
    """An inference parameter: name, type, default and shape (None: scalar, ``(-1,)``: list)."""

    def __init__(
        self,
        name: str,
        dtype: DataType | Object | str,
        default: Any,
        shape: Sequence[int] | None = None,
    ) -> None:
        self.name = str(name)
        self.dtype = _data_type(dtype, "param") if isinstance(dtype, str) else dtype
        self.default = default
        self.shape = tuple(shape) if shape is not None else None
        if self.shape not in (None, (-1,)):
            raise ModelFormatError(f"Param {name!r}: shape must be None or (-1,), not {shape}")
        self.default = self._checked_default()

    def _checked_default(self) -> Any:
        """The default as the declared type holds it (datetimes from ISO text, as MLmodel
        files keep them); a default that does not fit is refused here, so that no model is
        saved with a params schema MLflow (or cairn) would refuse to load."""
        from cairn.models.enforce import enforce_param  # enforce builds on this module

        if self.default is None and self.shape is None:
            return None
        try:
            return enforce_param(self.default, self)
        except (InvalidModelInput, TypeError, ValueError) as err:
            reason = err.message if isinstance(err, InvalidModelInput) else str(err)
            name = getattr(self.dtype, "name", repr(self.dtype))
            kind = f"a list of {name}" if self.shape else f"of type {name}"
            raise ModelFormatError(
                f"Param {self.name!r}: the default {self.default!r} is not {kind} ({reason})"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        default = self.default
        if self.dtype == DataType.datetime and default is not None:
            default = [v.isoformat() for v in default] if self.shape else default.isoformat()
        result: dict[str, Any] = {
            "name": self.name,
            "default": default,
            "shape": list(self.shape) if self.shape else None,
        }
        result.update(_type_to_dict(self.dtype))
        return result

    @classmethod
    def from_dict(cls, spec: dict[str, Any]) -> ParamSpec:
        kind = spec.get("type") or spec.get("dtype")
        if "name" not in spec or "default" not in spec or kind is None:
            raise ModelFormatError(f"A param spec needs name, type and default: {spec!r}")
        dtype = _type_from_dict({**spec, "type": kind}) if kind == "object" else kind
        return cls(spec["name"], dtype, spec["default"], spec.get("shape"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSpec) and (
            self.name,
            self.dtype,
            self.default,
            self.shape,
        ) == (other.name, other.dtype, other.default, other.shape)

    def __hash__(self) -> int:
        return hash((self.name, repr(self.dtype), self.shape))

    def __repr__(self) -> str:
        shape = f" (shape: {self.shape})" if self.shape else ""
        return f"{self.name!r}: {self.dtype!r} (default: {self.default}){shape}"


class ParamSchema:
    """The params a model accepts at predict time."""

    def __init__(self, params: Sequence[ParamSpec]) -> None:
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise ModelFormatError(f"Duplicated params in schema: {names}")
        self.params = list(params)

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self.params)

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.params]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> ParamSchema:
        try:
            items = json.loads(text)
        except ValueError as err:
            raise ModelFormatError(f"Malformed params schema JSON: {err}") from None
        if not isinstance(items, list):
            raise ModelFormatError("A params schema is a JSON list of param specs")
        return cls([ParamSpec.from_dict(i) for i in items])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ParamSchema) and self.params == other.params

    def __hash__(self) -> int:
        return hash(tuple(self.params))

    def __repr__(self) -> str:
        return repr(self.params)


class ModelSignature:
    """Inputs, outputs and params of a model. Any part may be None (unknown)."""

    def __init__(
        self,
        inputs: Schema | None = None,
        outputs: Schema | None = None,
        params: ParamSchema | None = None,
    ) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self.params = params

    def to_dict(self) -> dict[str, str | None]:
        """MLflow's layout: each part a JSON string (or None)."""
        return {
            "inputs": self.inputs.to_json() if self.inputs else None,
            "outputs": self.outputs.to_json() if self.outputs else None,
            "params": self.params.to_json() if self.params else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSignature:
        """Read the layout :meth:`to_dict` writes. Raises ModelFormatError if malformed."""
        if not isinstance(data, dict):
            raise ModelFormatError(f"A signature is a mapping of JSON strings, not {data!r}")
        inputs = Schema.from_json(data["inputs"]) if data.get("inputs") else None
        outputs = Schema.from_json(data["outputs"]) if data.get("outputs") else None
        params = ParamSchema.from_json(data["params"]) if data.get("params") else None
        return cls(inputs, outputs, params)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ModelSignature) and (self.inputs, self.outputs, self.params) == (
            other.inputs,
            other.outputs,
            other.params,
        )

    def __hash__(self) -> int:
        return hash((self.inputs, self.outputs, self.params))

    def __repr__(self) -> str:
        return f"inputs: {self.inputs!r}\noutputs: {self.outputs!r}\nparams: {self.params!r}"
