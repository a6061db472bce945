"""The data set of the web UI benchmark, the same in a cairn store and an MLflow database.

    python bench/ui/seed.py              # full: 100,000 runs, 10,000 keys, 5 x 1,000,000 points
    python bench/ui/seed.py --quick      # 10,000 runs, 1,000 keys, 5 x 100,000 points
    python bench/ui/seed.py --reuse      # keep a finished data set of that size

Three experiments, in each tool:

* ``ui-bench-runs``: N runs ``run-000000``..., FINISHED, each with params ``lr``, ``model``,
  ``seed``, metrics ``accuracy`` and ``loss`` (one point each) and the tag ``mlflow.user``.
* ``ui-bench-keys``: one run, ``many-keys``, with K metric keys (``group_012/metric_34``) of
  3 points each.
* ``ui-bench-points``: 5 runs ``series-0``..``series-4``, each with one metric ``loss`` of P
  points (steps 0..P-1).

Every value is a function of the run's index (:func:`run_values`, :func:`series_value`), so
both stores hold the same numbers. The data lives outside the repository, in
``<root>/<full|quick>/`` (default root ``/tmp/cairn-ui-bench``): ``cairn/mlruns`` (a cairn
store folder) and ``mlflow/mlflow.db`` (MLflow's SQLite database), plus ``manifest.json``
with the ids ``measure.py`` needs.

How each side is filled (the two run at once, in two processes):

* **cairn**, through its public client (``cairn.Client(tracking_uri=folder)``): runs are
  created in chunks of 1,000 (``create_run``), their params and metrics queued with
  ``log_batch`` on the default asynchronous writer, ``flush()``, then ``set_terminated``. The
  long series are queued with ``log_metric`` and flushed. ``CAIRN_SQLITE_SYNCHRONOUS=NORMAL``
  (cairn's documented setting for scratch data) skips the fsync per commit; the server that
  is measured later runs with the defaults. About 6 minutes for the full set here.
* **MLflow**: its own API logs a few runs a second (about 13 hours for 100,000 runs), so the
  database is created by MLflow (``MlflowClient().create_experiment``: schema, migrations and
  experiment rows are MLflow's), and then the run rows are bulk-inserted with ``sqlite3`` into
  ``runs``, ``tags``, ``params``, ``metrics`` and ``latest_metrics``, exactly as MLflow's
  SQLAlchemy store writes them (status, lifecycle_stage, artifact_uri, the ``mlflow.runName``
  tag, ``is_nan``; ``latest_metrics`` holds the point of the largest (step, timestamp, value)).
  Then MLflow's client reads some of it back (counts, a filtered and sorted search, the run of
  many keys, a long history) and the seeding fails if anything differs.

Standard library only at module level: the ``--worker`` halves run under each tool's
interpreter (cairn's ``.venv``, ``bench/.venv-mlflow``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[1]
REPO = BENCH_DIR.parent
DEFAULT_ROOT = Path("/tmp/cairn-ui-bench")
CAIRN_PYTHON = REPO / ".venv" / "bin" / "python"
MLFLOW_PYTHON = BENCH_DIR / ".venv-mlflow" / "bin" / "python"

RUNS_EXPERIMENT = "ui-bench-runs"
KEYS_EXPERIMENT = "ui-bench-keys"
POINTS_EXPERIMENT = "ui-bench-points"
SERIES_KEY = "loss"
SERIES_RUNS = 5
KEY_POINTS = 3
USER = "bench"
#: 2026-01-01T00:00:00Z, in ms: every timestamp is an offset from it.
T0 = 1_767_225_600_000
MODELS = ("rf", "xgb", "mlp", "cnn", "linear")
LEARNING_RATES = ("0.1", "0.03", "0.01", "0.003", "0.001")
CHUNK = 1000
SEED_VERSION = 1


@dataclass(frozen=True)
class Sizes:
    runs: int
    keys: int
    points: int

    @property
    def label(self) -> str:
        return "quick" if self == QUICK else "full"


FULL = Sizes(runs=100_000, keys=10_000, points=1_000_000)
QUICK = Sizes(runs=10_000, keys=1_000, points=100_000)


# -- the values, the same for both tools -------------------------------------------------------


def run_values(i: int) -> dict[str, object]:
    """Name, times, params and metrics of run ``i`` of the big experiment."""
    rng = random.Random(i)
    accuracy = round(rng.random(), 6)
    loss = round(rng.uniform(0.01, 3.0), 6)
    start = T0 + i * 1000
    return {
        "name": f"run-{i:06d}",
        "start": start,
        "end": start + 60_000 + (i % 600) * 100,
        "params": {
            "lr": LEARNING_RATES[i % len(LEARNING_RATES)],
            "model": MODELS[(i // len(LEARNING_RATES)) % len(MODELS)],
            "seed": str(i),
        },
        "metrics": {"accuracy": accuracy, "loss": loss},
        "metric_time": start + 30_000,
    }


def key_name(k: int) -> str:
    return f"group_{k // 100:03d}/metric_{k % 100:02d}"


def key_value(k: int, step: int) -> float:
    return round(math.sin(k * 0.37 + step) * 10 + k / 100, 6)


def series_value(run: int, step: int, points: int) -> float:
    """A decaying loss with wiggles and a rare spike (so the min-max band has something)."""
    x = step / points
    value = (1.0 + 0.2 * run) * math.exp(-4 * x) + 0.05 * math.sin(step / 97 + run)
    if step % 99_991 == 50_000:
        value += 2.0
    return value


def series_time(step: int) -> int:
    return T0 + 10 * step


# -- cairn ---------------------------------------------------------------------------------------


def seed_cairn(folder: Path, sizes: Sizes) -> dict[str, object]:
    """Fill a cairn store folder through ``cairn.Client``; return the ids."""
    import cairn
    from cairn.entities import Metric, Param

    client = cairn.Client(tracking_uri=str(folder))
    started = time.perf_counter()
    runs_exp = client.create_experiment(RUNS_EXPERIMENT)
    for first in range(0, sizes.runs, CHUNK):
        chunk = [(i, run_values(i)) for i in range(first, min(first + CHUNK, sizes.runs))]
        ids = []
        for _i, values in chunk:
            run = client.create_run(
                runs_exp,
                start_time=values["start"],  # type: ignore[arg-type]
                run_name=values["name"],  # type: ignore[arg-type]
                tags={"mlflow.user": USER},
            )
            ids.append(run.info.run_id)
        for run_id, (_i, values) in zip(ids, chunk, strict=True):
            when = values["metric_time"]
            client.log_batch(
                run_id,
                metrics=[Metric(k, v, when, 0) for k, v in values["metrics"].items()],  # type: ignore[attr-defined]
                params=[Param(k, v) for k, v in values["params"].items()],  # type: ignore[attr-defined]
            )
        client.flush()
        for run_id, (_i, values) in zip(ids, chunk, strict=True):
            client.set_terminated(run_id, "FINISHED", end_time=values["end"])  # type: ignore[arg-type]
        done = first + len(chunk)
        if done % 10_000 == 0 or done == sizes.runs:
            rate = done / (time.perf_counter() - started)
            print(f"[seed cairn] {done:,} runs ({rate:,.0f} runs/s)", flush=True)
    runs_seconds = time.perf_counter() - started

    keys_exp = client.create_experiment(KEYS_EXPERIMENT)
    run = client.create_run(
        keys_exp, start_time=T0, run_name="many-keys", tags={"mlflow.user": USER}
    )
    keys_run = run.info.run_id
    client.log_batch(keys_run, params=[Param("kind", "many-keys")])
    for k in range(sizes.keys):
        name = key_name(k)
        for step in range(KEY_POINTS):
            client.log_metric(keys_run, name, key_value(k, step), T0 + step * 1000 + k, step)
    client.flush()
    client.set_terminated(keys_run, "FINISHED", end_time=T0 + 3_600_000)

    points_exp = client.create_experiment(POINTS_EXPERIMENT)
    series_runs = []
    for j in range(SERIES_RUNS):
        run = client.create_run(
            points_exp, start_time=T0, run_name=f"series-{j}", tags={"mlflow.user": USER}
        )
        run_id = run.info.run_id
        client.log_batch(run_id, params=[Param("series", str(j))])
        log = client.log_metric
        for step in range(sizes.points):
            log(run_id, SERIES_KEY, series_value(j, step, sizes.points), series_time(step), step)
        client.flush()
        client.set_terminated(run_id, "FINISHED", end_time=series_time(sizes.points))
        series_runs.append(run_id)
        print(f"[seed cairn] series-{j}: {sizes.points:,} points", flush=True)
    total = time.perf_counter() - started

    # Read back what the UI will show.
    found = client.search_runs(runs_exp, "metrics.accuracy > 0.5", max_results=1000)
    assert len(found) == min(1000, sum(1 for i in range(sizes.runs) if _acc(i) > 0.5))
    assert len(client.get_run(keys_run).data.metrics) == sizes.keys
    assert len(client.get_metric_history(series_runs[0], SERIES_KEY)) == sizes.points
    return {
        "experiments": {"runs": runs_exp, "keys": keys_exp, "points": points_exp},
        "keys_run": keys_run,
        "series_runs": series_runs,
        "seconds": {"runs": round(runs_seconds, 1), "total": round(total, 1)},
    }


def _acc(i: int) -> float:
    return run_values(i)["metrics"]["accuracy"]  # type: ignore[index,return-value]


# -- MLflow --------------------------------------------------------------------------------------


def _metric_row(run_id: str, key: str, value: float, timestamp: int, step: int) -> tuple:
    # As MLflow's SqlAlchemyStore writes a point: NaN stored as 0 with is_nan=1.
    nan = math.isnan(value)
    return (key, 0.0 if nan else value, timestamp, run_id, step, int(nan))


class _MlflowWriter:
    """Bulk inserts of runs into MLflow's tables, the way ``SqlAlchemyStore`` lays them out."""

    def __init__(self, db: Path, artifact_locations: dict[str, str]) -> None:
        self.conn = sqlite3.connect(db)
        self.conn.execute("PRAGMA synchronous=OFF")
        self.locations = artifact_locations
        self.runs: list[tuple] = []
        self.tags: list[tuple] = []
        self.params: list[tuple] = []
        self.metrics: list[tuple] = []
        self.latest: list[tuple] = []

    def add_run(
        self,
        experiment_id: str,
        name: str,
        start: int,
        end: int,
        params: dict[str, str],
        points: dict[str, list[tuple[float, int, int]]],
    ) -> str:
        run_id = uuid.uuid4().hex
        artifact_uri = f"{self.locations[experiment_id]}/{run_id}/artifacts"
        self.runs.append(
            (
                run_id,
                name,
                "UNKNOWN",
                "",
                "",
                USER,
                "FINISHED",
                start,
                end,
                "",
                "active",
                artifact_uri,
                int(experiment_id),
                None,
            )
        )
        self.tags += [("mlflow.runName", name, run_id), ("mlflow.user", USER, run_id)]
        self.params += [(k, v, run_id) for k, v in params.items()]
        for key, series in points.items():
            latest = None
            for value, timestamp, step in series:
                self.metrics.append(_metric_row(run_id, key, value, timestamp, step))
                rank = (step, timestamp, value)
                if latest is None or rank > latest:
                    latest = rank
            if latest is not None:
                step, timestamp, value = latest
                row = _metric_row(run_id, key, value, timestamp, step)
                self.latest.append((key, row[1], timestamp, step, row[5], run_id))
        if len(self.metrics) >= 200_000:
            self.write()
        return run_id

    def write(self) -> None:
        with self.conn:
            self.conn.executemany(
                "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,"
                " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
                " artifact_uri, experiment_id, deleted_time)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                self.runs,
            )
            self.conn.executemany(
                "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", self.tags
            )
            self.conn.executemany(
                "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", self.params
            )
            self.conn.executemany(
                "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                self.metrics,
            )
            self.conn.executemany(
                "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                self.latest,
            )
        for rows in (self.runs, self.tags, self.params, self.metrics, self.latest):
            rows.clear()

    def close(self) -> None:
        self.write()
        self.conn.execute("ANALYZE")
        self.conn.close()


def seed_mlflow(db: Path, sizes: Sizes) -> dict[str, object]:
    """Create an MLflow database with MLflow, bulk-insert the runs, read them back."""
    import mlflow
    from mlflow.tracking import MlflowClient

    started = time.perf_counter()
    uri = f"sqlite:///{db}"
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri)
    art = db.parent / "art"
    exps = {
        name: client.create_experiment(name, artifact_location=(art / name).as_uri())
        for name in (RUNS_EXPERIMENT, KEYS_EXPERIMENT, POINTS_EXPERIMENT)
    }
    locations = {e: client.get_experiment(e).artifact_location for e in exps.values()}
    writer = _MlflowWriter(db, locations)

    for i in range(sizes.runs):
        values = run_values(i)
        when = values["metric_time"]
        writer.add_run(
            exps[RUNS_EXPERIMENT],
            values["name"],  # type: ignore[arg-type]
            values["start"],  # type: ignore[arg-type]
            values["end"],  # type: ignore[arg-type]
            values["params"],  # type: ignore[arg-type]
            {k: [(v, when, 0)] for k, v in values["metrics"].items()},  # type: ignore[attr-defined]
        )
        if (i + 1) % 20_000 == 0:
            print(f"[seed mlflow] {i + 1:,} runs", flush=True)
    writer.write()
    runs_seconds = time.perf_counter() - started

    keys_points = {
        key_name(k): [(key_value(k, s), T0 + s * 1000 + k, s) for s in range(KEY_POINTS)]
        for k in range(sizes.keys)
    }
    keys_run = writer.add_run(
        exps[KEYS_EXPERIMENT], "many-keys", T0, T0 + 3_600_000, {"kind": "many-keys"}, keys_points
    )
    series_runs = []
    for j in range(SERIES_RUNS):
        series = [
            (series_value(j, s, sizes.points), series_time(s), s) for s in range(sizes.points)
        ]
        run_id = writer.add_run(
            exps[POINTS_EXPERIMENT],
            f"series-{j}",
            T0,
            series_time(sizes.points),
            {"series": str(j)},
            {SERIES_KEY: series},
        )
        series_runs.append(run_id)
        writer.write()
        print(f"[seed mlflow] series-{j}: {sizes.points:,} points", flush=True)
    writer.close()
    total = time.perf_counter() - started

    # MLflow must see it as its own API would have written it.
    verify_mlflow(client, exps, keys_run, series_runs, sizes)
    return {
        "experiments": {
            "runs": exps[RUNS_EXPERIMENT],
            "keys": exps[KEYS_EXPERIMENT],
            "points": exps[POINTS_EXPERIMENT],
        },
        "keys_run": keys_run,
        "series_runs": series_runs,
        "seconds": {"runs": round(runs_seconds, 1), "total": round(total, 1)},
    }


def verify_mlflow(
    client: object, exps: dict[str, str], keys_run: str, series_runs: list[str], sizes: Sizes
) -> None:
    """Read the inserted data back with MLflow's client; raise if it is not what was meant."""
    from mlflow.entities import ViewType

    search = client.search_runs  # type: ignore[attr-defined]
    top = search(
        [exps[RUNS_EXPERIMENT]],
        "metrics.accuracy > 0.5 AND params.model = 'rf'",
        ViewType.ACTIVE_ONLY,
        max_results=5,
        order_by=["metrics.loss ASC"],
    )
    wanted = sorted(
        (
            run_values(i)
            for i in range(sizes.runs)
            if _acc(i) > 0.5 and run_values(i)["params"]["model"] == "rf"  # type: ignore[index]
        ),
        key=lambda v: v["metrics"]["loss"],  # type: ignore[index]
    )[:5]
    got = [(r.info.run_name, r.data.metrics["loss"], r.data.params["lr"]) for r in top]
    want = [(v["name"], v["metrics"]["loss"], v["params"]["lr"]) for v in wanted]  # type: ignore[index]
    if got != want:
        raise SystemExit(f"MLflow search differs: {got} != {want}")
    first = top[0]
    if (
        first.info.status != "FINISHED"
        or first.data.tags.get("mlflow.runName") != first.info.run_name
    ):
        raise SystemExit(f"MLflow run looks wrong: {first}")
    page = search([exps[RUNS_EXPERIMENT]], "", ViewType.ACTIVE_ONLY, max_results=1000)
    if len(page) != min(1000, sizes.runs) or not page.token:
        raise SystemExit(f"MLflow sees {len(page)} runs in the first page")
    many = client.get_run(keys_run)  # type: ignore[attr-defined]
    if len(many.data.metrics) != sizes.keys:
        raise SystemExit(f"MLflow sees {len(many.data.metrics)} keys, not {sizes.keys}")
    name = key_name(7)
    if many.data.metrics[name] != key_value(7, KEY_POINTS - 1):
        raise SystemExit(f"latest {name} is {many.data.metrics[name]}")
    started = time.perf_counter()
    history = client.get_metric_history(series_runs[0], SERIES_KEY)  # type: ignore[attr-defined]
    took = time.perf_counter() - started
    if len(history) != sizes.points or history[-1].value != series_value(
        0, sizes.points - 1, sizes.points
    ):
        raise SystemExit(f"MLflow history has {len(history)} points")
    print(
        f"[seed mlflow] verified with MlflowClient (get_metric_history of {sizes.points:,} "
        f"points: {took:.1f} s)",
        flush=True,
    )


# -- driver --------------------------------------------------------------------------------------


def paths(root: Path, sizes: Sizes) -> dict[str, Path]:
    base = root / sizes.label
    return {
        "base": base,
        "cairn": base / "cairn",
        "cairn_store": base / "cairn" / "mlruns",
        "mlflow": base / "mlflow",
        "mlflow_db": base / "mlflow" / "mlflow.db",
        "manifest": base / "manifest.json",
    }


def load_manifest(root: Path, sizes: Sizes) -> dict | None:
    """The manifest of a finished data set of these sizes, or None."""
    path = paths(root, sizes)["manifest"]
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("sizes") != asdict(sizes) or manifest.get("version") != SEED_VERSION:
        return None
    return manifest


def _worker_env(tool: str) -> dict[str, str]:
    env = {
        k: val
        for k, val in os.environ.items()
        if not k.startswith(("MLFLOW_", "CAIRN_")) and k != "PYTHONPATH"
    }
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    if tool == "cairn":
        env["CAIRN_SQLITE_SYNCHRONOUS"] = "NORMAL"
    return env


def seed(root: Path, sizes: Sizes, *, reuse: bool) -> dict:
    """Create (or, with ``reuse``, keep) the data set; return its manifest."""
    if reuse and (found := load_manifest(root, sizes)):
        print(f"[seed] reusing {paths(root, sizes)['base']}", flush=True)
        return found
    p = paths(root, sizes)
    shutil.rmtree(p["base"], ignore_errors=True)
    p["cairn"].mkdir(parents=True)
    p["mlflow"].mkdir(parents=True)
    started = time.perf_counter()
    workers = {}
    for tool, python, target in (
        ("cairn", CAIRN_PYTHON, p["cairn_store"]),
        ("mlflow", MLFLOW_PYTHON, p["mlflow_db"]),
    ):
        out = p["base"] / f"{tool}-ids.json"
        cmd = [str(python), __file__, "--worker", tool, "--target", str(target), "--out", str(out)]
        cmd += ["--runs", str(sizes.runs), "--keys", str(sizes.keys), "--points", str(sizes.points)]
        workers[tool] = (subprocess.Popen(cmd, env=_worker_env(tool), cwd=p["base"]), out)
    failed = [tool for tool, (proc, _) in workers.items() if proc.wait() != 0]
    if failed:
        raise SystemExit(f"seeding failed for {', '.join(failed)}")
    manifest = {
        "version": SEED_VERSION,
        "sizes": asdict(sizes),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.perf_counter() - started, 1),
        "cairn": {
            "store": str(p["cairn_store"]),
            **json.loads(workers["cairn"][1].read_text(encoding="utf-8")),
        },
        "mlflow": {
            "db": str(p["mlflow_db"]),
            **json.loads(workers["mlflow"][1].read_text(encoding="utf-8")),
        },
    }
    p["manifest"].write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    print(f"[seed] done in {manifest['seconds']:.0f} s: {p['base']}", flush=True)
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 runs, 1,000 keys, 100k points")
    parser.add_argument("--reuse", action="store_true", help="keep a finished data set")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--worker", choices=("cairn", "mlflow"), help=argparse.SUPPRESS)
    parser.add_argument("--target", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--runs", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--keys", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--points", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        sizes = Sizes(args.runs, args.keys, args.points)
        fill = seed_cairn if args.worker == "cairn" else seed_mlflow
        ids = fill(args.target, sizes)
        args.out.write_text(json.dumps(ids), encoding="utf-8")
        return 0
    sys.path.insert(0, str(BENCH_DIR))
    import mlflow_env

    mlflow_env.ensure_mlflow_venv()
    seed(args.root, QUICK if args.quick else FULL, reuse=args.reuse)
    return 0


if __name__ == "__main__":
    sys.exit(main())
