"""Reading back the tables :meth:`Client.log_table` wrote (``cairn.load_table``).

A run lists its tables in the tag ``mlflow.loggedArtifacts`` (``[{"path", "type": "table"}]``);
each table is JSON in pandas' "split" layout. Loading one table across runs concatenates them,
optionally with columns describing each row's run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from cairn import validation as v
from cairn.client import LOGGED_ARTIFACTS_TAG
from cairn.entities import Run, ViewType
from cairn.errors import InvalidParameter, ResourceNotFound

if TYPE_CHECKING:
    import pandas as pd

    from cairn.client import Client

__all__ = ["load_table"]

_log = logging.getLogger("cairn")


def load_table(
    client: Client,
    experiment_id: str,
    artifact_file: str,
    run_ids: Sequence[str] | None = None,
    extra_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The table ``artifact_file`` of ``run_ids`` (in that order; runs from any experiment),
    or of every active run of ``experiment_id`` that logged it (newest run first), as one
    DataFrame. See :func:`cairn.load_table`."""
    import pandas as pd

    path = v.validate_artifact_path(artifact_file)
    if run_ids:
        candidates: list[Run] = [client.get_run(r) for r in run_ids]
    else:
        candidates = list(_runs_mentioning(client, experiment_id, path))
    runs = [r for r in candidates if r.info.lifecycle_stage == "active" and _has_table(r, path)]
    if run_ids and len(runs) < len(candidates):
        skipped = sorted({r.info.run_id for r in candidates} - {r.info.run_id for r in runs})
        _log.warning("load_table: runs %s have no table %r; skipped", ", ".join(skipped), path)
    if not runs:
        raise ResourceNotFound(f"No run has logged a table {path!r} (with cairn.log_table)")
    extras = _extra_values(runs, extra_columns or [])
    frames = [_with_extras(_read_table(client, run, path), extras[i]) for i, run in enumerate(runs)]
    return pd.concat(frames, ignore_index=True)


def _runs_mentioning(client: Client, experiment_id: str, path: str) -> Iterator[Run]:
    """Runs whose logged-artifacts tag may list ``path`` (the filter narrows, the caller
    checks exactly; LIKE's wildcards may match more)."""
    filter_string = ""
    if "'" not in path and "\\" not in path:
        filter_string = f"tags.`{LOGGED_ARTIFACTS_TAG}` LIKE '%\"{path}\"%'"
    token = None
    while True:
        page = client.search_runs(
            [experiment_id], filter_string, ViewType.ACTIVE_ONLY, v.MAX_SEARCH_RESULTS, None, token
        )
        yield from page
        token = page.token
        if not token:
            return


def _has_table(run: Run, path: str) -> bool:
    try:
        logged = json.loads(run.data.tags.get(LOGGED_ARTIFACTS_TAG, "[]"))
    except ValueError:
        return False
    return isinstance(logged, list) and {"path": path, "type": "table"} in logged


def _read_table(client: Client, run: Run, path: str) -> pd.DataFrame:
    from cairn._artifact_formats import table_from_bytes

    with client._artifact_repo(run.info.run_id).open(path) as stream:
        raw = stream.read()
    frame: pd.DataFrame = table_from_bytes(raw, f"load_table: {path!r} of run {run.info.run_id}")
    return frame


def _extra_values(runs: Sequence[Run], columns: Sequence[str]) -> list[dict[str, object]]:
    """For each run, the values of the requested columns of ``search_runs``'s frame."""
    if not columns:
        return [{} for _ in runs]
    from cairn._frames import runs_to_frame

    frame = runs_to_frame(runs)
    unknown = [c for c in columns if c not in frame.columns]
    if unknown:
        raise InvalidParameter(
            f"load_table: unknown extra column(s) {unknown}; use columns of search_runs' "
            "frame, e.g. 'run_id', 'experiment_id', 'params.<key>', 'tags.<key>'"
        )
    return [{c: frame.at[i, c] for c in columns} for i in range(len(runs))]


def _with_extras(table: pd.DataFrame, extras: dict[str, object]) -> pd.DataFrame:
    for column, value in extras.items():
        name = column
        if name in table.columns:
            # MLflow's rule: keep the table's column, add the run's with a trailing "_".
            _log.warning("load_table: the table has a column %r; adding %r", column, column + "_")
            name = column + "_"
        table[name] = [value] * len(table)
    return table
