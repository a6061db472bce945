"""set_tracking_uri / get_tracking_uri: folders, file:// and sqlite:/// URIs, environment
variables and their precedence, unknown schemes."""

from __future__ import annotations

from pathlib import Path

import pytest

import cairn
from cairn import _fluent
from cairn.errors import InvalidParameter, InvalidTrackingUri


def test_folder_path_becomes_absolute_file_uri(mlruns: Path) -> None:
    assert cairn.get_tracking_uri() == mlruns.as_uri()


def test_relative_folder_resolves_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cairn.set_tracking_uri("relative-runs")
    assert cairn.get_tracking_uri() == (tmp_path / "relative-runs").as_uri()


def test_folder_tracking_stores_database_and_artifacts_in_the_folder(mlruns: Path) -> None:
    with cairn.start_run() as run:
        cairn.log_text("hi", "note.txt")
    assert (mlruns / "cairn.db").is_file()
    assert (mlruns / "0" / run.info.run_id / "artifacts" / "note.txt").read_text() == "hi"


def test_file_uri_is_accepted_as_the_same_folder(tmp_path: Path) -> None:
    folder = tmp_path / "other"
    cairn.set_tracking_uri(folder.as_uri())
    assert cairn.get_tracking_uri() == folder.as_uri()
    with cairn.start_run() as run:
        cairn.log_param("p", 1)
    cairn.set_tracking_uri(folder)  # the plain path names the same store
    assert cairn.get_run(run.info.run_id).data.params == {"p": "1"}
    assert (folder / "cairn.db").is_file()


def test_sqlite_uri_tracks_into_that_database_directly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    cairn.set_tracking_uri("sqlite:///x.db")
    assert cairn.get_tracking_uri() == f"sqlite:///{tmp_path / 'x.db'}"
    with cairn.start_run() as run:
        cairn.log_metric("m", 1.5)
        cairn.log_text("a", "a.txt")
    assert (tmp_path / "x.db").is_file()
    stored = cairn.Client(f"sqlite:///{tmp_path / 'x.db'}").get_run(run.info.run_id)
    assert stored.data.metrics == {"m": 1.5}
    assert stored.info.status == "FINISHED"
    artifact = tmp_path / "mlartifacts" / "0" / run.info.run_id / "artifacts" / "a.txt"
    assert artifact.read_text() == "a"


def test_switching_tracking_uri_switches_store(tmp_path: Path) -> None:
    with cairn.start_run() as first:
        pass
    cairn.set_tracking_uri(tmp_path / "second")
    with cairn.start_run() as second:
        pass
    assert [r.info.run_id for r in cairn.search_runs(output_format="list")] == [second.info.run_id]
    cairn.set_tracking_uri(tmp_path / "mlruns")
    assert [r.info.run_id for r in cairn.search_runs(output_format="list")] == [first.info.run_id]


def test_switching_tracking_uri_forgets_the_current_experiment(tmp_path: Path) -> None:
    cairn.set_experiment("somewhere")
    cairn.set_tracking_uri(tmp_path / "second")
    with cairn.start_run() as run:
        pass
    assert run.info.experiment_id == "0"


def test_cairn_tracking_uri_env_is_used_when_nothing_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_fluent, "_tracking_uri", None)
    monkeypatch.setenv("CAIRN_TRACKING_URI", str(tmp_path / "from-cairn-env"))
    assert cairn.get_tracking_uri() == (tmp_path / "from-cairn-env").as_uri()


def test_mlflow_tracking_uri_env_is_used_when_nothing_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_fluent, "_tracking_uri", None)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", str(tmp_path / "from-mlflow-env"))
    assert cairn.get_tracking_uri() == (tmp_path / "from-mlflow-env").as_uri()


def test_cairn_env_takes_precedence_over_mlflow_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_fluent, "_tracking_uri", None)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", str(tmp_path / "mlflow-env"))
    monkeypatch.setenv("CAIRN_TRACKING_URI", str(tmp_path / "cairn-env"))
    assert cairn.get_tracking_uri() == (tmp_path / "cairn-env").as_uri()


def test_set_tracking_uri_takes_precedence_over_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAIRN_TRACKING_URI", str(tmp_path / "cairn-env"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", str(tmp_path / "mlflow-env"))
    cairn.set_tracking_uri(tmp_path / "explicit")
    assert cairn.get_tracking_uri() == (tmp_path / "explicit").as_uri()


def test_default_is_mlruns_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_fluent, "_tracking_uri", None)
    monkeypatch.chdir(tmp_path)
    assert cairn.get_tracking_uri() == (tmp_path / "mlruns").as_uri()


def test_env_uri_is_where_runs_are_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_fluent, "_tracking_uri", None)
    monkeypatch.setattr(_fluent, "_client_instance", None)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", str(tmp_path / "env-runs"))
    with cairn.start_run() as run:
        cairn.log_param("where", "env")
    stored = cairn.Client(str(tmp_path / "env-runs")).get_run(run.info.run_id)
    assert stored.data.params == {"where": "env"}


def test_unknown_scheme_is_rejected_naming_the_scheme(mlruns: Path) -> None:
    with pytest.raises(InvalidTrackingUri, match="foo") as caught:
        cairn.set_tracking_uri("foo://x")
    assert "'foo'" in str(caught.value)
    assert isinstance(caught.value, InvalidParameter)
    assert cairn.get_tracking_uri() == mlruns.as_uri()  # unchanged


def test_unknown_scheme_in_env_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_fluent, "_tracking_uri", None)
    monkeypatch.setenv("CAIRN_TRACKING_URI", "bogus://host/path")
    with pytest.raises(InvalidTrackingUri, match="bogus"):
        cairn.get_tracking_uri()


def test_in_memory_sqlite_is_rejected() -> None:
    with pytest.raises(InvalidTrackingUri, match="memory"):
        cairn.set_tracking_uri("sqlite:///:memory:")
