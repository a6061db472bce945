"""Benchmark cairn's model serving and packaging against MLflow 3.17, in one run.

    python bench/models/run.py                   # full: ~5 minutes here
    python bench/models/run.py --quick           # one 2 s round per load test, 20 MB model
    python bench/models/run.py --update-readme   # also rewrite the models section of README.md

Serving: the same scikit-learn model directory (a StandardScaler + LogisticRegression
pipeline over 8 float columns, saved once by cairn; MLflow reads it unchanged) is served by
``cairn models serve`` and by ``mlflow models serve --env-manager local`` (from
``bench/.venv-mlflow``), one worker process each; cairn also without its request batching.
The same load generator (``wrk`` when installed, else ``loadgen.py``'s asyncio client) sends
``dataframe_split`` requests of 1 row and of 1,000 rows over N keep-alive connections, to one
server at a time, in interleaved rounds; requests per second and p50/p99 latency of the
median round are recorded. Every answer must be a 200, and the servers must return the same
predictions, or the run fails.

Packaging: a ~100 MB random forest (the same pickled estimator for both tools) is saved with
``<tool>.sklearn.save_model`` and loaded back with ``<tool>.sklearn.load_model``, each in a
fresh process; the median of ``--repeat`` runs is recorded.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(HERE))

import loadgen  # noqa: E402

import mlflow_env  # noqa: E402

RESULTS = BENCH / "results" / "models.json"
README = BENCH / "README.md"
START, END = "<!-- models-results:start -->", "<!-- models-results:end -->"
FEATURES = [f"f{i}" for i in range(8)]


def _log(message: str) -> None:
    print(f"[bench/models] {message}", file=sys.stderr, flush=True)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "CAIRN_"))}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    env["DO_NOT_TRACK"] = "true"
    return env


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _payload(rows: int) -> bytes:
    data = [[round((r * 7 + c * 13) % 97 / 17.0 - 2.5, 4) for c in range(8)] for r in range(rows)]
    return json.dumps({"dataframe_split": {"columns": FEATURES, "data": data}}).encode()


def _post(url: str, body: bytes) -> Any:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")
        return json.loads(response.read())


@contextlib.contextmanager
def _server(command: list[str], port: int, log: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    env = _env()
    # mlflow starts `uvicorn` by name: its venv's bin folder must come first on PATH.
    env["PATH"] = f"{Path(command[0]).parent}{os.pathsep}{env.get('PATH', '')}"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited early:\n{log.read_text()[-3000:]}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{url}/ping", timeout=2) as answer,
            ):
                if answer.status == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not become healthy:\n{log.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def bench_serving(args: argparse.Namespace, pythons: dict[str, Path], tmp: Path) -> dict[str, Any]:
    """All servers run at once (an idle one costs nothing) and are measured in interleaved
    rounds, so that load from elsewhere on the machine hits each of them alike; the median
    round is reported."""
    model_dir = tmp / "serving-model"
    subprocess.run(
        [str(pythons["cairn"]), str(HERE / "worker.py"), "serving-model", "--out", str(model_dir)],
        check=True,
        env=_env(),
    )
    cairn_bin = str(pythons["cairn"].with_name("cairn"))
    mlflow_bin = str(pythons["mlflow"].with_name("mlflow"))
    servers = {
        "cairn": [cairn_bin, "models", "serve", "-m", str(model_dir), "--workers", "1"],
        "cairn --no-batching": [
            cairn_bin,
            "models",
            "serve",
            "-m",
            str(model_dir),
            "--workers",
            "1",
            "--no-batching",
        ],
        "mlflow": [
            mlflow_bin,
            "models",
            "serve",
            "-m",
            str(model_dir),
            "--env-manager",
            "local",
            "--workers",
            "1",
            "--host",
            "127.0.0.1",
        ],
    }
    bodies = {"1 row": _payload(1), "1,000 rows": _payload(1000)}
    rounds: dict[str, dict[str, list[dict[str, Any]]]] = {}
    with contextlib.ExitStack() as stack:
        urls = {}
        for name, command in servers.items():
            port = _free_port()
            log = tmp / f"{name.split()[0]}-{port}.log"
            urls[name] = stack.enter_context(_server([*command, "--port", str(port)], port, log))
        for label, body in bodies.items():
            answers = {name: _post(f"{url}/invocations", body) for name, url in urls.items()}
            if len({json.dumps(a, sort_keys=True) for a in answers.values()}) != 1:
                raise RuntimeError(f"the servers predict differently for {label}: {answers}")
            for url in urls.values():  # warm-up, untimed
                loadgen.run(f"{url}/invocations", body, args.connections, 2.0)
        names = list(urls)
        for number in range(args.rounds):
            # Each round starts with another server, so no server always follows the same one.
            order = names[number % len(names) :] + names[: number % len(names)]
            for label, body in bodies.items():
                for name in order:
                    url = urls[name]
                    measure = loadgen.run(
                        f"{url}/invocations", body, args.connections, args.seconds
                    )
                    if measure["non_2xx"]:
                        raise RuntimeError(f"{name}: {measure['non_2xx']} non-2xx answers")
                    _log(
                        f"round {number + 1} {label} {name}: {measure['rps']:.0f} req/s, "
                        f"p50 {measure['p50_ms']:.2f} ms, p99 {measure['p99_ms']:.2f} ms"
                    )
                    rounds.setdefault(label, {}).setdefault(name, []).append(measure)
    return {
        label: {name: _median_round(measures) for name, measures in by_name.items()}
        for label, by_name in rounds.items()
    }


def _median_round(measures: list[dict[str, Any]]) -> dict[str, Any]:
    """The round with the median throughput (its latencies come with it), plus all rounds."""
    ordered = sorted(measures, key=lambda m: m["rps"])
    return {**ordered[len(ordered) // 2], "rounds": measures}


def bench_saveload(args: argparse.Namespace, pythons: dict[str, Path], tmp: Path) -> dict[str, Any]:
    estimator = tmp / "estimator.pkl"
    _log(f"training a ~{args.megabytes:.0f} MB forest (untimed)")
    subprocess.run(
        [
            str(pythons["cairn"]),
            str(HERE / "worker.py"),
            "estimator",
            "--out",
            str(estimator),
            "--megabytes",
            str(args.megabytes),
        ],
        check=True,
        env=_env(),
    )
    runs: dict[str, list[dict[str, float]]] = {"cairn": [], "mlflow": []}
    for repetition in range(args.repeat):
        for tool in ("cairn", "mlflow"):
            workdir = Path(tempfile.mkdtemp(dir=tmp, prefix=f"{tool}-{repetition}-"))
            done = subprocess.run(
                [
                    str(pythons[tool]),
                    str(HERE / "worker.py"),
                    "saveload",
                    "--tool",
                    tool,
                    "--estimator",
                    str(estimator),
                    "--workdir",
                    str(workdir),
                ],
                check=True,
                capture_output=True,
                text=True,
                env=_env(),
            )
            runs[tool].append(json.loads(done.stdout.strip().splitlines()[-1]))
            _log(f"  {tool} save/load: {runs[tool][-1]}")
            subprocess.run(["rm", "-rf", str(workdir)], check=True)
    return {
        tool: {
            "save_s": statistics.median(r["save_s"] for r in values),
            "load_s": statistics.median(r["load_s"] for r in values),
            "model_mb": values[0]["model_bytes"] / 1e6,
            "runs": values,
        }
        for tool, values in runs.items()
    }


def table(results: dict[str, Any]) -> str:
    lines = [
        "| workload | cairn | cairn --no-batching | mlflow 3.17.2 | cairn / mlflow |",
        "|---|---|---|---|---|",
    ]
    for label, by_tool in results.get("serving", {}).items():
        c, n, m = by_tool["cairn"], by_tool["cairn --no-batching"], by_tool["mlflow"]
        lines.append(
            f"| {label}: requests/s | {c['rps']:,.0f} | {n['rps']:,.0f} | {m['rps']:,.0f} | "
            f"**{c['rps'] / m['rps']:.1f}x** ({n['rps'] / m['rps']:.1f}x without batching) |"
        )
        for pct in ("p50", "p99"):
            key = f"{pct}_ms"
            lines.append(
                f"| {label}: {pct} latency | {c[key]:.2f} ms | {n[key]:.2f} ms | "
                f"{m[key]:.2f} ms | {m[key] / c[key]:.1f}x lower |"
            )
    saveload = results.get("saveload")
    if saveload:
        c, m = saveload["cairn"], saveload["mlflow"]
        size = f"{c['model_mb']:.0f} MB"
        for what, key in (("save_model", "save_s"), ("load_model", "load_s")):
            lines.append(
                f"| {what}, {size} forest | {c[key]:.2f} s | | {m[key]:.2f} s | "
                f"{_speed(m[key] / c[key])} |"
            )
    return "\n".join(lines)


def _speed(ratio: float) -> str:
    return f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"


def update_readme(text: str) -> None:
    readme = README.read_text(encoding="utf-8")
    if START not in readme or END not in readme:
        raise SystemExit(f"{README} has no {START} ... {END} markers")
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    README.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 s load tests, a 20 MB model")
    parser.add_argument("--seconds", type=float, default=5.0, help="per load test")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per test")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--megabytes", type=float, default=100.0)
    parser.add_argument("--repeat", type=int, default=3, help="save/load repetitions")
    parser.add_argument("--only", choices=["serving", "saveload"], default=None)
    parser.add_argument("--cairn-python", type=Path, default=REPO / ".venv" / "bin" / "python")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--update-readme", action="store_true")
    parser.add_argument(
        "--from-json", type=Path, default=None, help="render a saved run instead of running"
    )
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rounds, args.megabytes, args.repeat = 2.0, 1, 20.0, 1
    return args


def _header(results: dict[str, Any]) -> str:
    return (
        f"Measured by `python bench/models/run.py` on {results['date']}: {results['machine']}, "
        f"Python {results['python']}; load generator {results['load_generator']}, "
        f"{results['connections']} connections, median of {results.get('rounds', 1)} "
        f"interleaved rounds of {results['seconds']:.0f} s, one server worker each."
    )


def main() -> int:
    args = parse_args()
    if args.from_json is not None:
        saved = json.loads(args.from_json.read_text(encoding="utf-8"))
        text = f"{_header(saved)}\n\n{table(saved)}"
        print(text)
        if args.update_readme:
            update_readme(text)
        return 0
    pythons = {"cairn": args.cairn_python, "mlflow": mlflow_env.ensure_mlflow_venv()}
    results: dict[str, Any] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "load_generator": loadgen.generator_name(),
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
    }
    with tempfile.TemporaryDirectory(prefix="cairn-bench-models-") as name:
        tmp = Path(name)
        if args.only in (None, "serving"):
            results["serving"] = bench_serving(args, pythons, tmp)
        if args.only in (None, "saveload"):
            results["saveload"] = bench_saveload(args, pythons, tmp)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2), encoding="utf-8")
    summary = table(results)
    header = _header(results)
    print(header)
    print(summary)
    if args.update_readme:
        update_readme(f"{header}\n\n{summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
