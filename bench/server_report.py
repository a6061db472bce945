"""Rows and notes of the tracking-server workloads, for the console and ``bench/README.md``.

Same conventions as ``report.py`` (whose :class:`report.Row` they use): the ratio is "how many
times faster cairn's server is". The server rows go to their own README section, between
:data:`README_MARKERS`, so a run of only the local workloads (or only the server ones) leaves
the other section as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from report import Row, Summary, _get

README_MARKERS = ("<!-- server-results:start -->", "<!-- server-results:end -->")
SERVER_PREFIX = "server_"
_TOOLS = ("cairn", "mlflow")


def _seconds(summary: Summary, case: str, key: str, scale: float = 1.0) -> float | None:
    value = _get(summary, case, key)
    return None if value is None else value / scale


def _ratio_row(row: Row, times: float) -> Row:
    """``row`` with its target met when cairn is at least ``times`` times faster."""
    ratio = row.ratio
    met = None if ratio is None else ratio >= times
    return Row(row.workload, row.cairn, row.mlflow, row.unit, row.target, met)


def _total(measurements: Mapping[str, Sequence[Mapping[str, Any]]], case: str, key: str) -> float:
    """The sum of ``key`` over every repetition of ``case`` that produced a result."""
    return float(sum(result.get(key, 0) for result in measurements.get(case, ())))


def _pair(
    summary: Summary, workload: str, key: str, scale: float = 1.0
) -> tuple[float | None, float | None]:
    return (
        _seconds(summary, f"{workload}/cairn", key, scale),
        _seconds(summary, f"{workload}/mlflow", key, scale),
    )


def _has(summary: Summary, workload: str) -> bool:
    return f"{workload}/cairn" in summary or f"{workload}/mlflow" in summary


def build_rows(
    summary: Summary,
    measurements: Mapping[str, Sequence[Mapping[str, Any]]],
    sizes: Mapping[str, int],
) -> list[Row]:
    """The table rows of the server cases present in ``summary``."""
    rows: list[Row] = []
    if _has(summary, "server_log_metric"):
        cairn, mlflow = _pair(summary, "server_log_metric", "us_per_call", 1e6)
        label = "server_log_metric: time per call (MLflow client, synchronous)"
        rows.append(_ratio_row(Row(label, cairn, mlflow, "s", "≥ 10x"), 10))
    if _has(summary, "server_runs"):
        cairn, mlflow = _pair(summary, "server_runs", "runs_per_s")
        label = "server_runs: runs/s (create + log_batch of 10 params, 50 metrics + end)"
        rows.append(_ratio_row(Row(label, cairn, mlflow, "rate", "≥ 10x"), 10))
    if _has(summary, "server_search"):
        cairn, mlflow = _pair(summary, "server_search", "median_s")
        label = f"server_search: filtered + ordered, 100 of {sizes['search_runs']:,} runs"
        rows.append(_ratio_row(Row(label, cairn, mlflow, "s", "≥ 10x"), 10))
    if _has(summary, "server_durable"):
        rows.extend(_durable_rows(summary))
    if _has(summary, "server_concurrent"):
        rows.extend(_concurrent_rows(summary, measurements, sizes))
    return rows


def _durable_rows(summary: Summary) -> list[Row]:
    cairn_rate, mlflow_rate = _pair(summary, "server_durable", "points_per_s_durable")
    cairn_call, mlflow_call = _pair(summary, "server_durable", "us_per_call", 1e6)
    versus = "cairn client (queued) vs MLflow client synchronous=False"
    met = None if cairn_rate is None else cairn_rate >= 200_000
    return [
        Row(
            f"server_durable: points/s made durable, {versus}",
            cairn_rate,
            mlflow_rate,
            "rate",
            "cairn ≥ 200,000/s",
            met,
        ),
        Row(f"server_durable: time per call, {versus}", cairn_call, mlflow_call, "s"),
    ]


def _concurrent_rows(
    summary: Summary,
    measurements: Mapping[str, Sequence[Mapping[str, Any]]],
    sizes: Mapping[str, int],
) -> list[Row]:
    clients, points = sizes["concurrent_clients"], sizes["concurrent_points"]
    head = f"server_concurrent ({clients} clients x {points:,} points)"
    rows = [
        Row(f"{head}: points/s", *_pair(summary, "server_concurrent", "points_per_s"), "rate"),
        Row(f"{head}: p50 request latency", *_pair(summary, "server_concurrent", "p50_s"), "s"),
        Row(f"{head}: p99 request latency", *_pair(summary, "server_concurrent", "p99_s"), "s"),
    ]
    for key, label in (
        ("errors", "failed requests"),
        ("missing_points", "acknowledged points not stored"),
    ):
        cairn, mlflow = (
            _total(measurements, f"server_concurrent/{tool}", key)
            if f"server_concurrent/{tool}" in summary
            else None
            for tool in _TOOLS
        )
        met = None if cairn is None else cairn == 0
        rows.append(Row(f"{head}: {label}, all repetitions", cairn, mlflow, "count", "0", met))
    return rows


def notes(
    sizes: Mapping[str, int], repeat: int, workloads: Sequence[str], workers: int
) -> list[str]:
    """The caveats printed under the server table, for the server workloads that ran."""
    ran = [w for w in workloads if w.startswith(SERVER_PREFIX)]
    if not ran:
        return []
    s = sizes
    lines = [
        f"Median of {repeat} repetitions. Every repetition starts a fresh server on a fresh "
        f"store (`cairn server` on a store folder; `mlflow server` on `sqlite:///…/mlflow.db`, "
        f"{workers} worker process{'es' if workers != 1 else ''} each, loopback), measured "
        "once it answers /health and its processes are idle, and a fresh client process; both "
        "servers run with their defaults otherwise (MLflow's uvicorn prints an access-log line "
        "per request, cairn's does not). Client and server share the machine's two cores; "
        "`python bench/client_floor.py` measures the MLflow client's own floor per call."
    ]
    if "server_log_metric" in ran:
        lines.append(
            "server_log_metric: the real MLflow client's fluent `log_metric` in one run "
            f"(synchronous, its default); cairn's server measured on "
            f"{s['server_log_metric_cairn']:,} calls, MLflow's on "
            f"{s['server_log_metric_mlflow']:,} calls (it takes several ms a call); per-call "
            "time needs no scaling."
        )
    if "server_runs" in ran:
        lines.append(
            "server_runs: the real MLflow client: `create_run` + `log_batch` (10 params, 50 "
            f"metrics) + `set_terminated` per run; cairn's server measured on "
            f"{s['server_runs_cairn']:,} runs, MLflow's on {s['server_runs_mlflow']:,} runs; "
            "runs/s needs no scaling."
        )
    if "server_search" in ran:
        lines.append(
            "server_search: the local `search` workload's query "
            "(`metrics.accuracy > 0.5 AND params.model = 'rf'`, ordered by `metrics.loss`, "
            "100 results) through `MlflowClient.search_runs`, median of "
            f"{s['server_search_calls']} calls after one warm-up. The {s['search_runs']:,} "
            "runs are set up untimed with each tool's local API (the same store as the local "
            "search), copied per repetition, then served."
        )
    if "server_durable" in ran:
        lines.append(
            f"server_durable: cairn's own client over HTTP (default queued logging, columnar "
            f"series to cairn's server), {s['server_durable_cairn']:,} `log_metric` calls; "
            "for reference, the MLflow client with `synchronous=False` against MLflow's server, "
            f"{s['server_durable_mlflow']:,} calls. Points/s made durable = calls / (loop start "
            "until `end_run()` returned, after `flush_async_logging()` for MLflow)."
        )
    if "server_concurrent" in ran:
        lines.append(
            f"server_concurrent: {s['concurrent_clients']} client processes (httpx, the same "
            "generator for both servers) start together; each posts "
            f"{s['concurrent_points']:,} points to a run of its own in MLflow log-batch "
            f"requests of {s['concurrent_batch']:,} metrics, one request at a time. Points/s = "
            "points in answered-200 requests / wall time until the last client finished; "
            "latency percentiles are over the answered requests. Afterwards the metric "
            "history is read back: acknowledged points the server does not hold are counted."
        )
    return lines
