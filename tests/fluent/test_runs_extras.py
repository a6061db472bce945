"""``restore_run``, ``restore_experiment``, ``delete_experiment_tag``, ``get_parent_run``,
``is_tracking_uri_set``, ``load_table`` and ``flush_artifact_async_logging``."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import cairn
from cairn import _fluent
from cairn.errors import InvalidParameter, ResourceNotFound, RunNotFound


def test_restore_run_brings_a_deleted_run_back() -> None:
    with cairn.start_run() as run:
        cairn.log_param("a", 1)
    cairn.delete_run(run.info.run_id)
    assert cairn.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert cairn.restore_run(run.info.run_id) is None
    restored = cairn.get_run(run.info.run_id)
    assert restored.info.lifecycle_stage == "active" and restored.data.params == {"a": "1"}
    assert [r.info.run_id for r in cairn.search_runs(output_format="list")] == [  # type: ignore[union-attr]
        run.info.run_id
    ]


def test_restore_experiment_brings_it_back_with_its_runs() -> None:
    experiment_id = cairn.create_experiment("to-restore")
    with cairn.start_run(experiment_id=experiment_id) as run:
        pass
    cairn.delete_experiment(experiment_id)
    assert cairn.get_experiment(experiment_id).lifecycle_stage == "deleted"
    cairn.restore_experiment(experiment_id)
    assert cairn.get_experiment(experiment_id).lifecycle_stage == "active"
    assert cairn.get_run(run.info.run_id).info.lifecycle_stage == "active"
    assert cairn.set_experiment(experiment_id=experiment_id).name == "to-restore"


def test_delete_experiment_tag_deletes_from_the_current_experiment() -> None:
    other = cairn.set_experiment("other")
    cairn.set_experiment_tag("release", "1.0")
    current = cairn.set_experiment("current")
    cairn.set_experiment_tags({"release": "2.0", "team": "vision"})
    assert cairn.delete_experiment_tag("release") is None
    assert dict(cairn.get_experiment(current.experiment_id).tags) == {"team": "vision"}
    assert cairn.get_experiment(other.experiment_id).tags["release"] == "1.0"


def test_get_parent_run_of_nested_and_top_level_runs() -> None:
    with cairn.start_run() as parent, cairn.start_run(nested=True) as child:
        pass
    found = cairn.get_parent_run(child.info.run_id)
    assert found is not None and found.info.run_id == parent.info.run_id
    assert cairn.get_parent_run(parent.info.run_id) is None
    with pytest.raises(RunNotFound):
        cairn.get_parent_run("0" * 32)


def test_is_tracking_uri_set(monkeypatch: pytest.MonkeyPatch, mlruns: Path) -> None:
    assert cairn.is_tracking_uri_set()  # the fixture set it
    monkeypatch.setattr(_fluent, "_tracking_uri", None)
    assert not cairn.is_tracking_uri_set()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", str(mlruns))
    assert cairn.is_tracking_uri_set()
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    monkeypatch.setenv("CAIRN_TRACKING_URI", str(mlruns))
    assert cairn.is_tracking_uri_set()


def test_flush_artifact_async_logging_is_a_no_op_that_starts_no_run() -> None:
    assert cairn.flush_artifact_async_logging() is None
    assert cairn.active_run() is None
    with cairn.start_run() as run:
        cairn.log_text("hello", "notes.txt")
        cairn.flush_artifact_async_logging()
        names = [f.path for f in cairn.Client().list_artifacts(run.info.run_id)]
    assert "notes.txt" in names


# -- load_table ------------------------------------------------------------------------------


def _log_tables() -> tuple[str, str]:
    cairn.set_experiment("tables")
    with cairn.start_run(run_name="first") as first:
        cairn.log_param("model", "a")
        cairn.log_table({"q": ["x", "y"], "score": [0.1, 0.2]}, "eval/results.json")
    with cairn.start_run(run_name="second") as second:
        cairn.log_param("model", "b")
        cairn.log_table({"q": ["z"], "score": [0.3]}, "eval/results.json")
        cairn.log_table({"q": ["w"], "score": [0.4]}, "eval/results.json")  # appended
    with cairn.start_run():
        cairn.log_table({"other": [1]}, "other.json")
    return first.info.run_id, second.info.run_id


def test_load_table_concatenates_the_table_of_every_run_that_has_it() -> None:
    first, second = _log_tables()
    table = cairn.load_table("eval/results.json", extra_columns=["run_id", "params.model"])
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == ["q", "score", "run_id", "params.model"]
    rows = table.to_dict("records")
    # Newest run first, as search_runs orders them.
    assert rows == [
        {"q": "z", "score": 0.3, "run_id": second, "params.model": "b"},
        {"q": "w", "score": 0.4, "run_id": second, "params.model": "b"},
        {"q": "x", "score": 0.1, "run_id": first, "params.model": "a"},
        {"q": "y", "score": 0.2, "run_id": first, "params.model": "a"},
    ]


def test_load_table_of_given_runs_in_their_order() -> None:
    first, second = _log_tables()
    table = cairn.load_table("eval/results.json", run_ids=[first, second])
    assert list(table["q"]) == ["x", "y", "z", "w"]
    assert list(cairn.load_table("eval/results.json", run_ids=[second])["q"]) == ["z", "w"]


def test_load_table_renames_an_extra_column_the_table_already_has() -> None:
    with cairn.start_run() as run:
        cairn.log_table({"run_id": ["mine"]}, "t.json")
    table = cairn.load_table("t.json", extra_columns=["run_id"])
    assert table.to_dict("records") == [{"run_id": "mine", "run_id_": run.info.run_id}]


def test_load_table_skips_given_runs_without_the_table(caplog: pytest.LogCaptureFixture) -> None:
    first, _ = _log_tables()
    with cairn.start_run() as bare:
        pass
    table = cairn.load_table("eval/results.json", run_ids=[bare.info.run_id, first])
    assert list(table["q"]) == ["x", "y"]
    assert bare.info.run_id in caplog.text


def test_load_table_errors() -> None:
    _log_tables()
    with pytest.raises(ResourceNotFound, match=r"missing\.json"):
        cairn.load_table("missing.json")
    with pytest.raises(InvalidParameter, match="unknown extra column"):
        cairn.load_table("eval/results.json", extra_columns=["params.nope"])


def test_load_table_ignores_deleted_runs() -> None:
    _, second = _log_tables()
    cairn.delete_run(second)
    assert list(cairn.load_table("eval/results.json")["q"]) == ["x", "y"]
