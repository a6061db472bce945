"""Benchmark cairn against MLflow 3.17 on this machine, in one run.

    python bench/run.py                      # everything, 3 repetitions (takes a while)
    python bench/run.py --quick              # smaller sizes: a smoke run
    python bench/run.py --only import,log_metric --repeat 5
    python bench/run.py --only server        # the tracking-server workloads only
    python bench/run.py --update-readme      # also rewrite the results sections of README.md

Each workload runs in a fresh subprocess per tool per repetition, in a fresh temporary
folder: cairn under ``--cairn-python`` (this interpreter if it has cairn, else the repo's
``.venv``), MLflow under ``bench/.venv-mlflow`` (created on first run, see ``mlflow_env``).
The ``server_*`` workloads also start a fresh ``cairn server`` / ``mlflow server`` per
repetition (``server_bench.py``). Medians go to the console, to
``bench/results/latest.json`` and, with ``--update-readme``, to ``bench/README.md``. The exit
status is 1 if any workload failed.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mlflow_env
import report
import server_bench
import server_report
import servers

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
WORKER = BENCH_DIR / "workloads.py"
RESULTS = BENCH_DIR / "results" / "latest.json"
README = BENCH_DIR / "README.md"
LOCAL_WORKLOADS = ("import", "log_metric", "runs", "search", "dataframe")
WORKLOADS = (*LOCAL_WORKLOADS, *server_bench.SERVER_WORKLOADS)
#: Names ``--only`` accepts for a group of workloads.
GROUPS = {"local": LOCAL_WORKLOADS, "server": server_bench.SERVER_WORKLOADS}
WORKER_TIMEOUT_S = 3600
#: Variables that would change either tool's defaults (store, async logging) or let MLflow
#: try to reach the network; removed from, or set in, every worker's environment.
_CLEARED_ENV = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_EXPERIMENT_ID",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_ENABLE_ASYNC_LOGGING",
    "CAIRN_TRACKING_URI",
    "CAIRN_EXPERIMENT_ID",
    "CAIRN_EXPERIMENT_NAME",
    "CAIRN_ASYNC_LOGGING",
    "CAIRN_FLUSH_INTERVAL",
)
_SET_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


@dataclass(frozen=True)
class Sizes:
    """How much work each workload does."""

    log_metric_cairn: int = 100_000
    #: MLflow commits every call (~4 ms), so it logs fewer points; per-call figures compare.
    log_metric_mlflow: int = 2_000
    runs_cairn: int = 1_000
    #: MLflow takes ~0.5 s a run here; its total is scaled to ``runs_full``.
    runs_mlflow: int = 100
    runs_full: int = 1_000
    search_runs: int = 10_000
    search_calls: int = 10
    frame_calls: int = 3
    #: The real MLflow client, synchronous: MLflow's server takes several ms a call.
    server_log_metric_cairn: int = 2_000
    server_log_metric_mlflow: int = 200
    server_runs_cairn: int = 1_000
    server_runs_mlflow: int = 100
    server_search_calls: int = 10
    server_durable_cairn: int = 100_000
    server_durable_mlflow: int = 2_000
    concurrent_clients: int = 20
    concurrent_points: int = 10_000
    concurrent_batch: int = 1_000


FULL = Sizes()
QUICK = Sizes(
    log_metric_cairn=20_000,
    log_metric_mlflow=200,
    runs_cairn=50,
    runs_mlflow=5,
    runs_full=50,
    search_runs=500,
    search_calls=5,
    frame_calls=2,
    server_log_metric_cairn=200,
    server_log_metric_mlflow=50,
    server_runs_cairn=50,
    server_runs_mlflow=10,
    server_search_calls=3,
    server_durable_cairn=20_000,
    server_durable_mlflow=200,
    concurrent_clients=4,
    concurrent_points=2_000,
)


class WorkerFailed(RuntimeError):
    """A workload process exited with an error."""


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _worker_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED_ENV}
    env.update(_SET_ENV)
    return env


def default_cairn_python() -> Path:
    """This interpreter if it can import cairn, else the repository's ``.venv``."""
    if importlib.util.find_spec("cairn") is not None:
        return Path(sys.executable)
    return REPO_DIR / ".venv" / "bin" / "python"


class Bench:
    """Runs workload processes and collects their measurements."""

    def __init__(
        self,
        pythons: dict[str, Path],
        sizes: Sizes,
        repeat: int,
        tmp: Path,
        server_workers: int = 1,
    ) -> None:
        self.pythons = pythons
        self.sizes = sizes
        self.repeat = repeat
        self.tmp = tmp
        self.server_workers = server_workers
        self.env = _worker_env()
        self.measurements: dict[str, list[dict[str, Any]]] = {}
        #: Failures by case, one message per failed repetition. A case that failed in one
        #: repetition is still run in the others; its median is over the ones that worked.
        self.errors: dict[str, list[str]] = {}
        self._count = 0
        #: The untimed ``search_setup`` store of each tool (None if it failed), made once.
        self._search_stores: dict[str, Path | None] = {}

    def fresh_dir(self, name: str) -> Path:
        """A new, empty folder under the run's temporary folder."""
        self._count += 1
        path = self.tmp / f"{self._count:03d}-{name}"
        path.mkdir()
        return path

    def worker(
        self,
        tool: str,
        workload: str,
        workdir: Path,
        *,
        python: Path | None = None,
        script: Path | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Run one workload process in ``workdir``; return what it measured.

        ``script`` (default ``workloads.py``) runs under ``python`` (default: ``tool``'s).
        """
        out = self.tmp / f"{workdir.name}.json"
        command = [
            str(python or self.pythons[tool]),
            str(script or WORKER),
            f"--tool={tool}",
            f"--workload={workload}",
            f"--dir={workdir}",
            f"--out={out}",
            *(f"--{key}={value}" for key, value in options.items()),
        ]
        done = subprocess.run(
            command,
            cwd=workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            tail = "\n".join(done.stderr.strip().splitlines()[-15:])
            raise WorkerFailed(f"{' '.join(command)} exited {done.returncode}:\n{tail}")
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result

    def record(self, case: str, measure: Any) -> None:
        """Run ``measure()`` once for ``case``, keeping its result or its error."""
        start = time.perf_counter()
        try:
            result = measure()
        except (WorkerFailed, servers.ServerError, subprocess.TimeoutExpired, OSError) as err:
            self.errors.setdefault(case, []).append(str(err))
            _log(f"{case} FAILED: {err}")
            return
        self.measurements.setdefault(case, []).append(result)
        done = len(self.measurements[case])
        _log(f"{case} #{done} done in {time.perf_counter() - start:.1f} s")

    # -- workloads --------------------------------------------------------------------------

    def run_import(self) -> None:
        """Wall time of ``python -c "import X"``, after one untimed warm-up per tool."""
        for tool in self.pythons:
            self._time_import(tool)  # warm-up: bytecode caches, page cache
        for _ in range(self.repeat):
            for tool in self.pythons:
                self.record(f"import/{tool}", lambda tool=tool: {"s": self._time_import(tool)})

    def _time_import(self, tool: str) -> float:
        start = time.perf_counter()
        subprocess.run(
            [str(self.pythons[tool]), "-c", f"import {tool}"],
            cwd=self.tmp,
            env=self.env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - start

    def run_log_metric(self) -> None:
        s = self.sizes
        cases = (
            ("cairn", "default", s.log_metric_cairn),
            ("mlflow", "default", s.log_metric_mlflow),
            ("mlflow", "async", s.log_metric_mlflow),
            ("cairn", "sync", s.log_metric_mlflow),
            ("mlflow", "sync", s.log_metric_mlflow),
        )
        for _ in range(self.repeat):
            for tool, mode, n in cases:
                self.record(
                    f"log_metric/{tool}/{mode}",
                    lambda tool=tool, mode=mode, n=n: self.worker(
                        tool, "log_metric", self.fresh_dir(f"log_metric-{tool}"), n=n, mode=mode
                    ),
                )

    def run_runs(self) -> None:
        sizes = {"cairn": self.sizes.runs_cairn, "mlflow": self.sizes.runs_mlflow}
        for _ in range(self.repeat):
            for tool in self.pythons:
                self.record(
                    f"runs/{tool}",
                    lambda tool=tool: self.worker(
                        tool, "runs", self.fresh_dir(f"runs-{tool}"), n=sizes[tool]
                    ),
                )

    def search_store(self, tool: str) -> Path | None:
        """The folder holding ``tool``'s ``search_setup`` runs, set up on first use (untimed);
        None if the setup failed. The local and the server searches share it."""
        if tool not in self._search_stores:
            store = self.fresh_dir(f"search-setup-{tool}")
            _log(f"setting up {self.sizes.search_runs:,} runs for {tool} (untimed) ...")
            self.record(
                f"search_setup/{tool}",
                lambda: self.worker(tool, "search_setup", store, n=self.sizes.search_runs),
            )
            self._search_stores[tool] = (
                store if f"search_setup/{tool}" in self.measurements else None
            )
        return self._search_stores[tool]

    def run_search(self, workloads: Sequence[str]) -> None:
        """Set the runs up once per tool, then query a fresh copy per repetition."""
        stores = {tool: self.search_store(tool) for tool in self.pythons}
        calls = {"search": self.sizes.search_calls, "dataframe": self.sizes.frame_calls}
        for _ in range(self.repeat):
            for workload in workloads:
                for tool, store in stores.items():
                    if store is None:
                        self.errors.setdefault(f"{workload}/{tool}", []).append("setup failed")
                        continue
                    self.record(
                        f"{workload}/{tool}",
                        lambda tool=tool, store=store, workload=workload: self._query_copy(
                            tool, workload, store, calls[workload]
                        ),
                    )

    def _query_copy(self, tool: str, workload: str, store: Path, calls: int) -> dict[str, Any]:
        workdir = self.fresh_dir(f"{workload}-{tool}")
        shutil.copytree(store, workdir, dirs_exist_ok=True)
        try:
            return self.worker(tool, workload, workdir, calls=calls)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def run(self, workloads: Sequence[str]) -> None:
        if "import" in workloads:
            self.run_import()
        if "log_metric" in workloads:
            self.run_log_metric()
        if "runs" in workloads:
            self.run_runs()
        queries = [w for w in ("search", "dataframe") if w in workloads]
        if queries:
            self.run_search(queries)
        server_bench.run_server_workloads(self, workloads, self.server_workers)

    def summary(self) -> dict[str, dict[str, float]]:
        """The median of every numeric measurement, by case."""
        medians: dict[str, dict[str, float]] = {}
        for case, results in self.measurements.items():
            keys = [k for k, v in results[0].items() if isinstance(v, int | float)]
            medians[case] = {k: statistics.median(r[k] for r in results) for k in keys}
        return medians


def machine_info(pythons: dict[str, Path]) -> dict[str, Any]:
    """Date, CPU, memory, interpreters and the two tools' versions."""
    probe = (
        "import json, platform, sqlite3; "
        "print(json.dumps([platform.python_version(), sqlite3.sqlite_version]))"
    )
    python_versions, sqlite_versions = {}, {}
    for tool, python in pythons.items():
        out = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
        version, sqlite = json.loads(out.stdout) if out.returncode == 0 else ("?", "?")
        python_versions[tool], sqlite_versions[tool] = version, sqlite
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": _proc_field("/proc/cpuinfo", "model name") or platform.processor() or "?",
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": _describe(python_versions),
        "sqlite": _describe(sqlite_versions),
        "cairn_python": str(pythons["cairn"]),
        "mlflow_python": str(pythons["mlflow"]),
        "cairn_version": mlflow_env.installed_version(pythons["cairn"], "cairn"),
        "mlflow_version": mlflow_env.installed_version(pythons["mlflow"], "mlflow"),
        "load_start": _load_average(),
    }


def _load_average() -> float | None:
    """The 1-minute load average: how busy the (shared) machine was."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _describe(by_tool: dict[str, str]) -> str:
    values = set(by_tool.values())
    if len(values) == 1:
        return values.pop()
    return ", ".join(f"{value} ({tool})" for tool, value in by_tool.items())


def _proc_field(path: str, name: str) -> str | None:
    try:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == name:
                return value.strip()
    except OSError:
        pass
    return None


def _memory_gib() -> float | None:
    total = _proc_field("/proc/meminfo", "MemTotal")
    if total is None:
        return None
    return round(int(total.split()[0]) / 2**20, 1)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark cairn against MLflow on this machine.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"workloads: {', '.join(WORKLOADS)}; groups: {', '.join(GROUPS)}",
    )
    parser.add_argument("--repeat", type=int, default=3, help="repetitions (default 3)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "--only", default="", help="comma-separated workloads (or groups: local, server) to run"
    )
    parser.add_argument("--cairn-python", type=Path, default=None)
    parser.add_argument(
        "--mlflow-python",
        type=Path,
        default=None,
        help="an interpreter with MLflow (default: bench/.venv-mlflow, created if missing)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON results file")
    parser.add_argument("--update-readme", action="store_true", help="rewrite bench/README.md")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temporary folders")
    parser.add_argument(
        "--server-workers",
        type=int,
        default=1,
        help="worker processes of both tracking servers (default 1)",
    )
    args = parser.parse_args(argv)
    only: list[str] = []
    for name in (name.strip() for name in args.only.split(",")):
        only.extend(GROUPS.get(name, (name,) if name else ()))
    unknown = sorted(set(only) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {WORKLOADS}")
    args.workloads = [w for w in WORKLOADS if w in only] if only else list(WORKLOADS)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.server_workers < 1:
        parser.error("--server-workers must be at least 1")
    return args


def _label(args: argparse.Namespace) -> str:
    """The options that change what was measured, for the README."""
    label = " --quick" if args.quick else ""
    if args.repeat != 3:
        label += f" --repeat {args.repeat}"
    if len(args.workloads) != len(WORKLOADS):
        groups = [name for name, members in GROUPS.items() if list(members) == args.workloads]
        label += f" --only {groups[0] if groups else ','.join(args.workloads)}"
    if args.server_workers != 1:
        label += f" --server-workers {args.server_workers}"
    return label


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so ``finally`` blocks stop the servers and clean up."""

    def handler(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    _stop_on_sigterm()
    started = time.perf_counter()
    mlflow_python = args.mlflow_python or mlflow_env.ensure_mlflow_venv()
    pythons = {"cairn": args.cairn_python or default_cairn_python(), "mlflow": mlflow_python}
    sizes = QUICK if args.quick else FULL
    machine = machine_info(pythons)
    _log(f"cairn {machine['cairn_version']} vs MLflow {machine['mlflow_version']}")
    tmp = Path(tempfile.mkdtemp(prefix="cairn-bench-"))
    bench = Bench(pythons, sizes, args.repeat, tmp, args.server_workers)
    try:
        bench.run(args.workloads)
    finally:
        if args.keep_tmp:
            _log(f"temporary folders kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    machine["load_end"] = _load_average()
    summary = bench.summary()
    size_map = asdict(sizes)
    rows = report.build_rows(summary, size_map)
    ran_local = any(w in LOCAL_WORKLOADS for w in args.workloads)
    note_lines = report.notes(size_map, args.repeat, args.workloads) if ran_local else []
    server_rows = server_report.build_rows(summary, bench.measurements, size_map)
    server_notes = server_report.notes(size_map, args.repeat, args.workloads, args.server_workers)
    for lines, is_server in ((note_lines, False), (server_notes, True)):
        failed = ", ".join(
            f"{case} ({len(errs)}x)"
            for case, errs in bench.errors.items()
            if case.startswith("server_") == is_server
        )
        if failed:
            lines.append(f"FAILED repetitions (see the JSON for errors): {failed}.")
    results = {
        "machine": machine,
        "settings": {
            "quick": args.quick,
            "repeat": args.repeat,
            "workloads": args.workloads,
            "sizes": size_map,
            "server_workers": args.server_workers,
            "elapsed_s": time.perf_counter() - started,
        },
        "rows": [row.to_json() for row in (*rows, *server_rows)],
        "medians": summary,
        "measurements": bench.measurements,
        "errors": bench.errors,
        "notes": note_lines,
        "server_notes": server_notes,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    report.print_table([*rows, *server_rows], machine, [*note_lines, *server_notes])
    _log(f"results written to {args.output} ({time.perf_counter() - started:.0f} s in all)")
    if args.update_readme:
        label = _label(args)
        if rows:
            report.update_readme(README, report.markdown_section(rows, machine, note_lines, label))
            _log(f"results section of {README} rewritten")
        if server_rows:
            section = report.markdown_section(server_rows, machine, server_notes, label)
            report.update_readme(README, section, *server_report.README_MARKERS)
            _log(f"server results section of {README} rewritten")
    for case, errors in bench.errors.items():
        _log(f"FAILED {case} ({len(errors)} of {args.repeat}): {errors[-1]}")
    return 1 if bench.errors else 0


if __name__ == "__main__":
    sys.exit(main())
