"""The client side of the server workloads: one process per measurement, talking to a server.

Run by ``bench/server_bench.py`` (through ``bench/run.py``) against a server it started::

    python bench/server_workloads.py --tool mlflow --workload server_runs \\
        --url http://127.0.0.1:5000 --dir /tmp/x --out r.json --n 100

``--tool`` is the client library: ``mlflow`` (the real MLflow client, from
``bench/.venv-mlflow``) or ``cairn`` (cairn's own client, for ``server_durable``). The client
code does not depend on which server is at ``--url``: the same code measures both servers.
``server_concurrent`` needs neither library: it posts raw MLflow log-batch requests with
``httpx`` from ``--clients`` processes (run it with ``--tool cairn``, whose venv has httpx).
Results go to ``--out`` as one JSON object.

Only the standard library is imported at the top, so the module loads under both interpreters.
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing
import statistics
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import workloads
from workloads import SEARCH_EXPERIMENT, SEARCH_FILTER, SEARCH_ORDER, Result, load_tracker

WORKLOADS = ("server_log_metric", "server_runs", "server_search", "server_durable")
#: ``server_concurrent`` is separate: it imports no tracker.
ALL_WORKLOADS = (*WORKLOADS, "server_concurrent")
RUN_PARAMS = 10
RUN_METRICS = 50
#: ``server_concurrent``: distinct metric keys per run; each request carries ``batch`` points
#: spread over these keys, consecutive steps per key.
CONCURRENT_KEYS = 10
REQUEST_TIMEOUT_S = 300.0
LOG_BATCH = "/api/2.0/mlflow/runs/log-batch"


# -- workloads through a tracking client ------------------------------------------------------


def log_metric_loop(tracker: ModuleType, url: str, n: int, mode: str) -> Result:
    """``n`` fluent ``log_metric`` calls in one run against the server at ``url``.

    The loop and the durable time are those of the local ``log_metric`` workload
    (``workloads.log_metric``): ``end_run()`` returns once every point reached the server.
    """
    tracker.set_tracking_uri(url)
    return workloads.log_metric(tracker, n, mode)


def runs_with_batch(tracker: ModuleType, tool: str, url: str, n: int) -> Result:
    """``n`` x (``create_run`` + ``log_batch`` of 10 params and 50 metrics + ``set_terminated``).

    The experiment is created before the clock starts.
    """
    entities = importlib.import_module(f"{tool}.entities")
    client = tracker.MlflowClient(url)
    experiment_id = client.create_experiment("bench-server-runs")
    start = time.perf_counter()
    for r in range(n):
        run_id = client.create_run(experiment_id).info.run_id
        now = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[
                entities.Metric(f"metric_{j}", r + j / 100, now, 0) for j in range(RUN_METRICS)
            ],
            params=[entities.Param(f"param_{j}", f"{r}-{j}") for j in range(RUN_PARAMS)],
        )
        client.set_terminated(run_id)
    total_s = time.perf_counter() - start
    return {
        "n": n,
        "total_s": total_s,
        "s_per_run": total_s / n,
        "runs_per_s": n / total_s,
    }


def search(tracker: ModuleType, url: str, calls: int) -> Result:
    """``MlflowClient.search_runs`` of the local ``search`` workload's query, over the server.

    One untimed warm-up call, then ``calls`` timed calls. ``loss_sum`` (the sum of
    ``metrics.loss`` over the rows) is the same for both servers when both did the same.
    """
    client = tracker.MlflowClient(url)
    experiment = client.get_experiment_by_name(SEARCH_EXPERIMENT)
    if experiment is None:
        raise RuntimeError(f"the server has no experiment {SEARCH_EXPERIMENT!r}")

    def call() -> Any:
        return client.search_runs(
            experiment_ids=[experiment.experiment_id],
            filter_string=SEARCH_FILTER,
            order_by=list(SEARCH_ORDER),
            max_results=100,
        )

    start = time.perf_counter()
    found = call()
    first_s = time.perf_counter() - start
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return {
        "calls": calls,
        "first_call_s": first_s,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "times_s": times,
        "rows": len(found),
        "loss_sum": float(sum(run.data.metrics["loss"] for run in found)),
    }


# -- server_concurrent: raw log-batch requests from several processes -------------------------


def _post_json(http: Any, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = http.post(path, json=body)
    if answer.status_code != 200:
        raise RuntimeError(f"POST {path} answered {answer.status_code}: {answer.text[:300]}")
    result: dict[str, Any] = answer.json()
    return result


def batch_bodies(run_id: str, points: int, batch: int) -> list[bytes]:
    """The log-batch request bodies of one client: ``points`` metric points in requests of
    ``batch``, over :data:`CONCURRENT_KEYS` keys. The same generator serves both servers."""
    bodies = []
    per_key = batch // CONCURRENT_KEYS
    for r in range(points // batch):
        metrics = [
            {
                "key": f"m{k}",
                "value": (r * per_key + s) / (k + 1),
                "timestamp": 1_700_000_000_000 + r * per_key + s,
                "step": r * per_key + s,
            }
            for k in range(CONCURRENT_KEYS)
            for s in range(per_key)
        ]
        bodies.append(json.dumps({"run_id": run_id, "metrics": metrics}).encode())
    return bodies


def _client_process(url: str, bodies: list[bytes], barrier: Any, results: Any) -> None:
    """One concurrent client: wait for the others, then post its bodies one after another."""
    import httpx

    latencies: list[float] = []
    errors: list[str] = []
    ok_points = 0
    headers = {"Content-Type": "application/json"}
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as http:
        http.get("/health")  # open the connection before the clock starts
        barrier.wait(timeout=600)
        for body in bodies:
            start = time.perf_counter()
            try:
                answer = http.post(LOG_BATCH, content=body, headers=headers)
            except httpx.HTTPError as err:
                errors.append(f"{type(err).__name__}: {err}")
                continue
            latencies.append(time.perf_counter() - start)
            if answer.status_code == 200:
                ok_points += body.count(b'"key"')
            else:
                errors.append(f"HTTP {answer.status_code}: {answer.text[:200]}")
    results.put({"latencies": latencies, "errors": errors, "ok_points": ok_points})


def _percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile of ``values`` (NaN when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _stored_points(http: Any, run_ids: list[str]) -> int:
    """How many metric points the server holds for ``run_ids`` (untimed check)."""
    stored = 0
    for run_id in run_ids:
        for k in range(CONCURRENT_KEYS):
            answer = http.get(
                "/api/2.0/mlflow/metrics/get-history",
                params={"run_id": run_id, "metric_key": f"m{k}"},
            )
            if answer.status_code == 200:
                stored += len(answer.json().get("metrics", []))
    return stored


def concurrent(url: str, clients: int, points: int, batch: int) -> Result:
    """``clients`` processes each log ``points`` points to a run of its own, in log-batch
    requests of ``batch`` metrics; all start together.

    ``points_per_s`` counts the points of answered-200 requests over the wall time from the
    common start until the last client finished. Latency percentiles are over the answered
    requests; ``errors`` counts failed requests (non-200 answers and transport errors).
    After the clock, the metric history of every run is read back: ``missing_points`` is what
    the server does not hold of what it acknowledged.
    """
    import httpx

    if batch % CONCURRENT_KEYS or points % batch:
        raise ValueError(f"batch must divide points and be a multiple of {CONCURRENT_KEYS}")
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as http:
        experiment = _post_json(
            http, "/api/2.0/mlflow/experiments/create", {"name": "bench-concurrent"}
        )["experiment_id"]
        run_ids = [
            _post_json(
                http,
                "/api/2.0/mlflow/runs/create",
                {"experiment_id": experiment, "start_time": int(time.time() * 1000)},
            )["run"]["info"]["run_id"]
            for _ in range(clients)
        ]
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=_client_process,
            args=(url, batch_bodies(run_id, points, batch), barrier, results),
            daemon=True,
        )
        for run_id in run_ids
    ]
    for process in processes:
        process.start()
    try:
        barrier.wait(timeout=600)
        start = time.perf_counter()
        outcomes = [results.get(timeout=REQUEST_TIMEOUT_S * (points // batch)) for _ in processes]
        wall_s = time.perf_counter() - start
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    latencies = [lat for outcome in outcomes for lat in outcome["latencies"]]
    errors = [err for outcome in outcomes for err in outcome["errors"]]
    ok_points = sum(outcome["ok_points"] for outcome in outcomes)
    with httpx.Client(base_url=url, timeout=REQUEST_TIMEOUT_S) as http:
        stored = _stored_points(http, run_ids)
    return {
        "clients": clients,
        "points_per_client": points,
        "batch": batch,
        "requests": clients * (points // batch),
        "wall_s": wall_s,
        "ok_points": ok_points,
        "points_per_s": ok_points / wall_s,
        "errors": len(errors),
        "error_samples": errors[:5],
        "p50_s": _percentile(latencies, 50),
        "p99_s": _percentile(latencies, 99),
        "max_s": max(latencies, default=float("nan")),
        "stored_points": stored,
        "missing_points": ok_points - stored,
    }


# -- entry point ------------------------------------------------------------------------------


def run_workload(args: argparse.Namespace) -> Result:
    """Run ``args.workload`` with the client ``args.tool`` against ``args.url``."""
    if args.workload == "server_concurrent":
        result = concurrent(args.url, args.clients, args.n, args.batch)
        return {"tool": "httpx", "workload": args.workload, **result}
    tracker = load_tracker(args.tool)
    if args.workload in ("server_log_metric", "server_durable"):
        result = log_metric_loop(tracker, args.url, args.n, args.mode)
    elif args.workload == "server_runs":
        result = runs_with_batch(tracker, args.tool, args.url, args.n)
    elif args.workload == "server_search":
        result = search(tracker, args.url, args.calls)
    else:
        raise ValueError(f"unknown workload {args.workload!r}; expected one of {ALL_WORKLOADS}")
    return {"tool": args.tool, "version": tracker.__version__, "workload": args.workload, **result}


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run one workload, write its JSON to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", choices=workloads.TOOLS, required=True, help="client library")
    parser.add_argument("--workload", choices=ALL_WORKLOADS, required=True)
    parser.add_argument("--url", required=True, help="the tracking server, http://host:port")
    parser.add_argument("--dir", type=Path, required=True, help="working folder")
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON")
    parser.add_argument("--n", type=int, default=1000, help="calls, runs, or points per client")
    parser.add_argument("--mode", choices=workloads.MODES, default="default")
    parser.add_argument("--calls", type=int, default=10, help="timed search calls")
    parser.add_argument("--clients", type=int, default=20, help="server_concurrent clients")
    parser.add_argument("--batch", type=int, default=1000, help="metrics per log-batch request")
    args = parser.parse_args(argv)
    args.out.write_text(json.dumps(run_workload(args)), encoding="utf-8")


if __name__ == "__main__":
    main()
