"""Experiments: creation, lookup, renaming, soft deletion, tags and search."""

from __future__ import annotations

import pytest

from cairn.entities import LifecycleStage, ViewType
from cairn.errors import (
    ExperimentNotFound,
    InvalidFilter,
    InvalidParameter,
    InvalidState,
    ResourceAlreadyExists,
    ResourceNotFound,
)
from cairn.store.base import TrackingStore


def test_default_experiment_exists_with_id_zero(store: TrackingStore) -> None:
    default = store.get_experiment("0")
    assert default.name == "Default"
    assert default.lifecycle_stage == LifecycleStage.ACTIVE
    assert store.get_experiment_by_name("Default") == default


def test_created_experiment_round_trips(store: TrackingStore) -> None:
    exp_id = store.create_experiment("iris", tags=[("team", "vision")])
    exp = store.get_experiment(exp_id)
    assert exp.experiment_id == exp_id != "0"
    assert exp.name == "iris"
    assert exp.tags == {"team": "vision"}
    assert exp.creation_time is not None and exp.creation_time > 0
    assert exp.artifact_location.endswith(f"/{exp_id}")


def test_explicit_artifact_location_is_kept(store: TrackingStore) -> None:
    exp_id = store.create_experiment("elsewhere", artifact_location="s3://bucket/prefix")
    assert store.get_experiment(exp_id).artifact_location == "s3://bucket/prefix"


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("s3://bucket/x#part", "fragment"),
        ("http://host/x;type=a", "params"),
        ("runs:/abc/artifacts", "runs:/ URIs"),
        ("s3://bucket/" + "x" * 2048, "longer than 2048"),
    ],
)
def test_invalid_artifact_locations_are_rejected(
    store: TrackingStore, location: str, reason: str
) -> None:
    with pytest.raises(InvalidParameter, match=reason):
        store.create_experiment("bad-location", artifact_location=location)
    assert store.get_experiment_by_name("bad-location") is None


def test_duplicate_experiment_name_is_rejected(store: TrackingStore) -> None:
    store.create_experiment("dup")
    with pytest.raises(ResourceAlreadyExists, match="dup"):
        store.create_experiment("dup")


def test_name_of_a_deleted_experiment_stays_taken(store: TrackingStore) -> None:
    exp_id = store.create_experiment("ghost")
    store.delete_experiment(exp_id)
    with pytest.raises(ResourceAlreadyExists):
        store.create_experiment("ghost")


@pytest.mark.parametrize("name", ["", "   ", "x" * 501])
def test_invalid_experiment_names_are_rejected(store: TrackingStore, name: str) -> None:
    with pytest.raises(InvalidParameter):
        store.create_experiment(name)


def test_unknown_experiment_id_raises(store: TrackingStore) -> None:
    with pytest.raises(ExperimentNotFound):
        store.get_experiment("424242")
    with pytest.raises(ExperimentNotFound):
        store.get_experiment("not-a-number")
    assert store.get_experiment_by_name("nope") is None


def test_rename_experiment(store: TrackingStore) -> None:
    exp_id = store.create_experiment("old")
    store.rename_experiment(exp_id, "new")
    assert store.get_experiment(exp_id).name == "new"
    assert store.get_experiment_by_name("old") is None


def test_rename_to_a_taken_name_is_rejected_and_changes_nothing(store: TrackingStore) -> None:
    a = store.create_experiment("a")
    store.create_experiment("b")
    with pytest.raises(ResourceAlreadyExists):
        store.rename_experiment(a, "b")
    assert store.get_experiment(a).name == "a"


def test_rename_of_a_deleted_experiment_is_rejected(store: TrackingStore) -> None:
    exp_id = store.create_experiment("gone")
    store.delete_experiment(exp_id)
    with pytest.raises(InvalidState):
        store.rename_experiment(exp_id, "back")


def test_delete_and_restore_experiment_takes_its_runs_along(store: TrackingStore) -> None:
    exp_id = store.create_experiment("lifecycle")
    kept_deleted = store.create_run(exp_id, "u", 1)
    store.delete_run(kept_deleted.info.run_id)
    run = store.create_run(exp_id, "u", 2)
    store.delete_experiment(exp_id)
    assert store.get_experiment(exp_id).lifecycle_stage == LifecycleStage.DELETED
    assert store.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.DELETED
    assert store.search_runs([exp_id]) == []
    store.restore_experiment(exp_id)
    assert store.get_experiment(exp_id).lifecycle_stage == LifecycleStage.ACTIVE
    assert store.get_run(run.info.run_id).info.lifecycle_stage == LifecycleStage.ACTIVE
    # A run deleted on its own before the experiment stays deleted.
    assert store.get_run(kept_deleted.info.run_id).info.lifecycle_stage == LifecycleStage.DELETED


def test_a_run_deleted_in_the_same_millisecond_as_its_experiment_stays_deleted(
    store: TrackingStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock is frozen (the stores of every backend run in this process): the run and
    its experiment are deleted at the same millisecond, as a fast script does."""
    monkeypatch.setattr("cairn.store.sql.store.now_ms", lambda: 1_700_000_000_000)
    exp_id = store.create_experiment("same-millisecond")
    deleted_first = store.create_run(exp_id, "u", 1).info.run_id
    kept = store.create_run(exp_id, "u", 2).info.run_id
    store.delete_run(deleted_first)
    store.delete_experiment(exp_id)
    store.restore_experiment(exp_id)
    assert store.get_run(kept).info.lifecycle_stage == LifecycleStage.ACTIVE
    assert store.get_run(deleted_first).info.lifecycle_stage == LifecycleStage.DELETED


def test_default_experiment_cannot_be_deleted(store: TrackingStore) -> None:
    with pytest.raises(InvalidParameter, match="Default"):
        store.delete_experiment("0")


def test_creating_a_run_in_a_deleted_experiment_is_rejected(store: TrackingStore) -> None:
    exp_id = store.create_experiment("closed")
    store.delete_experiment(exp_id)
    with pytest.raises(InvalidParameter, match="deleted"):
        store.create_run(exp_id, "u", 1)


def test_experiment_tags_upsert_and_delete(store: TrackingStore) -> None:
    exp_id = store.create_experiment("tagged")
    store.set_experiment_tag(exp_id, "k", "v1")
    store.set_experiment_tag(exp_id, "k", "v2")
    assert store.get_experiment(exp_id).tags == {"k": "v2"}
    store.delete_experiment_tag(exp_id, "k")
    assert store.get_experiment(exp_id).tags == {}
    with pytest.raises(ResourceNotFound):
        store.delete_experiment_tag(exp_id, "k")


def test_experiment_tag_value_limit(store: TrackingStore) -> None:
    exp_id = store.create_experiment("limits")
    store.set_experiment_tag(exp_id, "ok", "x" * 20000)
    with pytest.raises(InvalidParameter, match="20000"):
        store.set_experiment_tag(exp_id, "too_long", "x" * 20001)


def test_search_experiments_filters_orders_and_pages(store: TrackingStore) -> None:
    ids = [store.create_experiment(f"exp-{i:02d}", tags=[("i", str(i))]) for i in range(7)]
    found = store.search_experiments(filter_string="name LIKE 'exp-%'", order_by=["name DESC"])
    assert [e.name for e in found] == [f"exp-{i:02d}" for i in reversed(range(7))]
    assert [e.name for e in store.search_experiments(filter_string="tags.i = '3'")] == ["exp-03"]
    seen = []
    token = None
    while True:
        page = store.search_experiments(max_results=3, page_token=token, order_by=["name"])
        seen.extend(e.experiment_id for e in page)
        token = page.token
        if not token:
            break
    assert sorted(seen) == sorted(["0", *ids])
    assert len(seen) == len(set(seen))


def test_search_experiments_view_types(store: TrackingStore) -> None:
    gone = store.create_experiment("gone")
    store.delete_experiment(gone)
    active = {e.experiment_id for e in store.search_experiments(ViewType.ACTIVE_ONLY)}
    deleted = {e.experiment_id for e in store.search_experiments(ViewType.DELETED_ONLY)}
    everything = {e.experiment_id for e in store.search_experiments(ViewType.ALL)}
    assert gone not in active
    assert deleted == {gone}
    assert everything == active | deleted


def test_search_experiments_by_id_list(store: TrackingStore) -> None:
    a = store.create_experiment("a")
    store.create_experiment("b")
    found = store.search_experiments(filter_string=f"experiment_id IN ('{a}', '0')")
    assert {e.experiment_id for e in found} == {a, "0"}


def test_search_experiments_rejects_a_bad_filter(store: TrackingStore) -> None:
    with pytest.raises(InvalidFilter, match="position"):
        store.search_experiments(filter_string="name === 'x'")


def test_search_experiments_rejects_a_malformed_page_token(store: TrackingStore) -> None:
    with pytest.raises(InvalidParameter, match="page token"):
        store.search_experiments(page_token="not-a-token")
