"""Experiments through the fluent API: set_experiment, create/get/search/delete, Default."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import cairn
from cairn.entities import Experiment, ViewType
from cairn.errors import (
    ExperimentNotFound,
    InvalidFilter,
    InvalidParameter,
    ResourceAlreadyExists,
)


def test_set_experiment_by_name_creates_it_when_missing_and_returns_it() -> None:
    assert cairn.get_experiment_by_name("iris") is None
    experiment = cairn.set_experiment("iris")
    assert isinstance(experiment, Experiment)
    assert experiment.name == "iris"
    assert experiment.lifecycle_stage == "active"
    assert experiment.experiment_id != "0"
    assert cairn.get_experiment_by_name("iris") == experiment


def test_set_experiment_by_name_reuses_an_existing_experiment() -> None:
    experiment_id = cairn.create_experiment("iris")
    assert cairn.set_experiment("iris").experiment_id == experiment_id
    assert [e.name for e in cairn.search_experiments()].count("iris") == 1


def test_set_experiment_makes_new_runs_land_in_it() -> None:
    experiment = cairn.set_experiment("iris")
    with cairn.start_run() as run:
        pass
    assert run.info.experiment_id == experiment.experiment_id
    assert cairn.get_run(run.info.run_id).info.experiment_id == experiment.experiment_id


def test_set_experiment_by_id() -> None:
    experiment_id = cairn.create_experiment("by-id")
    experiment = cairn.set_experiment(experiment_id=experiment_id)
    assert experiment.name == "by-id"
    with cairn.start_run() as run:
        pass
    assert run.info.experiment_id == experiment_id


def test_set_experiment_with_unknown_id_raises_experiment_not_found() -> None:
    with pytest.raises(ExperimentNotFound):
        cairn.set_experiment(experiment_id="424242")


def test_set_experiment_of_deleted_experiment_raises_invalid_parameter() -> None:
    experiment_id = cairn.create_experiment("gone")
    cairn.delete_experiment(experiment_id)
    with pytest.raises(InvalidParameter, match="deleted"):
        cairn.set_experiment("gone")
    with pytest.raises(InvalidParameter, match="deleted"):
        cairn.set_experiment(experiment_id=experiment_id)


def test_set_experiment_needs_exactly_one_of_name_and_id() -> None:
    with pytest.raises(InvalidParameter):
        cairn.set_experiment()
    with pytest.raises(InvalidParameter):
        cairn.set_experiment("a", experiment_id="0")


def test_experiment_id_env_selects_the_experiment(monkeypatch: pytest.MonkeyPatch) -> None:
    experiment_id = cairn.create_experiment("from-env")
    monkeypatch.setenv("MLFLOW_EXPERIMENT_ID", experiment_id)
    with cairn.start_run() as run:
        pass
    assert run.info.experiment_id == experiment_id


def test_experiment_name_env_selects_and_creates_the_experiment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "named-by-env")
    with cairn.start_run() as run:
        pass
    experiment = cairn.get_experiment_by_name("named-by-env")
    assert experiment is not None
    assert run.info.experiment_id == experiment.experiment_id


def test_create_experiment_returns_its_id_as_a_string() -> None:
    experiment_id = cairn.create_experiment("new", tags={"team": "vision", "n": 3})
    assert isinstance(experiment_id, str)
    experiment = cairn.get_experiment(experiment_id)
    assert experiment.name == "new"
    assert experiment.tags == {"team": "vision", "n": "3"}


def test_create_experiment_with_duplicate_name_raises_resource_already_exists() -> None:
    cairn.create_experiment("twice")
    with pytest.raises(ResourceAlreadyExists) as caught:
        cairn.create_experiment("twice")
    assert caught.value.error_code == "RESOURCE_ALREADY_EXISTS"


def test_create_experiment_with_name_of_deleted_experiment_raises() -> None:
    cairn.delete_experiment(cairn.create_experiment("deleted-name"))
    with pytest.raises(ResourceAlreadyExists):
        cairn.create_experiment("deleted-name")


@pytest.mark.parametrize("name", ["", "   ", "x" * 501])
def test_create_experiment_with_invalid_name_is_rejected(name: str) -> None:
    with pytest.raises(InvalidParameter):
        cairn.create_experiment(name)


def test_create_experiment_with_artifact_location(tmp_path: Path) -> None:
    location = (tmp_path / "elsewhere").as_uri()
    experiment_id = cairn.create_experiment("located", artifact_location=location)
    assert cairn.get_experiment(experiment_id).artifact_location == location
    with cairn.start_run(experiment_id=experiment_id) as run:
        cairn.log_text("x", "x.txt")
    assert run.info.artifact_uri == f"{location}/{run.info.run_id}/artifacts"
    assert (tmp_path / "elsewhere" / run.info.run_id / "artifacts" / "x.txt").read_text() == "x"


def test_get_experiment_returns_it_by_id() -> None:
    experiment_id = cairn.create_experiment("fetch-me")
    experiment = cairn.get_experiment(experiment_id)
    assert experiment.experiment_id == experiment_id
    assert experiment.name == "fetch-me"
    assert experiment.creation_time is not None


def test_get_experiment_with_unknown_id_raises_experiment_not_found() -> None:
    with pytest.raises(ExperimentNotFound) as caught:
        cairn.get_experiment("99999")
    assert caught.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_get_experiment_by_name_returns_none_when_missing() -> None:
    assert cairn.get_experiment_by_name("no-such-experiment") is None


def test_get_experiment_by_name_finds_deleted_experiments_too() -> None:
    experiment_id = cairn.create_experiment("soft-deleted")
    cairn.delete_experiment(experiment_id)
    found = cairn.get_experiment_by_name("soft-deleted")
    assert found is not None
    assert found.lifecycle_stage == "deleted"


def test_default_experiment_always_exists() -> None:
    default = cairn.get_experiment("0")
    assert default.name == "Default"
    assert default.lifecycle_stage == "active"
    assert cairn.get_experiment_by_name("Default") == default


def test_runs_go_to_the_default_experiment_without_set_experiment() -> None:
    with cairn.start_run() as run:
        pass
    assert run.info.experiment_id == "0"


def test_default_experiment_cannot_be_deleted() -> None:
    with pytest.raises(InvalidParameter):
        cairn.delete_experiment("0")
    assert cairn.get_experiment("0").lifecycle_stage == "active"


def test_delete_experiment_soft_deletes_it() -> None:
    experiment_id = cairn.create_experiment("to-delete")
    cairn.delete_experiment(experiment_id)
    assert cairn.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert "to-delete" not in [e.name for e in cairn.search_experiments()]


def test_delete_experiment_removes_its_runs_from_default_search() -> None:
    experiment_id = cairn.create_experiment("with-runs")
    with cairn.start_run(experiment_id=experiment_id) as run:
        cairn.log_metric("m", 1.0)
    assert len(cairn.search_runs([experiment_id], output_format="list")) == 1
    cairn.delete_experiment(experiment_id)
    assert cairn.search_runs([experiment_id], output_format="list") == []
    deleted = cairn.search_runs(
        [experiment_id], run_view_type=ViewType.DELETED_ONLY, output_format="list"
    )
    assert [r.info.run_id for r in deleted] == [run.info.run_id]
    assert cairn.get_run(run.info.run_id).info.lifecycle_stage == "deleted"


def test_delete_experiment_with_unknown_id_raises() -> None:
    with pytest.raises(ExperimentNotFound):
        cairn.delete_experiment("31337")


def test_start_run_in_deleted_experiment_is_rejected() -> None:
    experiment_id = cairn.create_experiment("closed")
    cairn.delete_experiment(experiment_id)
    with pytest.raises(InvalidParameter):
        cairn.start_run(experiment_id=experiment_id)
    assert cairn.active_run() is None


def test_search_experiments_lists_active_experiments_newest_first() -> None:
    time.sleep(0.002)  # distinct creation times (milliseconds)
    first = cairn.create_experiment("first")
    time.sleep(0.002)
    second = cairn.create_experiment("second")
    found = cairn.search_experiments()
    assert all(isinstance(e, Experiment) for e in found)
    ids = [e.experiment_id for e in found]
    assert set(ids) == {"0", first, second}
    assert ids.index(second) < ids.index(first) < ids.index("0")


def test_search_experiments_filter_by_name_like() -> None:
    cairn.create_experiment("vision-resnet")
    cairn.create_experiment("vision-vit")
    cairn.create_experiment("nlp-bert")
    found = cairn.search_experiments(filter_string="name LIKE 'vision-%'")
    assert sorted(e.name for e in found) == ["vision-resnet", "vision-vit"]


def test_search_experiments_filter_by_tag() -> None:
    cairn.create_experiment("a", tags={"team": "vision"})
    cairn.create_experiment("b", tags={"team": "nlp"})
    found = cairn.search_experiments(filter_string="tags.team = 'nlp'")
    assert [e.name for e in found] == ["b"]


def test_search_experiments_order_by_name() -> None:
    for name in ("banana", "apple", "cherry"):
        cairn.create_experiment(name)
    asc = [e.name for e in cairn.search_experiments(order_by=["name ASC"])]
    assert asc == ["Default", "apple", "banana", "cherry"]
    desc = [e.name for e in cairn.search_experiments(order_by=["name DESC"])]
    assert desc == list(reversed(asc))


def test_search_experiments_view_type() -> None:
    kept = cairn.create_experiment("kept")
    dropped = cairn.create_experiment("dropped")
    cairn.delete_experiment(dropped)
    active = {e.experiment_id for e in cairn.search_experiments()}
    deleted = {e.experiment_id for e in cairn.search_experiments(view_type=ViewType.DELETED_ONLY)}
    every = {e.experiment_id for e in cairn.search_experiments(view_type=ViewType.ALL)}
    assert active == {"0", kept}
    assert deleted == {dropped}
    assert every == {"0", kept, dropped}


def test_search_experiments_max_results() -> None:
    for i in range(5):
        cairn.create_experiment(f"e{i}")
    assert len(cairn.search_experiments(max_results=3)) == 3
    assert len(cairn.search_experiments()) == 6


def test_search_experiments_with_bad_filter_raises_invalid_filter() -> None:
    with pytest.raises(InvalidFilter):
        cairn.search_experiments(filter_string="name = 'a' OR name = 'b'")


def test_set_experiment_tag_tags_the_current_experiment() -> None:
    experiment = cairn.set_experiment("tagged")
    cairn.set_experiment_tag("owner", "ada")
    cairn.set_experiment_tags({"stage": "dev", "version": 2})
    assert cairn.get_experiment(experiment.experiment_id).tags == {
        "owner": "ada",
        "stage": "dev",
        "version": "2",
    }
