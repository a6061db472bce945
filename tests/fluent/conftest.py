"""Fixtures of the fluent and client API tests: every test tracks to its own fresh folder and
leaves no active run, queued write or module-global fluent state behind."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import cairn
from cairn import _fluent
from cairn.errors import CairnError
from cairn.store import registry
from tests._stores import close_stores_opened_since


def _reset_fluent_state() -> None:
    _fluent._tracking_uri = None
    _fluent._experiment_id = None
    _fluent._client_instance = None
    _fluent._last_active_run_id = None
    _fluent._run_stack.set(())
    _fluent._open_runs.clear()


@pytest.fixture(autouse=True)
def mlruns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The tracking folder of this test (``<tmp_path>/mlruns``), already set as tracking URI."""
    for name in list(os.environ):
        if name.startswith(("CAIRN_", "MLFLOW_")):
            monkeypatch.delenv(name)
    _reset_fluent_state()
    stores_before = set(registry._stores)
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
        # Close what this test opened, so later tests neither flush nor inherit its writers.
        close_stores_opened_since(stores_before)


@pytest.fixture
def observer(mlruns: Path) -> cairn.Client:
    """A second client on the same database, through its own store and background writer, so
    its reads do not flush what the fluent API queued (as another process would see it)."""
    return cairn.Client(f"sqlite:///{mlruns / 'cairn.db'}")


@pytest.fixture
def run_python(tmp_path: Path) -> Callable[..., Any]:
    """Run Python code in a fresh interpreter; return what it printed last, parsed as JSON."""

    def run(code: str, *, cwd: Path | None = None, env: dict[str, str] | None = None) -> Any:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("CAIRN_", "MLFLOW_"))}
        full_env["CAIRN_NO_SIGNAL_HANDLER"] = "1"
        full_env.update(env or {})
        script = (cwd or tmp_path) / "_snippet.py"
        script.write_text(code)
        done = subprocess.run(
            [sys.executable, str(script)],
            cwd=cwd or tmp_path,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else None

    return run
