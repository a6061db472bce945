"""Where a dataset came from: a :class:`DatasetSource` is a kind (``source_type``) and a small
JSON object describing the place (``{"uri": ...}``, ``{"url": ...}``), stored with the dataset
in the same layout MLflow uses, so either tool reads the other's records.

    >>> resolve_source("data/train.csv").source_type
    'local'
    >>> resolve_source("https://example.com/iris.csv").to_json()
    '{"url": "https://example.com/iris.csv"}'
    >>> resolve_source("s3://bucket/iris.parquet").uri
    's3://bucket/iris.parquet'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cairn.entities import FrozenDict
from cairn.errors import InvalidParameter

__all__ = ["DatasetSource", "code_source", "resolve_source"]


@dataclass(frozen=True)
class DatasetSource:
    """A dataset's origin: ``source_type`` (``local``, ``http``, ``s3``, ``code``...) and
    ``spec``, the JSON object that locates it."""

    source_type: str
    spec: Mapping[str, Any] = field(default_factory=FrozenDict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "spec", FrozenDict(self.spec))

    @property
    def uri(self) -> str | None:
        """The location as a URI or URL, when the source has one."""
        value = self.spec.get("uri", self.spec.get("url"))
        return None if value is None else str(value)

    @property
    def url(self) -> str | None:
        """MLflow's name for an HTTP source's location."""
        return self.uri

    def to_dict(self) -> dict[str, Any]:
        return dict(self.spec)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, source_type: str, text: str) -> DatasetSource:
        """The source a stored dataset records (``Dataset.source_type``, ``Dataset.source``).
        Text that is not a JSON object is kept as ``{"uri": text}``."""
        try:
            spec = json.loads(text)
        except ValueError:
            spec = None
        if not isinstance(spec, dict):
            spec = {"uri": text}
        return cls(source_type, spec)


def code_source() -> DatasetSource:
    """The source of data built in code: the running script, as MLflow records it."""
    from cairn import _source

    return DatasetSource("code", {"tags": _source.source_tags()})


def resolve_source(source: Any) -> DatasetSource:
    """A :class:`DatasetSource` from what ``from_pandas(source=...)`` accepts: None (the
    code that is running), a path or URI string, a DatasetSource, or an object shaped like
    MLflow's sources (``to_json()`` and ``_get_source_type()``).

    Raises InvalidParameter for anything else.
    """
    if source is None:
        return code_source()
    if isinstance(source, DatasetSource):
        return source
    if isinstance(source, str):
        return _from_string(source)
    to_json = getattr(source, "to_json", None)
    get_type = getattr(source, "_get_source_type", None)
    if callable(to_json) and callable(get_type):
        return DatasetSource.from_json(str(get_type()), str(to_json()))
    raise InvalidParameter(
        f"A dataset source is a path, a URI or a DatasetSource, not {type(source).__name__}"
    )


def _from_string(text: str) -> DatasetSource:
    scheme, sep, _ = text.partition("://")
    if not sep or not scheme.isidentifier():
        return DatasetSource("local", {"uri": text})
    scheme = scheme.lower()
    if scheme in ("http", "https"):
        return DatasetSource("http", {"url": text})
    if scheme == "file":
        return DatasetSource("local", {"uri": text})
    return DatasetSource(scheme, {"uri": text})
