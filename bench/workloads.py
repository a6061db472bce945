"""The benchmark workloads, one per process, the same code for cairn and for MLflow.

Run by ``bench/run.py`` under either interpreter (cairn's venv or ``bench/.venv-mlflow``)::

    python bench/workloads.py --tool cairn --workload log_metric --dir /tmp/x --out r.json

``--tool`` picks ``import cairn as tracker`` or ``import mlflow as tracker``; everything after
that is the same code. The tracking URI is ``<dir>/mlruns`` for cairn (its embedded SQLite
store) and ``sqlite:///<dir>/mlflow.db`` for MLflow (its default store). The measurements are
written as one JSON object to ``--out`` (not stdout, which MLflow also prints to).

Only the standard library is imported here, so the module loads under both interpreters.
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

TOOLS = ("cairn", "mlflow")
WORKLOADS = ("log_metric", "runs", "search_setup", "search", "dataframe")
#: ``default``: no ``synchronous`` argument (cairn queues, MLflow commits each call);
#: ``sync``/``async``: ``synchronous=True``/``False`` on every logging call.
MODES = ("default", "sync", "async")

SEARCH_EXPERIMENT = "bench-search"
SEARCH_FILTER = "metrics.accuracy > 0.5 AND params.model = 'rf'"
SEARCH_ORDER = ("metrics.loss ASC",)
MODELS = ("rf", "svm", "knn", "gbm", "mlp")
LEARNING_RATES = (0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 0.0005, 0.0002, 0.0001)
RUN_METRICS = ("loss", "accuracy", "precision", "recall", "f1")

Result = dict[str, Any]


def load_tracker(tool: str) -> ModuleType:
    """``import cairn`` or ``import mlflow``: the only place the two differ."""
    if tool not in TOOLS:
        raise ValueError(f"unknown tool {tool!r}; expected one of {TOOLS}")
    return importlib.import_module(tool)


def tracking_uri(tool: str, workdir: Path) -> str:
    """Each tool's default local store, inside ``workdir``."""
    if tool == "mlflow":
        return f"sqlite:///{workdir / 'mlflow.db'}"
    return str(workdir / "mlruns")


def _sync_kwargs(mode: str) -> dict[str, bool]:
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    return {} if mode == "default" else {"synchronous": mode == "sync"}


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


# -- workloads ------------------------------------------------------------------------------


def log_metric(tracker: ModuleType, n: int, mode: str) -> Result:
    """``n`` calls of ``log_metric("loss", v, step=i)`` in one run, then ``end_run``.

    ``loop_s`` is the loop alone; ``durable_s`` runs from the loop's start until ``end_run``
    has returned (for ``mode="async"``, after ``flush_async_logging()``), when every point is
    committed.
    """
    kwargs = _sync_kwargs(mode)
    tracker.set_experiment("bench-log-metric")
    tracker.start_run()
    start = time.perf_counter()
    for i in range(n):
        tracker.log_metric("loss", 1.0 / (i + 1), step=i, **kwargs)
    loop_end = time.perf_counter()
    if mode == "async":
        tracker.flush_async_logging()
    tracker.end_run()
    durable_end = time.perf_counter()
    loop_s, durable_s = loop_end - start, durable_end - start
    return {
        "n": n,
        "loop_s": loop_s,
        "durable_s": durable_s,
        "us_per_call": loop_s / n * 1e6,
        "points_per_s_durable": n / durable_s,
    }


def runs(tracker: ModuleType, n: int, steps: int = 100) -> Result:
    """``n`` runs: ``start_run``, ``log_params`` (10), ``steps`` x ``log_metrics`` (5 keys),
    ``end_run``."""
    tracker.set_experiment("bench-runs")
    start = time.perf_counter()
    for r in range(n):
        tracker.start_run()
        tracker.log_params({f"param_{j}": f"{r}-{j}" for j in range(10)})
        for s in range(steps):
            value = 1.0 / (s + 1)
            tracker.log_metrics({key: value + k for k, key in enumerate(RUN_METRICS)}, step=s)
        tracker.end_run()
    total_s = time.perf_counter() - start
    return {
        "n": n,
        "steps": steps,
        "total_s": total_s,
        "s_per_run": total_s / n,
        "runs_per_s": n / total_s,
    }


def search_setup(tracker: ModuleType, tool: str, uri: str, n: int) -> Result:
    """Create the ``n`` runs that ``search`` and ``dataframe`` query, with the client API
    (``create_run``, one ``log_batch``, ``set_terminated`` per run). Untimed by the report.

    Each run has params ``model`` (5 values) and ``lr`` (10 values) and one value of the
    metrics ``accuracy`` and ``loss``; the values are the same for both tools (seeded).
    """
    entities = importlib.import_module(f"{tool}.entities")
    client = tracker.MlflowClient(uri)
    experiment_id = client.create_experiment(SEARCH_EXPERIMENT)
    rng = random.Random(20240611)
    start = time.perf_counter()
    for i in range(n):
        run = client.create_run(experiment_id, tags={"mlflow.user": "bench"})
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        client.log_batch(
            run_id,
            metrics=[
                entities.Metric("accuracy", rng.random(), now, 0),
                entities.Metric("loss", 2 * rng.random(), now, 0),
            ],
            params=[
                entities.Param("model", MODELS[i % len(MODELS)]),
                entities.Param("lr", str(LEARNING_RATES[(i // len(MODELS)) % 10])),
            ],
        )
        client.set_terminated(run_id)
    return {"n": n, "setup_s": time.perf_counter() - start}


def _repeat_calls(fn: Callable[[], Any], calls: int) -> Result:
    """One warm-up call, then ``calls`` timed calls; the median and the shape of the frame."""
    first_s, frame = _timed(fn)
    times = [_timed(fn)[0] for _ in range(calls)]
    return {
        "calls": calls,
        "first_call_s": first_s,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "times_s": times,
        "rows": len(frame),
        "columns": len(frame.columns),
        # The same data gives the same sum with either tool: a check that both did the same.
        "loss_sum": float(frame["metrics.loss"].sum()) if len(frame) else 0.0,
    }


def search(tracker: ModuleType, calls: int) -> Result:
    """A filtered, ordered ``search_runs`` of 100 rows over the ``search_setup`` runs."""
    experiment_id = tracker.set_experiment(SEARCH_EXPERIMENT).experiment_id

    def call() -> Any:
        return tracker.search_runs(
            experiment_ids=[experiment_id],
            filter_string=SEARCH_FILTER,
            order_by=list(SEARCH_ORDER),
            max_results=100,
        )

    return _repeat_calls(call, calls)


def dataframe(tracker: ModuleType, calls: int) -> Result:
    """``search_runs()`` of every ``search_setup`` run, as a pandas DataFrame."""
    experiment_id = tracker.set_experiment(SEARCH_EXPERIMENT).experiment_id
    return _repeat_calls(lambda: tracker.search_runs(experiment_ids=[experiment_id]), calls)


# -- entry point ----------------------------------------------------------------------------


def run_workload(tool: str, workload: str, workdir: Path, n: int, mode: str, calls: int) -> Result:
    """Import the tracker, point it at ``workdir`` and run ``workload``."""
    tracker = load_tracker(tool)
    uri = tracking_uri(tool, workdir)
    tracker.set_tracking_uri(uri)
    if workload == "log_metric":
        result = log_metric(tracker, n, mode)
    elif workload == "runs":
        result = runs(tracker, n)
    elif workload == "search_setup":
        result = search_setup(tracker, tool, uri, n)
    elif workload == "search":
        result = search(tracker, calls)
    elif workload == "dataframe":
        result = dataframe(tracker, calls)
    else:
        raise ValueError(f"unknown workload {workload!r}; expected one of {WORKLOADS}")
    return {"tool": tool, "version": tracker.__version__, "workload": workload, **result}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", choices=TOOLS, required=True)
    parser.add_argument("--workload", choices=WORKLOADS, required=True)
    parser.add_argument("--dir", type=Path, required=True, help="fresh folder for the store")
    parser.add_argument("--out", type=Path, required=True, help="where to write the JSON")
    parser.add_argument("--n", type=int, default=1000, help="calls, runs or runs to set up")
    parser.add_argument("--mode", choices=MODES, default="default")
    parser.add_argument("--calls", type=int, default=10, help="timed search calls")
    args = parser.parse_args(argv)
    result = run_workload(
        args.tool, args.workload, args.dir.resolve(), args.n, args.mode, args.calls
    )
    args.out.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
