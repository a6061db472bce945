"""Bad input to a real ``cairn server``, sent raw with httpx (and http.client where the URL
must reach the server unnormalized).

Every rejection is the protocol's 4xx JSON error (``{"error_code", "message"}``) whose message
names what is wrong; never a 500 (the mlflow client retries those for minutes), never a
traceback in the body, and a rejected batch writes nothing.
"""

from __future__ import annotations

import http.client
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.server.conftest import Server, unique

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"
JSON_HEADERS = {"Content-Type": "application/json"}
ERROR_CODES_400 = {"INVALID_PARAMETER_VALUE", "BAD_REQUEST", "MALFORMED_REQUEST"}


def assert_error(
    response: httpx.Response,
    status: int | tuple[int, ...],
    codes: str | set[str] | None = None,
    mentions: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The protocol's JSON error shape, with no internals leaking."""
    statuses = (status,) if isinstance(status, int) else status
    assert response.status_code in statuses, (response.status_code, response.text[:500])
    assert response.headers.get("content-type", "").startswith("application/json"), (
        response.headers,
        response.text[:500],
    )
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("error_code"), str), body
    assert isinstance(body.get("message"), str), body
    assert body["message"], body
    if codes is not None:
        allowed = {codes} if isinstance(codes, str) else codes
        assert body["error_code"] in allowed, body
    for word in mentions:
        assert word in body["message"], (word, body["message"])
    for leak in ("Traceback", 'File "', "sqlalchemy", "sqlite3.", "psycopg"):
        assert leak not in response.text, response.text[:1000]
    return body


@pytest.fixture
def run_id(api: httpx.Client) -> str:
    """A fresh RUNNING run in an experiment of its own."""
    created = api.post(f"{API}/experiments/create", json={"name": unique("bad-input")})
    assert created.status_code == 200, created.text
    exp_id = created.json()["experiment_id"]
    run = api.post(f"{API}/runs/create", json={"experiment_id": exp_id})
    assert run.status_code == 200, run.text
    return str(run.json()["run"]["info"]["run_id"])


def get_run(api: httpx.Client, run_id: str) -> dict[str, Any]:
    response = api.get(f"{API}/runs/get", params={"run_id": run_id})
    assert response.status_code == 200, response.text
    return dict(response.json()["run"])


def user_data(run: dict[str, Any]) -> tuple[list[Any], list[Any], list[Any]]:
    """A run's metrics, params and the tags it did not get from the server itself."""
    data = run.get("data", {})
    tags = [t for t in data.get("tags", []) if not t["key"].startswith("mlflow.")]
    return data.get("metrics", []), data.get("params", []), tags


def post(api: httpx.Client, path: str, body: Any) -> httpx.Response:
    return api.post(f"{API}/{path}", json=body)


# -- the body itself ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"run_id": ',
        b'{"key": "k",}',
        b"not json at all",
        b"\xff\xfe{",
        b'{"key": "k"} trailing',
        b'"a string, not an object"',
        b"[1, 2, 3]",
        b"42",
    ],
    ids=[
        "truncated",
        "trailing-comma",
        "text",
        "bad-utf8",
        "trailing-data",
        "string",
        "array",
        "number",
    ],
)
def test_a_malformed_json_body_is_rejected(api: httpx.Client, raw: bytes) -> None:
    response = api.post(f"{API}/runs/log-metric", content=raw, headers=JSON_HEADERS)
    assert_error(response, 400, ERROR_CODES_400)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_a_post_body_that_is_not_declared_json_is_rejected(
    api: httpx.Client, run_id: str, content_type: str | None
) -> None:
    body = json.dumps({"run_id": run_id, "key": "k", "value": 1, "timestamp": 1}).encode()
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = api.post(f"{API}/runs/log-metric", content=body, headers=headers)
    assert_error(response, 400, ERROR_CODES_400, mentions=("application/json",))
    metrics, _, _ = user_data(get_run(api, run_id))
    assert metrics == []


def test_an_oversized_body_is_rejected_and_the_server_stays_up(
    api: httpx.Client, server: Server
) -> None:
    name = unique("big")
    big = json.dumps({"name": name, "tags": [{"key": "x", "value": "v" * 17_000_000}]})
    response = api.post(f"{API}/experiments/create", content=big, headers=JSON_HEADERS)
    assert_error(response, (400, 413), mentions=("limit",))

    chunked_name = unique("chunked")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server must count
        yield b'{"name": "%s", "tags": [{"key": "x", "value": "' % chunked_name.encode()
        for _ in range(17):
            yield b"v" * 1_000_000
        yield b'"}]}'

    streamed = api.post(f"{API}/experiments/create", content=chunks(), headers=JSON_HEADERS)
    assert_error(streamed, (400, 413), mentions=("limit",))
    assert httpx.get(f"{server.url}/health", timeout=10).text == "OK"
    for created in (name, chunked_name):
        missing = api.get(f"{API}/experiments/get-by-name", params={"experiment_name": created})
        assert missing.status_code == 404


# -- fields ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "experiments/create", {}, "name"),
        ("GET", "experiments/get", {}, "experiment_id"),
        ("GET", "experiments/get-by-name", {}, "experiment_name"),
        ("POST", "experiments/update", {"experiment_id": "0"}, "new_name"),
        ("POST", "experiments/set-experiment-tag", {"experiment_id": "0", "key": "k"}, "value"),
        ("POST", "runs/log-metric", {"run_id": "$run", "value": 1, "timestamp": 1}, "key"),
        ("POST", "runs/log-metric", {"run_id": "$run", "key": "k", "timestamp": 1}, "value"),
        ("POST", "runs/log-metric", {"run_id": "$run", "key": "k", "value": 1}, "timestamp"),
        ("POST", "runs/log-parameter", {"key": "k", "value": "v"}, "run_id"),
        ("POST", "runs/set-tag", {"run_id": "$run", "value": "v"}, "key"),
        ("POST", "runs/delete-tag", {"run_id": "$run"}, "key"),
        ("POST", "runs/delete", {}, "run_id"),
        ("POST", "runs/log-batch", {}, "run_id"),
        (
            "POST",
            "runs/log-batch",
            {"run_id": "$run", "metrics": [{"key": "m", "value": 1}]},
            "timestamp",
        ),
        ("POST", "runs/log-batch", {"run_id": "$run", "params": [{"value": "v"}]}, "key"),
        (
            "POST",
            "runs/log-inputs",
            {"run_id": "$run", "datasets": [{"dataset": {"name": "d", "source_type": "x"}}]},
            "digest",
        ),
        ("GET", "metrics/get-history", {"run_id": "$run"}, "metric_key"),
        ("GET", "runs/get", {}, "run_id"),
    ],
)
def test_a_missing_required_field_is_named(
    api: httpx.Client, run_id: str, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    body = json.loads(json.dumps(body).replace('"$run"', json.dumps(run_id)))
    if method == "GET":
        response = api.get(f"{API}/{path}", params=body)
    else:
        response = post(api, path, body)
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", mentions=(field,))
    assert user_data(get_run(api, run_id)) == ([], [], [])


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("runs/log-metric", {"key": "k", "value": "abc", "timestamp": 1}, "value"),
        ("runs/log-metric", {"key": "k", "value": [1], "timestamp": 1}, "value"),
        ("runs/log-metric", {"key": "k", "value": 1, "timestamp": "soon"}, "timestamp"),
        ("runs/log-metric", {"key": "k", "value": 1, "timestamp": 1.5}, "timestamp"),
        ("runs/log-metric", {"key": "k", "value": 1, "timestamp": 10**30}, "timestamp"),
        ("runs/log-metric", {"key": "k", "value": 1, "timestamp": 1, "step": "two"}, "step"),
        ("runs/log-metric", {"key": {"a": 1}, "value": 1, "timestamp": 1}, "key"),
        ("runs/log-parameter", {"key": "k", "value": {"nested": True}}, "value"),
        ("runs/set-tag", {"key": ["k"], "value": "v"}, "key"),
        ("runs/log-batch", {"metrics": {"m": 1}}, "metrics"),
        ("runs/log-batch", {"metrics": [1, 2]}, "metrics"),
        ("runs/log-batch", {"params": "p=1"}, "params"),
        ("runs/log-batch", {"tags": {"key": "t", "value": "v"}}, "tags"),
        (
            "runs/log-batch",
            {"metrics": [{"key": "m", "value": "high", "timestamp": 1}]},
            "value",
        ),
        ("runs/update", {"end_time": "later"}, "end_time"),
        ("runs/update", {"run_name": 7}, "run_name"),
    ],
)
def test_a_field_of_the_wrong_type_is_named(
    api: httpx.Client, run_id: str, path: str, body: dict[str, Any], field: str
) -> None:
    response = post(api, path, {"run_id": run_id, **body})
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", mentions=(field,))
    assert user_data(get_run(api, run_id)) == ([], [], [])


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("experiments/create", {"name": 123}, "name"),
        ("experiments/create", {"name": unique("t"), "tags": {"a": "b"}}, "tags"),
        (
            "experiments/create",
            {"name": unique("t"), "artifact_location": ["x"]},
            "artifact_location",
        ),
        ("experiments/search", {"max_results": {"n": 1}}, "max_results"),
        ("experiments/search", {"order_by": "name"}, "order_by"),
        ("runs/search", {"experiment_ids": "0"}, "experiment_ids"),
        ("runs/search", {"experiment_ids": {"a": "0"}}, "experiment_ids"),
        ("runs/search", {"experiment_ids": ["0"], "max_results": "many"}, "max_results"),
        ("runs/search", {"experiment_ids": ["0"], "max_results": 0}, "max_results"),
        ("runs/search", {"experiment_ids": ["0"], "max_results": 50_001}, "max_results"),
        ("runs/search", {"experiment_ids": ["0"], "filter": ["a"]}, "filter"),
        ("runs/create", {"experiment_id": "0", "start_time": "now"}, "start_time"),
        ("runs/create", {"experiment_id": "0", "tags": "a=b"}, "tags"),
    ],
)
def test_a_field_of_the_wrong_type_is_named_beyond_runs(
    api: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    assert_error(post(api, path, body), 400, "INVALID_PARAMETER_VALUE", mentions=(field,))


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "runs/update", {"run_id": "$run", "status": "DONE"}, "status"),
        ("POST", "runs/update", {"run_id": "$run", "status": 9}, "status"),
        ("POST", "runs/update", {"run_id": "$run", "status": ""}, "status"),
        (
            "POST",
            "runs/search",
            {"experiment_ids": ["0"], "run_view_type": "SOME"},
            "run_view_type",
        ),
        ("POST", "experiments/search", {"view_type": "SOME"}, "view_type"),
        ("GET", "experiments/search", {"view_type": "SOME"}, "view_type"),
    ],
)
def test_an_unknown_enum_name_is_rejected(
    api: httpx.Client, run_id: str, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    body = {k: run_id if v == "$run" else v for k, v in body.items()}
    response = api.get(f"{API}/{path}", params=body) if method == "GET" else post(api, path, body)
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", mentions=(field,))
    assert get_run(api, run_id)["info"]["status"] == "RUNNING"


def test_enums_by_name_or_number_are_accepted(api: httpx.Client, run_id: str) -> None:
    assert post(api, "runs/update", {"run_id": run_id, "status": 3}).status_code == 200
    assert get_run(api, run_id)["info"]["status"] == "FINISHED"
    assert post(api, "runs/update", {"run_id": run_id, "status": "KILLED"}).status_code == 200
    assert get_run(api, run_id)["info"]["status"] == "KILLED"
    found = post(api, "runs/search", {"experiment_ids": ["0"], "run_view_type": 3})
    assert found.status_code == 200, found.text


# -- log-batch limits and atomicity ---------------------------------------------------------


def _metrics(n: int, prefix: str = "m") -> list[dict[str, Any]]:
    ts = int(time.time() * 1000)
    return [
        {"key": f"{prefix}{i}", "value": float(i), "timestamp": ts, "step": 0} for i in range(n)
    ]


def _kv(n: int, prefix: str) -> list[dict[str, str]]:
    return [{"key": f"{prefix}{i}", "value": str(i)} for i in range(n)]


@pytest.mark.parametrize(
    ("metrics", "params", "tags", "mentions"),
    [
        (1001, 0, 0, ("metrics", "1000")),
        (0, 101, 0, ("params", "100")),
        (0, 0, 101, ("tags", "100")),
        (901, 100, 0, ("1000",)),
        (850, 100, 100, ("1000",)),
    ],
    ids=["1001-metrics", "101-params", "101-tags", "1001-items", "1050-items"],
)
def test_an_over_limit_batch_is_rejected_and_writes_nothing(
    api: httpx.Client,
    run_id: str,
    metrics: int,
    params: int,
    tags: int,
    mentions: tuple[str, ...],
) -> None:
    body = {
        "run_id": run_id,
        "metrics": _metrics(metrics),
        "params": _kv(params, "p"),
        "tags": _kv(tags, "t"),
    }
    assert_error(post(api, "runs/log-batch", body), 400, "INVALID_PARAMETER_VALUE", mentions)
    assert user_data(get_run(api, run_id)) == ([], [], [])


def test_a_batch_at_the_limits_is_accepted(api: httpx.Client, run_id: str) -> None:
    full = {"run_id": run_id, "metrics": _metrics(1000)}
    assert post(api, "runs/log-batch", full).status_code == 200
    mixed = {"run_id": run_id, "metrics": _metrics(800, "x"), "params": _kv(100, "p")}
    mixed["tags"] = _kv(100, "t")
    assert post(api, "runs/log-batch", mixed).status_code == 200
    metrics, params, tags = user_data(get_run(api, run_id))
    assert (len(metrics), len(params), len(tags)) == (1800, 100, 100)


@pytest.mark.parametrize(
    ("bad", "mentions"),
    [
        ({"metrics": [{"key": "../escape", "value": 1, "timestamp": 1}]}, ("../escape",)),
        ({"metrics": [{"key": "m", "value": 1, "timestamp": -1}]}, ("timestamp",)),
        ({"params": [{"key": "a//b", "value": "1"}]}, ("a//b",)),
        ({"params": [{"key": "dup", "value": "1"}, {"key": "dup", "value": "2"}]}, ("dup",)),
        ({"tags": [{"key": "bad key!", "value": "x"}]}, ("bad key!",)),
        ({"tags": [{"key": "", "value": "x"}]}, ("key",)),
        ({"tags": [{"key": "k" * 251, "value": "x"}]}, ("kkkk",)),
    ],
    ids=[
        "metric-key",
        "timestamp",
        "param-key",
        "duplicate-param",
        "tag-key-chars",
        "empty-tag-key",
        "long-tag-key",
    ],
)
def test_a_batch_with_one_bad_item_writes_nothing(
    api: httpx.Client, run_id: str, bad: dict[str, list[Any]], mentions: tuple[str, ...]
) -> None:
    body: dict[str, Any] = {
        "run_id": run_id,
        "metrics": _metrics(20),
        "params": _kv(5, "good_p"),
        "tags": _kv(5, "good_t"),
    }
    for field, items in bad.items():
        body[field] = body[field] + items
    assert_error(post(api, "runs/log-batch", body), 400, "INVALID_PARAMETER_VALUE", mentions)
    assert user_data(get_run(api, run_id)) == ([], [], [])


def test_a_batch_that_changes_a_param_writes_nothing(api: httpx.Client, run_id: str) -> None:
    assert (
        post(api, "runs/log-parameter", {"run_id": run_id, "key": "lr", "value": "0.1"}).status_code
        == 200
    )
    body = {
        "run_id": run_id,
        "metrics": _metrics(10),
        "params": [{"key": "lr", "value": "0.2"}, {"key": "other", "value": "x"}],
        "tags": _kv(3, "t"),
    }
    assert_error(post(api, "runs/log-batch", body), 400, "INVALID_PARAMETER_VALUE", ("lr",))
    metrics, params, tags = user_data(get_run(api, run_id))
    assert (metrics, tags) == ([], [])
    assert params == [{"key": "lr", "value": "0.1"}]


# -- unknown things -------------------------------------------------------------------------

MISSING_RUN = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "runs/get", {"run_id": MISSING_RUN}),
        ("POST", "runs/update", {"run_id": MISSING_RUN, "status": "FINISHED"}),
        ("POST", "runs/delete", {"run_id": MISSING_RUN}),
        ("POST", "runs/restore", {"run_id": MISSING_RUN}),
        (
            "POST",
            "runs/log-metric",
            {"run_id": MISSING_RUN, "key": "k", "value": 1, "timestamp": 1},
        ),
        ("POST", "runs/log-parameter", {"run_id": MISSING_RUN, "key": "k", "value": "v"}),
        ("POST", "runs/set-tag", {"run_id": MISSING_RUN, "key": "k", "value": "v"}),
        ("POST", "runs/delete-tag", {"run_id": MISSING_RUN, "key": "k"}),
        ("POST", "runs/log-batch", {"run_id": MISSING_RUN, "params": [{"key": "k", "value": "v"}]}),
        ("GET", "metrics/get-history", {"run_id": MISSING_RUN, "metric_key": "k"}),
        ("GET", "experiments/get", {"experiment_id": "987654321"}),
        ("GET", "experiments/get-by-name", {"experiment_name": "no such experiment, ever"}),
        ("POST", "experiments/delete", {"experiment_id": "987654321"}),
        ("POST", "experiments/restore", {"experiment_id": "987654321"}),
        ("POST", "experiments/update", {"experiment_id": "987654321", "new_name": "x"}),
        (
            "POST",
            "experiments/set-experiment-tag",
            {"experiment_id": "987654321", "key": "k", "value": "v"},
        ),
        ("POST", "runs/create", {"experiment_id": "987654321"}),
    ],
)
def test_an_unknown_id_is_resource_does_not_exist(
    api: httpx.Client, method: str, path: str, body: dict[str, Any]
) -> None:
    response = api.get(f"{API}/{path}", params=body) if method == "GET" else post(api, path, body)
    assert_error(response, 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("experiment_id", ["9" * 40, str(2**63), str(-(2**63) - 1)])
@pytest.mark.parametrize(
    ("method", "path", "extra"),
    [
        ("GET", "experiments/get", {}),
        ("POST", "experiments/delete", {}),
        ("POST", "experiments/restore", {}),
        ("POST", "experiments/update", {"new_name": "renamed"}),
        ("POST", "experiments/set-experiment-tag", {"key": "k", "value": "v"}),
        ("POST", "runs/create", {}),
    ],
)
def test_an_experiment_id_beyond_int64_is_not_a_server_error(
    api: httpx.Client, method: str, path: str, extra: dict[str, str], experiment_id: str
) -> None:
    body = {"experiment_id": experiment_id, **extra}
    response = api.get(f"{API}/{path}", params=body) if method == "GET" else post(api, path, body)
    assert_error(response, (400, 404), {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"})


def test_searching_experiment_ids_beyond_int64_is_not_a_server_error(api: httpx.Client) -> None:
    response = post(api, "runs/search", {"experiment_ids": ["9" * 40]})
    if response.status_code != 200:
        assert_error(response, (400, 404))
    else:
        assert response.json().get("runs", []) == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("runs/search", {"experiment_ids": ["0"], "filter": f"metrics.m > {'9' * 30}"}),
        ("runs/search", {"experiment_ids": ["0"], "filter": f"attributes.start_time > {'9' * 30}"}),
        ("runs/search", {"experiment_ids": ["0"], "filter": f"attributes.end_time < -{'9' * 30}"}),
        ("experiments/search", {"filter": f"creation_time > {'9' * 30}"}),
        ("experiments/search", {"filter": f"experiment_id = '{'9' * 30}'"}),
    ],
    ids=["metric", "start_time", "end_time", "creation_time", "experiment_id"],
)
def test_an_out_of_range_number_in_a_filter_is_not_a_server_error(
    api: httpx.Client, path: str, body: dict[str, Any]
) -> None:
    response = post(api, path, body)
    if response.status_code != 200:
        assert_error(response, 400, "INVALID_PARAMETER_VALUE")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("runs/set-tag", {"key": "t", "value": "\ud800"}),
        ("runs/log-parameter", {"key": "p", "value": "a\udfffb"}),
        ("runs/log-batch", {"tags": [{"key": "t", "value": "\udc80"}]}),
        ("experiments/create", {"name": "\ud83d"}),
    ],
    ids=["tag", "param", "batch", "experiment-name"],
)
def test_a_lone_surrogate_in_a_string_is_a_client_error(
    api: httpx.Client, run_id: str, path: str, body: dict[str, Any]
) -> None:
    # Valid JSON (\\ud800 escapes), but no valid Unicode text: it cannot be stored.
    raw = json.dumps({"run_id": run_id, **body})
    assert "\\ud" in raw
    response = api.post(f"{API}/{path}", content=raw, headers=JSON_HEADERS)
    assert_error(response, 400, ERROR_CODES_400)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/2.0/mlflow/does-not-exist"),
        ("POST", "/api/2.0/mlflow/runs/does-not-exist"),
        ("PUT", "/api/2.0/mlflow/nope"),
        ("GET", "/ajax-api/2.0/mlflow/nope"),
        ("GET", "/api/9.9/mlflow/runs/get"),
        ("POST", "/api/2.0/mlflow/registered-models/nope"),
    ],
)
def test_an_unknown_endpoint_is_endpoint_not_found(
    api: httpx.Client, method: str, path: str
) -> None:
    response = api.request(method, path, json={} if method != "GET" else None)
    assert_error(response, 404, "ENDPOINT_NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/2.0/mlflow/runs/create"),
        ("DELETE", "/api/2.0/mlflow/runs/get"),
        ("PUT", "/api/2.0/mlflow/experiments/create"),
        ("PATCH", "/api/2.0/mlflow/runs/log-batch"),
        ("GET", "/ajax-api/2.0/mlflow/runs/log-metric"),
        ("POST", "/api/2.0/mlflow/metrics/get-history"),
    ],
)
def test_a_wrong_method_is_405_with_the_json_shape(
    api: httpx.Client, method: str, path: str
) -> None:
    response = api.request(method, path, json={} if method != "GET" else None)
    assert_error(response, 405)
    assert response.headers.get("allow"), response.headers


# -- what MLflow's server accepts ------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "POST",
            "runs/log-metric",
            {"runId": "$run", "key": "k", "value": 1, "timestamp": 1},
            "run_id",
        ),
        ("POST", "runs/log-batch", {"runId": "$run", "metrics": []}, "run_id"),
        ("POST", "runs/update", {"runId": "$run", "endTime": 5, "end_time": 6}, "end_time"),
        (
            "POST",
            "runs/search",
            {"experiment_ids": ["0"], "experimentIds": ["0"]},
            "experiment_ids",
        ),
        ("POST", "experiments/search", {"max_results": 5, "maxResults": 6}, "max_results"),
        ("GET", "runs/get", {"runId": "$run"}, "run_id"),
    ],
)
def test_one_field_given_in_both_spellings_is_rejected(
    api: httpx.Client, run_id: str, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    body = {k: run_id if v == "$run" else v for k, v in body.items()}
    if field == "run_id":
        body["run_id"] = run_id
    response = api.get(f"{API}/{path}", params=body) if method == "GET" else post(api, path, body)
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", mentions=(field,))
    assert user_data(get_run(api, run_id)) == ([], [], [])


def test_camel_case_field_names_are_accepted(api: httpx.Client, run_id: str) -> None:
    body = {"runId": run_id, "key": "camel", "value": 1.5, "timestamp": 10, "step": 2}
    assert post(api, "runs/log-metric", body).status_code == 200
    end = get_run(api, run_id)["info"]["start_time"] + 1000
    update = {"runId": run_id, "endTime": end, "status": "FINISHED"}
    assert post(api, "runs/update", update).status_code == 200
    run = get_run(api, run_id)
    assert run["data"]["metrics"] == [{"key": "camel", "value": 1.5, "timestamp": 10, "step": 2}]
    assert run["info"]["end_time"] == end


def test_int64_given_as_strings_is_accepted(api: httpx.Client, run_id: str) -> None:
    body = {
        "run_id": run_id,
        "key": "k64",
        "value": "2.5",
        "timestamp": "1700000000000",
        "step": "9007199254740993",  # above 2**53: exact only if parsed as an integer
    }
    assert post(api, "runs/log-metric", body).status_code == 200
    batch = {
        "run_id": run_id,
        "metrics": [{"key": "b64", "value": 1, "timestamp": "5", "step": "-3"}],
    }
    assert post(api, "runs/log-batch", batch).status_code == 200
    history = api.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "k64"})
    assert history.status_code == 200, history.text
    assert history.json()["metrics"] == [
        {"key": "k64", "value": 2.5, "timestamp": 1700000000000, "step": 9007199254740993}
    ]
    search = post(api, "experiments/search", {"max_results": "2"})
    assert search.status_code == 200, search.text
    assert len(search.json()["experiments"]) <= 2


def test_a_body_that_is_a_json_string_holding_the_object_is_accepted(
    api: httpx.Client, run_id: str
) -> None:
    inner = json.dumps({"run_id": run_id, "key": "wrapped", "value": 3, "timestamp": 7})
    response = api.post(f"{API}/runs/log-metric", content=json.dumps(inner), headers=JSON_HEADERS)
    assert response.status_code == 200, response.text
    assert response.json() == {}
    metrics, _, _ = user_data(get_run(api, run_id))
    assert metrics == [{"key": "wrapped", "value": 3.0, "timestamp": 7, "step": 0}]


def test_nan_and_infinities_are_written_as_mlflow_writes_them(
    api: httpx.Client, run_id: str
) -> None:
    for step, value in enumerate(["NaN", "Infinity", "-Infinity", 1.0]):
        body = {"run_id": run_id, "key": "odd", "value": value, "timestamp": 1, "step": step}
        assert post(api, "runs/log-metric", body).status_code == 200
    literal = b'{"run_id": "%s", "key": "lit", "value": NaN, "timestamp": 1}' % run_id.encode()
    assert (
        api.post(f"{API}/runs/log-metric", content=literal, headers=JSON_HEADERS).status_code == 200
    )
    history = api.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "odd"})
    assert [m["value"] for m in history.json()["metrics"]] == ["NaN", "Infinity", "-Infinity", 1.0]
    lit = api.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "lit"})
    assert [m["value"] for m in lit.json()["metrics"]] == ["NaN"]


def test_get_requests_take_repeated_query_keys_for_lists(api: httpx.Client, run_id: str) -> None:
    for key in ("a", "b"):
        body = {"run_id": run_id, "key": "bulk", "value": 1, "timestamp": 1, "step": 0}
        assert post(api, "runs/log-metric", {**body, "key": key}).status_code == 200
    response = api.get(
        f"{API}/metrics/get-history-bulk-interval",
        params=[("run_ids", run_id), ("run_ids", run_id), ("metric_key", "a")],
    )
    assert response.status_code == 200, response.text
    assert [m["key"] for m in response.json()["metrics"]] == ["a"]


# -- the artifact proxy ---------------------------------------------------------------------


def _raw(server: Server, method: str, path: str, body: bytes | None = None) -> httpx.Response:
    """A request whose path reaches the server byte for byte (httpx would normalize ``..``)."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        headers = {"Content-Type": "application/octet-stream"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        reply = conn.getresponse()
        return httpx.Response(reply.status, headers=dict(reply.getheaders()), content=reply.read())
    finally:
        conn.close()


ESCAPES = [
    "../{name}",
    "1/../../{name}",
    "1/run/artifacts/../../../../{name}",
    "%2e%2e/{name}",
    "%2E%2E/{name}",
    "1/%2e%2e/%2e%2e/{name}",
    "%252e%252e/{name}",
    "%25252e%25252e/{name}",
    "..%2f{name}",
    "..%252f{name}",
    "..%5c{name}",
    "/tmp/{name}",
    "%2ftmp%2f{name}",
    "C:/{name}",
    "1/run/artifacts/a%23b/../../../../{name}",
]


@pytest.mark.parametrize("method", ["PUT", "GET", "DELETE"])
@pytest.mark.parametrize("template", ESCAPES)
def test_an_artifact_path_that_escapes_is_rejected(
    server: Server, method: str, template: str
) -> None:
    name = f"escape-{uuid.uuid4().hex[:8]}.txt"
    # A file beside the artifact destination (the server's backend folder) that an escaping
    # GET or DELETE would reach.
    bait = server.workdir / name
    bait.write_text("secret")
    try:
        response = _raw(
            server,
            method,
            f"{ARTIFACTS}/{template.format(name=name)}",
            b"overwritten" if method == "PUT" else None,
        )
        assert_error(response, 400, "INVALID_PARAMETER_VALUE", mentions=("Invalid path",))
        assert bait.read_text() == "secret"
        assert "secret" not in response.text
    finally:
        bait.unlink(missing_ok=True)
    assert not list(server.workdir.parent.glob(f"**/{name}"))
    assert not (Path("/tmp") / name).exists()


@pytest.mark.parametrize(
    "path", ["..", "../..", "/", "/etc", "%2e%2e", "%252e%252e", "1/../..", "..%2f.."]
)
def test_listing_an_artifact_path_that_escapes_is_rejected(server: Server, path: str) -> None:
    response = _raw(server, "GET", f"{ARTIFACTS}?path={path}")
    assert_error(response, 400, "INVALID_PARAMETER_VALUE", mentions=("Invalid path",))


def test_the_store_database_is_never_served_as_an_artifact(server: Server) -> None:
    for name in sorted(p.name for p in (server.workdir / "mlruns").iterdir() if p.is_file()):
        response = _raw(server, "GET", f"{ARTIFACTS}/{name}")
        assert response.status_code in (400, 403, 404), (name, response.status_code)
        assert b"SQLite format" not in response.content
    listing = _raw(server, "GET", ARTIFACTS)
    assert listing.status_code == 200, listing.text
    assert all(f.get("is_dir") for f in listing.json().get("files", [])), listing.text


def test_artifact_upload_download_and_delete_round_trip(server: Server) -> None:
    path = f"{ARTIFACTS}/0/{uuid.uuid4().hex}/artifacts/dir/data.bin"
    payload = bytes(range(256)) * 4
    assert _raw(server, "PUT", path, payload).status_code == 200
    got = _raw(server, "GET", path)
    assert got.status_code == 200
    assert got.content == payload
    assert _raw(server, "DELETE", path).status_code == 200
    assert_error(_raw(server, "GET", path), 404, "RESOURCE_DOES_NOT_EXIST")


# -- cairn's bulk series endpoint --------------------------------------------------------------


@pytest.mark.parametrize(
    ("series", "fragment"),
    [
        ({"key": "m", "steps": [1], "timestamps": [1, 2], "values": [1.0]}, "same length"),
        ({"key": "m", "steps": [1], "timestamps": [-1], "values": [1.0]}, "timestamps"),
        ({"key": "m", "steps": [1], "timestamps": [1], "values": [True]}, "values"),
        ({"key": "a//b", "steps": [1], "timestamps": [1], "values": [1.0]}, "a//b"),
        ({"key": "m", "steps": ["x"], "timestamps": [1], "values": [1.0]}, "steps"),
    ],
)
def test_bad_metric_series_are_refused_whole(
    api: httpx.Client, run_id: str, series: dict[str, object], fragment: str
) -> None:
    http = api
    good = {"run_id": run_id, "key": "ok", "steps": [1], "timestamps": [1], "values": [1.0]}
    response = http.post(
        "/api/2.0/cairn/runs/log-metric-series",
        json={"series": [good, {"run_id": run_id, **series}]},
    )
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert fragment in response.json()["message"]
    history = http.get(f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "ok"})
    assert history.json().get("metrics", []) == []  # nothing of the request was written
