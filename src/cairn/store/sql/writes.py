"""The write path: metric points, summaries, params and tags, in bulk.

Everything here runs inside a write transaction opened by the store. The metric path is the hot
one (the background writer sends tens of thousands of points per call), so it builds plain
tuples and hands them to the DB-API driver in one ``executemany`` (SQLite) or one ``COPY``
(PostgreSQL), and folds each (run, key) series of the batch into one summary upsert.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select, text, update

from cairn.errors import InvalidParameter, ParamValueChanged, RunNotFound
from cairn.store.base import MetricPoint
from cairn.store.sql.keys import KeyCache
from cairn.store.sql.schema import params, runs

_INSERT_POINTS_SQLITE = (
    "INSERT INTO metric_points (run_pk, key_id, step, timestamp, value) VALUES (?, ?, ?, ?, ?)"
)
_COPY_POINTS_PG = "COPY metric_points (run_pk, key_id, step, timestamp, value) FROM STDIN"

# One row per (run, key) of a batch, merged into the stored summary. In an upsert's SET clause
# every column reference reads the row as it was before the update, in SQLite and PostgreSQL.
_NEWER = (
    "(excluded.latest_step > metric_summaries.latest_step OR "
    "(excluded.latest_step = metric_summaries.latest_step AND "
    "excluded.latest_timestamp >= metric_summaries.latest_timestamp))"
)
_UPSERT_SUMMARY = text(
    "INSERT INTO metric_summaries (run_pk, key_id, latest_value, latest_step, "
    "latest_timestamp, min_value, max_value, count) "
    "VALUES (:run_pk, :key_id, :lv, :ls, :lt, :mn, :mx, :c) "
    "ON CONFLICT (run_pk, key_id) DO UPDATE SET "
    f"latest_value = CASE WHEN {_NEWER} THEN excluded.latest_value "
    "ELSE metric_summaries.latest_value END, "
    f"latest_step = CASE WHEN {_NEWER} THEN excluded.latest_step "
    "ELSE metric_summaries.latest_step END, "
    f"latest_timestamp = CASE WHEN {_NEWER} THEN excluded.latest_timestamp "
    "ELSE metric_summaries.latest_timestamp END, "
    "min_value = CASE WHEN metric_summaries.min_value IS NULL THEN excluded.min_value "
    "WHEN excluded.min_value IS NULL THEN metric_summaries.min_value "
    "WHEN excluded.min_value < metric_summaries.min_value THEN excluded.min_value "
    "ELSE metric_summaries.min_value END, "
    "max_value = CASE WHEN metric_summaries.max_value IS NULL THEN excluded.max_value "
    "WHEN excluded.max_value IS NULL THEN metric_summaries.max_value "
    "WHEN excluded.max_value > metric_summaries.max_value THEN excluded.max_value "
    "ELSE metric_summaries.max_value END, "
    "count = metric_summaries.count + excluded.count"
)
_UPSERT_TAG = text(
    "INSERT INTO tags (run_pk, key_id, value) VALUES (:run_pk, :key_id, :value) "
    "ON CONFLICT (run_pk, key_id) DO UPDATE SET value = excluded.value"
)
_INSERT_PARAM = text(
    "INSERT INTO params (run_pk, key_id, value) VALUES (:run_pk, :key_id, :value) "
    "ON CONFLICT (run_pk, key_id) DO NOTHING"
)
_SELECT_RUNS_FOR_WRITE = select(runs.c.run_uuid, runs.c.pk, runs.c.lifecycle_stage).where(
    runs.c.run_uuid.in_(bindparam("ids", expanding=True))
)
_SELECT_PARAMS = select(params.c.key_id, params.c.value).where(
    params.c.run_pk == bindparam("run_pk"),
    params.c.key_id.in_(bindparam("key_ids", expanding=True)),
)

RUN_NAME_TAG = "mlflow.runName"


def writable_run_pks(conn: Connection, run_ids: Iterable[str]) -> dict[str, int]:
    """Internal ids of active runs. Raises RunNotFound, or InvalidParameter for deleted runs."""
    wanted = list(dict.fromkeys(run_ids))
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 900):
        chunk = wanted[start : start + 900]
        for run_id, pk, stage in conn.execute(_SELECT_RUNS_FOR_WRITE, {"ids": chunk}):
            if stage != "active":
                raise InvalidParameter(
                    f"Run {run_id!r} is deleted; restore it (cairn runs restore {run_id}) "
                    "before logging to it",
                    run_id=run_id,
                )
            found[run_id] = pk
    for run_id in wanted:
        if run_id not in found:
            raise RunNotFound(run_id)
    return found


def insert_metric_points(
    conn: Connection,
    key_cache: KeyCache,
    fresh: dict[str, int],
    points: Sequence[MetricPoint],
) -> None:
    """Append validated points (possibly of several runs) and update their summaries."""
    run_pks = writable_run_pks(conn, {p[0] for p in points})
    key_ids = key_cache.ids_for_write(conn, {p[1] for p in points}, fresh)
    rows: list[tuple[int, int, int, int, float | None]] = []
    append = rows.append
    # (run_pk, key_id) -> [latest_value, latest_step, latest_ts, min, max, count]
    summaries: dict[tuple[int, int], list[Any]] = {}
    for run_id, key, value, timestamp, step in points:
        run_pk = run_pks[run_id]
        key_id = key_ids[key]
        stored = None if value != value else value  # NaN is stored as NULL
        append((run_pk, key_id, step, timestamp, stored))
        summary = summaries.get((run_pk, key_id))
        if summary is None:
            summaries[(run_pk, key_id)] = [stored, step, timestamp, stored, stored, 1]
            continue
        if step > summary[1] or (step == summary[1] and timestamp >= summary[2]):
            summary[0], summary[1], summary[2] = stored, step, timestamp
        if stored is not None:
            if summary[3] is None or stored < summary[3]:
                summary[3] = stored
            if summary[4] is None or stored > summary[4]:
                summary[4] = stored
        summary[5] += 1
    _bulk_insert_points(conn, rows)
    conn.execute(
        _UPSERT_SUMMARY,
        [
            {
                "run_pk": rk[0],
                "key_id": rk[1],
                "lv": s[0],
                "ls": s[1],
                "lt": s[2],
                "mn": s[3],
                "mx": s[4],
                "c": s[5],
            }
            for rk, s in summaries.items()
        ],
    )


def _bulk_insert_points(
    conn: Connection, rows: list[tuple[int, int, int, int, float | None]]
) -> None:
    driver_conn = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        assert driver_conn is not None
        with driver_conn.cursor() as cur, cur.copy(_COPY_POINTS_PG) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        conn.exec_driver_sql(_INSERT_POINTS_SQLITE, rows)


def insert_params(
    conn: Connection,
    run_pk: int,
    run_id: str,
    items: dict[str, str],
    key_ids: dict[str, int],
) -> None:
    """Insert params; the same value again is a no-op, another value raises
    ParamValueChanged (and the caller's transaction rolls back, so nothing is written)."""
    if not items:
        return
    by_id = {key_ids[k]: k for k in items}
    existing = conn.execute(_SELECT_PARAMS, {"run_pk": run_pk, "key_ids": list(by_id)})
    changed = [(by_id[key_id], old) for key_id, old in existing if items[by_id[key_id]] != old]
    if changed:
        key, old = changed[0]
        raise ParamValueChanged(
            f"Changing param values is not allowed. Param {key!r} of run {run_id!r} was "
            f"already logged with value {old!r}; the new value is {items[key]!r}. Params are "
            "the inputs of a run and are immutable: log a new run, or use a metric or tag.",
            run_id=run_id,
            key=key,
        )
    conn.execute(
        _INSERT_PARAM,
        [{"run_pk": run_pk, "key_id": key_ids[k], "value": v} for k, v in items.items()],
    )


def upsert_tags(
    conn: Connection, run_pk: int, items: dict[str, str], key_ids: dict[str, int]
) -> None:
    """Set tags; the tag ``mlflow.runName`` also renames the run."""
    if not items:
        return
    conn.execute(
        _UPSERT_TAG,
        [{"run_pk": run_pk, "key_id": key_ids[k], "value": v} for k, v in items.items()],
    )
    if RUN_NAME_TAG in items:
        conn.execute(update(runs).where(runs.c.pk == run_pk).values(name=items[RUN_NAME_TAG]))


def nan_safe(value: float | None) -> float:
    """The stored form back to a float: NULL was NaN."""
    return math.nan if value is None else value
