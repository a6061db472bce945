"""Fixtures of the CLI tests: a fresh tracking folder per test, a client on it, and ``cli``,
which runs ``cairn --tracking-uri <folder> ...`` in-process with click's CliRunner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import cairn
from cairn import _fluent
from cairn.entities import Run
from cairn.store import registry
from tests._stores import close_stores_opened_since
from tests.cli._cli_support import Cli


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No tracking settings from the environment; stores opened by the test closed after it."""
    for name in list(os.environ):
        if name.startswith(("CAIRN_", "MLFLOW_")):
            monkeypatch.delenv(name)
    monkeypatch.setattr(_fluent, "_tracking_uri", None)
    stores_before = set(registry._stores)
    yield
    close_stores_opened_since(stores_before)


@pytest.fixture
def mlruns(tmp_path: Path) -> Path:
    """This test's tracking folder (not created until something is tracked)."""
    return tmp_path / "mlruns"


@pytest.fixture
def client(mlruns: Path) -> cairn.Client:
    return cairn.Client(tracking_uri=str(mlruns))


@pytest.fixture
def cli(mlruns: Path) -> Cli:
    """``cli("runs", "list")`` runs ``cairn --tracking-uri <mlruns> runs list``.

    Wide, colourless output keeps table assertions independent of the terminal running the
    tests. Pass ``tracking_uri=None`` to leave the option out, ``input=`` for prompts.
    """
    from cairn.cli import main

    def run(
        *args: str,
        tracking_uri: str | None = str(mlruns),
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        runner = CliRunner()
        prefix = ["--tracking-uri", tracking_uri] if tracking_uri is not None else []
        full_env = {"COLUMNS": "250", "NO_COLOR": "1", **(env or {})}
        return runner.invoke(main, [*prefix, *args], input=input, env=full_env, prog_name="cairn")

    return run


@pytest.fixture
def make_run(client: cairn.Client) -> Callable[..., Run]:
    """Create a finished run with params, metrics and a text artifact; return it as stored."""

    def make(
        experiment_id: str = "0",
        name: str | None = None,
        params: dict[str, object] | None = None,
        metrics: dict[str, float] | None = None,
        artifact: str | None = "notes/readme.txt",
    ) -> Run:
        run = client.create_run(experiment_id, run_name=name)
        run_id = run.info.run_id
        for key, value in (params or {}).items():
            client.log_param(run_id, key, value, synchronous=True)
        for key, number in (metrics or {}).items():
            client.log_metric(run_id, key, number, step=1, synchronous=True)
        if artifact is not None:
            client.log_text(run_id, f"artifact of {run_id}", artifact)
        client.set_terminated(run_id)
        return client.get_run(run_id)

    return make
