"""The scoring server, in-process: every input format answers as MLflow's does, every bad
input is a 4xx naming the problem, and the server keeps serving."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

import cairn
import cairn.pyfunc
import cairn.sklearn
from cairn.models.serving import ScoringConfig, _Batcher, create_scoring_app
from cairn.server.testing import InProcessTransport


@pytest.fixture
def model_dir(tmp_path: Path, iris: Any, logistic: Any) -> Path:
    X, _ = iris
    cairn.sklearn.save_model(logistic, tmp_path / "m", input_example=X.head(3))
    return tmp_path / "m"


def _client(model: Any, config: ScoringConfig | None = None) -> httpx.Client:
    app = create_scoring_app(model, config)
    return httpx.Client(transport=InProcessTransport(app), base_url="http://model")


@pytest.fixture
def client(model_dir: Path) -> Iterator[httpx.Client]:
    with _client(cairn.pyfunc.load_model(model_dir)) as http:
        yield http


def _mlflow_answer(model_dir: Path, body: bytes | str, content_type: str) -> Any:
    import mlflow.pyfunc
    from mlflow.pyfunc.scoring_server import invocations

    model = mlflow.pyfunc.load_model(str(model_dir))
    result = invocations(body, content_type, model, model.metadata.get_input_schema())
    assert result.status == 200, result.response
    return json.loads(result.response)


def _bodies(X: pd.DataFrame) -> dict[str, Any]:
    rows = X.head(4)
    return {
        "dataframe_split": {"dataframe_split": rows.to_dict(orient="split")},
        "dataframe_split without index": {
            "dataframe_split": {"columns": list(rows.columns), "data": rows.values.tolist()}
        },
        "dataframe_records": {"dataframe_records": rows.to_dict(orient="records")},
        "instances": {"instances": rows.to_dict(orient="records")},
        "inputs as columns": {"inputs": rows.to_dict(orient="list")},
        "inputs as records": {"inputs": rows.to_dict(orient="records")},
    }


@pytest.mark.parametrize(
    "kind",
    [
        "dataframe_split",
        "dataframe_split without index",
        "dataframe_records",
        "instances",
        "inputs as columns",
        "inputs as records",
    ],
)
def test_every_json_format_answers_as_mlflow_does(
    kind: str, client: httpx.Client, model_dir: Path, iris: Any
) -> None:
    X, _ = iris
    body = json.dumps(_bodies(X)[kind])
    response = client.post(
        "/invocations", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == _mlflow_answer(model_dir, body, "application/json")


def test_csv_and_parquet_bodies(client: httpx.Client, model_dir: Path, iris: Any) -> None:
    X, _ = iris
    csv = X.head(5).to_csv(index=False)
    answer = client.post("/invocations", content=csv, headers={"content-type": "text/csv"})
    assert answer.status_code == 200
    assert answer.json() == _mlflow_answer(model_dir, csv, "text/csv")
    buffer = io.BytesIO()
    X.head(5).to_parquet(buffer)
    parquet = client.post(
        "/invocations",
        content=buffer.getvalue(),
        headers={"content-type": "application/vnd.apache.parquet"},
    )
    assert parquet.json() == answer.json()


def test_ping_health_and_version(client: httpx.Client) -> None:
    assert client.get("/ping").status_code == 200
    assert client.get("/health").status_code == 200
    assert client.get("/version").text == cairn.__version__


def test_params_reach_the_model(tmp_path: Path) -> None:
    from cairn.models import infer_signature
    from tests.models.torch_models import Scaled

    (tmp_path / "offset.txt").write_text("1")
    signature = infer_signature(np.zeros((1, 2)), np.zeros((1, 2)), params={"scale": 1.0})
    cairn.pyfunc.save_model(
        tmp_path / "m",
        Scaled(1.0),
        artifacts={"offset": tmp_path / "offset.txt"},
        signature=signature,
    )
    with _client(cairn.pyfunc.load_model(tmp_path / "m")) as http:
        answer = http.post("/invocations", json={"inputs": [[1.0, 2.0]], "params": {"scale": 3}})
        assert answer.json() == {"predictions": [[4.0, 7.0]]}
        bad = http.post("/invocations", json={"inputs": [[1.0, 2.0]], "params": {"scale": "big"}})
        assert bad.status_code == 400 and "'scale'" in bad.json()["message"]


COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def _split(data: list[Any], columns: list[str] = COLUMNS, index: list[int] | None = None) -> str:
    table: dict[str, Any] = {"columns": columns, "data": data}
    if index is not None:
        table["index"] = index
    return json.dumps({"dataframe_split": table})


BAD_BODIES = [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"data": [[1]]}', "exactly one of the keys"),
    ('{"inputs": [[1]], "instances": [[1]]}', "exactly one of the keys"),
    ('{"dataframe_split": [[1, 2]]}', "'dataframe_split' must be an object"),
    ('{"dataframe_records": {"a": 1}}', "must be a list of objects"),
    (
        '{"dataframe_split": {"columns": ["sepal_length"], "data": [[1.0]]}}',
        "missing required column",
    ),
    (
        '{"dataframe_records": [{"sepal_length": "x", "sepal_width": 1, "petal_length": 1, '
        '"petal_width": 1}]}',
        "Column 'sepal_length' must hold double",
    ),
    ('{"inputs": {"sepal_length": [1]}, "params": [1]}', "'params' must be a JSON object"),
    # In signature order the split table takes a faster path; it refuses the same values.
    (_split([["5.1", "3.5", "1.4", "0.2"]]), "must hold double values, as the model's signature"),
    (_split([[True, False, True, False]]), "it holds bool values such as True"),
    (_split([[5.1, 3.5, 1.4, True]]), "Column 'petal_width' must hold double"),
    (_split([[5.1, 3.5, 1.4, 0.2], [6.7]]), "Row 1 of 'dataframe_split.data' has 1 value, but"),
    (_split([[5.1, 3.5, 1.4, 0.2]], index=[0, 1, 2]), "must hold one label per row: 1 rows"),
    (_split([[5.1, 3.5, 1.4, 0.2]], columns=COLUMNS[:3] + COLUMNS[:1]), "more than once"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_malformed_or_mismatched_body_is_a_400_naming_the_problem(
    body: str, message: str, client: httpx.Client
) -> None:
    answer = client.post("/invocations", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "BAD_REQUEST"
    assert message in answer.json()["message"]
    assert client.get("/ping").status_code == 200  # still serving


def test_tensor_shape_mismatch_is_a_400(tmp_path: Path, iris: Any, logistic: Any) -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = iris
    model = LogisticRegression(max_iter=500).fit(X.to_numpy(), y)
    cairn.sklearn.save_model(model, tmp_path / "t", input_example=X.to_numpy()[:2])
    with _client(cairn.pyfunc.load_model(tmp_path / "t")) as http:
        ok = http.post("/invocations", json={"inputs": X.to_numpy()[:2].tolist()})
        assert ok.status_code == 200
        bad = http.post("/invocations", json={"inputs": [[1.0, 2.0]]})
        assert bad.status_code == 400 and "(-1, 4)" in bad.json()["message"]


def test_unsupported_content_types_are_415(client: httpx.Client) -> None:
    for content_type in (
        "text/plain",
        "application/json; charset=latin-1",
        "application/json; x=1",
    ):
        answer = client.post("/invocations", content="{}", headers={"content-type": content_type})
        assert answer.status_code == 415, content_type


def test_oversized_body_is_a_413_and_the_server_keeps_serving(model_dir: Path, iris: Any) -> None:
    X, _ = iris
    with _client(cairn.pyfunc.load_model(model_dir), ScoringConfig(max_body_bytes=200)) as http:
        big = {"dataframe_split": X.head(50).to_dict(orient="split")}
        answer = http.post("/invocations", json=big)
        assert answer.status_code == 413
        assert "larger than 200 bytes" in answer.json()["message"]
        small = {"inputs": X.head(1).to_dict(orient="list")}
        assert http.post("/invocations", json=small).status_code == 200


def test_a_model_that_fails_on_the_input_is_a_400_not_a_500(tmp_path: Path) -> None:
    from tests.models.torch_models import Picky

    cairn.pyfunc.save_model(tmp_path / "m", Picky())
    with _client(cairn.pyfunc.load_model(tmp_path / "m")) as http:
        answer = http.post("/invocations", json={"inputs": [-1.0]})
        assert answer.status_code == 400
        assert "ValueError: negative input" in answer.json()["message"]
        assert http.post("/invocations", json={"inputs": [1.0]}).json() == {"predictions": [1.0]}


def test_columns_missing_from_positional_input_is_a_400(model_dir: Path) -> None:
    with _client(cairn.pyfunc.load_model(model_dir)) as http:
        answer = http.post("/invocations", json={"inputs": [[1.0, 2.0]]})
        assert answer.status_code == 400
        assert "missing required column" in answer.json()["message"]
        assert http.get("/ping").status_code == 200


def test_large_bodies_are_scored_in_a_thread_with_the_same_answer(
    model_dir: Path, iris: Any
) -> None:
    X, _ = iris
    body = {"dataframe_split": pd.concat([X] * 20).to_dict(orient="split")}
    with _client(cairn.pyfunc.load_model(model_dir), ScoringConfig(inline_bytes=100)) as slow:
        threaded = slow.post("/invocations", json=body).json()
    with _client(cairn.pyfunc.load_model(model_dir)) as fast:
        assert fast.post("/invocations", json=body).json() == threaded


def test_concurrent_requests_each_get_their_own_predictions(
    client: httpx.Client, iris: Any, logistic: Any
) -> None:
    X, _ = iris

    def score(i: int) -> list[int]:
        row = X.iloc[[i % len(X)]]
        body = {"dataframe_split": row.to_dict(orient="split")}
        return list(client.post("/invocations", json=body).json()["predictions"])

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(score, range(64)))
    expected = logistic.predict(X)
    assert answers == [[int(expected[i % len(X)])] for i in range(64)]


def test_batcher_scores_ready_requests_in_one_call(model_dir: Path, iris: Any) -> None:
    X, _ = iris
    model = cairn.pyfunc.load_model(model_dir)
    calls: list[int] = []
    original = model.predict_prepared

    def counting(data: Any, params: Any = None) -> Any:
        calls.append(len(data))
        return original(data, params)

    model.predict_prepared = counting  # type: ignore[method-assign]
    batcher = _Batcher(model)

    async def run() -> list[Any]:
        rows = [model.prepare(X.iloc[[i]])[0] for i in range(5)]
        return list(await asyncio.gather(*(batcher.submit(r) for r in rows)))

    results = asyncio.run(run())
    assert calls == [5]
    assert [list(r) for r in results] == [[p] for p in model.predict(X.head(5))]


def test_batcher_falls_back_to_one_call_per_request_when_the_joint_call_fails(
    model_dir: Path, iris: Any
) -> None:
    X, _ = iris
    model = cairn.pyfunc.load_model(model_dir)
    original = model.predict_prepared

    def picky(data: Any, params: Any = None) -> Any:
        if len(data) > 1:
            raise ValueError("no batches here")
        return original(data, params)

    model.predict_prepared = picky  # type: ignore[method-assign]
    batcher = _Batcher(model)

    async def run() -> list[Any]:
        rows = [model.prepare(X.iloc[[i]])[0] for i in range(3)]
        return list(await asyncio.gather(*(batcher.submit(r) for r in rows)))

    assert len(asyncio.run(run())) == 3


def test_worker_app_reads_the_model_and_options_from_the_environment(
    model_dir: Path, iris: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.models import serving

    X, _ = iris
    monkeypatch.setenv(serving.ENV_MODEL_PATH, str(model_dir))
    monkeypatch.setenv(serving.ENV_OPTIONS, json.dumps({"max_body_bytes": 10, "batching": False}))
    app = serving.app_from_env()
    with httpx.Client(transport=InProcessTransport(app), base_url="http://m") as http:
        assert http.get("/ping").status_code == 200
        body = {"dataframe_split": X.head(1).to_dict(orient="split")}
        assert http.post("/invocations", json=body).status_code == 413


def test_compressed_bodies_are_a_415_naming_the_encoding(client: httpx.Client) -> None:
    import gzip

    body = gzip.compress(b'{"inputs": {"sepal_length": [1]}}')
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    answer = client.post("/invocations", content=body, headers=headers)
    assert answer.status_code == 415
    assert "Unsupported Content-Encoding 'gzip'" in answer.json()["message"]


def test_unknown_paths_and_methods_answer_in_json(client: httpx.Client) -> None:
    missing = client.get("/nope")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "ENDPOINT_NOT_FOUND"
    assert "POST /invocations" in missing.json()["message"]
    wrong = client.get("/invocations")
    assert wrong.status_code == 405
    assert "GET is not allowed on /invocations" in wrong.json()["message"]
    assert client.get("/ping").status_code == 200


def test_predictions_json_cannot_hold_are_a_json_500_and_the_server_keeps_serving(
    tmp_path: Path,
) -> None:
    from tests.models.torch_models import ReturnsWhatItIsTold

    cairn.pyfunc.save_model(tmp_path / "m", ReturnsWhatItIsTold())
    with _client(cairn.pyfunc.load_model(tmp_path / "m")) as http:
        answer = http.post("/invocations", json={"inputs": {"kind": ["set"]}})
        assert answer.status_code == 500
        assert answer.json()["error_code"] == "INTERNAL_ERROR"
        assert "cannot be written as JSON" in answer.json()["message"]
        fine = http.post("/invocations", json={"inputs": {"kind": ["list"]}})
        assert fine.json() == {"predictions": [1, 2]}
