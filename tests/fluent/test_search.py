"""search_runs: the DataFrame and list outputs, filters, ordering, scoping and paging."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import pandas as pd
import pytest

import cairn
from cairn.entities import Run, ViewType
from cairn.errors import InvalidFilter, InvalidParameter


@dataclass
class Runs:
    """Three runs of the current experiment:

    ======  =======  ==========  ===============  ========  ======  =======  ========
    run     name     model       acc (history)    loss      group   team     status
    ======  =======  ==========  ===============  ========  ======  =======  ========
    alpha   alpha    rf          0.5, then 0.9    -         1       Vision   FINISHED
    beta    beta     RF-large    0.7              0.3       1       nlp      FINISHED
    gamma   gamma    svm         -                0.1       2       -        KILLED
    ======  =======  ==========  ===============  ========  ======  =======  ========

    alpha also has param lr=0.1. They start in this order, at distinct milliseconds.
    """

    experiment_id: str
    alpha: Run
    beta: Run
    gamma: Run


def _ids(runs: object) -> list[str]:
    assert isinstance(runs, list)
    return [r.info.run_id for r in runs]


@pytest.fixture
def runs() -> Runs:
    experiment = cairn.set_experiment("search")
    with cairn.start_run(run_name="alpha", tags={"team": "Vision"}) as alpha:
        cairn.log_params({"model": "rf", "lr": 0.1})
        cairn.log_metric("acc", 0.5, step=0)
        cairn.log_metric("acc", 0.9, step=1)
        cairn.log_metric("group", 1)
    time.sleep(0.003)
    with cairn.start_run(run_name="beta", tags={"team": "nlp"}) as beta:
        cairn.log_param("model", "RF-large")
        cairn.log_metrics({"acc": 0.7, "loss": 0.3, "group": 1})
    time.sleep(0.003)
    with cairn.start_run(run_name="gamma") as gamma:
        cairn.log_param("model", "svm")
        cairn.log_metrics({"loss": 0.1, "group": 2})
        cairn.end_run("KILLED")
    return Runs(experiment.experiment_id, alpha, beta, gamma)


def _names(filter_string: str = "", **kwargs: object) -> list[str]:
    found = cairn.search_runs(filter_string=filter_string, output_format="list", **kwargs)
    assert isinstance(found, list)
    return [r.info.run_name for r in found]


# -- the DataFrame --------------------------------------------------------------------------


def test_search_runs_returns_a_dataframe_with_mlflow_columns(runs: Runs) -> None:
    frame = cairn.search_runs()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 3
    for column in (
        "run_id",
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
        "metrics.acc",
        "metrics.loss",
        "metrics.group",
        "params.model",
        "params.lr",
        "tags.team",
        "tags.mlflow.runName",
        "tags.mlflow.user",
    ):
        assert column in frame.columns, column


def test_dataframe_rows_hold_each_runs_values(runs: Runs) -> None:
    frame = cairn.search_runs().set_index("run_id")
    alpha = frame.loc[runs.alpha.info.run_id]
    gamma = frame.loc[runs.gamma.info.run_id]
    assert alpha["experiment_id"] == runs.experiment_id
    assert alpha["status"] == "FINISHED"
    assert alpha["artifact_uri"] == runs.alpha.info.artifact_uri
    assert alpha["metrics.acc"] == 0.9  # the latest value
    assert alpha["params.model"] == "rf"
    assert alpha["params.lr"] == "0.1"
    assert alpha["tags.team"] == "Vision"
    assert gamma["status"] == "KILLED"
    assert math.isnan(gamma["metrics.acc"])
    assert gamma["params.lr"] is None or pd.isna(gamma["params.lr"])
    assert gamma["tags.team"] is None or pd.isna(gamma["tags.team"])


def test_dataframe_times_are_utc_timestamps(runs: Runs) -> None:
    frame = cairn.search_runs().set_index("run_id")
    assert isinstance(frame["start_time"].dtype, pd.DatetimeTZDtype)
    assert str(frame["start_time"].dt.tz) == "UTC"
    start = frame.loc[runs.alpha.info.run_id, "start_time"]
    assert start == pd.Timestamp(runs.alpha.info.start_time, unit="ms", tz="UTC")
    assert frame.loc[runs.alpha.info.run_id, "end_time"] >= start


def test_dataframe_end_time_of_running_run_is_missing() -> None:
    with cairn.start_run():
        frame = cairn.search_runs()
    assert pd.isna(frame.loc[0, "end_time"])
    assert frame.loc[0, "status"] == "RUNNING"


def test_empty_search_returns_an_empty_dataframe_with_the_run_columns() -> None:
    frame = cairn.search_runs()
    assert isinstance(frame, pd.DataFrame)
    assert len(frame) == 0
    for column in ("run_id", "experiment_id", "status", "artifact_uri", "start_time"):
        assert column in frame.columns


def test_output_format_list_returns_runs(runs: Runs) -> None:
    found = cairn.search_runs(output_format="list")
    assert isinstance(found, list)
    assert all(isinstance(r, Run) for r in found)
    by_id = {r.info.run_id: r for r in found}
    assert by_id[runs.alpha.info.run_id].data.metrics == {"acc": 0.9, "group": 1.0}
    assert by_id[runs.alpha.info.run_id].data.params == {"model": "rf", "lr": "0.1"}


def test_unknown_output_format_is_rejected(runs: Runs) -> None:
    with pytest.raises(InvalidParameter):
        cairn.search_runs(output_format="csv")  # type: ignore[arg-type]


def test_default_order_is_newest_first(runs: Runs) -> None:
    assert _names() == ["gamma", "beta", "alpha"]
    assert list(cairn.search_runs()["run_id"]) == [
        runs.gamma.info.run_id,
        runs.beta.info.run_id,
        runs.alpha.info.run_id,
    ]


# -- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("metrics.acc > 0.8", ["alpha"]),
        ("metrics.acc >= 0.7", ["beta", "alpha"]),
        ("metrics.acc < 0.6", []),  # the latest value counts, not the history
        ("metrics.acc = 0.7", ["beta"]),
        ("metrics.acc != 0.7", ["alpha"]),
        ("metrics.loss <= 0.1", ["gamma"]),
        ("metric.group = 1", ["beta", "alpha"]),
        ("params.model = 'rf'", ["alpha"]),
        ('params.model = "svm"', ["gamma"]),
        ("params.model != 'rf'", ["gamma", "beta"]),
        ("params.model LIKE 'rf%'", ["alpha"]),
        ("params.model LIKE 'RF%'", ["beta"]),
        ("params.model ILIKE 'rf%'", ["beta", "alpha"]),
        ("params.model LIKE '_v_'", ["gamma"]),
        ("params.lr = '0.1'", ["alpha"]),
        ("params.lr IS NULL", ["gamma", "beta"]),
        ("params.lr IS NOT NULL", ["alpha"]),
        ("tags.team = 'nlp'", ["beta"]),
        ("tags.team ILIKE 'VISION'", ["alpha"]),
        ("tags.team LIKE 'vision'", []),
        ("tags.`mlflow.runName` = 'beta'", ["beta"]),
        ("tags.team IS NULL", ["gamma"]),
        ("attributes.run_name = 'gamma'", ["gamma"]),
        ("run_name LIKE '%ta'", ["beta"]),
        ("attributes.status = 'KILLED'", ["gamma"]),
        ("status != 'KILLED'", ["beta", "alpha"]),
        ("metrics.acc > 0.6 AND params.model ILIKE 'rf%' AND tags.team = 'nlp'", ["beta"]),
        ("metrics.acc.min < 0.6", ["alpha"]),
        ("metrics.acc.max >= 0.9", ["alpha"]),
        ("metrics.acc.count = 2", ["alpha"]),
        ("metrics.acc.count = 1", ["beta"]),
        ("metrics.loss.min < 0.2", ["gamma"]),
    ],
)
def test_filter_string(runs: Runs, filter_string: str, expected: list[str]) -> None:
    assert _names(filter_string) == expected


def test_filter_on_run_id_in_list(runs: Runs) -> None:
    wanted = f"'{runs.alpha.info.run_id}', '{runs.gamma.info.run_id}'"
    assert _names(f"attributes.run_id IN ({wanted})") == ["gamma", "alpha"]
    assert _names(f"attributes.run_id NOT IN ({wanted})") == ["beta"]


def test_filter_on_start_time(runs: Runs) -> None:
    start = runs.alpha.info.start_time
    assert _names(f"attributes.start_time > {start}") == ["gamma", "beta"]
    assert _names(f"attributes.start_time <= {start}") == ["alpha"]


def test_filter_on_a_missing_metric_matches_nothing(runs: Runs) -> None:
    assert _names("metrics.never_logged > 0") == []


def test_filter_also_applies_to_the_dataframe(runs: Runs) -> None:
    frame = cairn.search_runs(filter_string="params.model = 'svm'")
    assert list(frame["run_id"]) == [runs.gamma.info.run_id]


@pytest.mark.parametrize(
    ("filter_string", "token"),
    [
        ("metrics.acc > 0.5 OR params.model = 'rf'", "OR"),
        ("params.model = rf", "rf"),
        ("foo.bar = '1'", "foo"),
        ("metrics.acc = 'x'", "'x'"),
        ("params.model ~ 'x'", "~"),
    ],
)
def test_syntax_error_raises_invalid_filter_naming_the_token(
    runs: Runs, filter_string: str, token: str
) -> None:
    with pytest.raises(InvalidFilter) as caught:
        cairn.search_runs(filter_string=filter_string)
    assert token in str(caught.value)
    assert caught.value.token == token
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_unfinished_filter_raises_invalid_filter(runs: Runs) -> None:
    with pytest.raises(InvalidFilter, match="end of filter"):
        cairn.search_runs(filter_string="metrics.acc >")


# -- ordering -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        (["metrics.acc DESC"], ["alpha", "beta", "gamma"]),  # gamma has no acc: last
        (["metrics.acc ASC"], ["beta", "alpha", "gamma"]),  # missing last either way
        (["metrics.acc"], ["beta", "alpha", "gamma"]),  # ASC by default
        (["params.model ASC"], ["beta", "alpha", "gamma"]),  # 'RF-large' < 'rf' < 'svm'
        (["params.lr DESC"], ["alpha", "gamma", "beta"]),  # missing last, then newest first
        (["metrics.group DESC", "metrics.acc ASC"], ["gamma", "beta", "alpha"]),
        (["metrics.group ASC", "metrics.acc DESC"], ["alpha", "beta", "gamma"]),
        (["attributes.start_time ASC"], ["alpha", "beta", "gamma"]),
        (["start_time DESC"], ["gamma", "beta", "alpha"]),
        (["attributes.run_name DESC"], ["gamma", "beta", "alpha"]),
        (["tags.team ASC"], ["alpha", "beta", "gamma"]),  # 'Vision' < 'nlp'
        (["metrics.acc.min ASC"], ["alpha", "beta", "gamma"]),
        (["metrics.`acc` desc"], ["alpha", "beta", "gamma"]),
    ],
)
def test_order_by(runs: Runs, order_by: list[str], expected: list[str]) -> None:
    assert _names(order_by=order_by) == expected
    frame = cairn.search_runs(order_by=order_by)
    assert list(frame["tags.mlflow.runName"]) == expected


def test_nan_sorts_last_in_either_direction() -> None:
    for name, value in [("one", 1.0), ("nan", math.nan), ("three", 3.0)]:
        with cairn.start_run(run_name=name):
            cairn.log_metric("m", value)
        time.sleep(0.002)
    with cairn.start_run(run_name="missing"):
        pass
    assert _names(order_by=["metrics.m DESC"])[:2] == ["three", "one"]
    assert _names(order_by=["metrics.m ASC"])[:2] == ["one", "three"]
    assert set(_names(order_by=["metrics.m ASC"])[2:]) == {"nan", "missing"}


def test_invalid_order_by_raises_invalid_filter(runs: Runs) -> None:
    with pytest.raises(InvalidFilter):
        cairn.search_runs(order_by=["metrics.acc SIDEWAYS"])


# -- scope ----------------------------------------------------------------------------------


def test_max_results_limits_the_runs(runs: Runs) -> None:
    assert _names(max_results=2) == ["gamma", "beta"]
    assert len(cairn.search_runs(max_results=1)) == 1
    assert _names(max_results=2, order_by=["metrics.acc DESC"]) == ["alpha", "beta"]


def test_search_runs_searches_the_current_experiment_by_default(runs: Runs) -> None:
    with cairn.start_run(experiment_id="0"):
        pass
    assert sorted(_names()) == ["alpha", "beta", "gamma"]


def test_experiment_ids_select_the_experiments(runs: Runs) -> None:
    other = cairn.create_experiment("other")
    with cairn.start_run(experiment_id=other, run_name="elsewhere"):
        pass
    assert _names(experiment_ids=[other]) == ["elsewhere"]
    assert sorted(_names(experiment_ids=[other, runs.experiment_id])) == [
        "alpha",
        "beta",
        "elsewhere",
        "gamma",
    ]
    assert _names(experiment_ids=["0"]) == []


def test_experiment_names_select_the_experiments(runs: Runs) -> None:
    other = cairn.create_experiment("other")
    with cairn.start_run(experiment_id=other, run_name="elsewhere"):
        pass
    assert _names(experiment_names=["other"]) == ["elsewhere"]
    assert sorted(_names(experiment_names=["other", "search"])) == [
        "alpha",
        "beta",
        "elsewhere",
        "gamma",
    ]


def test_unknown_experiment_names_are_skipped(runs: Runs) -> None:
    # MLflow logs a warning for a name it cannot find and searches the others.
    assert sorted(_names(experiment_names=["search", "no-such-experiment"])) == [
        "alpha",
        "beta",
        "gamma",
    ]


def test_search_all_experiments(runs: Runs) -> None:
    other = cairn.create_experiment("other")
    with cairn.start_run(experiment_id=other, run_name="elsewhere"):
        pass
    with cairn.start_run(experiment_id="0", run_name="default"):
        pass
    assert sorted(_names(search_all_experiments=True)) == [
        "alpha",
        "beta",
        "default",
        "elsewhere",
        "gamma",
    ]


def test_search_all_experiments_skips_deleted_experiments(runs: Runs) -> None:
    gone = cairn.create_experiment("gone")
    with cairn.start_run(experiment_id=gone, run_name="in-deleted-experiment"):
        pass
    cairn.delete_experiment(gone)
    names = _names(search_all_experiments=True, run_view_type=ViewType.ALL)
    assert sorted(names) == ["alpha", "beta", "gamma"]


def test_run_view_type(runs: Runs) -> None:
    cairn.delete_run(runs.gamma.info.run_id)
    assert _names() == ["beta", "alpha"]
    assert _names(run_view_type=ViewType.ACTIVE_ONLY) == ["beta", "alpha"]
    assert _names(run_view_type=ViewType.DELETED_ONLY) == ["gamma"]
    assert _names(run_view_type=ViewType.ALL) == ["gamma", "beta", "alpha"]
    assert len(cairn.search_runs(run_view_type=ViewType.ALL)) == 3


def test_run_view_type_accepts_names(runs: Runs) -> None:
    cairn.delete_run(runs.gamma.info.run_id)
    assert _names(run_view_type="DELETED_ONLY") == ["gamma"]  # type: ignore[arg-type]


# -- the client's pages ---------------------------------------------------------------------


def test_client_search_runs_pages_return_every_run_exactly_once() -> None:
    experiment_id = cairn.create_experiment("paged")
    client = cairn.Client()
    created = set()
    for i in range(8):
        run = client.create_run(experiment_id, start_time=1_700_000_000_000 + i % 3)
        client.log_metric(run.info.run_id, "i", i % 4, synchronous=True)
        created.add(run.info.run_id)
    for order_by in (None, ["metrics.i DESC"], ["start_time ASC"]):
        seen: list[str] = []
        token = None
        pages = 0
        while True:
            page = client.search_runs(
                [experiment_id], max_results=3, order_by=order_by, page_token=token
            )
            pages += 1
            assert len(page) <= 3
            seen.extend(r.info.run_id for r in page)
            token = page.token
            if not token:
                break
        assert pages == 3
        assert len(seen) == len(created)
        assert set(seen) == created


def test_client_search_runs_with_malformed_page_token_is_rejected() -> None:
    with pytest.raises(InvalidParameter):
        cairn.Client().search_runs(["0"], page_token="not-a-token")


def test_client_search_runs_last_page_has_no_token() -> None:
    client = cairn.Client()
    for _ in range(3):
        client.create_run("0")
    page = client.search_runs("0", max_results=3)
    assert len(page) == 3
    assert page.token is None
