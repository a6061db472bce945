"""The write path: metric points, summaries, params and tags, in bulk.

Everything here runs inside a write transaction opened by the store. The metric path is the hot
one (the background writer sends tens of thousands of points per call), so it groups a batch by
series and writes each series as one column block (see ``schema.py``) plus one summary upsert:
a handful of statements per batch, however many points it holds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select, text, update

from cairn.errors import InvalidParameter, ParamValueChanged, RunNotFound
from cairn.store.base import MetricPoint
from cairn.store.sql import blocks
from cairn.store.sql.keys import KeyCache
from cairn.store.sql.schema import SMALL_BLOCK, metric_blocks, metric_summaries, params, runs

# One row per (run, key) of a batch, merged into the stored summary. In an upsert's SET clause
# every column reference reads the row as it was before the update, in SQLite and PostgreSQL.
# The latest point is the one with the largest step, then timestamp, then value (MLflow's
# order); NaN is stored as NULL and loses a tie to any number.
_NEWER = (
    "(excluded.latest_step > metric_summaries.latest_step OR "
    "(excluded.latest_step = metric_summaries.latest_step AND "
    "(excluded.latest_timestamp > metric_summaries.latest_timestamp OR "
    "(excluded.latest_timestamp = metric_summaries.latest_timestamp AND "
    "(metric_summaries.latest_value IS NULL OR "
    "excluded.latest_value >= metric_summaries.latest_value)))))"
)
_INSERT_SUMMARY = (
    "INSERT INTO metric_summaries (run_pk, key_id, latest_value, latest_step, "
    "latest_timestamp, min_value, max_value, count, tail_index) "
)
_MERGE_SUMMARY = (
    " ON CONFLICT (run_pk, key_id) DO UPDATE SET "
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
    "count = metric_summaries.count + excluded.count, "
    # Keep appending to the last block while it is small; otherwise this batch starts a block.
    "tail_index = CASE WHEN metric_summaries.count - metric_summaries.tail_index "
    f"+ excluded.count <= {SMALL_BLOCK} THEN metric_summaries.tail_index "
    "ELSE metric_summaries.count END"
)
_SUMMARY_VALUES = "VALUES (:run_pk, :key_id, :lv, :ls, :lt, :mn, :mx, :c, 0)"
_UPSERT_SUMMARY = text(
    _INSERT_SUMMARY + _SUMMARY_VALUES + _MERGE_SUMMARY + " RETURNING count, tail_index"
)
#: The same merge, for executemany (no RETURNING).
_UPSERT_SUMMARY_PLAIN = text(_INSERT_SUMMARY + _SUMMARY_VALUES + _MERGE_SUMMARY)
# PostgreSQL: the same merge for many series at once, one array per column. A statement of
# fixed text (prepared once) whatever the number of series, unlike a VALUES list.
_BIGINTS = "CAST(:{} AS BIGINT[])"
_DOUBLES = "CAST(:{} AS DOUBLE PRECISION[])"
_UPSERT_SUMMARIES = text(
    _INSERT_SUMMARY
    + "SELECT r, k, lv, ls, lt, mn, mx, c, 0 FROM unnest("
    + ", ".join(
        (_BIGINTS if name in ("run_pk", "key_id", "ls", "lt", "c") else _DOUBLES).format(name)
        for name in ("run_pk", "key_id", "lv", "ls", "lt", "mn", "mx", "c")
    )
    + ") AS u(r, k, lv, ls, lt, mn, mx, c)"
    + _MERGE_SUMMARY
    + " RETURNING run_pk, key_id, count, tail_index"
)
_SELECT_TAILS = text(
    "SELECT b.run_pk, b.key_id, b.first_index, b.count, b.min_step, b.max_step, b.steps, "
    'b.timestamps, b."values" FROM metric_blocks b JOIN unnest('
    + ", ".join(_BIGINTS.format(name) for name in ("run_pk", "key_id", "first"))
    + ") AS w(r, k, f) ON b.run_pk = w.r AND b.key_id = w.k AND b.first_index = w.f"
)
_INSERT_BLOCK = text(
    "INSERT INTO metric_blocks (run_pk, key_id, first_index, count, min_step, max_step, "
    'steps, timestamps, "values") VALUES (:run_pk, :key_id, :first, :count, :min_step, '
    ":max_step, :steps, :timestamps, :values)"
)
_UPDATE_TAIL = text(
    "UPDATE metric_blocks SET count = :count, min_step = :min_step, max_step = :max_step, "
    'steps = :steps, timestamps = :timestamps, "values" = :values '
    "WHERE run_pk = :run_pk AND key_id = :key_id AND first_index = :first"
)
_SELECT_TAIL = select(
    metric_blocks.c.count,
    metric_blocks.c.min_step,
    metric_blocks.c.max_step,
    metric_blocks.c.steps,
    metric_blocks.c.timestamps,
    metric_blocks.c["values"],
).where(
    metric_blocks.c.run_pk == bindparam("run_pk"),
    metric_blocks.c.key_id == bindparam("key_id"),
    metric_blocks.c.first_index == bindparam("first"),
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
    run_pks: dict[str, int] | None = None,
) -> None:
    """Append validated points (possibly of several runs and keys) and update summaries.
    ``run_pks``: the internal ids of the points' runs, when the caller has already checked
    that they are writable (saves reading them again)."""
    series: dict[tuple[str, str], list[MetricPoint]] = {}
    for point in points:
        group = series.get((point[0], point[1]))
        if group is None:
            series[(point[0], point[1])] = [point]
        else:
            group.append(point)
    if run_pks is None:
        run_pks = writable_run_pks(conn, {run_id for run_id, _ in series})
    key_ids = key_cache.ids_for_write(conn, {key for _, key in series}, fresh)
    batches = [
        _SeriesBatch.of(run_pks[run_id], key_ids[key], group)
        for (run_id, key), group in series.items()
    ]
    if len(batches) == 1:
        _append_one(conn, batches[0])
    elif conn.dialect.name == "sqlite":
        _append_many(conn, batches)
    else:
        _append_many_locked(conn, batches)


def _or_zero(value: float) -> float:
    """``value``, or 0 for NaN (which a tuple comparison cannot order)."""
    return value if value == value else 0.0


@dataclass(slots=True)
class _SeriesBatch:
    """The points one batch adds to one series, and what they change in its summary."""

    run_pk: int
    key_id: int
    steps: list[int]
    timestamps: list[int]
    values: list[float]
    summary: dict[str, Any]

    @classmethod
    def of(cls, run_pk: int, key_id: int, group: list[MetricPoint]) -> _SeriesBatch:
        values = [p[2] for p in group]
        timestamps = [p[3] for p in group]
        steps = [p[4] for p in group]
        top = max(steps)
        # The latest point: largest step, then timestamp, then value (NaN below any number).
        latest = max(
            (i for i in range(len(steps)) if steps[i] == top),
            key=lambda i: (timestamps[i], values[i] == values[i], _or_zero(values[i])),
        )
        finite = [v for v in values if v == v]
        latest_value = values[latest]
        summary = {
            "run_pk": run_pk,
            "key_id": key_id,
            "lv": None if latest_value != latest_value else latest_value,
            "ls": top,
            "lt": timestamps[latest],
            "mn": min(finite) if finite else None,
            "mx": max(finite) if finite else None,
            "c": len(values),
        }
        return cls(run_pk, key_id, steps, timestamps, values, summary)

    def new_block(self, first: int) -> dict[str, Any]:
        packed = blocks.pack(self.steps, self.timestamps, self.values)
        return {
            "run_pk": self.run_pk,
            "key_id": self.key_id,
            "first": first,
            "count": len(self.values),
            "min_step": min(self.steps),
            "max_step": max(self.steps),
            "steps": packed[0],
            "timestamps": packed[1],
            "values": packed[2],
        }

    def extended_block(self, tail: Any) -> dict[str, Any]:
        """The series' small last block (a ``_SELECT_TAIL`` row) with these points added."""
        steps, timestamps, values = blocks.unpack(tail[3], tail[4], tail[5])
        steps.extend(self.steps)
        timestamps.extend(self.timestamps)
        values.extend(self.values)
        packed = blocks.pack(steps, timestamps, values)
        return {
            "count": tail[0] + len(self.values),
            "min_step": min(tail[1], min(self.steps)),
            "max_step": max(tail[2], max(self.steps)),
            "steps": packed[0],
            "timestamps": packed[1],
            "values": packed[2],
        }


def _append_one(conn: Connection, batch: _SeriesBatch) -> None:
    """One series: the summary upsert says (RETURNING) where its points go. Correct with
    concurrent writers on PostgreSQL, whose upsert locks the summary row."""
    count, tail = conn.execute(_UPSERT_SUMMARY, batch.summary).one()
    first = count - len(batch.values)
    if tail == first:
        conn.execute(_INSERT_BLOCK, batch.new_block(first))
        return
    where = {"run_pk": batch.run_pk, "key_id": batch.key_id, "first": tail}
    conn.execute(
        _UPDATE_TAIL, {**where, **batch.extended_block(conn.execute(_SELECT_TAIL, where).one())}
    )


def _append_many(conn: Connection, batches: list[_SeriesBatch]) -> None:
    """Many series in a handful of statements, whatever their number (a log-batch of 1,000
    keys). Only under SQLite's single writer, where nothing changes the summaries between
    reading them here and writing them."""
    s = metric_summaries.c
    pairs = [(b.run_pk, b.key_id) for b in batches]
    before: dict[tuple[int, int], tuple[int, int]] = {}
    for start in range(0, len(pairs), 400):
        chunk = set(pairs[start : start + 400])
        # Two plain IN lists, not a row-value IN: SQLite answers `(run_pk, key_id) IN (...)`
        # with a scan of the whole table, while this one uses the primary key. The rows of
        # the cross product that no batch asked for are never looked up.
        stmt = select(s.run_pk, s.key_id, s.count, s.tail_index).where(
            s.run_pk.in_({pk for pk, _ in chunk}), s.key_id.in_({key for _, key in chunk})
        )
        before.update({(r[0], r[1]): (r[2], r[3]) for r in conn.execute(stmt)})
    conn.execute(_UPSERT_SUMMARY_PLAIN, [b.summary for b in batches])
    new_blocks: list[dict[str, Any]] = []
    appends: list[tuple[_SeriesBatch, int]] = []
    for batch in batches:
        count, tail = before.get((batch.run_pk, batch.key_id), (0, 0))
        if count and count - tail + len(batch.values) <= SMALL_BLOCK:
            appends.append((batch, tail))
        else:
            new_blocks.append(batch.new_block(count))
    if new_blocks:
        conn.execute(_INSERT_BLOCK, new_blocks)
    for batch, tail in appends:
        where = {"run_pk": batch.run_pk, "key_id": batch.key_id, "first": tail}
        extended = batch.extended_block(conn.execute(_SELECT_TAIL, where).one())
        conn.execute(_UPDATE_TAIL, {**where, **extended})


def _append_many_locked(conn: Connection, batches: list[_SeriesBatch]) -> None:
    """Many series on PostgreSQL in four statements, correct with concurrent writers: one
    upsert of every summary (which locks their rows until commit) returns where each series'
    points go, as :func:`_append_one` does for one; then the new blocks are inserted, and the
    small tail blocks read and rewritten."""
    # One lock order for every writer, so that two batches sharing series never deadlock.
    batches = sorted(batches, key=lambda b: (b.run_pk, b.key_id))
    columns: dict[str, list[Any]] = {name: [] for name in batches[0].summary}
    for batch in batches:
        for name, value in batch.summary.items():
            columns[name].append(value)
    placement = {
        (run_pk, key_id): (count, tail)
        for run_pk, key_id, count, tail in conn.execute(_UPSERT_SUMMARIES, columns)
    }
    new_blocks: list[dict[str, Any]] = []
    appends: list[tuple[_SeriesBatch, int]] = []
    for batch in batches:
        count, tail = placement[(batch.run_pk, batch.key_id)]
        first = count - len(batch.values)
        if tail == first:
            new_blocks.append(batch.new_block(first))
        else:
            appends.append((batch, tail))
    if new_blocks:
        conn.execute(_INSERT_BLOCK, new_blocks)
    if not appends:
        return
    wanted = {
        "run_pk": [a.run_pk for a, _ in appends],
        "key_id": [a.key_id for a, _ in appends],
        "first": [tail for _, tail in appends],
    }
    tails = {(r[0], r[1], r[2]): r[3:] for r in conn.execute(_SELECT_TAILS, wanted)}
    conn.execute(
        _UPDATE_TAIL,
        [
            {
                "run_pk": a.run_pk,
                "key_id": a.key_id,
                "first": tail,
                **a.extended_block(tails[(a.run_pk, a.key_id, tail)]),
            }
            for a, tail in appends
        ],
    )


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
