"""Helpers shared by the CLI tests (importable by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from cairn.entities import Run

#: The ``cli`` fixture: ``cli("runs", "list", ...)`` -> click's Result.
Cli = Callable[..., Result]


def artifact_dir(run: Run) -> Path:
    """The local folder of a run's artifacts."""
    from cairn.artifacts import local_path_from_uri

    path = local_path_from_uri(run.info.artifact_uri)
    assert path is not None
    return Path(path)
