"""Loading runs with everything they logged, in a few set-based queries.

A page of 100 runs or a DataFrame of 100,000 costs the same five queries (params, tags, metric
summaries, inputs, outputs). The run ids travel as one bound array (``json_each`` on SQLite,
an array on PostgreSQL) instead of thousands of bound variables, and rows come straight from
the DB-API cursor: at these sizes the per-row cost of a richer result layer is most of the
time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection

from cairn.entities import (
    Dataset,
    DatasetInput,
    FrozenDict,
    InputTag,
    ModelInput,
    ModelOutput,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
)
from cairn.store.sql.keys import KeyCache
from cairn.store.sql.schema import runs as runs_table
from cairn.store.sql.writes import nan_safe

#: The run columns every run query selects, in the order :func:`load_runs` unpacks them.
RUN_COLUMNS = (
    runs_table.c.pk,
    runs_table.c.run_uuid,
    runs_table.c.experiment_id,
    runs_table.c.name,
    runs_table.c.user_id,
    runs_table.c.status,
    runs_table.c.start_time,
    runs_table.c.end_time,
    runs_table.c.lifecycle_stage,
)

_PARAMS = "SELECT run_pk, key_id, value FROM params WHERE run_pk IN ({pks})"
_TAGS = "SELECT run_pk, key_id, value FROM tags WHERE run_pk IN ({pks})"
_METRICS = (
    "SELECT run_pk, key_id, latest_value, latest_step, latest_timestamp FROM metric_summaries "
    "WHERE run_pk IN ({pks})"
)
_INPUTS = (
    "SELECT ri.run_pk, ri.tags, d.name, d.digest, d.source_type, d.source, d.schema, "
    "d.profile FROM run_inputs ri JOIN datasets d ON d.id = ri.dataset_id "
    "WHERE ri.run_pk IN ({pks}) ORDER BY ri.run_pk, d.id"
)
_MODEL_INPUTS = (
    "SELECT run_pk, model_id FROM run_model_inputs WHERE run_pk IN ({pks}) "
    "ORDER BY run_pk, model_id"
)
_OUTPUTS = (
    "SELECT run_pk, model_id, step FROM run_outputs WHERE run_pk IN ({pks}) "
    "ORDER BY run_pk, step, model_id"
)


def fetch_for_runs(conn: Connection, sql: str, pks: Sequence[int]) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (with ``{pks}`` where the set of run pks goes) for ``pks``."""
    if not pks:
        return []
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if conn.dialect.name == "postgresql":
            cursor.execute(sql.format(pks="SELECT unnest(%s::bigint[])"), (list(pks),))
        else:
            cursor.execute(sql.format(pks="SELECT value FROM json_each(?)"), (json.dumps(pks),))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def load_runs(
    conn: Connection,
    rows: Sequence[Any],
    key_cache: KeyCache,
    locations: Callable[[Connection, set[int]], dict[int, str]],
) -> list[Run]:
    """Runs with their data and inputs, from rows of :data:`RUN_COLUMNS`."""
    # Positional access: attribute lookups on result rows cost more than everything else here.
    records = [tuple(r) for r in rows]
    pks = [r[0] for r in records]
    params_rows = fetch_for_runs(conn, _PARAMS, pks)
    tag_rows = fetch_for_runs(conn, _TAGS, pks)
    metric_rows = fetch_for_runs(conn, _METRICS, pks)
    key_ids = {row[1] for row in params_rows}
    key_ids.update(row[1] for row in tag_rows)
    key_ids.update(row[1] for row in metric_rows)
    names = key_cache.names(conn, key_ids)

    params_of: dict[int, dict[str, str]] = {pk: {} for pk in pks}
    tags_of: dict[int, dict[str, str]] = {pk: {} for pk in pks}
    metrics_of: dict[int, dict[str, float]] = {pk: {} for pk in pks}
    steps_of: dict[int, dict[str, tuple[int, int]]] = {pk: {} for pk in pks}
    for run_pk, key_id, text in params_rows:
        params_of[run_pk][names[key_id]] = text
    for run_pk, key_id, text in tag_rows:
        tags_of[run_pk][names[key_id]] = text
    for run_pk, key_id, value, step, timestamp in metric_rows:
        name = names[key_id]
        metrics_of[run_pk][name] = nan_safe(value)
        steps_of[run_pk][name] = (step, timestamp)
    inputs_of = _load_inputs(conn, pks)
    outputs_of: dict[int, list[ModelOutput]] = {}
    for run_pk, model_id, step in fetch_for_runs(conn, _OUTPUTS, pks):
        outputs_of.setdefault(run_pk, []).append(ModelOutput(model_id, step))
    no_outputs = RunOutputs()
    where = locations(conn, {r[2] for r in records})
    empty_inputs = RunInputs()
    runs = []
    for pk, run_id, exp_id, name, user, status, start, end, stage in records:
        info = RunInfo(
            run_id,
            str(exp_id),
            name,
            user,
            status,
            start,
            end,
            f"{where[exp_id]}/{run_id}/artifacts",
            stage,
        )
        data = RunData(
            FrozenDict(metrics_of[pk]),
            FrozenDict(params_of[pk]),
            FrozenDict(tags_of[pk]),
            FrozenDict(steps_of[pk]),
        )
        outputs = outputs_of.get(pk)
        runs.append(
            Run(
                info,
                data,
                inputs_of.get(pk, empty_inputs),
                RunOutputs(tuple(outputs)) if outputs else no_outputs,
            )
        )
    return runs


def _load_inputs(conn: Connection, pks: list[int]) -> dict[int, RunInputs]:
    found: dict[int, list[DatasetInput]] = {}
    for run_pk, tags, name, digest, source_type, source, schema, profile in fetch_for_runs(
        conn, _INPUTS, pks
    ):
        dataset = Dataset(name, digest, source_type, source, schema, profile)
        input_tags = tuple(InputTag(k, v) for k, v in json.loads(tags).items())
        found.setdefault(run_pk, []).append(DatasetInput(dataset, input_tags))
    models: dict[int, list[ModelInput]] = {}
    for run_pk, model_id in fetch_for_runs(conn, _MODEL_INPUTS, pks):
        models.setdefault(run_pk, []).append(ModelInput(model_id))
    return {
        pk: RunInputs(tuple(found.get(pk, ())), tuple(models.get(pk, ())))
        for pk in found.keys() | models.keys()
    }
