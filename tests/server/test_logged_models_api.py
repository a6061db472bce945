"""The logged-model endpoints (MLflow 3.x) over HTTP: shapes, errors and the real client.

Most tests drive the app in-process; the last one runs a real ``cairn server`` and the real
``mlflow`` client through ``log_model`` and both ways of loading the model back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cairn.server import ServerSettings, create_app
from cairn.server.testing import InProcessTransport

API = "/api/2.0/mlflow"
MODELS = f"{API}/logged-models"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[httpx.Client]:
    """An HTTP client on a fresh in-process server over ``tmp_path/mlruns``."""
    settings = ServerSettings.for_uri(str(tmp_path / "mlruns"))
    app = create_app(settings)
    with httpx.Client(transport=InProcessTransport(app), base_url="http://testserver") as http:
        yield http
    settings.tracking_store.close()


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error_code"] == code
    return str(body["message"])


def new_run(client: httpx.Client, experiment_id: str = "0") -> str:
    run = ok(client.post(f"{API}/runs/create", json={"experiment_id": experiment_id}))
    return str(run["run"]["info"]["run_id"])


def new_model(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"experiment_id": "0", **fields}
    model: dict[str, Any] = ok(client.post(MODELS, json=body))["model"]
    return model


def send(client: httpx.Client, method: str, url: str, body: Any = None) -> httpx.Response:
    """PATCH and DELETE carry JSON bodies in MLflow's protocol."""
    return client.request(method, url, json=body)


# -- shapes -----------------------------------------------------------------------------------


def test_create_returns_a_pending_model_in_the_protocol_shape(client: httpx.Client) -> None:
    run_id = new_run(client)
    model = new_model(
        client,
        name="model",
        source_run_id=run_id,
        model_type="sklearn",
        tags=[{"key": "mlflow.user", "value": "ada"}],
        params=[{"key": "alpha", "value": "0.5"}],
    )
    info, data = model["info"], model["data"]
    model_id = info["model_id"]
    assert model_id.startswith("m-") and len(model_id) == 34
    assert info["experiment_id"] == "0"
    assert info["name"] == "model"
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["source_run_id"] == run_id
    assert info["model_type"] == "sklearn"
    assert info["artifact_uri"] == f"mlflow-artifacts:/0/models/{model_id}/artifacts"
    assert type(info["creation_timestamp_ms"]) is int
    assert info["last_updated_timestamp_ms"] == info["creation_timestamp_ms"]
    assert info["tags"] == [{"key": "mlflow.user", "value": "ada"}]
    assert info["registrations"] == []
    assert "status_message" not in info and "creator_id" not in info
    assert data == {"params": [{"key": "alpha", "value": "0.5"}], "metrics": []}
    assert ok(client.get(f"{MODELS}/{model_id}")) == {"model": model}
    assert ok(client.get(f"/ajax-api/2.0/mlflow/logged-models/{model_id}")) == {"model": model}


def test_create_accepts_camel_case_and_generates_a_name(client: httpx.Client) -> None:
    model = ok(client.post(MODELS, json={"experimentId": "0", "modelType": "x"}))["model"]
    assert model["info"]["name"].count("-") == 2
    assert model["info"]["model_type"] == "x"


def test_finalize_sets_the_status_by_name_or_number(client: httpx.Client) -> None:
    model_id = new_model(client)["info"]["model_id"]
    body = {"model_id": model_id, "status": "LOGGED_MODEL_READY"}
    finalized = ok(send(client, "PATCH", f"{MODELS}/{model_id}", body))["model"]
    assert finalized["info"]["status"] == "LOGGED_MODEL_READY"
    assert (
        finalized["info"]["last_updated_timestamp_ms"] >= finalized["info"]["creation_timestamp_ms"]
    )
    body = {"model_id": model_id, "status": 3}
    failed = ok(send(client, "PATCH", f"{MODELS}/{model_id}", body))["model"]
    assert failed["info"]["status"] == "LOGGED_MODEL_UPLOAD_FAILED"


def test_metrics_logged_with_a_model_id_belong_to_the_model(client: httpx.Client) -> None:
    run_id = new_run(client)
    model_id = new_model(client)["info"]["model_id"]
    ok(
        client.post(
            f"{API}/runs/log-metric",
            json={
                "run_id": run_id,
                "key": "acc",
                "value": 0.75,
                "timestamp": 1_700_000_000_000,
                "step": 2,
                "model_id": model_id,
                "dataset_name": "val",
                "dataset_digest": "abc",
            },
        )
    )
    ok(
        client.post(
            f"{API}/runs/log-batch",
            json={
                "run_id": run_id,
                "metrics": [
                    {
                        "key": "loss",
                        "value": "NaN",
                        "timestamp": "5",
                        "step": 1,
                        "model_id": model_id,
                    },
                    {"key": "plain", "value": 1.0, "timestamp": 5},
                ],
            },
        )
    )
    metrics = ok(client.get(f"{MODELS}/{model_id}"))["model"]["data"]["metrics"]
    assert metrics == [
        {
            "key": "acc",
            "value": 0.75,
            "timestamp": 1_700_000_000_000,
            "step": 2,
            "run_id": run_id,
            "dataset_name": "val",
            "dataset_digest": "abc",
            "model_id": model_id,
        },
        {
            "key": "loss",
            "value": "NaN",
            "timestamp": 5,
            "step": 1,
            "run_id": run_id,
            "model_id": model_id,
        },
    ]
    run = ok(client.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
    assert {m["key"] for m in run["data"]["metrics"]} == {"acc", "loss", "plain"}


def test_a_metric_for_an_unknown_model_is_not_found(client: httpx.Client) -> None:
    run_id = new_run(client)
    body = {"run_id": run_id, "key": "acc", "value": 1, "timestamp": 1, "model_id": "m-nope"}
    error(client.post(f"{API}/runs/log-metric", json=body), 404, "RESOURCE_DOES_NOT_EXIST")


def test_runs_outputs_appear_in_the_run(client: httpx.Client) -> None:
    run_id = new_run(client)
    model_id = new_model(client, source_run_id=run_id)["info"]["model_id"]
    body = {"run_id": run_id, "models": [{"model_id": model_id, "step": "3"}]}
    assert ok(client.post(f"{API}/runs/outputs", json=body)) == {}
    run = ok(client.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]
    assert run["outputs"] == {"model_outputs": [{"model_id": model_id, "step": 3}]}
    found = ok(client.post(f"{API}/runs/search", json={"experiment_ids": ["0"]}))["runs"]
    assert found[0]["outputs"] == run["outputs"]


def test_runs_outputs_errors(client: httpx.Client) -> None:
    run_id = new_run(client)
    model_id = new_model(client)["info"]["model_id"]
    url = f"{API}/runs/outputs"
    error(client.post(url, json={"run_id": run_id}), 400, "INVALID_PARAMETER_VALUE")
    body = {"run_id": "f" * 32, "models": [{"model_id": model_id, "step": 0}]}
    error(client.post(url, json=body), 404, "RESOURCE_DOES_NOT_EXIST")
    body = {"run_id": run_id, "models": [{"model_id": "m-nope", "step": 0}]}
    error(client.post(url, json=body), 404, "RESOURCE_DOES_NOT_EXIST")


def test_tags_set_and_delete_including_keys_with_dots_and_slashes(client: httpx.Client) -> None:
    model_id = new_model(client, tags=[{"key": "mlflow.model.isExternal", "value": "true"}])[
        "info"
    ]["model_id"]
    tags = [{"key": "team/owner", "value": "ada"}, {"key": "stage", "value": "dev"}]
    updated = ok(send(client, "PATCH", f"{MODELS}/{model_id}/tags", {"tags": tags}))["model"]
    assert {t["key"] for t in updated["info"]["tags"]} == {
        "mlflow.model.isExternal",
        "team/owner",
        "stage",
    }
    assert ok(client.delete(f"{MODELS}/{model_id}/tags/mlflow.model.isExternal")) == {}
    assert ok(client.delete(f"{MODELS}/{model_id}/tags/team/owner")) == {}
    info = ok(client.get(f"{MODELS}/{model_id}"))["model"]["info"]
    assert info["tags"] == [{"key": "stage", "value": "dev"}]
    error(client.delete(f"{MODELS}/{model_id}/tags/team/owner"), 404, "RESOURCE_DOES_NOT_EXIST")


def test_registrations_are_listed_from_the_model_versions_tag(client: httpx.Client) -> None:
    model_id = new_model(client)["info"]["model_id"]
    tag = {"key": "mlflow.modelVersions", "value": '[{"name": "iris", "version": "1"}]'}
    info = ok(send(client, "PATCH", f"{MODELS}/{model_id}/tags", {"tags": [tag]}))["model"]["info"]
    assert info["registrations"] == [{"name": "iris", "version": "1"}]


def test_params_are_added_and_immutable(client: httpx.Client) -> None:
    model_id = new_model(client, params=[{"key": "a", "value": "1"}])["info"]["model_id"]
    url = f"{MODELS}/{model_id}/params"
    body = {"model_id": model_id, "params": [{"key": "b", "value": "2"}]}
    assert ok(client.post(url, json=body)) == {}
    params = ok(client.get(f"{MODELS}/{model_id}"))["model"]["data"]["params"]
    assert params == [{"key": "a", "value": "1"}, {"key": "b", "value": "2"}]
    body = {"model_id": model_id, "params": [{"key": "a", "value": "changed"}]}
    assert "Changing param values" in error(
        client.post(url, json=body), 400, "INVALID_PARAMETER_VALUE"
    )


def test_delete_is_soft_and_allow_deleted_still_reads_it(client: httpx.Client) -> None:
    model_id = new_model(client, name="gone")["info"]["model_id"]
    assert ok(send(client, "DELETE", f"{MODELS}/{model_id}", {"model_id": model_id})) == {}
    error(client.get(f"{MODELS}/{model_id}"), 404, "RESOURCE_DOES_NOT_EXIST")
    deleted = ok(client.get(f"{MODELS}/{model_id}", params={"allow_deleted": "true"}))
    assert deleted["model"]["info"]["name"] == "gone"
    assert ok(client.get(f"{MODELS}/{model_id}?allow_deleted=True"))["model"] == deleted["model"]
    search = ok(client.post(f"{MODELS}/search", json={"experiment_ids": ["0"]}))
    assert search == {"models": []}
    body = {"model_id": model_id, "status": "LOGGED_MODEL_READY"}
    error(send(client, "PATCH", f"{MODELS}/{model_id}", body), 400, "INVALID_PARAMETER_VALUE")


# -- search -----------------------------------------------------------------------------------


def _search(client: httpx.Client, **body: Any) -> dict[str, Any]:
    result: dict[str, Any] = ok(client.post(f"{MODELS}/search", json=body))
    return result


def _names(result: dict[str, Any]) -> list[str]:
    return [m["info"]["name"] for m in result["models"]]


def test_search_filters_orders_by_metric_and_scopes_to_datasets(client: httpx.Client) -> None:
    run_id = new_run(client)
    ids = {}
    for name, train, val in (("a", 0.2, 0.9), ("b", 0.95, 0.7), ("c", None, None)):
        ids[name] = new_model(client, name=name, params=[{"key": "p", "value": name}])["info"][
            "model_id"
        ]
        metrics = []
        if train is not None:
            metrics.append(
                {"key": "acc", "value": train, "timestamp": 1, "step": 0, "model_id": ids[name],
                 "dataset_name": "train"}
            )  # fmt: skip
            metrics.append(
                {"key": "acc", "value": val, "timestamp": 2, "step": 1, "model_id": ids[name],
                 "dataset_name": "val", "dataset_digest": "d1"}
            )  # fmt: skip
            ok(client.post(f"{API}/runs/log-batch", json={"run_id": run_id, "metrics": metrics}))
    ok(send(client, "PATCH", f"{MODELS}/{ids['a']}", {"model_id": ids["a"], "status": 2}))

    exp = ["0"]
    assert _names(_search(client, experiment_ids=exp, filter="name = 'b'")) == ["b"]
    assert _names(_search(client, experiment_ids=exp, filter="status = 'READY'")) == ["a"]
    assert _names(_search(client, experiment_ids=exp, filter="params.p IN ('a', 'c')",
                          order_by=[{"field_name": "name"}])) == ["a", "c"]  # fmt: skip
    by_acc = _search(
        client, experiment_ids=exp, order_by=[{"field_name": "metrics.acc", "ascending": False}]
    )
    assert _names(by_acc) == ["a", "b", "c"]
    on_train = _search(
        client,
        experiment_ids=exp,
        order_by=[{"field_name": "metrics.acc", "ascending": False, "dataset_name": "train"}],
    )
    assert _names(on_train) == ["b", "a", "c"]
    scoped = _search(
        client, experiment_ids=exp, filter="metrics.acc > 0.8", datasets=[{"dataset_name": "train"}]
    )
    assert _names(scoped) == ["b"]
    assert _search(client, experiment_ids=["12345"]) == {"models": []}


def test_search_pages_with_a_default_of_fifty(client: httpx.Client) -> None:
    for i in range(52):
        new_model(client, name=f"model-{i:02d}")
    order = [{"field_name": "name"}]
    first = _search(client, experiment_ids=["0"], order_by=order)
    assert len(first["models"]) == 50 and first["next_page_token"]
    rest = _search(
        client, experiment_ids=["0"], order_by=order, page_token=first["next_page_token"]
    )
    assert _names(rest) == ["model-50", "model-51"] and "next_page_token" not in rest
    small = _search(client, experiment_ids=["0"], order_by=order, max_results="2")
    assert _names(small) == ["model-00", "model-01"]


@pytest.mark.parametrize(
    "body",
    [
        {"experiment_ids": ["0"], "filter": "metrics.acc > 'high'"},
        {"experiment_ids": ["0"], "filter": "name = 'a' OR name = 'b'"},
        {"experiment_ids": ["0"], "filter": "status = 'DONE'"},
        {"experiment_ids": ["0"], "order_by": [{"field_name": "bogus"}]},
        {"experiment_ids": ["0"], "order_by": [{"ascending": True}]},
        {"experiment_ids": ["0"], "datasets": [{"dataset_digest": "x"}]},
        {"experiment_ids": ["0"], "page_token": "not-a-token"},
        {"experiment_ids": ["0"], "max_results": 0},
    ],
)
def test_bad_searches_are_400(client: httpx.Client, body: dict[str, Any]) -> None:
    error(client.post(f"{MODELS}/search", json=body), 400, "INVALID_PARAMETER_VALUE")


# -- errors -----------------------------------------------------------------------------------


def test_unknown_model_ids_are_404_everywhere(client: httpx.Client) -> None:
    missing = "m-" + "0" * 32
    calls = [
        client.get(f"{MODELS}/{missing}"),
        send(client, "PATCH", f"{MODELS}/{missing}", {"model_id": missing, "status": "READY"}),
        send(client, "DELETE", f"{MODELS}/{missing}", {"model_id": missing}),
        send(client, "PATCH", f"{MODELS}/{missing}/tags", {"tags": [{"key": "k", "value": "v"}]}),
        client.delete(f"{MODELS}/{missing}/tags/k"),
        client.post(f"{MODELS}/{missing}/params", json={"model_id": missing, "params": []}),
    ]
    for response in calls:
        message = error(response, 404, "RESOURCE_DOES_NOT_EXIST")
        assert missing in message


@pytest.mark.parametrize("status", ["DONE", "LOGGED_MODEL_STATUS_UNSPECIFIED", 9, None])
def test_bad_statuses_are_400(client: httpx.Client, status: Any) -> None:
    model_id = new_model(client)["info"]["model_id"]
    body = {"model_id": model_id, "status": status}
    error(send(client, "PATCH", f"{MODELS}/{model_id}", body), 400, "INVALID_PARAMETER_VALUE")
    info = ok(client.get(f"{MODELS}/{model_id}"))["model"]["info"]
    assert info["status"] == "LOGGED_MODEL_PENDING"


@pytest.mark.parametrize("name", ["a/b", "a:b", "a.b", "50%", 'q"', "it's"])
def test_names_with_forbidden_characters_are_400(client: httpx.Client, name: str) -> None:
    response = client.post(MODELS, json={"experiment_id": "0", "name": name})
    assert "model name" in error(response, 400, "INVALID_PARAMETER_VALUE")


def test_create_errors(client: httpx.Client) -> None:
    error(client.post(MODELS, json={"name": "m"}), 400, "INVALID_PARAMETER_VALUE")
    response = client.post(MODELS, json={"experiment_id": "999"})
    error(response, 404, "RESOURCE_DOES_NOT_EXIST")
    response = client.post(MODELS, json={"experiment_id": "0", "tags": [{"key": "a//b"}]})
    error(response, 400, "INVALID_PARAMETER_VALUE")


# -- the real mlflow client against a real server ---------------------------------------------


@pytest.mark.slow
def test_mlflow_log_model_then_load_by_model_id_and_by_run(tracking_uri: str) -> None:
    import mlflow
    import mlflow.pyfunc
    import mlflow.sklearn
    import numpy as np
    from mlflow import MlflowClient
    from mlflow.entities import LoggedModelStatus
    from sklearn.linear_model import LogisticRegression

    from tests.server.conftest import unique

    exp_id = mlflow.set_experiment(unique("logged-models")).experiment_id
    rng = np.random.RandomState(1)
    features = rng.rand(40, 2)
    labels = (features[:, 0] > features[:, 1]).astype(int)
    model = LogisticRegression().fit(features, labels)

    with mlflow.start_run() as run:
        # Over 100 params: log_model copies them to the model in create + logged-models/params.
        mlflow.log_params({f"p{i:03d}": i for i in range(150)})
        info = mlflow.sklearn.log_model(model, name="model")
        mlflow.log_metric("acc", float(model.score(features, labels)), model_id=info.model_id)
    run_id = run.info.run_id

    client = MlflowClient()
    logged = client.get_logged_model(info.model_id)
    assert logged.status == LoggedModelStatus.READY
    assert (logged.name, logged.source_run_id, logged.experiment_id) == ("model", run_id, exp_id)
    assert len(logged.params) == 150
    assert [m.key for m in logged.metrics or []] == ["acc"]
    assert [o.model_id for o in client.get_run(run_id).outputs.model_outputs] == [info.model_id]

    expected = model.predict(features)
    by_id = mlflow.pyfunc.load_model(f"models:/{info.model_id}")
    by_run = mlflow.pyfunc.load_model(f"runs:/{run_id}/model")
    assert (by_id.predict(features) == expected).all()
    assert (by_run.predict(features) == by_id.predict(features)).all()

    found = client.search_logged_models(
        experiment_ids=[exp_id],
        filter_string="metrics.acc > 0.5 AND name = 'model'",
        order_by=[{"field_name": "metrics.acc", "ascending": False}],
    )
    assert [m.model_id for m in found] == [info.model_id]
    client.set_logged_model_tags(info.model_id, {"stage": "candidate"})
    client.delete_logged_model_tag(info.model_id, "stage")
    assert "stage" not in client.get_logged_model(info.model_id).tags
    client.delete_logged_model(info.model_id)
    assert client.search_logged_models(experiment_ids=[exp_id]).to_list() == []
