"""cairn's extension for bulk logging: whole metric series in one columnar request.

MLflow's ``log-batch`` carries at most 1,000 metrics as one JSON object each; cairn's own REST
client sends series as parallel arrays instead (``POST /api/2.0/cairn/runs/log-metric-series``),
up to :data:`MAX_POINTS` points per request, which JSON parses at C speed::

    {"series": [{"run_id": "...", "key": "loss",
                 "steps": [0, 1, 2], "timestamps": [1700000000000, ...], "values": [0.9, ...]}]}

Values may be ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``, as everywhere in the protocol. The
request is validated whole before anything is written, and written in one transaction.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from cairn.errors import InvalidParameter
from cairn.server.messages import Double, Int64, Message
from cairn.server.rpc import rpc
from cairn.server.schemas import EMPTY
from cairn.server.settings import Context
from cairn.store.base import MetricPoint
from cairn.validation import validate_metric_key, validate_run_id

#: Points accepted in one request.
MAX_POINTS = 500_000
Timestamp = Annotated[int, Field(ge=0, le=2**63 - 1)]


class MetricSeries(Message):
    run_id: str
    key: str
    steps: list[Int64]
    timestamps: list[Timestamp]
    values: list[Double]

    @model_validator(mode="after")
    def _same_lengths(self) -> MetricSeries:
        if not (len(self.steps) == len(self.timestamps) == len(self.values)):
            raise ValueError(
                f"steps, timestamps and values of series {self.key!r} must have the same "
                f"length (got {len(self.steps)}, {len(self.timestamps)}, {len(self.values)})"
            )
        return self


class LogMetricSeries(Message):
    series: list[MetricSeries] = Field(min_length=1)


@rpc("POST", "/cairn/runs/log-metric-series", LogMetricSeries, response=EMPTY)
def log_metric_series(msg: LogMetricSeries, ctx: Context) -> dict[str, Any]:
    """Append whole metric series (cairn's bulk logging; parallel arrays per series)."""
    total = sum(len(s.steps) for s in msg.series)
    if total > MAX_POINTS:
        raise InvalidParameter(
            f"A request can carry at most {MAX_POINTS:,} points; got {total:,}. Split it."
        )
    points: list[MetricPoint] = []
    for series in msg.series:
        run_id = validate_run_id(series.run_id)
        key = validate_metric_key(series.key)
        points.extend(
            (run_id, key, value, timestamp, step)
            for step, timestamp, value in zip(
                series.steps, series.timestamps, series.values, strict=True
            )
        )
    ctx.store.log_metric_points(points)
    return {}
