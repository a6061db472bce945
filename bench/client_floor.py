"""How fast the real MLflow client can go at all: the server workloads against a stub server.

    python bench/client_floor.py               # ~20 s
    python bench/client_floor.py --n 500

The stub (standard library, asyncio, in this process) answers every MLflow REST call at once
with a canned body: an experiment, a run, 100 runs for a search (shaped like the ``search``
workload's runs), ``{}`` for everything else. Its costs are negligible, so what
``server_workloads.py`` measures against it is the client's own floor: the least a call can
take whatever the server. A server-workload ratio cannot exceed (MLflow server's time) / (this
floor).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mlflow_env
from workloads import LEARNING_RATES, MODELS, SEARCH_EXPERIMENT

BENCH_DIR = Path(__file__).resolve().parent
SERVER_WORKER = BENCH_DIR / "server_workloads.py"


def _run_json(i: int) -> dict[str, Any]:
    run_id = f"{i:032x}"
    return {
        "info": {
            "run_id": run_id,
            "run_uuid": run_id,
            "run_name": f"run-{i}",
            "experiment_id": "1",
            "user_id": "bench",
            "status": "FINISHED",
            "start_time": 1_700_000_000_000 + i,
            "end_time": 1_700_000_000_100 + i,
            "artifact_uri": f"/tmp/stub/1/{run_id}/artifacts",
            "lifecycle_stage": "active",
        },
        "data": {
            "metrics": [
                {"key": "accuracy", "value": 0.5 + i / 1000, "timestamp": 1, "step": 0},
                {"key": "loss", "value": i / 100, "timestamp": 1, "step": 0},
            ],
            "params": [
                {"key": "model", "value": MODELS[i % len(MODELS)]},
                {"key": "lr", "value": str(LEARNING_RATES[i % len(LEARNING_RATES)])},
            ],
            "tags": [
                {"key": "mlflow.user", "value": "bench"},
                {"key": "mlflow.runName", "value": f"run-{i}"},
            ],
        },
        "inputs": {},
    }


def canned_bodies() -> dict[str, bytes]:
    """The stub's answers, by a fragment of the request path."""
    experiment = {
        "experiment_id": "1",
        "name": SEARCH_EXPERIMENT,
        "artifact_location": "/tmp/stub/1",
        "lifecycle_stage": "active",
    }
    return {
        "experiments/get-by-name": json.dumps({"experiment": experiment}).encode(),
        "experiments/get": json.dumps({"experiment": experiment}).encode(),
        "experiments/create": b'{"experiment_id": "1"}',
        "runs/create": json.dumps({"run": _run_json(0)}).encode(),
        "runs/get": json.dumps({"run": _run_json(0)}).encode(),
        "runs/search": json.dumps({"runs": [_run_json(i) for i in range(100)]}).encode(),
    }


class StubServer:
    """An HTTP/1.1 keep-alive server answering canned bodies, in a background thread."""

    def __init__(self) -> None:
        self.bodies = canned_bodies()
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> StubServer:
        self._thread.start()
        self._ready.wait(timeout=10)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        """Where the stub listens."""
        return f"http://127.0.0.1:{self.port}"

    def _answer(self, path: bytes) -> bytes:
        text = path.decode("latin-1")
        for fragment, body in self.bodies.items():
            if fragment in text:
                return body
        return b"{}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if length:
                    await reader.readexactly(length)
                body = self._answer(head.split(b" ", 2)[1])
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = int(server.sockets[0].getsockname()[1])
        self._ready.set()
        loop.run_forever()
        server.close()
        loop.close()


def measure(python: Path, url: str, workload: str, **options: Any) -> dict[str, Any]:
    """Run one ``server_workloads.py`` client against ``url``; return its JSON."""
    with tempfile.TemporaryDirectory(prefix="cairn-bench-floor-") as tmp:
        out = Path(tmp) / "out.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "CAIRN_"))}
        env["MLFLOW_DISABLE_TELEMETRY"] = "true"
        subprocess.run(
            [
                str(python),
                str(SERVER_WORKER),
                "--tool=mlflow",
                f"--workload={workload}",
                f"--url={url}",
                f"--dir={tmp}",
                f"--out={out}",
                *(f"--{key}={value}" for key, value in options.items()),
            ],
            env=env,
            cwd=tmp,
            check=True,
            capture_output=True,
        )
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
        return result


def main(argv: list[str] | None = None) -> int:
    """Measure the MLflow client's floor for the three real-client server workloads."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="log_metric calls (runs: n / 10)")
    parser.add_argument("--mlflow-python", type=Path, default=None)
    args = parser.parse_args(argv)
    python = args.mlflow_python or mlflow_env.ensure_mlflow_venv()
    with StubServer() as stub:
        log_metric = measure(python, stub.url, "server_log_metric", n=args.n)
        runs = measure(python, stub.url, "server_runs", n=max(1, args.n // 10))
        search = measure(python, stub.url, "server_search", calls=20)
    print("The real MLflow client against a stub server that answers at once:")
    print(f"  server_log_metric: {log_metric['us_per_call'] / 1000:.2f} ms per log_metric call")
    print(f"  server_runs:       {runs['s_per_run'] * 1000:.2f} ms per run (3 calls)")
    print(f"  server_search:     {search['median_s'] * 1000:.2f} ms per search_runs of 100 runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
