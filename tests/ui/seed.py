"""A store with something of everything the UI shows, logged through a real server.

``seed(url, workdir)`` logs, with cairn's own client over HTTP: an experiment of 30 runs with
params, metrics and a nested-run tree; a run with NaN and infinite values; a long series (to
see the downsampling band); a run full of artifacts of every previewable kind (plus a binary
and an oversized one); a dataset input; a Markdown description; names made of HTML; a
RUNNING run that tests can keep logging to. Run it by hand to look at the UI::

    .venv/bin/python -m tests.ui.seed http://127.0.0.1:5000
"""

from __future__ import annotations

import json
import math
import struct
import sys
import tempfile
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path

EVIL = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'

MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    loader_module: cairn.models.flavors.sklearn
    python_version: 3.11.9
  sklearn:
    serialization_format: skops
    sklearn_version: 1.5.0
model_uuid: 3c5a7e0c2f0b4b55a1c7b0f7b1a2c3d4
run_id: {run_id}
signature:
  inputs: '[{{"type": "double", "name": "sepal_length", "required": true}}, {{"type": "double", "name": "sepal_width", "required": true}}]'
  outputs: '[{{"type": "long", "name": "species", "required": true}}]'
utc_time_created: '2026-01-02 03:04:05.000000'
"""


@dataclass
class Seeded:
    url: str
    experiment_id: str
    experiment_name: str
    empty_experiment_id: str
    evil_experiment_id: str
    run_ids: list[str] = field(default_factory=list)
    parent_id: str = ""
    child_ids: list[str] = field(default_factory=list)
    weird_id: str = ""
    long_id: str = ""
    artifacts_id: str = ""
    running_id: str = ""


def png(width: int = 64, height: int = 48) -> bytes:
    """A small gradient PNG, written by hand (no imaging library needed)."""
    rows = b"".join(
        b"\x00" + bytes(c for x in range(width) for c in (x * 4 % 256, y * 5 % 256, 160))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _artifacts(folder: Path, run_id: str) -> None:
    (folder / "plots").mkdir()
    (folder / "model").mkdir()
    (folder / "plots" / "curve.png").write_bytes(png())
    (folder / "notes.txt").write_text("Training notes\nline two\n")
    (folder / "config.json").write_text(json.dumps({"lr": 0.01, "layers": [64, 32]}))
    (folder / "config.yaml").write_text("lr: 0.01\nlayers:\n  - 64\n  - 32\n")
    (folder / "metrics.csv").write_text("epoch,loss,acc\n0,1.0,0.5\n1,0.5,0.7\n2,0.25,0.9\n")
    table = {"columns": ["text", "label"], "data": [["hello", 1], ["world", 0]]}
    (folder / "predictions.json").write_text(json.dumps(table))
    (folder / "report.html").write_text(
        "<h1>Report</h1><p id='p'>static</p>"
        "<script>document.getElementById('p').textContent='scripted';"
        "parent.window.__xss=1;</script>"
    )
    (folder / "model" / "MLmodel").write_text(MLMODEL.format(run_id=run_id))
    (folder / "weights.bin").write_bytes(bytes(range(256)) * 64)
    (folder / "huge.log").write_bytes(b"0123456789abcdef" * (3 * 1024 * 1024 // 16))
    (folder / "huge.csv").write_bytes(b"a,b\n" + b"1,2\n" * (6 * 1024 * 1024 // 4))


def seed(url: str) -> Seeded:
    """Log the UI's test data into the server at ``url``; returns the ids tests need."""
    import cairn
    from cairn.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    client = cairn.Client(tracking_uri=url)
    client.asynchronous = False
    tag = uuid.uuid4().hex[:6]
    name = f"vision-{tag}"
    exp = client.create_experiment(name)
    empty = client.create_experiment(f"empty-{tag}")
    evil = client.create_experiment(f"{EVIL} {tag}")
    out = Seeded(url, exp, name, empty, evil)
    t0 = int(time.time() * 1000) - 3_600_000

    def finished(run_id: str, end: int) -> None:
        client.set_terminated(run_id, "FINISHED", end_time=end)

    for i in range(30):
        lr = [0.1, 0.01, 0.001][i % 3]
        opt = ["adam", "sgd"][i % 2]
        run = client.create_run(
            exp, start_time=t0 + i * 1000, run_name=f"run-{i:02d}", tags={"team": "vision"}
        )
        rid = run.info.run_id
        metrics = [
            Metric("loss", 1.0 / (1 + s * lr * 10) + 0.01 * i, t0 + i * 1000 + s * 10, s)
            for s in range(50)
        ]
        metrics += [Metric("accuracy", 0.5 + 0.015 * i, t0 + i * 1000 + 500, 0)]
        client.log_batch(
            rid,
            metrics=metrics,
            params=[Param("lr", str(lr)), Param("optimizer", opt), Param("seed", str(i))],
            tags=[RunTag("mlflow.source.name", "train.py")],
        )
        finished(rid, t0 + i * 1000 + 900 + i * 60_000)
        out.run_ids.append(rid)

    parent = client.create_run(exp, start_time=t0 + 40_000, run_name="sweep-parent")
    out.parent_id = parent.info.run_id
    for j in range(3):
        child = client.create_run(
            exp,
            start_time=t0 + 41_000 + j,
            run_name=f"sweep-child-{j}",
            tags={"mlflow.parentRunId": out.parent_id},
        )
        client.log_batch(
            child.info.run_id,
            metrics=[Metric("loss", 0.3 - 0.1 * j, t0 + 41_500, 0)],
            params=[Param("lr", str(0.05 * (j + 1)))],
        )
        finished(child.info.run_id, t0 + 42_000)
        out.child_ids.append(child.info.run_id)
    finished(out.parent_id, t0 + 43_000)

    weird = client.create_run(exp, start_time=t0 + 50_000, run_name=f"weird {EVIL}")
    out.weird_id = weird.info.run_id
    values = [1.0, math.nan, math.inf, 2.0, -math.inf, 3.0]
    client.log_batch(
        out.weird_id,
        metrics=[Metric("weird", val, t0 + 50_000 + s, s) for s, val in enumerate(values)]
        + [Metric("nan_only", math.nan, t0 + 50_000, 0)],
        tags=[RunTag("mlflow.note.content", f"# Notes\n\n**bold** text {EVIL}")],
    )
    finished(out.weird_id, t0 + 51_000)

    long = client.create_run(exp, start_time=t0 + 60_000, run_name="long-series")
    out.long_id = long.info.run_id
    points = [
        Metric("signal", (50.0 if s == 3333 else math.sin(s / 200)), t0 + 60_000 + s, s)
        for s in range(5000)
    ]
    for start in range(0, len(points), 1000):
        client.log_batch(out.long_id, metrics=points[start : start + 1000])
    client.log_batch(
        out.long_id, metrics=[Metric(f"layer_{k:03d}/grad_norm", k, t0, 0) for k in range(250)]
    )
    finished(out.long_id, t0 + 70_000)

    art = client.create_run(exp, start_time=t0 + 80_000, run_name="with-artifacts")
    out.artifacts_id = art.info.run_id
    client.log_batch(
        out.artifacts_id,
        params=[Param("lr", "0.01"), Param("optimizer", "adam")],
        tags=[
            RunTag("mlflow.source.git.commit", "0123456789abcdef0123456789abcdef01234567"),
            RunTag("mlflow.note.content", "Trained on **iris**."),
        ],
        metrics=[Metric("loss", 0.2, t0 + 80_500, 0)],
    )
    client.log_inputs(
        out.artifacts_id,
        [
            DatasetInput(
                Dataset(
                    "iris",
                    "d1g3st",
                    "local",
                    json.dumps({"uri": "/data/iris.csv"}),
                    json.dumps({"mlflow_colspec": [{"name": "sepal_length", "type": "double"}]}),
                ),
                (InputTag("mlflow.data.context", "training"),),
            )
        ],
    )
    with tempfile.TemporaryDirectory() as tmp:
        _artifacts(Path(tmp), out.artifacts_id)
        client.log_artifacts(out.artifacts_id, tmp)
    finished(out.artifacts_id, t0 + 90_000)

    running = client.create_run(exp, run_name="live-run")
    out.running_id = running.info.run_id
    client.log_batch(
        out.running_id,
        metrics=[Metric("live", float(s), int(time.time() * 1000), s) for s in range(5)],
    )
    client.flush()
    return out


if __name__ == "__main__":
    print(seed(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5000"))
