"""The server workloads: which server and client each measurement pairs, and how it runs.

For every repetition of every case, a fresh store folder (empty, or a copy of the untimed
``search`` setup) is served by a fresh ``cairn server`` or ``mlflow server`` (``servers.py``),
one client process (``server_workloads.py``) measures against it, and the server is stopped,
whatever happened. ``bench/run.py`` drives this through :func:`run_server_workloads`.

=====================  ===========================================  ===========================
workload               client                                       servers
=====================  ===========================================  ===========================
``server_log_metric``  real MLflow client, fluent ``log_metric``,   cairn, MLflow
                       synchronous (its default)
``server_runs``        real MLflow client: ``create_run`` +         cairn, MLflow
                       ``log_batch`` (10 params, 50 metrics) +
                       ``set_terminated``
``server_search``      real MLflow client ``search_runs``            cairn, MLflow (stores set up
                                                                    locally, untimed)
``server_durable``     cairn's client (default, queued) / MLflow's  cairn / MLflow
                       with ``synchronous=False``
``server_concurrent``  ``httpx``, N processes posting log-batch     cairn, MLflow
                       requests (the same generator for both)
=====================  ===========================================  ===========================
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import servers

BENCH_DIR = Path(__file__).resolve().parent
SERVER_WORKER = BENCH_DIR / "server_workloads.py"
SERVER_WORKLOADS = (
    "server_log_metric",
    "server_runs",
    "server_search",
    "server_durable",
    "server_concurrent",
)


class BenchLike(Protocol):
    """What the server workloads use of ``run.Bench``."""

    pythons: dict[str, Path]
    sizes: Any
    repeat: int
    env: dict[str, str]
    #: Failures by case, one message per failed repetition.
    errors: dict[str, list[str]]

    def fresh_dir(self, name: str) -> Path: ...

    def record(self, case: str, measure: Callable[[], dict[str, Any]]) -> None: ...

    def worker(
        self,
        tool: str,
        workload: str,
        workdir: Path,
        *,
        python: Path | None = None,
        script: Path | None = None,
        **options: Any,
    ) -> dict[str, Any]: ...

    def search_store(self, tool: str) -> Path | None: ...


@dataclass(frozen=True)
class Case:
    """One measured pairing: a server, a client library and the client's options."""

    workload: str
    server: str
    #: The client library (``--tool`` of the worker); its interpreter runs the client.
    client: str
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The case's key in the results: ``<workload>/<server>``."""
        return f"{self.workload}/{self.server}"


def cases(workload: str, sizes: Any) -> list[Case]:
    """The cairn-server case and the MLflow-server case of ``workload``."""
    s = sizes
    if workload == "server_log_metric":
        return [
            Case(workload, "cairn", "mlflow", {"n": s.server_log_metric_cairn}),
            Case(workload, "mlflow", "mlflow", {"n": s.server_log_metric_mlflow}),
        ]
    if workload == "server_runs":
        return [
            Case(workload, "cairn", "mlflow", {"n": s.server_runs_cairn}),
            Case(workload, "mlflow", "mlflow", {"n": s.server_runs_mlflow}),
        ]
    if workload == "server_search":
        calls = {"calls": s.server_search_calls}
        return [Case(workload, tool, "mlflow", calls) for tool in servers.TOOLS]
    if workload == "server_durable":
        return [
            Case(workload, "cairn", "cairn", {"n": s.server_durable_cairn, "mode": "default"}),
            Case(workload, "mlflow", "mlflow", {"n": s.server_durable_mlflow, "mode": "async"}),
        ]
    if workload == "server_concurrent":
        options = {
            "n": s.concurrent_points,
            "clients": s.concurrent_clients,
            "batch": s.concurrent_batch,
        }
        # The load generator is plain httpx, run by cairn's interpreter for both servers.
        return [Case(workload, tool, "cairn", options) for tool in servers.TOOLS]
    raise ValueError(f"unknown server workload {workload!r}; expected one of {SERVER_WORKLOADS}")


class ServerRunner:
    """Runs the server cases of a bench run, ``bench.repeat`` times each."""

    def __init__(self, bench: BenchLike, workers: int) -> None:
        self.bench = bench
        self.specs = {
            tool: servers.spec_for(tool, bench.pythons[tool], workers, bench.env)
            for tool in servers.TOOLS
        }

    def measure(self, case: Case, seed_store: Path | None = None) -> dict[str, Any]:
        """One repetition of ``case``: a fresh store and server, one client process."""
        workdir = self.bench.fresh_dir(f"{case.workload}-{case.server}")
        store = workdir / "store"
        if seed_store is not None:
            shutil.copytree(seed_store, store)
        try:
            with servers.running_server(
                self.specs[case.server], store, workdir / "server.log"
            ) as server:
                result = self.bench.worker(
                    case.client,
                    case.workload,
                    workdir,
                    python=self.bench.pythons[case.client],
                    script=SERVER_WORKER,
                    url=server.url,
                    **case.options,
                )
        finally:
            if seed_store is not None:
                shutil.rmtree(store, ignore_errors=True)
        return {**result, "server": case.server, "client": case.client}

    def run(self, workloads: Sequence[str]) -> None:
        """Every case of ``workloads``, ``repeat`` times, alternating the two servers."""
        for workload in workloads:
            seeds: dict[str, Path | None] = {}
            if workload == "server_search":
                seeds = {tool: self.bench.search_store(tool) for tool in servers.TOOLS}
            for _ in range(self.bench.repeat):
                for case in cases(workload, self.bench.sizes):
                    seed = seeds.get(case.server)
                    if workload == "server_search" and seed is None:
                        self.bench.errors.setdefault(case.name, []).append("setup failed")
                        continue
                    self.bench.record(case.name, functools.partial(self.measure, case, seed))


def run_server_workloads(bench: BenchLike, workloads: Sequence[str], workers: int) -> None:
    """Run the server workloads among ``workloads`` (in the order of ``SERVER_WORKLOADS``)."""
    selected = [w for w in SERVER_WORKLOADS if w in workloads]
    if selected:
        ServerRunner(bench, workers).run(selected)
