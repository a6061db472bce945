"""The dataset objects ``cairn.data.from_*`` return, and their conversion to the
:class:`cairn.entities.Dataset` a run records.

A dataset is identified by ``name`` and ``digest`` (a short content hash); ``source`` says
where it came from, ``schema`` and ``profile`` (JSON text) describe its columns and size.

    >>> from cairn.data.sources import DatasetSource
    >>> ds = Dataset(DatasetSource("local", {"uri": "x.csv"}), name="x", digest="abc12345")
    >>> ds.to_entity().source
    '{"uri": "x.csv"}'
    >>> as_dataset_entity(ds) == ds.to_entity()
    True
"""

from __future__ import annotations

import json
from typing import Any

from cairn.data.sources import DatasetSource
from cairn.entities import Dataset as DatasetEntity
from cairn.entities import DatasetInput

__all__ = ["DEFAULT_NAME", "Dataset", "as_dataset_entity", "get_source"]

#: MLflow's name for a dataset given none.
DEFAULT_NAME = "dataset"


class Dataset:
    """A dataset with a name, a digest and a source; subclasses add the data itself
    (:class:`~cairn.data.pandas_dataset.PandasDataset`,
    :class:`~cairn.data.numpy_dataset.NumpyDataset`) and describe it.
    """

    def __init__(
        self, source: DatasetSource, name: str | None = None, digest: str | None = None
    ) -> None:
        self._source = source
        self._name = name or DEFAULT_NAME
        self._digest = digest or self._compute_digest()
        # Described on first use, then kept: schema inference reads every value.
        self._described: dict[str, str | None] = {}

    def _compute_digest(self) -> str:
        raise NotImplementedError(f"{type(self).__name__} needs an explicit digest")

    @property
    def name(self) -> str:
        return self._name

    @property
    def digest(self) -> str:
        """A short hash of the content: equal data gives an equal digest."""
        return self._digest

    @property
    def source(self) -> DatasetSource:
        return self._source

    @property
    def source_type(self) -> str:
        return self._source.source_type

    @property
    def schema(self) -> str | None:
        """JSON text describing the columns or tensors, or None."""
        if "schema" not in self._described:
            self._described["schema"] = self._make_schema()
        return self._described["schema"]

    @property
    def profile(self) -> str | None:
        """JSON text with summary sizes (``num_rows``, ``num_elements``...), or None."""
        if "profile" not in self._described:
            self._described["profile"] = self._make_profile()
        return self._described["profile"]

    def _make_schema(self) -> str | None:
        return None

    def _make_profile(self) -> str | None:
        return None

    def to_dict(self) -> dict[str, str | None]:
        """``name``, ``digest``, ``source`` (JSON), ``source_type``, ``schema``, ``profile``."""
        return {
            "name": self.name,
            "digest": self.digest,
            "source": self._source.to_json(),
            "source_type": self.source_type,
            "schema": self.schema,
            "profile": self.profile,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def to_entity(self) -> DatasetEntity:
        """The :class:`cairn.entities.Dataset` recorded among a run's inputs."""
        return DatasetEntity(
            name=self.name,
            digest=self.digest,
            source_type=self.source_type,
            source=self._source.to_json(),
            schema=self.schema,
            profile=self.profile,
        )

    #: MLflow's name for :meth:`to_entity`, for code that calls it.
    _to_mlflow_entity = to_entity

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} digest={self.digest!r}>"


def as_dataset_entity(dataset: Any) -> DatasetEntity | None:
    """The entity to record for ``dataset``: a cairn dataset, an :class:`entities.Dataset`,
    or an MLflow dataset object (read by attribute); None for anything else."""
    if isinstance(dataset, DatasetEntity):
        return dataset
    if isinstance(dataset, Dataset):
        return dataset.to_entity()
    convert = getattr(dataset, "_to_mlflow_entity", None)
    entity = convert() if callable(convert) else None
    if entity is None:
        return None
    return DatasetEntity(
        name=str(entity.name),
        digest=str(entity.digest),
        source_type=str(entity.source_type),
        source=str(entity.source),
        schema=getattr(entity, "schema", None),
        profile=getattr(entity, "profile", None),
    )


def get_source(dataset: Any) -> DatasetSource:
    """The source of a dataset object, a recorded :class:`entities.Dataset` or a run's
    :class:`entities.DatasetInput`.

    >>> entity = DatasetEntity("iris", "0a1b2c3d", "http", '{"url": "https://x.org/i.csv"}')
    >>> get_source(DatasetInput(entity)).url
    'https://x.org/i.csv'

    Raises InvalidParameter for anything else.
    """
    from cairn.errors import InvalidParameter

    if isinstance(dataset, Dataset):
        return dataset.source
    if isinstance(dataset, DatasetInput):
        dataset = dataset.dataset
    entity = as_dataset_entity(dataset)
    if entity is None:
        raise InvalidParameter(
            f"get_source takes a dataset, a Dataset entity or a DatasetInput, "
            f"not {type(dataset).__name__}"
        )
    return DatasetSource.from_json(entity.source_type, entity.source)
