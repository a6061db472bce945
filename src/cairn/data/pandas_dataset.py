"""Datasets built from pandas DataFrames (:func:`from_pandas`).

>>> import pandas as pd
>>> frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
>>> ds = from_pandas(frame, source="data/train.csv", name="train", targets="y")
>>> ds.name, ds.source_type, ds.targets, len(ds.digest)
('train', 'local', 'y', 8)
>>> ds.profile
'{"num_rows": 3, "num_elements": 6}'
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from cairn.data._digest import frame_digest
from cairn.data.dataset import Dataset
from cairn.data.sources import DatasetSource, resolve_source
from cairn.errors import CairnError, InvalidParameter

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["PandasDataset", "from_pandas"]

_log = logging.getLogger("cairn")


class PandasDataset(Dataset):
    """A DataFrame with its source, optional target and prediction columns."""

    def __init__(
        self,
        df: pd.DataFrame,
        source: DatasetSource,
        targets: str | None = None,
        name: str | None = None,
        digest: str | None = None,
        predictions: str | None = None,
    ) -> None:
        for role, column in (("targets", targets), ("predictions", predictions)):
            if column is not None and column not in df.columns:
                raise InvalidParameter(f"{role} column {column!r} is not a column of the frame")
        self._df = df
        self._targets = targets
        self._predictions = predictions
        super().__init__(source, name, digest)

    def _compute_digest(self) -> str:
        return frame_digest(self._df)

    @property
    def df(self) -> pd.DataFrame:
        return self._df

    @property
    def targets(self) -> str | None:
        """The name of the column holding the targets, if any."""
        return self._targets

    @property
    def predictions(self) -> str | None:
        """The name of the column holding a model's predictions, if any."""
        return self._predictions

    def _make_schema(self) -> str | None:
        """The columns as MLflow describes them: ``{"mlflow_colspec": [{"type", "name",
        "required"}, ...]}``; None when a column has no schema type."""
        from cairn.models.signature import infer_schema

        try:
            specs = infer_schema(self._df).to_dict()
        except CairnError as err:
            _log.debug("No schema for dataset %r: %s", self.name, err)
            return None
        return json.dumps({"mlflow_colspec": specs})

    def _make_profile(self) -> str | None:
        return json.dumps({"num_rows": len(self._df), "num_elements": int(self._df.size)})


def from_pandas(
    df: pd.DataFrame,
    source: Any = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> PandasDataset:
    """A dataset of ``df`` to log with :func:`cairn.log_input`.

    Args:
        df: the data.
        source: where it came from: a path, a URI (``s3://...``, ``https://...``) or a
            :class:`~cairn.data.sources.DatasetSource`; by default, the running code.
        targets, predictions: names of the columns holding targets and predictions.
        name: defaults to ``"dataset"``.
        digest: defaults to a hash of the content (see :mod:`cairn.data._digest`).

    Raises InvalidParameter if ``df`` is not a DataFrame or a named column is missing.
    """
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        raise InvalidParameter(f"from_pandas takes a pandas DataFrame, not {type(df).__name__}")
    return PandasDataset(df, resolve_source(source), targets, name, digest, predictions)
