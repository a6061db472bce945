"""Runs as a pandas DataFrame, laid out as ``mlflow.search_runs`` lays them out.

Columns: ``run_id``, ``experiment_id``, ``status``, ``artifact_uri``, ``start_time``,
``end_time`` (UTC timestamps), then ``metrics.<key>`` (latest values), ``params.<key>`` and
``tags.<key>``, each group sorted by key. A run without a key holds NaN (metrics) or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from cairn.entities import Run


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """A DataFrame with one row per run (columns built directly, not row by row)."""
    import numpy as np
    import pandas as pd

    n = len(runs)
    columns: dict[str, Any] = {
        "run_id": [r.info.run_id for r in runs],
        "experiment_id": [r.info.experiment_id for r in runs],
        "status": [r.info.status for r in runs],
        "artifact_uri": [r.info.artifact_uri for r in runs],
        "start_time": pd.to_datetime(
            pd.Series([r.info.start_time for r in runs], dtype="Int64"), unit="ms", utc=True
        ),
        "end_time": pd.to_datetime(
            pd.Series([r.info.end_time or None for r in runs], dtype="Int64"), unit="ms", utc=True
        ),
    }
    metrics: dict[str, Any] = {}
    params: dict[str, list[str | None]] = {}
    tags: dict[str, list[str | None]] = {}
    for i, run in enumerate(runs):
        data = run.data
        for key, value in data.metrics.items():
            column = metrics.get(key)
            if column is None:
                column = metrics[key] = np.full(n, np.nan)
            column[i] = value
        for source, target in ((data.params, params), (data.tags, tags)):
            for key, text in source.items():
                values = target.get(key)
                if values is None:
                    values = target[key] = [None] * n
                values[i] = text
    for prefix, group in (("metrics.", metrics), ("params.", params), ("tags.", tags)):
        for key in sorted(group):
            columns[prefix + key] = group[key]
    frame: pd.DataFrame = pd.DataFrame(columns)
    return frame
