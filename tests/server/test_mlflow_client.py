"""The real ``mlflow`` client against a real ``cairn server``: the judge of compatibility.

Every test drives the stock client (fluent API and ``MlflowClient``) with the server as its
tracking URI, asserts on what the client reads back, and where it matters on what cairn's own
client sees in the server's store (``cairn_reader``, opened on the server's backend folder).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import mlflow
import pytest
import yaml
from mlflow import MlflowClient
from mlflow.entities import LoggedModelStatus, Metric, Param, RunTag, ViewType
from mlflow.exceptions import MlflowException

from tests.server.conftest import MLFLOW_TEST_ENV, Server, unique


def now_ms() -> int:
    return int(time.time() * 1000)


def new_experiment(prefix: str) -> str:
    return mlflow.set_experiment(unique(prefix)).experiment_id


# -- experiments ----------------------------------------------------------------------------


def test_set_experiment_creates_then_gets_the_same_experiment(tracking_uri: str) -> None:
    name = unique("set-exp")
    created = mlflow.set_experiment(name)
    again = mlflow.set_experiment(name)
    client = MlflowClient()

    assert created.experiment_id == again.experiment_id
    assert created.name == name
    assert created.lifecycle_stage == "active"
    assert created.artifact_location.startswith("mlflow-artifacts:/")
    assert client.get_experiment(created.experiment_id).name == name
    assert client.get_experiment_by_name(name).experiment_id == created.experiment_id
    assert mlflow.get_experiment_by_name(unique("missing")) is None


def test_create_experiment_with_tags_then_tag_rename_and_untag(tracking_uri: str) -> None:
    client = MlflowClient()
    name = unique("tagged")
    exp_id = client.create_experiment(name, tags={"team": "vision", "stage": "dev"})
    client.set_experiment_tag(exp_id, "stage", "prod")
    client.delete_experiment_tag(exp_id, "team")
    client.rename_experiment(exp_id, name + "-renamed")

    exp = client.get_experiment(exp_id)
    assert exp.name == name + "-renamed"
    assert exp.tags == {"stage": "prod"}
    with pytest.raises(MlflowException) as err:
        client.create_experiment(name + "-renamed")
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_default_experiment_exists(tracking_uri: str) -> None:
    default = MlflowClient().get_experiment("0")
    assert default.name == "Default"


# -- runs -----------------------------------------------------------------------------------


def test_run_lifecycle_start_end_and_resume(tracking_uri: str) -> None:
    exp_id = new_experiment("lifecycle")
    client = MlflowClient()
    with mlflow.start_run(run_name="first-run") as run:
        run_id = run.info.run_id
        running = client.get_run(run_id)
        assert running.info.status == "RUNNING"
        assert running.info.end_time is None
        assert running.info.experiment_id == exp_id
        assert running.info.run_name == "first-run"
        assert running.data.tags["mlflow.runName"] == "first-run"
        assert running.info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{run_id}/artifacts"

    finished = client.get_run(run_id)
    assert finished.info.status == "FINISHED"
    assert finished.info.end_time >= finished.info.start_time

    with mlflow.start_run(run_id=run_id):
        assert client.get_run(run_id).info.status == "RUNNING"
        mlflow.log_param("resumed", "yes")
    assert client.get_run(run_id).info.status == "FINISHED"
    assert client.get_run(run_id).data.params == {"resumed": "yes"}

    with pytest.raises(RuntimeError), mlflow.start_run() as failing:
        raise RuntimeError("boom")
    assert client.get_run(failing.info.run_id).info.status == "FAILED"
    with mlflow.start_run() as killed:
        pass
    client.set_terminated(killed.info.run_id, status="KILLED")
    assert client.get_run(killed.info.run_id).info.status == "KILLED"


def test_nested_runs_record_their_parent(tracking_uri: str) -> None:
    new_experiment("nested")
    client = MlflowClient()
    with (
        mlflow.start_run() as parent,
        mlflow.start_run(nested=True) as child,
        mlflow.start_run(nested=True) as grandchild,
    ):
        pass
    assert client.get_run(child.info.run_id).data.tags["mlflow.parentRunId"] == (parent.info.run_id)
    assert client.get_run(grandchild.info.run_id).data.tags["mlflow.parentRunId"] == (
        child.info.run_id
    )
    assert "mlflow.parentRunId" not in client.get_run(parent.info.run_id).data.tags
    children = client.search_runs(
        [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert [r.info.run_id for r in children] == [child.info.run_id]


def test_params_metrics_and_tags_round_trip(tracking_uri: str, cairn_reader: object) -> None:
    new_experiment("logging")
    client = MlflowClient()
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_params({"layers": 3, "optimizer": "adam", "note": "a b/c:d"})
        mlflow.log_param("alpha", 0.5)  # the same value again is fine
        for step, value in enumerate([1.0, 0.5, float("nan"), float("inf"), 0.25]):
            mlflow.log_metric("loss", value, step=step)
        mlflow.log_metric("neg", -math.inf)
        mlflow.log_metric("big_step", 7.0, step=2**40)
        mlflow.log_metrics({"acc": 0.9, "f1": 0.8}, step=3)
        mlflow.set_tag("team", "vision")
        mlflow.set_tags({"owner": "alice", "temp": "x"})
        mlflow.delete_tag("temp")
    run_id = run.info.run_id

    data = client.get_run(run_id).data
    assert data.params == {"alpha": "0.5", "layers": "3", "optimizer": "adam", "note": "a b/c:d"}
    assert data.metrics["loss"] == 0.25  # the latest step
    assert data.metrics["neg"] == -math.inf
    assert data.metrics["big_step"] == 7.0
    assert data.metrics["acc"] == 0.9
    assert data.tags["team"] == "vision"
    assert data.tags["owner"] == "alice"
    assert "temp" not in data.tags

    history = client.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == [0, 1, 2, 3, 4]
    values = [m.value for m in history]
    assert values[:2] == [1.0, 0.5]
    assert math.isnan(values[2])
    assert values[3:] == [math.inf, 0.25]
    assert all(m.timestamp > 0 for m in history)
    assert [m.step for m in client.get_metric_history(run_id, "big_step")] == [2**40]

    # What the server stored, read by cairn directly.
    stored = cairn_reader.get_run(run_id)  # type: ignore[attr-defined]
    assert dict(stored.data.params) == data.params
    assert stored.data.metrics["loss"] == 0.25
    assert stored.data.tags["owner"] == "alice"
    stored_history = cairn_reader.get_metric_history(run_id, "loss")  # type: ignore[attr-defined]
    assert [m.step for m in stored_history] == [0, 1, 2, 3, 4]
    assert math.isnan(stored_history[2].value)


def test_changing_a_param_value_is_rejected(tracking_uri: str) -> None:
    new_experiment("param-change")
    with mlflow.start_run():
        mlflow.log_param("p", "1")
        with pytest.raises(MlflowException) as err:
            mlflow.log_param("p", "2")
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"


def test_deleting_a_missing_tag_is_not_found(tracking_uri: str) -> None:
    new_experiment("missing-tag")
    with mlflow.start_run() as run:
        pass
    with pytest.raises(MlflowException) as err:
        MlflowClient().delete_tag(run.info.run_id, "never-set")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_get_run_of_an_unknown_id_is_not_found(tracking_uri: str) -> None:
    with pytest.raises(MlflowException) as err:
        MlflowClient().get_run("0123456789abcdef0123456789abcdef")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_log_batch_over_the_limits_is_chunked_and_fully_stored(
    tracking_uri: str, cairn_reader: object
) -> None:
    exp_id = new_experiment("batch")
    client = MlflowClient()
    run_id = client.create_run(exp_id).info.run_id
    ts = now_ms()
    metrics = [Metric(f"m{i % 7}", float(i), ts + i, i) for i in range(2500)]
    params = [Param(f"p{i}", str(i)) for i in range(150)]
    tags = [RunTag(f"t{i}", f"v{i}") for i in range(120)]
    client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    client.set_terminated(run_id)

    run = client.get_run(run_id)
    assert run.data.params == {f"p{i}": str(i) for i in range(150)}
    assert {k: v for k, v in run.data.tags.items() if k.startswith("t")} == {
        f"t{i}": f"v{i}" for i in range(120)
    }
    assert run.data.metrics == {f"m{k}": float(max(range(k, 2500, 7))) for k in range(7)}
    history = client.get_metric_history(run_id, "m3")
    assert [m.step for m in history] == list(range(3, 2500, 7))
    assert [m.value for m in history] == [float(i) for i in range(3, 2500, 7)]

    stored = cairn_reader.get_run(run_id)  # type: ignore[attr-defined]
    assert len(stored.data.params) == 150
    assert len(cairn_reader.get_metric_history(run_id, "m0")) == len(range(0, 2500, 7))  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_metric_history_longer_than_one_page_is_read_whole(tracking_uri: str) -> None:
    # The client asks for 25,000 points a page and follows next_page_token.
    exp_id = new_experiment("long-history")
    client = MlflowClient()
    run_id = client.create_run(exp_id).info.run_id
    ts = now_ms()
    points = 26_500
    client.log_batch(run_id, metrics=[Metric("long", float(i), ts, i) for i in range(points)])
    history = client.get_metric_history(run_id, "long")
    assert len(history) == points
    assert [m.step for m in history] == list(range(points))
    assert client.get_run(run_id).data.metrics["long"] == float(points - 1)


def test_fluent_log_params_and_metrics_over_the_limits(tracking_uri: str) -> None:
    new_experiment("fluent-batch")
    with mlflow.start_run() as run:
        mlflow.log_params({f"p{i}": i for i in range(230)})
        mlflow.log_metrics({f"m{i}": float(i) for i in range(1500)})
        mlflow.set_tags({f"t{i}": i for i in range(150)})
    data = MlflowClient().get_run(run.info.run_id).data
    assert len(data.params) == 230
    assert len(data.metrics) == 1500
    assert data.metrics["m1499"] == 1499.0
    assert len([k for k in data.tags if k.startswith("t")]) == 150


# -- search ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def search_fixture(server: Server) -> dict[str, object]:
    """One experiment with six runs of known params, metrics, tags and statuses."""
    with pytest.MonkeyPatch.context() as mp:
        for name, value in MLFLOW_TEST_ENV.items():
            mp.setenv(name, value)
        return _make_search_runs(MlflowClient(tracking_uri=server.url))


def _make_search_runs(client: MlflowClient) -> dict[str, object]:
    exp_id = client.create_experiment(unique("search"))
    base = now_ms() - 100_000
    specs = [
        # name, model, acc, team, status
        ("r-alpha", "cnn", 0.91, "vision", "FINISHED"),
        ("r-beta", "cnn", 0.55, "vision-2", "FINISHED"),
        ("r-gamma", "rnn", 0.72, "nlp", "FAILED"),
        ("r-delta", "rnn", None, "nlp", "FINISHED"),
        ("x-epsilon", "mlp", 0.30, "Vision", "KILLED"),
        ("x-zeta", "mlp", float("nan"), "audio", "FINISHED"),
    ]
    ids: dict[str, str] = {}
    for i, (name, model, acc, team, status) in enumerate(specs):
        run = client.create_run(exp_id, start_time=base + i * 1000, run_name=name)
        run_id = run.info.run_id
        metrics = [] if acc is None else [Metric("acc", acc, base, 0)]
        client.log_batch(
            run_id,
            metrics=[*metrics, Metric("epochs", float(i), base, 0)],
            params=[Param("model", model), Param("idx", str(i))],
            tags=[RunTag("team", team)],
        )
        client.set_terminated(run_id, status=status, end_time=base + i * 1000 + 500)
        ids[name] = run_id
    return {"experiment_id": exp_id, "ids": ids}


def _names(runs: list[object], ids: dict[str, str]) -> list[str]:
    by_id = {v: k for k, v in ids.items()}
    return [by_id[r.info.run_id] for r in runs]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("", {"r-alpha", "r-beta", "r-gamma", "r-delta", "x-epsilon", "x-zeta"}),
        ("metrics.acc > 0.5", {"r-alpha", "r-beta", "r-gamma"}),
        (
            "metrics.acc <= 0.55 AND metrics.acc > 0.1 AND metrics.epochs >= 1",
            {"r-beta", "x-epsilon"},
        ),
        ("metric.epochs = 3", {"r-delta"}),
        ("params.model = 'cnn'", {"r-alpha", "r-beta"}),
        ("params.model != 'cnn'", {"r-gamma", "r-delta", "x-epsilon", "x-zeta"}),
        ("params.model LIKE 'r%'", {"r-gamma", "r-delta"}),
        ("tags.team = 'nlp'", {"r-gamma", "r-delta"}),
        ("tags.team LIKE 'vision%'", {"r-alpha", "r-beta"}),
        ("tags.team ILIKE 'vision%'", {"r-alpha", "r-beta", "x-epsilon"}),
        ("tags.`team` != 'nlp' AND params.model = 'mlp'", {"x-epsilon", "x-zeta"}),
        ("attributes.status = 'FAILED'", {"r-gamma"}),
        ("attributes.status != 'FINISHED'", {"r-gamma", "x-epsilon"}),
        ("attributes.run_name LIKE 'x-%'", {"x-epsilon", "x-zeta"}),
        ("run_name = 'r-beta'", {"r-beta"}),
        ("attributes.`run name` ILIKE 'R-AL%'", {"r-alpha"}),
        ("params.missing IS NULL AND tags.team IS NOT NULL", "all"),
        ("metrics.acc > 0.5 OR metrics.acc < 0.1", None),  # OR is not part of the grammar
    ],
)
def test_search_runs_filters(
    tracking_uri: str,
    search_fixture: dict[str, object],
    filter_string: str,
    expected: set[str] | str | None,
) -> None:
    exp_id = str(search_fixture["experiment_id"])
    ids: dict[str, str] = search_fixture["ids"]  # type: ignore[assignment]
    client = MlflowClient()
    if expected is None:
        with pytest.raises(MlflowException) as err:
            client.search_runs([exp_id], filter_string)
        assert err.value.error_code == "INVALID_PARAMETER_VALUE"
        return
    if expected == "all":
        expected = set(ids)
    runs = client.search_runs([exp_id], filter_string)
    assert set(_names(runs, ids)) == expected


def test_search_runs_by_run_id_and_times(
    tracking_uri: str, search_fixture: dict[str, object]
) -> None:
    exp_id = str(search_fixture["experiment_id"])
    ids: dict[str, str] = search_fixture["ids"]  # type: ignore[assignment]
    client = MlflowClient()
    wanted = f"attributes.run_id IN ('{ids['r-alpha']}', '{ids['x-zeta']}')"
    assert set(_names(client.search_runs([exp_id], wanted), ids)) == {"r-alpha", "x-zeta"}
    gamma = client.get_run(ids["r-gamma"])
    later = client.search_runs([exp_id], f"attributes.start_time > {gamma.info.start_time}")
    assert set(_names(later, ids)) == {"r-delta", "x-epsilon", "x-zeta"}
    ended = client.search_runs([exp_id], f"attributes.end_time <= {gamma.info.end_time}")
    assert set(_names(ended, ids)) == {"r-alpha", "r-beta", "r-gamma"}


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (None, ["x-zeta", "x-epsilon", "r-delta", "r-gamma", "r-beta", "r-alpha"]),
        (["start_time ASC"], ["r-alpha", "r-beta", "r-gamma", "r-delta", "x-epsilon", "x-zeta"]),
        # None and NaN sort last, whatever the direction.
        (["metrics.acc DESC"], ["r-alpha", "r-gamma", "r-beta", "x-epsilon"]),
        (["metrics.acc"], ["x-epsilon", "r-beta", "r-gamma", "r-alpha"]),
        (["params.model ASC", "metrics.epochs DESC"], ["r-beta", "r-alpha", "x-zeta"]),
        (["tags.team DESC", "attributes.run_name"], ["r-beta", "r-alpha", "r-delta"]),
        (["attributes.run_name DESC"], ["x-zeta", "x-epsilon", "r-gamma"]),
    ],
)
def test_search_runs_order_by(
    tracking_uri: str,
    search_fixture: dict[str, object],
    order_by: list[str] | None,
    expected: list[str],
) -> None:
    exp_id = str(search_fixture["experiment_id"])
    ids: dict[str, str] = search_fixture["ids"]  # type: ignore[assignment]
    runs = MlflowClient().search_runs([exp_id], order_by=order_by)
    names = _names(runs, ids)
    assert names[: len(expected)] == expected
    assert len(names) == 6


def test_search_runs_pagination_returns_every_run_once(tracking_uri: str) -> None:
    client = MlflowClient()
    exp_id = client.create_experiment(unique("pages"))
    base = now_ms() - 50_000
    created = []
    for i in range(23):
        run = client.create_run(exp_id, start_time=base + i, run_name=f"page-{i:02d}")
        client.log_metric(run.info.run_id, "score", float(i % 5), timestamp=base, step=0)
        created.append(run.info.run_id)

    for order_by, expected in [
        (None, list(reversed(created))),
        (["attributes.run_name ASC"], created),
        (["metrics.score DESC", "attributes.run_name ASC"], None),
    ]:
        seen: list[str] = []
        pages = 0
        token = None
        while True:
            page = client.search_runs([exp_id], max_results=5, order_by=order_by, page_token=token)
            pages += 1
            assert len(page) <= 5
            seen.extend(r.info.run_id for r in page)
            token = page.token
            if not token:
                break
            assert pages < 10, "pagination does not end"
        assert pages == 5
        assert sorted(seen) == sorted(created), "every run exactly once"
        assert len(seen) == len(set(seen))
        if expected is not None:
            assert seen == expected
        else:
            scores = [client.get_run(r).data.metrics["score"] for r in seen]
            assert scores == sorted(scores, reverse=True)


def test_mlflow_search_runs_returns_a_frame(
    tracking_uri: str, search_fixture: dict[str, object]
) -> None:
    exp_id = str(search_fixture["experiment_id"])
    frame = mlflow.search_runs(
        experiment_ids=[exp_id], filter_string="params.model = 'cnn'", order_by=["metrics.acc"]
    )
    assert list(frame["tags.mlflow.runName"]) == ["r-beta", "r-alpha"]
    assert list(frame["metrics.acc"]) == [0.55, 0.91]
    assert set(frame["params.model"]) == {"cnn"}
    assert set(frame["status"]) == {"FINISHED"}
    everything = mlflow.search_runs(experiment_ids=[exp_id])
    assert len(everything) == 6
    zeta = everything[everything["tags.mlflow.runName"] == "x-zeta"]
    assert math.isnan(zeta["metrics.acc"].iloc[0])


def test_search_experiments_filter_order_and_pages(tracking_uri: str) -> None:
    client = MlflowClient()
    prefix = unique("sexp")
    ids = [
        client.create_experiment(f"{prefix}-{i}", tags={"group": "even" if i % 2 else "odd"})
        for i in range(7)
    ]

    found = client.search_experiments(filter_string=f"name LIKE '{prefix}-%'")
    assert sorted(e.experiment_id for e in found) == sorted(ids)
    evens = client.search_experiments(
        filter_string=f"name LIKE '{prefix}%' AND tags.group = 'even'", order_by=["name DESC"]
    )
    assert [e.name for e in evens] == [f"{prefix}-5", f"{prefix}-3", f"{prefix}-1"]

    seen: list[str] = []
    token = None
    for _ in range(10):
        page = client.search_experiments(
            max_results=3,
            filter_string=f"name ILIKE '{prefix.upper()}%'",
            order_by=["name ASC"],
            page_token=token,
        )
        seen.extend(e.name for e in page)
        token = page.token
        if not token:
            break
    assert seen == [f"{prefix}-{i}" for i in range(7)]

    client.delete_experiment(ids[0])
    active = client.search_experiments(filter_string=f"name LIKE '{prefix}%'")
    deleted = client.search_experiments(
        view_type=ViewType.DELETED_ONLY, filter_string=f"name LIKE '{prefix}%'"
    )
    every = client.search_experiments(
        view_type=ViewType.ALL, filter_string=f"name LIKE '{prefix}%'"
    )
    assert ids[0] not in {e.experiment_id for e in active}
    assert [e.experiment_id for e in deleted] == [ids[0]]
    assert len(every) == 7


# -- delete and restore ---------------------------------------------------------------------


def test_delete_and_restore_a_run(tracking_uri: str) -> None:
    exp_id = new_experiment("del-run")
    client = MlflowClient()
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 1.0)
    run_id = run.info.run_id

    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert client.search_runs([exp_id]) == []
    deleted = client.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)
    assert [r.info.run_id for r in deleted] == [run_id]
    with pytest.raises(MlflowException) as err:
        client.log_metric(run_id, "m", 2.0)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"

    client.restore_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "active"
    assert [r.info.run_id for r in client.search_runs([exp_id])] == [run_id]


def test_delete_and_restore_an_experiment_with_its_runs(tracking_uri: str) -> None:
    name = unique("del-exp")
    exp_id = mlflow.set_experiment(name).experiment_id
    with mlflow.start_run() as run:
        pass
    client = MlflowClient()

    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    with pytest.raises(MlflowException):
        mlflow.set_experiment(name)  # the client refuses a deleted experiment
    with pytest.raises(MlflowException) as err:
        client.create_run(exp_id)
    assert err.value.error_code == "INVALID_PARAMETER_VALUE"

    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"
    assert mlflow.set_experiment(name).experiment_id == exp_id


# -- datasets and async logging -------------------------------------------------------------


def test_log_input_with_a_pandas_dataset(tracking_uri: str, cairn_reader: object) -> None:
    import pandas as pd

    new_experiment("dataset")
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": [0.0, 1.0, 0.0]})
    dataset = mlflow.data.from_pandas(frame, name="train-set", targets="label")
    with mlflow.start_run() as run:
        mlflow.log_input(dataset, context="training", tags={"split": "a"})

    inputs = MlflowClient().get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    logged = inputs[0].dataset
    assert logged.name == "train-set"
    assert logged.digest == dataset.digest
    assert logged.source_type == dataset.to_dict()["source_type"]
    assert json.loads(logged.source) == json.loads(dataset.to_dict()["source"])
    assert json.loads(logged.schema) == json.loads(dataset.to_dict()["schema"])
    assert json.loads(logged.profile) == json.loads(dataset.to_dict()["profile"])
    assert {t.key: t.value for t in inputs[0].tags} == {
        "mlflow.data.context": "training",
        "split": "a",
    }
    stored = cairn_reader.get_run(run.info.run_id)  # type: ignore[attr-defined]
    assert [d.dataset.digest for d in stored.inputs.dataset_inputs] == [dataset.digest]


def test_async_logging_arrives_after_flush(tracking_uri: str) -> None:
    new_experiment("async")
    with mlflow.start_run() as run:
        operations = [
            mlflow.log_metric("async_loss", 1.0 / (i + 1), step=i, synchronous=False)
            for i in range(50)
        ]
        mlflow.log_param("async_param", "p", synchronous=False)
        mlflow.set_tag("async_tag", "t", synchronous=False)
        mlflow.log_metrics({"a": 1.0, "b": float("nan")}, synchronous=False)
        mlflow.flush_async_logging()
        for operation in operations:
            operation.wait()
    run_id = run.info.run_id
    client = MlflowClient()
    data = client.get_run(run_id).data
    assert data.params["async_param"] == "p"
    assert data.tags["async_tag"] == "t"
    assert data.metrics["a"] == 1.0
    assert math.isnan(data.metrics["b"])
    history = client.get_metric_history(run_id, "async_loss")
    assert [m.step for m in sorted(history, key=lambda m: m.step)] == list(range(50))


def test_async_logging_enabled_by_environment(
    tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ENABLE_ASYNC_LOGGING", "true")
    new_experiment("async-env")
    with mlflow.start_run() as run:
        for i in range(20):
            mlflow.log_metric("env_metric", float(i), step=i)
        mlflow.log_params({"x": 1, "y": 2})
    mlflow.flush_async_logging()
    client = MlflowClient()
    assert len(client.get_metric_history(run.info.run_id, "env_metric")) == 20
    assert client.get_run(run.info.run_id).data.params == {"x": "1", "y": "2"}


# -- artifacts ------------------------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_log_list_and_download_artifacts(
    tracking_uri: str, tmp_path: Path, cairn_reader: object
) -> None:
    new_experiment("artifacts")
    notes = tmp_path / "notes.txt"
    notes.write_text("hello artifacts\n")
    spaced = tmp_path / "my notes é.txt"
    spaced.write_text("unicode name")
    bundle = tmp_path / "bundle"
    (bundle / "sub").mkdir(parents=True)
    (bundle / "a.csv").write_text("x,y\n1,2\n")
    (bundle / "empty.txt").write_bytes(b"")
    (bundle / "sub" / "blob.bin").write_bytes(bytes(range(256)) * 12_000)  # ~3 MB

    with mlflow.start_run() as run:
        mlflow.log_artifact(str(notes))
        mlflow.log_artifact(str(notes), artifact_path="docs")
        mlflow.log_artifact(str(spaced), artifact_path="docs")
        mlflow.log_artifacts(str(bundle), artifact_path="bundle")
        mlflow.log_text("some text", "texts/t.txt")
        mlflow.log_dict({"a": 1, "b": [1, 2]}, "config.json")
        mlflow.log_dict({"a": 1}, "config.yaml")
    run_id = run.info.run_id
    client = MlflowClient()

    root = {f.path: f.is_dir for f in client.list_artifacts(run_id)}
    assert root == {
        "notes.txt": False,
        "docs": True,
        "bundle": True,
        "texts": True,
        "config.json": False,
        "config.yaml": False,
    }
    listed = {f.path: f.file_size for f in client.list_artifacts(run_id, "bundle")}
    assert listed == {"bundle/a.csv": 8, "bundle/empty.txt": 0, "bundle/sub": None}
    assert {f.path for f in client.list_artifacts(run_id, "docs")} == {
        "docs/notes.txt",
        "docs/my notes é.txt",
    }
    assert client.list_artifacts(run_id, "no-such-dir") == []

    downloaded = Path(client.download_artifacts(run_id, "bundle", str(tmp_path / "dl1")))
    assert _tree(downloaded) == _tree(bundle)
    single = mlflow.artifacts.download_artifacts(
        run_id=run_id, artifact_path="docs/my notes é.txt", dst_path=str(tmp_path / "dl2")
    )
    assert Path(single).read_text() == "unicode name"
    whole = Path(mlflow.artifacts.download_artifacts(run_id=run_id, dst_path=str(tmp_path / "dl3")))
    assert (whole / "notes.txt").read_text() == "hello artifacts\n"
    assert (whole / "bundle" / "sub" / "blob.bin").read_bytes() == (
        bundle / "sub" / "blob.bin"
    ).read_bytes()
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/texts/t.txt") == "some text"
    assert mlflow.artifacts.load_dict(f"runs:/{run_id}/config.json") == {"a": 1, "b": [1, 2]}
    assert yaml.safe_load(mlflow.artifacts.load_text(f"runs:/{run_id}/config.yaml")) == {"a": 1}

    # cairn, reading the server's store directly, sees the same files.
    stored = {f.path for f in cairn_reader.list_artifacts(run_id)}  # type: ignore[attr-defined]
    assert stored == set(root)


def test_downloading_a_missing_artifact_fails(tracking_uri: str, tmp_path: Path) -> None:
    new_experiment("missing-artifact")
    with mlflow.start_run() as run:
        mlflow.log_text("x", "present.txt")
    with pytest.raises((MlflowException, OSError)):  # requests' errors are OSErrors
        mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path="absent.txt", dst_path=str(tmp_path)
        )


# -- models ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_sklearn_log_model_and_load_it_back(tracking_uri: str) -> None:
    import mlflow.pyfunc
    import mlflow.sklearn
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    exp_id = new_experiment("sklearn")
    rng = np.random.RandomState(0)
    features = rng.rand(60, 3)
    labels = (features[:, 0] + features[:, 1] > 1).astype(int)
    model = LogisticRegression().fit(features, labels)

    with mlflow.start_run() as run:
        mlflow.log_param("C", 1.0)
        mlflow.log_metric("train_acc", float(model.score(features, labels)))
        info = mlflow.sklearn.log_model(model, name="model")
    run_id = run.info.run_id
    expected = model.predict(features)

    assert info.model_id
    assert info.model_uri == f"models:/{info.model_id}"
    client = MlflowClient()
    logged = client.get_logged_model(info.model_id)
    assert logged.status == LoggedModelStatus.READY
    assert logged.source_run_id == run_id
    assert logged.experiment_id == exp_id
    assert logged.name == "model"
    outputs = client.get_run(run_id).outputs.model_outputs
    assert [o.model_id for o in outputs] == [info.model_id]

    by_model = mlflow.pyfunc.load_model(info.model_uri)
    assert (by_model.predict(features) == expected).all()
    by_run = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    assert (by_run.predict(features) == expected).all()
    assert (mlflow.sklearn.load_model(info.model_uri).predict(features) == expected).all()

    found = client.search_logged_models(experiment_ids=[exp_id])
    assert [m.model_id for m in found] == [info.model_id]


def test_a_model_evaluated_in_another_run_is_that_runs_input(tracking_uri: str) -> None:
    """MLflow's client records a model as a run's input when the run logs a metric for a
    model it did not produce (log-inputs with ``models``), and when asked directly."""
    from mlflow.entities import LoggedModelInput

    new_experiment("model-inputs")
    model = mlflow.initialize_logged_model(name="candidate")
    with mlflow.start_run() as evaluation:
        mlflow.log_metric("eval_acc", 0.91, model_id=model.model_id)
    client = MlflowClient()
    inputs = client.get_run(evaluation.info.run_id).inputs.model_inputs
    assert [i.model_id for i in inputs] == [model.model_id]

    other = mlflow.initialize_logged_model(name="baseline")
    with mlflow.start_run() as comparison:
        pass
    client.log_inputs(comparison.info.run_id, models=[LoggedModelInput(other.model_id)])
    inputs = client.get_run(comparison.info.run_id).inputs.model_inputs
    assert [i.model_id for i in inputs] == [other.model_id]
    with pytest.raises(MlflowException, match="not found"):
        client.log_inputs(comparison.info.run_id, models=[LoggedModelInput("m-" + "0" * 32)])


def test_over_long_param_and_tag_values_are_refused_not_truncated(tracking_uri: str) -> None:
    # MLflow's server silently truncates such values; cairn refuses them with a message that
    # names the key and the limit, and stores nothing of the rejected call (a deliberate
    # difference, documented in the README: logged data is never silently cut).
    new_experiment("long-values")
    with mlflow.start_run() as run:
        with pytest.raises(MlflowException, match=r"long_param.*6000"):
            mlflow.log_param("long_param", "p" * 7000)
        with pytest.raises(MlflowException, match=r"long_tag.*8000"):
            mlflow.set_tag("long_tag", "t" * 9000)
        mlflow.log_param("ok_param", "p" * 6000)
    data = MlflowClient().get_run(run.info.run_id).data
    assert "long_param" not in data.params
    assert "long_tag" not in data.tags
    assert data.params["ok_param"] == "p" * 6000
