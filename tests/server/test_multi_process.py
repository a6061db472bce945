"""Two ``cairn server`` processes on one PostgreSQL database serve the same data.

Server processes are stateless (DESIGN.md): several run behind one load balancer, sharing
nothing but the database and the artifact destination. Here one fresh database on the local
PostgreSQL (127.0.0.1:5432) and one artifact folder back two servers; the real mlflow client
writes through one and reads through the other, in both directions and concurrently.

Set ``CAIRN_TEST_POSTGRES_URI`` to use another PostgreSQL server, or ``CAIRN_TEST_POSTGRES=0``
to leave these tests out on a machine that has none (CI always has it).
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException
from sqlalchemy import create_engine, text

from tests.server.conftest import Server, running_server, unique

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

POSTGRES_ADMIN_URI = os.environ.get(
    "CAIRN_TEST_POSTGRES_URI", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """A fresh, empty database (``cairn_srv_<random>``), dropped afterwards."""
    if os.environ.get("CAIRN_TEST_POSTGRES", "1") == "0":
        pytest.skip("CAIRN_TEST_POSTGRES=0: no PostgreSQL on this machine")
    admin = create_engine(POSTGRES_ADMIN_URI, isolation_level="AUTOCOMMIT")
    name = f"cairn_srv_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URI.rsplit("/", 1)[0].replace("+psycopg", "") + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def servers(
    database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Two servers on the database and one shared artifact destination."""
    workdir = tmp_path_factory.mktemp("cairn-multi")
    artifacts = workdir / "artifacts"
    artifacts.mkdir()
    with (
        running_server(workdir / "one", database, str(artifacts)) as one,
        running_server(workdir / "two", database, str(artifacts)) as two,
    ):
        yield one, two


@pytest.fixture
def clients(servers: tuple[Server, Server], mlflow_env: None) -> tuple[MlflowClient, MlflowClient]:
    one, two = servers
    return MlflowClient(tracking_uri=one.url), MlflowClient(tracking_uri=two.url)


def run_view(run: Any) -> dict[str, Any]:
    """What a client sees of a run, comparable across servers (NaN made comparable)."""
    info = run.info
    return {
        "info": (
            info.run_id,
            info.run_name,
            info.experiment_id,
            info.user_id,
            info.status,
            info.start_time,
            info.end_time,
            info.artifact_uri,
            info.lifecycle_stage,
        ),
        "params": dict(run.data.params),
        "tags": dict(run.data.tags),
        "metrics": {k: "NaN" if math.isnan(v) else v for k, v in run.data.metrics.items()},
        "datasets": [(d.dataset.name, d.dataset.digest) for d in run.inputs.dataset_inputs],
    }


def history_view(client: MlflowClient, run_id: str, key: str) -> list[tuple[Any, ...]]:
    return [
        (m.step, m.timestamp, "NaN" if math.isnan(m.value) else m.value)
        for m in client.get_metric_history(run_id, key)
    ]


def test_what_one_server_writes_the_other_serves(
    servers: tuple[Server, Server],
    clients: tuple[MlflowClient, MlflowClient],
    tmp_path: Path,
    mlflow_state: None,
) -> None:
    one, _ = servers
    writer, reader = clients
    name = unique("shared")
    mlflow.set_tracking_uri(one.url)
    try:
        experiment = mlflow.set_experiment(name)
        mlflow.set_experiment_tags({"team": "vision"})
        notes = tmp_path / "notes.txt"
        notes.write_text("written through server one\n")
        with mlflow.start_run(run_name="parent") as parent:
            mlflow.log_params({"alpha": 0.5, "layers": 3})
            for step, value in enumerate([1.0, 0.5, float("nan"), 0.25]):
                mlflow.log_metric("loss", value, step=step)
            mlflow.log_metrics({"acc": 0.9, "f1": 0.8})
            mlflow.set_tags({"owner": "alice"})
            mlflow.log_artifact(str(notes))
            mlflow.log_text("nested text", "deep/dir/t.txt")
            with mlflow.start_run(run_name="child", nested=True) as child:
                mlflow.log_metric("child_metric", 3.0)
    finally:
        mlflow.end_run()
    exp_id = experiment.experiment_id

    seen = reader.get_experiment_by_name(name)
    assert seen is not None
    assert seen.experiment_id == exp_id
    assert seen.tags["team"] == "vision"
    assert seen.artifact_location == writer.get_experiment(exp_id).artifact_location

    for run in (parent, child):
        assert run_view(reader.get_run(run.info.run_id)) == run_view(
            writer.get_run(run.info.run_id)
        )
    assert history_view(reader, parent.info.run_id, "loss") == history_view(
        writer, parent.info.run_id, "loss"
    )
    assert reader.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == (parent.info.run_id)
    for order in (None, ["metrics.acc DESC"], ["attributes.run_name ASC"]):
        ids_one = [r.info.run_id for r in writer.search_runs([exp_id], order_by=order)]
        ids_two = [r.info.run_id for r in reader.search_runs([exp_id], order_by=order)]
        assert ids_one == ids_two
        assert len(ids_two) == 2

    # Artifacts written through one server are served by the other.
    assert {f.path for f in reader.list_artifacts(parent.info.run_id)} == {"notes.txt", "deep"}
    path = reader.download_artifacts(parent.info.run_id, "notes.txt", str(tmp_path / "dl"))
    assert Path(path).read_text() == "written through server one\n"
    text_uri = f"{parent.info.artifact_uri}/deep/dir/t.txt"
    mlflow.set_tracking_uri(servers[1].url)
    assert mlflow.artifacts.load_text(text_uri) == "nested text"


def test_changes_through_either_server_are_seen_by_the_other(
    clients: tuple[MlflowClient, MlflowClient],
) -> None:
    one, two = clients
    name = unique("both-ways")
    exp_id = one.create_experiment(name)
    run_id = two.create_run(exp_id, run_name="ping-pong").info.run_id

    one.log_param(run_id, "from_one", "1")
    two.log_param(run_id, "from_two", "2")
    one.log_metric(run_id, "m", 1.0, step=0)
    two.log_metric(run_id, "m", 2.0, step=1)
    one.set_tag(run_id, "t", "one")
    two.set_tag(run_id, "t", "two")  # upsert through the other server
    for client in (one, two):
        run = client.get_run(run_id)
        assert run.data.params == {"from_one": "1", "from_two": "2"}
        assert run.data.metrics == {"m": 2.0}
        assert run.data.tags["t"] == "two"
        assert [m.value for m in client.get_metric_history(run_id, "m")] == [1.0, 2.0]

    # A param's value is immutable whichever server is asked.
    with pytest.raises(MlflowException) as err:
        two.log_param(run_id, "from_one", "changed")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"

    # Rename through one, find by the new name through the other.
    two.rename_experiment(exp_id, name + "-renamed")
    assert one.get_experiment_by_name(name) is None
    assert one.get_experiment_by_name(name + "-renamed").experiment_id == exp_id

    # Deletion through one is seen by the other at once: no stale caches.
    one.delete_run(run_id)
    assert two.get_run(run_id).info.lifecycle_stage == "deleted"
    assert two.search_runs([exp_id]) == []
    with pytest.raises(MlflowException) as err:
        two.log_metric(run_id, "m", 3.0)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    two.restore_run(run_id)
    assert [r.info.run_id for r in one.search_runs([exp_id])] == [run_id]

    one.delete_experiment(exp_id)
    assert two.get_experiment(exp_id).lifecycle_stage == "deleted"
    with pytest.raises(MlflowException) as err:
        two.create_run(exp_id)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    assert exp_id in {
        e.experiment_id for e in two.search_experiments(view_type=ViewType.DELETED_ONLY)
    }
    two.restore_experiment(exp_id)
    assert one.get_experiment(exp_id).lifecycle_stage == "active"


def test_concurrent_writers_through_both_servers(
    clients: tuple[MlflowClient, MlflowClient],
) -> None:
    """Both servers log the same new keys to the same runs at once: every point arrives and
    no request fails (new metric keys, params and tags are created concurrently)."""
    one, two = clients
    exp_id = one.create_experiment(unique("concurrent"))
    run_ids = [one.create_run(exp_id).info.run_id for _ in range(2)]
    errors: list[BaseException] = []
    base = int(time.time() * 1000)
    workers = 4
    rounds = 5

    def work(worker: int) -> None:
        client = (one, two)[worker % 2]
        try:
            for i in range(rounds):
                for run_id in run_ids:
                    step = worker * rounds + i
                    client.log_batch(
                        run_id,
                        metrics=[
                            Metric(f"shared_{k}", float(step), base + step, step) for k in range(20)
                        ]
                        + [Metric(f"w{worker}_{i}", 1.0, base, 0)],
                        params=[Param(f"p_{worker}_{i}", str(step))],
                        tags=[RunTag(f"tag_{k}", "x") for k in range(5)]
                        + [RunTag(f"t_{worker}", str(i))],
                    )
        except BaseException as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    total_steps = workers * rounds
    for run_id in run_ids:
        views = [run_view(client.get_run(run_id)) for client in (one, two)]
        assert views[0] == views[1]
        run = two.get_run(run_id)
        assert len(run.data.params) == total_steps
        assert run.data.metrics["shared_0"] == float(total_steps - 1)
        for client in (one, two):
            steps = [m.step for m in client.get_metric_history(run_id, "shared_7")]
            assert sorted(steps) == list(range(total_steps))


def test_two_servers_starting_together_on_an_empty_database(
    tmp_path: Path,
) -> None:
    """Replicas often start at the same moment: both must come up on a database that
    neither has created yet, and serve the same data."""
    if os.environ.get("CAIRN_TEST_POSTGRES", "1") == "0":
        pytest.skip("CAIRN_TEST_POSTGRES=0: no PostgreSQL on this machine")
    admin = create_engine(POSTGRES_ADMIN_URI, isolation_level="AUTOCOMMIT")
    name = f"cairn_srv_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    uri = POSTGRES_ADMIN_URI.rsplit("/", 1)[0].replace("+psycopg", "") + "/" + name
    started: dict[str, Any] = {}

    def start(label: str) -> None:
        try:
            started[label] = running_server(tmp_path / label, uri, str(tmp_path / "art"))
            started[label + "-server"] = started[label].__enter__()
        except BaseException as err:  # reported below
            started[label + "-error"] = err

    try:
        threads = [threading.Thread(target=start, args=(label,)) for label in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert "a-error" not in started, started.get("a-error")
        assert "b-error" not in started, started.get("b-error")
        a, b = MlflowClient(started["a-server"].url), MlflowClient(started["b-server"].url)
        exp_id = a.create_experiment(unique("together"))
        assert b.get_experiment(exp_id).experiment_id == exp_id
        assert b.get_experiment("0").name == "Default"
    finally:
        for label in ("a", "b"):
            if label + "-server" in started:
                started[label].__exit__(None, None, None)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "experiments/create", {"name": "nul\x00name"}),
        ("GET", "experiments/get-by-name", {"experiment_name": "nul\x00name"}),
        (
            "POST",
            "experiments/set-experiment-tag",
            {"experiment_id": "$exp", "key": "k", "value": "\x00"},
        ),
        ("POST", "runs/set-tag", {"run_id": "$run", "key": "t", "value": "a\x00b"}),
        ("POST", "runs/log-parameter", {"run_id": "$run", "key": "p", "value": "a\x00b"}),
        ("POST", "runs/log-batch", {"run_id": "$run", "tags": [{"key": "t", "value": "\x00"}]}),
        ("GET", "runs/get", {"run_id": "abc\x00def"}),
        ("POST", "runs/search", {"experiment_ids": ["$exp"], "filter": "tags.t = 'a\x00b'"}),
        (
            "POST",
            "runs/log-inputs",
            {
                "run_id": "$run",
                "datasets": [
                    {
                        "dataset": {
                            "name": "d\x00",
                            "digest": "x",
                            "source_type": "s",
                            "source": "{}",
                        }
                    }
                ],
            },
        ),
    ],
    ids=[
        "create-experiment",
        "get-by-name",
        "experiment-tag",
        "run-tag",
        "param",
        "batch",
        "get-run",
        "search",
        "dataset",
    ],
)
def test_a_nul_character_is_not_a_server_error_on_postgresql(
    servers: tuple[Server, Server], method: str, path: str, body: dict[str, Any]
) -> None:
    """PostgreSQL text cannot hold NUL; a request carrying one is the client's error (or, for a
    lookup, simply finds nothing), never a 500."""
    import httpx

    with httpx.Client(base_url=f"{servers[0].url}/api/2.0/mlflow", timeout=30) as api:
        exp_id = api.post("/experiments/create", json={"name": unique("nul")}).json()[
            "experiment_id"
        ]
        run_id = api.post("/runs/create", json={"experiment_id": exp_id}).json()["run"]["info"][
            "run_id"
        ]
        filled = json.loads(
            json.dumps(body)
            .replace('"$exp"', json.dumps(exp_id))
            .replace('"$run"', json.dumps(run_id))
        )
        if method == "GET":
            response = api.get(f"/{path}", params=filled)
        else:
            response = api.post(f"/{path}", json=filled)
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        error = response.json()
        assert set(error) >= {"error_code", "message"}, error


def test_an_experiment_id_beyond_int64_is_not_a_server_error_on_postgresql(
    servers: tuple[Server, Server],
) -> None:
    import httpx

    base = f"{servers[1].url}/api/2.0/mlflow"
    got = httpx.get(f"{base}/experiments/get", params={"experiment_id": "9" * 40}, timeout=30)
    assert got.status_code in (400, 404), got.text
    searched = httpx.post(
        f"{base}/runs/search",
        json={"experiment_ids": ["0"], "filter": f"metrics.m > {'9' * 30}"},
        timeout=30,
    )
    assert searched.status_code in (200, 400), searched.text
