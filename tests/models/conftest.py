"""Fixtures of the model tests: a fresh tracking folder per test, small fitted models, and the
real ``mlflow`` package as the judge of format compatibility.

MLflow's ``save_model`` infers requirements by loading the model in a subprocess (seconds per
call); the tests pass ``pip_requirements`` to skip that, since requirement inference is not
what they check.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# Read by mlflow when it is imported, so set before any test module imports it.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import cairn
from cairn import _fluent
from cairn.errors import CairnError
from cairn.store import registry
from tests._stores import close_stores_opened_since

#: Warnings third-party code raises here; cairn's own stay errors.
THIRD_PARTY_WARNINGS = (
    "ignore::UserWarning:mlflow.*",
    "ignore::FutureWarning:mlflow.*",
    "ignore::DeprecationWarning:mlflow.*",
    "ignore::PendingDeprecationWarning:mlflow.*",
    "ignore::UserWarning:sklearn.*",
    "ignore::FutureWarning:sklearn.*",
    "ignore::UserWarning:skops.*",
    "ignore::UserWarning:xgboost.*",
    "ignore::FutureWarning:xgboost.*",
    "ignore::UserWarning:lightgbm.*",
    "ignore::UserWarning:torch.*",
    "ignore::FutureWarning:torch.*",
    "ignore::DeprecationWarning:torch.*",
    "ignore::DeprecationWarning:google.*",
    "ignore::DeprecationWarning:pydantic.*",
    "ignore::ResourceWarning",
    "ignore::pytest.PytestUnraisableExceptionWarning",
)

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
MLFLOW_REQS = ["scikit-learn", "skops"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            for spec in THIRD_PARTY_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))


def _reset_fluent_state() -> None:
    _fluent._tracking_uri = None
    _fluent._experiment_id = None
    _fluent._client_instance = None
    _fluent._last_active_run_id = None
    _fluent._run_stack.set(())
    _fluent._open_runs.clear()


@pytest.fixture(autouse=True)
def mlruns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's tracking folder, set as tracking URI; no CAIRN_/MLFLOW_ variables leak in."""
    for name in list(os.environ):
        if name.startswith(("CAIRN_", "MLFLOW_")) and name != "MLFLOW_DISABLE_TELEMETRY":
            monkeypatch.delenv(name)
    monkeypatch.setenv("CAIRN_NO_SIGNAL_HANDLER", "1")
    _reset_fluent_state()
    before = set(registry._stores)
    root = tmp_path / "mlruns"
    cairn.set_tracking_uri(root)
    yield root
    try:
        while cairn.active_run():
            with contextlib.suppress(CairnError):
                cairn.end_run()
        with contextlib.suppress(CairnError):
            cairn.flush()
    finally:
        _reset_fluent_state()
        close_stores_opened_since(before)


@pytest.fixture(scope="session")
def iris() -> tuple[pd.DataFrame, np.ndarray]:
    """A small, deterministic iris-like table: 4 float columns, 3 classes."""
    rng = np.random.default_rng(7)
    centers = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    y = np.repeat([0, 1, 2], 40)
    X = centers[y] + rng.normal(scale=0.3, size=(len(y), 4))
    return pd.DataFrame(X, columns=FEATURES), y


@pytest.fixture(scope="session")
def logistic(iris: tuple[pd.DataFrame, np.ndarray]) -> object:
    from sklearn.linear_model import LogisticRegression

    X, y = iris
    return LogisticRegression(max_iter=500).fit(X, y)


@pytest.fixture(scope="session")
def forest(iris: tuple[pd.DataFrame, np.ndarray]) -> object:
    """A random forest: its skops file uses a type outside skops' default trusted set."""
    from sklearn.ensemble import RandomForestClassifier

    X, y = iris
    return RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
