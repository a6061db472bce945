"""Metric history: full series with paging, and sampled series of several runs."""

from __future__ import annotations

from typing import Any

from cairn._protocol import double
from cairn.server import messages as m
from cairn.server.encode import metric_json
from cairn.server.rpc import rpc
from cairn.server.schemas import STRING, array, obj, ref
from cairn.server.settings import Context


@rpc(
    "GET",
    "/mlflow/metrics/get-history",
    m.GetMetricHistory,
    response=obj(metrics=array(ref("Metric")), next_page_token=STRING),
)
def get_metric_history(msg: m.GetMetricHistory, ctx: Context) -> dict[str, Any]:
    """Every point of one metric of one run, in step order, paged."""
    page = ctx.store.get_metric_history(
        msg.id, msg.metric_key, max_results=msg.max_results, page_token=msg.page_token or None
    )
    body: dict[str, Any] = {
        "metrics": [
            {"key": p.key, "value": double(p.value), "timestamp": p.timestamp, "step": p.step}
            for p in page
        ]
    }
    if page.token:
        body["next_page_token"] = page.token
    return body


@rpc(
    "GET",
    "/mlflow/metrics/get-history-bulk-interval",
    m.GetMetricHistoryBulkInterval,
    response=obj(metrics=array(ref("Metric"))),
)
def get_metric_history_bulk_interval(
    msg: m.GetMetricHistoryBulkInterval, ctx: Context
) -> dict[str, Any]:
    """Up to ``max_results`` points per run of one metric, evenly spread over the steps and
    always including the first and last; optionally within ``[start_step, end_step]``."""
    metrics = []
    for run_id in dict.fromkeys(msg.run_ids):
        points = ctx.store.get_metric_history(run_id, msg.metric_key)
        if msg.start_step is not None and msg.end_step is not None:
            low, high = msg.start_step, msg.end_step
            points = [p for p in points if low <= p.step <= high]  # type: ignore[assignment]
        for point in _spread(points, msg.max_results):
            metrics.append(metric_json(point))
    return {"metrics": metrics}


def _spread(points: list[Any], count: int) -> list[Any]:
    if len(points) <= count:
        return points
    if count == 1:
        return [points[-1]]
    last = len(points) - 1
    picks = sorted({round(i * last / (count - 1)) for i in range(count)})
    return [points[i] for i in picks]
