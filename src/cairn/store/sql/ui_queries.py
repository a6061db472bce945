"""Reads shaped for the web UI, where MLflow's protocol would load far too much.

* :func:`experiment_summaries`: experiments with their run counts and last activity.
* :func:`run_table`: one page of a run search with only the columns the user chose (a metric
  column names its aggregate: latest, min, max or count), the total, and child counts for the
  nested-run tree. A page of 100,000 runs costs what a page of 100 does.
* :func:`run_keys`: the metric, param and tag keys present in some experiments (column chooser,
  filter autocompletion).
* :func:`run_metrics`: every metric of one run with its summary, filtered and paged (a run may
  have 10,000 keys).
* :func:`metric_series`: series downsampled to buckets that keep each bucket's min and max, so
  no spike is ever lost; full resolution when few points remain (zoom).
* :func:`run_groups`: runs grouped by a param or tag with counts and mean metrics.
* :func:`run_states`: status and per-key counts of some runs, for live updates.

All take a :class:`~cairn.store.sql.store.SqlTrackingStore`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Connection, and_, func, select

from cairn.entities import LifecycleStage, ViewType
from cairn.errors import InvalidParameter, RunNotFound
from cairn.store.sql import history, reads, search
from cairn.store.sql.schema import experiments, keys, metric_summaries, params, runs, tags
from cairn.validation import int64_or_none

if TYPE_CHECKING:
    from cairn.store.sql.store import SqlTrackingStore

PARENT_TAG = "mlflow.parentRunId"
_AGGREGATES = {"latest": "latest_value", "min": "min_value", "max": "max_value", "count": "count"}


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


# -- experiments -----------------------------------------------------------------------------


def experiment_summaries(
    store: SqlTrackingStore, view_type: int = ViewType.ACTIVE_ONLY
) -> list[dict[str, Any]]:
    """Every experiment with ``run_count`` (active runs) and ``last_activity`` (ms)."""
    stages = LifecycleStage.view_type_to_stages(view_type)
    active = runs.c.lifecycle_stage == LifecycleStage.ACTIVE
    activity = func.max(func.coalesce(runs.c.end_time, runs.c.start_time))
    stmt = (
        select(experiments, func.count(runs.c.pk).label("run_count"), activity.label("activity"))
        .select_from(
            experiments.outerjoin(runs, and_(runs.c.experiment_id == experiments.c.id, active))
        )
        .where(experiments.c.lifecycle_stage.in_(stages))
        .group_by(experiments.c.id)
        .order_by(experiments.c.creation_time.desc(), experiments.c.id)
    )

    def work(conn: Connection) -> list[dict[str, Any]]:
        rows = conn.execute(stmt).all()
        loaded = store._load_experiments(conn, rows)
        return [
            {
                "experiment": exp,
                "run_count": int(row.run_count),
                "last_activity": max(row.activity or 0, exp.last_update_time or 0) or None,
            }
            for exp, row in zip(loaded, rows, strict=True)
        ]

    result: list[dict[str, Any]] = store._read(work)
    return result


# -- the runs table --------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A user-chosen column: ``metrics.loss:min``, ``params.lr`` or ``tags.team``."""

    entity: Literal["metric", "param", "tag"]
    key: str
    aggregate: str = "latest"

    @classmethod
    def parse(cls, text: str) -> Column:
        entity, _, rest = text.partition(".")
        key, _, aggregate = rest.rpartition(":") if ":" in rest else (rest, "", "")
        kinds = {"metrics": "metric", "params": "param", "tags": "tag"}
        if entity not in kinds or not key:
            raise InvalidParameter(
                f"Invalid column {text!r}: use metrics.<key>[:latest|min|max|count], "
                "params.<key> or tags.<key>"
            )
        if entity != "metrics" and aggregate:
            key = f"{key}:{aggregate}"  # a colon inside a param or tag key
            aggregate = ""
        if aggregate and aggregate not in _AGGREGATES:
            raise InvalidParameter(
                f"Invalid aggregate {aggregate!r} in column {text!r}: latest, min, max or count"
            )
        return cls(kinds[entity], key, aggregate or "latest")  # type: ignore[arg-type]

    @property
    def name(self) -> str:
        prefix = {"metric": "metrics", "param": "params", "tag": "tags"}[self.entity]
        suffix = f":{self.aggregate}" if self.entity == "metric" else ""
        return f"{prefix}.{self.key}{suffix}"


def run_table(
    store: SqlTrackingStore,
    experiment_ids: Sequence[str],
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
    view_type: int = ViewType.ACTIVE_ONLY,
    max_results: int = 100,
    page_token: str | None = None,
    columns: Sequence[str] = (),
) -> dict[str, Any]:
    """One page of runs with the chosen columns, the total count and child counts."""
    chosen = [Column.parse(c) for c in columns]
    if len(chosen) > 500:
        raise InvalidParameter(f"At most 500 columns at once; got {len(chosen)}")
    offset = search.decode_page_token(page_token)
    stmt = store.run_query(experiment_ids, filter_string, view_type, order_by)
    page_stmt = search.paginate(stmt, offset, max_results)
    count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())

    def work(conn: Connection) -> dict[str, Any]:
        rows = [tuple(r) for r in conn.execute(page_stmt)]
        more = len(rows) > max_results
        rows = rows[:max_results]
        total = conn.execute(count_stmt).scalar_one()
        pks = [r[0] for r in rows]
        values = _column_values(store, conn, pks, chosen)
        fixed = _fixed_tags(store, conn, pks)
        children = _child_counts(store, conn, [r[1] for r in rows])
        out = []
        for pk, run_id, exp_id, name, user, status, start, end, stage in rows:
            out.append(
                {
                    "run_id": run_id,
                    "run_name": name,
                    "experiment_id": str(exp_id),
                    "user_id": user,
                    "status": status,
                    "start_time": start,
                    "end_time": end,
                    "lifecycle_stage": stage,
                    "parent_run_id": fixed.get(pk, {}).get(PARENT_TAG),
                    "source": fixed.get(pk, {}).get("mlflow.source.name"),
                    "child_count": children.get(run_id, 0),
                    "values": values.get(pk, {}),
                }
            )
        return {
            "runs": out,
            "total": total,
            "next_page_token": search.encode_page_token(offset + max_results) if more else None,
        }

    result: dict[str, Any] = store._read(work)
    return result


def _column_values(
    store: SqlTrackingStore, conn: Connection, pks: list[int], chosen: list[Column]
) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    if not pks or not chosen:
        return out
    ids = store._keys.ids_for_read(conn, {c.key for c in chosen})
    for entity, table in (("param", params), ("tag", tags)):
        wanted = {ids[c.key]: c for c in chosen if c.entity == entity and c.key in ids}
        if wanted:
            stmt = select(table.c.run_pk, table.c.key_id, table.c.value).where(
                table.c.run_pk.in_(pks), table.c.key_id.in_(list(wanted))
            )
            for run_pk, key_id, value in conn.execute(stmt):
                out.setdefault(run_pk, {})[wanted[key_id].name] = value
    metric_cols = [c for c in chosen if c.entity == "metric" and c.key in ids]
    if metric_cols:
        s = metric_summaries.c
        stmt = select(s.run_pk, s.key_id, s.latest_value, s.min_value, s.max_value, s.count).where(
            s.run_pk.in_(pks), s.key_id.in_({ids[c.key] for c in metric_cols})
        )
        by_key: dict[int, list[Column]] = {}
        for c in metric_cols:
            by_key.setdefault(ids[c.key], []).append(c)
        position = {"latest": 2, "min": 3, "max": 4, "count": 5}
        for row in conn.execute(stmt):
            for c in by_key[row[1]]:
                value = row[position[c.aggregate]]
                out.setdefault(row[0], {})[c.name] = (
                    int(value) if c.aggregate == "count" else _nan(value)
                )
    return out


def _fixed_tags(
    store: SqlTrackingStore, conn: Connection, pks: list[int]
) -> dict[int, dict[str, str]]:
    ids = store._keys.ids_for_read(conn, [PARENT_TAG, "mlflow.source.name"])
    if not pks or not ids:
        return {}
    names = {v: k for k, v in ids.items()}
    out: dict[int, dict[str, str]] = {}
    stmt = select(tags.c.run_pk, tags.c.key_id, tags.c.value).where(
        tags.c.run_pk.in_(pks), tags.c.key_id.in_(list(names))
    )
    for run_pk, key_id, value in conn.execute(stmt):
        out.setdefault(run_pk, {})[names[key_id]] = value
    return out


def _child_counts(store: SqlTrackingStore, conn: Connection, run_ids: list[str]) -> dict[str, int]:
    parent_key = store._keys.ids_for_read(conn, [PARENT_TAG]).get(PARENT_TAG)
    if parent_key is None or not run_ids:
        return {}
    stmt = (
        select(tags.c.value, func.count())
        .select_from(tags.join(runs, runs.c.pk == tags.c.run_pk))
        .where(
            tags.c.key_id == parent_key,
            tags.c.value.in_(run_ids),
            runs.c.lifecycle_stage == LifecycleStage.ACTIVE,
        )
        .group_by(tags.c.value)
    )
    return {value: int(count) for value, count in conn.execute(stmt)}


def run_keys(store: SqlTrackingStore, experiment_ids: Sequence[str]) -> dict[str, list[str]]:
    """Sorted metric, param and tag keys used by active runs of these experiments."""
    exp_pks = [pk for pk in map(int64_or_none, experiment_ids) if pk is not None]
    in_experiments = select(runs.c.pk).where(
        runs.c.experiment_id.in_(exp_pks), runs.c.lifecycle_stage == LifecycleStage.ACTIVE
    )

    def distinct(table: Any) -> Any:
        ids = select(table.c.key_id).where(table.c.run_pk.in_(in_experiments)).distinct()
        return select(keys.c.name).where(keys.c.id.in_(ids)).order_by(keys.c.name)

    def work(conn: Connection) -> dict[str, list[str]]:
        return {
            name: list(conn.execute(distinct(table)).scalars())
            for name, table in (("metrics", metric_summaries), ("params", params), ("tags", tags))
        }

    result: dict[str, list[str]] = store._read(work)
    return result


def run_metrics(
    store: SqlTrackingStore,
    run_id: str,
    name_filter: str | None = None,
    offset: int = 0,
    limit: int = 200,
) -> dict[str, Any]:
    """A run's metric summaries sorted by key, filtered by a case-insensitive substring."""
    s = metric_summaries.c

    def work(conn: Connection) -> dict[str, Any]:
        pk = store._run_pk(conn, run_id)
        where = [s.run_pk == pk]
        if name_filter:
            escaped = name_filter.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(keys.c.name.ilike(f"%{escaped}%", escape="\\"))
        base = (
            select(
                keys.c.name,
                s.latest_value,
                s.latest_step,
                s.latest_timestamp,
                s.min_value,
                s.max_value,
                s.count,
            )
            .select_from(metric_summaries.join(keys, keys.c.id == s.key_id))
            .where(*where)
        )
        total = conn.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        rows = conn.execute(base.order_by(keys.c.name).offset(offset).limit(limit)).all()
        return {
            "total": total,
            "metrics": [
                {
                    "key": name,
                    "latest": _nan(latest),
                    "step": step,
                    "timestamp": ts,
                    "min": _nan(low),
                    "max": _nan(high),
                    "count": int(count),
                }
                for name, latest, step, ts, low, high, count in rows
            ],
        }

    result: dict[str, Any] = store._read(work)
    return result


# -- charts ----------------------------------------------------------------------------------


def metric_series(
    store: SqlTrackingStore,
    run_ids: Sequence[str],
    key: str,
    *,
    x_axis: Literal["step", "time", "relative"] = "step",
    buckets: int = 1000,
    x_min: float | None = None,
    x_max: float | None = None,
) -> list[dict[str, Any]]:
    """One metric of several runs, each downsampled to at most ``buckets`` buckets.

    A series with at most ``2 * buckets`` points in range comes back whole (``"raw": true``,
    arrays ``x`` and ``y``). A longer one is cut into ``buckets`` equal x-ranges; each bucket
    gives its x (first point), the min and the max of its values (``y_min``, ``y_max``) and its
    last value (``y``), so every spike survives. ``x_min``/``x_max`` restrict the range, which
    is how a zoomed chart gets full resolution back. NaN values come back as None, infinite
    ones as ``"Infinity"``/``"-Infinity"``.
    """
    import numpy as np

    if not 1 <= buckets <= 10_000:
        raise InvalidParameter(f"buckets must be between 1 and 10000; got {buckets}")

    def work(conn: Connection) -> list[dict[str, Any]]:
        key_id = store._keys.ids_for_read(conn, [key]).get(key)
        found = []
        for run_id in dict.fromkeys(run_ids):
            row = conn.execute(
                select(runs.c.pk, runs.c.start_time).where(runs.c.run_uuid == run_id)
            ).first()
            if row is None:
                raise RunNotFound(run_id)
            if key_id is None:
                found.append({"run_id": run_id, "key": key, "raw": True, "x": [], "y": []})
                continue
            step_range = (
                (
                    None if x_min is None else math.floor(x_min),
                    None if x_max is None else math.ceil(x_max),
                )
                if x_axis == "step"
                else (None, None)
            )
            series = history.read_series(conn, row.pk, key_id, *step_range)
            steps = np.frombuffer(series.steps, dtype=np.int64)
            stamps = np.frombuffer(series.timestamps, dtype=np.int64)
            values = np.frombuffer(series.values, dtype=np.float64)
            if x_axis == "step":
                x = steps.astype(np.float64)
            elif x_axis == "time":
                x = stamps.astype(np.float64)
            else:
                x = (stamps - row.start_time).astype(np.float64) / 1000.0
            if x_axis != "step":
                order = np.argsort(x, kind="stable")
                x, values = x[order], values[order]
            if x_axis != "step" and (x_min is not None or x_max is not None):
                keep = np.ones(len(x), dtype=bool)
                if x_min is not None:
                    keep &= x >= x_min
                if x_max is not None:
                    keep &= x <= x_max
                x, values = x[keep], values[keep]
            found.append({"run_id": run_id, "key": key, **_downsample(np, x, values, buckets)})
        return found

    result: list[dict[str, Any]] = store._read(work)
    return result


def _clean(array: Any) -> list[float | str | None]:
    """Values as JSON can carry them: NaN as None, infinities as the protocol's strings."""
    return [
        None if v != v else float(v) if math.isfinite(v) else ("Infinity" if v > 0 else "-Infinity")
        for v in array.tolist()
    ]


def _downsample(np: Any, x: Any, y: Any, buckets: int) -> dict[str, Any]:
    n = len(x)
    if n <= 2 * buckets:
        return {"raw": True, "count": n, "x": x.tolist(), "y": _clean(y)}
    low, high = float(x[0]), float(x[-1])
    width = (high - low) / buckets or 1.0
    index = np.minimum(((x - low) / width).astype(np.int64), buckets - 1)
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    ends = np.r_[starts[1:], n]
    finite = np.where(np.isnan(y), np.inf, y)
    y_min = np.minimum.reduceat(finite, starts)
    y_max = np.maximum.reduceat(np.where(np.isnan(y), -np.inf, y), starts)
    all_nan = np.isinf(y_min) & np.isinf(y_max) & (y_min > y_max)
    y_min = np.where(all_nan, np.nan, y_min)
    y_max = np.where(all_nan, np.nan, y_max)
    return {
        "raw": False,
        "count": n,
        "x": x[starts].tolist(),
        "y": _clean(y[ends - 1]),
        "y_min": _clean(y_min),
        "y_max": _clean(y_max),
    }


# -- grouping and live updates ---------------------------------------------------------------


def run_groups(
    store: SqlTrackingStore,
    experiment_ids: Sequence[str],
    group_by: str,
    metric_keys: Sequence[str] = (),
    filter_string: str | None = None,
    view_type: int = ViewType.ACTIVE_ONLY,
) -> list[dict[str, Any]]:
    """Runs grouped by the value of ``params.<key>`` or ``tags.<key>``: per group the count
    and the mean of each metric's latest value (runs without the key form one group, None)."""
    entity, _, key = group_by.partition(".")
    if entity not in ("params", "tags") or not key:
        raise InvalidParameter(f"group_by must be params.<key> or tags.<key>; got {group_by!r}")
    table = (params if entity == "params" else tags).alias("g")
    matching = store.run_query(experiment_ids, filter_string, view_type).order_by(None).subquery()

    def work(conn: Connection) -> list[dict[str, Any]]:
        ids = store._keys.ids_for_read(conn, [key, *metric_keys])
        group_key = ids.get(key, -1)
        value = table.c.value
        source = matching.outerjoin(
            table, and_(table.c.run_pk == matching.c.pk, table.c.key_id == group_key)
        )
        columns: list[Any] = [value.label("value"), func.count(matching.c.pk.distinct())]
        for i, metric in enumerate(metric_keys):
            s = metric_summaries.alias(f"m{i}")
            source = source.outerjoin(
                s, and_(s.c.run_pk == matching.c.pk, s.c.key_id == ids.get(metric, -1))
            )
            columns.append(func.avg(s.c.latest_value))
        stmt = select(*columns).select_from(source).group_by(value).order_by(value)
        out = []
        for row in conn.execute(stmt):
            out.append(
                {
                    "value": row[0],
                    "count": int(row[1]),
                    "means": {
                        m: (None if row[2 + i] is None else float(row[2 + i]))
                        for i, m in enumerate(metric_keys)
                    },
                }
            )
        return out

    result: list[dict[str, Any]] = store._read(work)
    return result


def run_states(store: SqlTrackingStore, run_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Status, end time and, per metric key, (count, latest step) of some runs: what a live
    page compares to know what to re-fetch."""
    wanted = list(dict.fromkeys(run_ids))[:1000]

    def work(conn: Connection) -> list[dict[str, Any]]:
        rows = conn.execute(select(*reads.RUN_COLUMNS).where(runs.c.run_uuid.in_(wanted))).all()
        pks = {r[0]: r for r in rows}
        s = metric_summaries.c
        counts: dict[int, dict[str, list[int]]] = {pk: {} for pk in pks}
        stmt = (
            select(s.run_pk, keys.c.name, s.count, s.latest_step)
            .select_from(metric_summaries.join(keys, keys.c.id == s.key_id))
            .where(s.run_pk.in_(list(pks)))
        )
        for run_pk, name, count, step in conn.execute(stmt):
            counts[run_pk][name] = [int(count), int(step)]
        return [
            {
                "run_id": r[1],
                "status": r[5],
                "end_time": r[7],
                "lifecycle_stage": r[8],
                "metrics": counts[r[0]],
            }
            for r in rows
        ]

    result: list[dict[str, Any]] = store._read(work)
    return result
