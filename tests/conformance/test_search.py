"""Run search: every part of the filter grammar, ordering and paging, compiled by the store."""

from __future__ import annotations

import math

import pytest

from cairn.entities import Metric, Param, RunTag, ViewType
from cairn.errors import InvalidFilter, InvalidParameter
from cairn.store.base import TrackingStore


@pytest.fixture
def runs(store: TrackingStore) -> dict[str, str]:
    """Five runs in experiment "0" with varied data; returns name -> run id."""
    spec = {
        # name: (start, metrics {key: [(step, value)]}, params, tags, status)
        "alpha": (
            1000,
            {"acc": [(0, 0.2), (1, 0.9)], "loss": [(0, 0.5)]},
            {"model": "rf", "lr": "0.1"},
            {"team": "Vision"},
            "FINISHED",
        ),
        "beta": (
            2000,
            {"acc": [(0, 0.7)], "loss": [(0, 0.3)]},
            {"model": "rf", "lr": "0.01"},
            {"team": "nlp"},
            "FAILED",
        ),
        "gamma": (
            3000,
            {"acc": [(0, 0.5)], "loss": [(0, math.nan)]},
            {"model": "svm"},
            {},
            "FINISHED",
        ),
        "delta": (4000, {"loss": [(0, 0.1)]}, {"model": "Rf_2"}, {"team": "vision"}, "RUNNING"),
        "epsilon": (5000, {}, {}, {"note": "it's 100%"}, "RUNNING"),
    }
    ids = {}
    for name, (start, metrics, params, tags, status) in spec.items():
        run = store.create_run("0", f"user-{name[0]}", start, run_name=name)
        run_id = run.info.run_id
        store.log_batch(
            run_id,
            metrics=[Metric(k, v, start, s) for k, pts in metrics.items() for s, v in pts],
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        if status != "RUNNING":
            store.update_run_info(run_id, status=status, end_time=start + 500)
        ids[name] = run_id
    return ids


def names(store: TrackingStore, runs: dict[str, str], flt: str, **kw: object) -> list[str]:
    by_id = {v: k for k, v in runs.items()}
    return [by_id[r.info.run_id] for r in store.search_runs(["0"], flt, **kw)]  # type: ignore[arg-type]


def test_default_order_is_newest_first(store: TrackingStore, runs: dict[str, str]) -> None:
    assert names(store, runs, "") == ["epsilon", "delta", "gamma", "beta", "alpha"]


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        ("metrics.acc > 0.6", {"alpha", "beta"}),
        ("metrics.acc >= 0.7", {"alpha", "beta"}),
        ("metrics.acc < 0.7", {"gamma"}),
        ("metrics.acc <= 0.5", {"gamma"}),
        ("metrics.acc = 0.9", {"alpha"}),
        ("metrics.acc != 0.9", {"beta", "gamma"}),
        ("metrics.acc.min < 0.3", {"alpha"}),
        ("metrics.acc.max >= 0.9", {"alpha"}),
        ("metrics.acc.count = 2", {"alpha"}),
        ("metrics.loss < 1", {"alpha", "beta", "delta"}),  # NaN never compares
        ("metrics.loss != 0.3", {"alpha", "gamma", "delta"}),  # ... but differs from any number
        ("params.model = 'rf'", {"alpha", "beta"}),
        ("params.model != 'rf'", {"gamma", "delta"}),
        ("params.model LIKE 'rf%'", {"alpha", "beta"}),
        ("params.model ILIKE 'rf%'", {"alpha", "beta", "delta"}),
        ("params.model LIKE 'R_\\_%'", {"delta"}),
        ("params.model LIKE 'R\\_%'", set()),
        ("params.model LIKE 'R_%'", {"delta"}),
        ("params.model IN ('svm', 'Rf_2')", {"gamma", "delta"}),
        ("params.model NOT IN ('svm', 'Rf_2')", {"alpha", "beta"}),
        ("params.lr IS NULL", {"gamma", "delta", "epsilon"}),
        ("params.lr IS NOT NULL", {"alpha", "beta"}),
        ("tags.team = 'vision'", {"delta"}),
        ("tags.team ILIKE 'VISION'", {"alpha", "delta"}),
        ("tags.note LIKE '%100[%]%'", set()),
        ("tags.note LIKE '%100%'", {"epsilon"}),
        ("tags.note LIKE '%100\\%'", {"epsilon"}),
        ("tags.note LIKE '%1\\%'", set()),
        ("tags.`mlflow.runName` = 'beta'", {"beta"}),
        ("tags.\"mlflow.runName\" = 'beta'", {"beta"}),
        ("attributes.status = 'FINISHED'", {"alpha", "gamma"}),
        ("status != 'RUNNING'", {"alpha", "beta", "gamma"}),
        ("attributes.run_name LIKE '%ta'", {"beta", "delta"}),
        ("run_name ILIKE 'ALPHA'", {"alpha"}),
        ("attributes.user_id = 'user-g'", {"gamma"}),
        ("attributes.start_time >= 3000", {"gamma", "delta", "epsilon"}),
        ("attributes.created < 2000", {"alpha"}),
        ("attributes.end_time > 2000", {"beta", "gamma"}),
        ("attributes.end_time IS NULL", {"delta", "epsilon"}),
        ("attributes.lifecycle_stage = 'active'", {"alpha", "beta", "gamma", "delta", "epsilon"}),
        ("metrics.acc > 0.1 AND params.model = 'rf' AND tags.team = 'nlp'", {"beta"}),
        ("metrics.unknown > 0", set()),
        ("params.unknown = 'x'", set()),
    ],
)
def test_filters(store: TrackingStore, runs: dict[str, str], flt: str, expected: set[str]) -> None:
    assert set(names(store, runs, flt)) == expected


def test_run_id_in_list(store: TrackingStore, runs: dict[str, str]) -> None:
    flt = f"attributes.run_id IN ('{runs['alpha']}', '{runs['gamma']}')"
    assert set(names(store, runs, flt)) == {"alpha", "gamma"}
    assert names(store, runs, f"run_id = '{runs['beta']}'") == ["beta"]


def test_artifact_uri_filter(store: TrackingStore, runs: dict[str, str]) -> None:
    uri = store.get_run(runs["beta"]).info.artifact_uri
    assert names(store, runs, f"attributes.artifact_uri = '{uri}'") == ["beta"]
    assert set(names(store, runs, f"artifact_uri LIKE '%{runs['gamma']}%'")) == {"gamma"}


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["metrics.acc DESC"], ["alpha", "beta", "gamma", "epsilon", "delta"]),
        (["metrics.acc ASC"], ["gamma", "beta", "alpha", "epsilon", "delta"]),
        (["metrics.loss"], ["delta", "beta", "alpha", "epsilon", "gamma"]),
        (["metrics.acc.min"], ["alpha", "gamma", "beta", "epsilon", "delta"]),
        (["params.model", "start_time"], ["delta", "alpha", "beta", "gamma", "epsilon"]),
        (
            ["params.model DESC", "attributes.start_time DESC"],
            ["gamma", "beta", "alpha", "delta", "epsilon"],
        ),
        (["tags.team"], ["alpha", "beta", "delta", "epsilon", "gamma"]),  # binary order
        (["attributes.run_name"], ["alpha", "beta", "delta", "epsilon", "gamma"]),
        (["start_time ASC"], ["alpha", "beta", "gamma", "delta", "epsilon"]),
        (["attributes.end_time DESC"], ["gamma", "beta", "alpha", "epsilon", "delta"]),
    ],
)
def test_ordering_puts_missing_values_last(
    store: TrackingStore, runs: dict[str, str], order_by: list[str], expected: list[str]
) -> None:
    assert names(store, runs, "", order_by=order_by) == expected


def test_duration_filters_and_orders_runs_and_running_ones_have_none(
    store: TrackingStore,
) -> None:
    """``attributes.duration`` (cairn's addition) is end_time - start_time in milliseconds."""
    exp = store.create_experiment("durations")
    ids = {}
    for name, (start, end) in {
        "short": (1000, 1500),
        "long": (2000, 9000),
        "open": (3000, None),
    }.items():
        run_id = store.create_run(exp, "u", start, run_name=name).info.run_id
        if end is not None:
            store.update_run_info(run_id, status="FINISHED", end_time=end)
        ids[run_id] = name

    def found(flt: str, order: list[str]) -> list[str]:
        return [ids[r.info.run_id] for r in store.search_runs([exp], flt, order_by=order)]

    assert found("", ["attributes.duration DESC"]) == ["long", "short", "open"]
    assert found("", ["attributes.duration ASC"]) == ["short", "long", "open"]
    assert found("attributes.duration > 1000", []) == ["long"]
    assert found("attributes.duration IS NULL", []) == ["open"]


def test_every_run_appears_once_across_pages(store: TrackingStore, runs: dict[str, str]) -> None:
    for order in ([], ["metrics.acc DESC"], ["params.model"]):
        seen: list[str] = []
        token = None
        while True:
            page = store.search_runs(["0"], "", max_results=2, order_by=order, page_token=token)
            assert len(page) <= 2
            seen.extend(r.info.run_id for r in page)
            token = page.token
            if not token:
                break
        assert sorted(seen) == sorted(runs.values())


def test_last_full_page_has_no_token(store: TrackingStore, runs: dict[str, str]) -> None:
    assert store.search_runs(["0"], "", max_results=5).token is None
    assert store.search_runs(["0"], "", max_results=4).token is not None


def test_search_covers_several_experiments(store: TrackingStore) -> None:
    a = store.create_experiment("a")
    b = store.create_experiment("b")
    ra = store.create_run(a, "u", 1).info.run_id
    rb = store.create_run(b, "u", 2).info.run_id
    store.create_run("0", "u", 3)
    found = store.search_runs([a, b])
    assert [r.info.run_id for r in found] == [rb, ra]
    assert store.search_runs(["12345", "not-an-id"]) == []


def test_view_types(store: TrackingStore, runs: dict[str, str]) -> None:
    store.delete_run(runs["beta"])
    assert "beta" not in names(store, runs, "")
    assert names(store, runs, "", run_view_type=ViewType.DELETED_ONLY) == ["beta"]
    assert len(names(store, runs, "", run_view_type=ViewType.ALL)) == 5
    assert names(
        store, runs, "attributes.lifecycle_stage = 'deleted'", run_view_type=ViewType.ALL
    ) == ["beta"]


def test_returned_runs_carry_their_data(store: TrackingStore, runs: dict[str, str]) -> None:
    (alpha,) = store.search_runs(["0"], "params.lr = '0.1'")
    assert alpha.data.metrics == {"acc": 0.9, "loss": 0.5}
    assert alpha.data.params == {"model": "rf", "lr": "0.1"}
    assert alpha.data.tags["team"] == "Vision"


@pytest.mark.parametrize(
    ("flt", "fragment"),
    [
        ("metrics.acc >> 1", "'>'"),
        ("params.model = rf", "rf"),
        ("metrics.acc > 'high'", "number"),
        ("tags.t = 'x' OR tags.t = 'y'", "OR"),
        ("foo.bar = '1'", "foo"),
        ("params.model = 'unterminated", "unterminated"),
        ("metrics.acc > 1 AND", "end of filter"),
    ],
)
def test_malformed_filters_name_the_problem(
    store: TrackingStore, runs: dict[str, str], flt: str, fragment: str
) -> None:
    with pytest.raises(InvalidFilter) as info:
        store.search_runs(["0"], flt)
    assert fragment in str(info.value)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"


def test_bad_order_by_and_limits_are_rejected(store: TrackingStore) -> None:
    with pytest.raises(InvalidFilter):
        store.search_runs(["0"], "", order_by=["metrics.acc SIDEWAYS"])
    with pytest.raises(InvalidParameter, match="max_results"):
        store.search_runs(["0"], "", max_results=0)
    with pytest.raises(InvalidParameter, match="max_results"):
        store.search_runs(["0"], "", max_results=50001)
    with pytest.raises(InvalidParameter, match="page token"):
        store.search_runs(["0"], "", page_token="eyJvZmZzZXQiOiAtMX0=")  # offset -1
