"""cairn's endpoints for the web UI (``/api/2.0/cairn/...``): reads the MLflow protocol has no
efficient form for. See :mod:`cairn.store.sql.ui_queries` for what each computes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from cairn.entities import ViewType
from cairn.errors import InvalidParameter
from cairn.server.encode import experiment_json
from cairn.server.messages import Message, StrList, ViewTypeName
from cairn.server.rpc import rpc
from cairn.server.settings import Context
from cairn.store.sql import ui_queries as q


def _sql_store(ctx: Context) -> Any:
    store = ctx.store
    if not hasattr(store, "run_query"):
        raise InvalidParameter("The UI endpoints need a SQL backend store")
    return store


class ExperimentSummaries(Message):
    view_type: ViewTypeName = "ACTIVE_ONLY"


@rpc("GET", "/cairn/experiments/summaries", ExperimentSummaries)
def experiment_summaries(msg: ExperimentSummaries, ctx: Context) -> dict[str, Any]:
    """Experiments with their run counts and last activity."""
    found = q.experiment_summaries(_sql_store(ctx), ViewType[msg.view_type])
    return {
        "experiments": [
            {
                **experiment_json(item["experiment"]),
                "run_count": item["run_count"],
                "last_activity": item["last_activity"],
            }
            for item in found
        ]
    }


class RunTable(Message):
    experiment_ids: StrList = Field(min_length=1)
    filter: str | None = None
    order_by: StrList = Field(default_factory=list)
    run_view_type: ViewTypeName = "ACTIVE_ONLY"
    max_results: int = Field(100, ge=1, le=1000)
    page_token: str | None = None
    columns: StrList = Field(default_factory=list)


@rpc("POST", "/cairn/runs/table", RunTable)
def run_table(msg: RunTable, ctx: Context) -> dict[str, Any]:
    """A page of runs with only the chosen columns, the total, and child counts."""
    table = q.run_table(
        _sql_store(ctx),
        msg.experiment_ids,
        msg.filter or None,
        msg.order_by or None,
        ViewType[msg.run_view_type],
        msg.max_results,
        msg.page_token or None,
        msg.columns,
    )
    for row in table["runs"]:
        row["values"] = {k: _json_number(v) for k, v in row["values"].items()}
    if table["next_page_token"] is None:
        del table["next_page_token"]
    return table


def _json_number(value: Any) -> Any:
    from cairn._protocol import double

    return double(value) if isinstance(value, float) else value


class RunKeys(Message):
    experiment_ids: StrList = Field(min_length=1)


@rpc("GET", "/cairn/runs/keys", RunKeys)
def run_keys(msg: RunKeys, ctx: Context) -> dict[str, Any]:
    """The metric, param and tag keys of these experiments' runs."""
    return q.run_keys(_sql_store(ctx), msg.experiment_ids)


class RunMetrics(Message):
    run_id: str
    filter: str | None = None
    offset: int = Field(0, ge=0)
    limit: int = Field(200, ge=1, le=5000)


@rpc("GET", "/cairn/runs/metrics", RunMetrics)
def run_metrics(msg: RunMetrics, ctx: Context) -> dict[str, Any]:
    """Every metric of one run with latest, min, max and count, filtered and paged."""
    found = q.run_metrics(_sql_store(ctx), msg.run_id, msg.filter or None, msg.offset, msg.limit)
    for item in found["metrics"]:
        for field in ("latest", "min", "max"):
            item[field] = _json_number(item[field])
    return found


class MetricSeries(Message):
    run_ids: StrList = Field(min_length=1, max_length=100)
    key: str
    x_axis: Literal["step", "time", "relative"] = "step"
    buckets: int = Field(1000, ge=1, le=10_000)
    x_min: float | None = None
    x_max: float | None = None


@rpc("POST", "/cairn/metrics/series", MetricSeries)
def metric_series(msg: MetricSeries, ctx: Context) -> dict[str, Any]:
    """One metric of several runs, downsampled keeping each bucket's min and max."""
    series = q.metric_series(
        _sql_store(ctx),
        msg.run_ids,
        msg.key,
        x_axis=msg.x_axis,
        buckets=msg.buckets,
        x_min=msg.x_min,
        x_max=msg.x_max,
    )
    return {"series": series}


class RunGroups(Message):
    experiment_ids: StrList = Field(min_length=1)
    group_by: str
    metric_keys: StrList = Field(default_factory=list)
    filter: str | None = None
    run_view_type: ViewTypeName = "ACTIVE_ONLY"


@rpc("POST", "/cairn/runs/groups", RunGroups)
def run_groups(msg: RunGroups, ctx: Context) -> dict[str, Any]:
    """Runs grouped by a param or tag: counts and mean metrics per group."""
    groups = q.run_groups(
        _sql_store(ctx),
        msg.experiment_ids,
        msg.group_by,
        msg.metric_keys,
        msg.filter or None,
        ViewType[msg.run_view_type],
    )
    for group in groups:
        group["means"] = {k: _json_number(v) for k, v in group["means"].items()}
    return {"groups": groups}


class RunStates(Message):
    run_ids: StrList = Field(min_length=1, max_length=1000)


@rpc("POST", "/cairn/runs/states", RunStates)
def run_states(msg: RunStates, ctx: Context) -> dict[str, Any]:
    """Status and per-metric (count, latest step) of runs, for live pages."""
    return {"runs": q.run_states(_sql_store(ctx), msg.run_ids)}
