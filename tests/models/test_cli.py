"""``cairn models predict|env|serve``, a real scoring-server process, a real tracking server
for ``mlflow-artifacts:`` URIs, and ``--env-manager virtualenv`` once."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

import cairn
import cairn.pyfunc
import cairn.sklearn

CAIRN = str(Path(sys.executable).with_name("cairn"))


def _cli(*args: str, tracking_uri: str) -> Result:
    from cairn.cli import main

    return CliRunner().invoke(main, ["--tracking-uri", tracking_uri, *args], prog_name="cairn")


@pytest.fixture
def model_dir(tmp_path: Path, iris: Any, logistic: Any) -> Path:
    X, _ = iris
    cairn.sklearn.save_model(logistic, tmp_path / "logistic", input_example=X.head(2))
    return tmp_path / "logistic"


@pytest.fixture
def forest_dir(tmp_path: Path, iris: Any, forest: Any) -> Path:
    X, _ = iris
    cairn.sklearn.save_model(forest, tmp_path / "forest", input_example=X.head(2))
    return tmp_path / "forest"


def test_predict_scores_a_csv_file_into_json(
    tmp_path: Path, mlruns: Path, forest_dir: Path, iris: Any, forest: Any
) -> None:
    X, _ = iris
    X.to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "predictions.json"
    result = _cli(
        "models",
        "predict",
        "-m",
        str(forest_dir),
        "-i",
        str(tmp_path / "rows.csv"),
        "-o",
        str(out),
        "--trusted-type",
        "sklearn.tree._tree.Tree",
        tracking_uri=str(mlruns),
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == {"predictions": forest.predict(X).tolist()}


def test_predict_reads_json_and_parquet_and_writes_csv_and_parquet(
    tmp_path: Path, mlruns: Path, forest: Any, iris: Any
) -> None:
    X, _ = iris
    with cairn.start_run():
        info = cairn.sklearn.log_model(forest, name="forest", input_example=X.head(2))
    (tmp_path / "in.json").write_text(json.dumps({"dataframe_split": X.to_dict(orient="split")}))
    X.to_parquet(tmp_path / "in.parquet")
    for source, target in (("in.json", "out.csv"), ("in.parquet", "out.parquet")):
        result = _cli(
            "models",
            "predict",
            "-m",
            info.model_uri,
            "-i",
            str(tmp_path / source),
            "-o",
            str(tmp_path / target),
            tracking_uri=str(mlruns),
        )
        assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "out.csv")["prediction"].tolist() == forest.predict(X).tolist()
    parquet = pd.read_parquet(tmp_path / "out.parquet")
    assert parquet["prediction"].tolist() == forest.predict(X).tolist()


def test_predict_refuses_untrusted_types_with_a_one_line_error(
    tmp_path: Path, mlruns: Path, forest_dir: Path, iris: Any
) -> None:
    X, _ = iris
    X.to_csv(tmp_path / "rows.csv", index=False)
    result = _cli(
        "models",
        "predict",
        "-m",
        str(forest_dir),
        "-i",
        str(tmp_path / "rows.csv"),
        tracking_uri=str(mlruns),
    )
    assert result.exit_code == 1
    assert "sklearn.tree._tree.Tree" in result.output and "--trusted-type" in result.output


def test_predict_with_a_missing_input_file_fails_clearly(
    tmp_path: Path, mlruns: Path, forest_dir: Path
) -> None:
    result = _cli(
        "models",
        "predict",
        "-m",
        str(forest_dir),
        "-i",
        str(tmp_path / "missing.csv"),
        "--allow-pickle",
        tracking_uri=str(mlruns),
    )
    assert result.exit_code == 1 and "does not exist" in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"sepal_length,sepal_width\n\xff\xfe,1\n", "The CSV body is not UTF-8 text"),
        (
            b"sepal_length,sepal_width,petal_length,petal_width\n",
            "The model failed on this input; check that it matches",
        ),
    ],
    ids=["not-utf8", "no-rows"],
)
def test_predict_input_the_model_cannot_take_is_a_one_line_error(
    tmp_path: Path, mlruns: Path, model_dir: Path, content: bytes, message: str
) -> None:
    (tmp_path / "rows.csv").write_bytes(content)
    result = _cli(
        "models",
        "predict",
        "-m",
        str(model_dir),
        "-i",
        str(tmp_path / "rows.csv"),
        tracking_uri=str(mlruns),
    )
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_predict_dash_means_the_standard_streams(
    tmp_path: Path, mlruns: Path, model_dir: Path, iris: Any, logistic: Any
) -> None:
    from cairn.cli import main

    X, _ = iris
    result = CliRunner().invoke(
        main,
        ["models", "predict", "-m", str(model_dir), "-i", "-", "-o", "-", "-t", "csv"],
        input=X.head(3).to_csv(index=False),
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"predictions": logistic.predict(X.head(3)).tolist()}
    assert not Path("-").exists()


def test_env_prints_the_pip_requirements(mlruns: Path, forest_dir: Path) -> None:
    result = _cli("models", "env", "-m", str(forest_dir), tracking_uri=str(mlruns))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith("scikit-learn==") for line in lines)
    assert any(line.startswith("skops==") for line in lines)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAIRN_", "MLFLOW_"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@contextlib.contextmanager
def _process(command: list[str], health: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=_clean_env())
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(health, timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_serve_runs_a_scoring_server_process(
    tmp_path: Path, forest_dir: Path, iris: Any, forest: Any
) -> None:
    X, _ = iris
    port = _free_port()
    command = [
        CAIRN,
        "models",
        "serve",
        "-m",
        str(forest_dir),
        "--port",
        str(port),
        "--trusted-type",
        "sklearn.tree._tree.Tree",
    ]
    url = f"http://127.0.0.1:{port}"
    with _process(command, f"{url}/ping", tmp_path / "serve.log") as process:
        answer = httpx.post(
            f"{url}/invocations", json={"dataframe_split": X.head(5).to_dict(orient="split")}
        )
        assert answer.json() == {"predictions": forest.predict(X.head(5)).tolist()}
        assert httpx.post(f"{url}/invocations", content=b"{").status_code == 415
        assert httpx.get(f"{url}/health").status_code == 200
    # uvicorn re-raises SIGTERM after its graceful shutdown, hence -SIGTERM rather than 0.
    assert process.returncode in (0, -signal.SIGTERM)


def test_serve_refuses_a_taken_port_and_an_unloadable_model(mlruns: Path, forest_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _cli(
            "models", "serve", "-m", str(forest_dir), "--port", str(port), tracking_uri=str(mlruns)
        )
        assert result.exit_code == 1 and "already in use" in result.output
    result = _cli(
        "models",
        "serve",
        "-m",
        str(forest_dir),
        "--port",
        str(_free_port()),
        tracking_uri=str(mlruns),
    )
    assert result.exit_code == 1 and "sklearn.tree._tree.Tree" in result.output


@pytest.mark.slow
def test_models_through_a_tracking_server_and_mlflow_artifacts_uris(
    tmp_path: Path, iris: Any, forest: Any, logistic: Any
) -> None:
    X, _ = iris
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        CAIRN,
        "server",
        "--backend-store-uri",
        str(tmp_path / "server"),
        "--port",
        str(port),
    ]
    with _process(command, f"{url}/health", tmp_path / "server.log"):
        cairn.set_tracking_uri(url)
        with cairn.start_run() as run:
            info = cairn.sklearn.log_model(forest, name="forest")
        assert info.artifact_path.startswith("mlflow-artifacts:")
        expected = forest.predict(X)
        for uri in (info.model_uri, f"runs:/{run.info.run_id}/forest"):
            np.testing.assert_array_equal(cairn.pyfunc.load_model(uri).predict(X), expected)
        loaded = cairn.sklearn.load_model(
            info.artifact_path, trusted_types=["sklearn.tree._tree.Tree"]
        )
        np.testing.assert_array_equal(loaded.predict(X), expected)
        _mlflow_logs_and_cairn_loads(url, logistic, X)


def _mlflow_logs_and_cairn_loads(url: str, logistic: Any, X: pd.DataFrame) -> None:
    """The real mlflow client logs a model to cairn server; cairn finds and loads it."""
    import mlflow
    import mlflow.sklearn

    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "0"
    mlflow.set_tracking_uri(url)
    try:
        with mlflow.start_run() as run:
            info = mlflow.sklearn.log_model(logistic, name="theirs", pip_requirements=["skops"])
    finally:
        mlflow.set_tracking_uri(None)
        del os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"]
    for uri in (info.model_uri, f"runs:/{run.info.run_id}/theirs"):
        # MLflow records no cairn digest: unknown origin, fine for skops' default types.
        np.testing.assert_array_equal(cairn.pyfunc.load_model(uri).predict(X), logistic.predict(X))


ADD_N = textwrap.dedent(
    """
    import cairn.pyfunc

    class AddN(cairn.pyfunc.PythonModel):
        def __init__(self, n):
            self.n = n

        def predict(self, context, model_input, params=None):
            return model_input + self.n
    """
)


@pytest.mark.slow
def test_predict_in_a_virtualenv_built_from_the_models_requirements(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "venv_add_n.py").write_text(ADD_N)
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    import venv_add_n

    cairn.pyfunc.save_model(
        tmp_path / "m",
        venv_add_n.AddN(2),
        code_paths=[tmp_path / "src" / "venv_add_n.py"],
        pip_requirements=[],
    )
    sys.modules.pop("venv_add_n", None)
    (tmp_path / "in.json").write_text(json.dumps({"inputs": [1.0, 5.0]}))
    done = subprocess.run(
        [
            CAIRN,
            "models",
            "predict",
            "-m",
            str(tmp_path / "m"),
            "-i",
            str(tmp_path / "in.json"),
            "-o",
            str(tmp_path / "out.json"),
            "--allow-code",
            "--env-manager",
            "virtualenv",
        ],
        capture_output=True,
        text=True,
        env=_clean_env(),
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out.json").read_text()) == {"predictions": [3.0, 7.0]}
    from cairn.models.envs import env_root

    assert any(p.name != "" for p in env_root().iterdir())
