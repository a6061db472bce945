"""``cairn runs``: list (experiments by id or name, filter, order, limit, views, columns, JSON),
describe, delete, restore."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

import cairn
from cairn.entities import Dataset, DatasetInput, InputTag, Run
from tests.cli._cli_support import Cli


def _json(result: object) -> object:
    stdout = result.stdout  # type: ignore[attr-defined]
    return json.loads(stdout)


def _listed_ids(cli: Cli, *args: str) -> list[str]:
    result = cli("runs", "list", *args, "--json")
    assert result.exit_code == 0, result.output
    return [run["run_id"] for run in json.loads(result.stdout)]


# -- list -------------------------------------------------------------------------------------


def test_list_defaults_to_the_default_experiment(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    in_default = make_run("0")
    make_run(client.create_experiment("other"))
    assert _listed_ids(cli) == [in_default.info.run_id]


def test_list_table_shows_short_id_name_status_and_all_values(
    cli: Cli, make_run: Callable[..., Run]
) -> None:
    run = make_run(name="clever-owl", params={"lr": 0.1}, metrics={"loss": 0.25})
    result = cli("runs", "list")
    assert result.exit_code == 0, result.output
    out = result.output
    assert run.info.run_id[:8] in out
    assert run.info.run_id not in out  # the table shows the short id only
    for text in ("clever-owl", "FINISHED", "loss", "0.25", "lr", "0.1", "metrics", "params"):
        assert text in out


def test_list_json_has_full_ids_and_everything_logged(
    cli: Cli, make_run: Callable[..., Run]
) -> None:
    run = make_run(name="owl", params={"lr": 0.1}, metrics={"loss": 0.25, "bad": float("nan")})
    result = cli("runs", "list", "--json")
    assert result.exit_code == 0, result.output
    [listed] = json.loads(result.stdout)
    assert listed["run_id"] == run.info.run_id
    assert listed["run_name"] == "owl"
    assert listed["status"] == "FINISHED"
    assert listed["lifecycle_stage"] == "active"
    assert listed["experiment_id"] == "0"
    assert listed["params"] == {"lr": "0.1"}
    assert listed["metrics"] == {"loss": 0.25, "bad": "NaN"}
    assert listed["tags"]["mlflow.runName"] == "owl"
    assert listed["start_time"] == run.info.start_time
    assert listed["end_time"] == run.info.end_time
    assert listed["duration_ms"] == run.info.end_time - run.info.start_time  # type: ignore[operator]
    assert listed["artifact_uri"] == run.info.artifact_uri


def test_list_accepts_experiment_ids_and_names(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    iris = make_run(client.create_experiment("iris"))
    wine_id = client.create_experiment("wine")
    wine = make_run(wine_id)
    make_run("0")
    assert _listed_ids(cli, "--experiment", "iris") == [iris.info.run_id]
    assert _listed_ids(cli, "--experiment", wine_id) == [wine.info.run_id]
    both = _listed_ids(cli, "-e", "iris", "-e", wine_id)
    assert set(both) == {iris.info.run_id, wine.info.run_id}


def test_list_prefers_an_id_over_a_name_that_looks_like_one(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    first = client.create_experiment("first")
    named_like_it = client.create_experiment(first)  # an experiment *named* "1"
    by_id = make_run(first)
    make_run(named_like_it)
    assert _listed_ids(cli, "--experiment", first) == [by_id.info.run_id]


def test_list_an_unknown_experiment_fails_cleanly(cli: Cli) -> None:
    result = cli("runs", "list", "--experiment", "nope")
    assert result.exit_code == 1
    assert "Error: No experiment with id or name 'nope'" in result.stderr


def test_list_filter_and_order_by(cli: Cli, make_run: Callable[..., Run]) -> None:
    low = make_run(metrics={"acc": 0.5}, params={"opt": "adam"})
    high = make_run(metrics={"acc": 0.9}, params={"opt": "adam"})
    make_run(metrics={"acc": 0.7}, params={"opt": "sgd"})
    ordered = _listed_ids(cli, "--filter", "params.opt = 'adam'", "--order-by", "metrics.acc DESC")
    assert ordered == [high.info.run_id, low.info.run_id]
    ascending = _listed_ids(cli, "--filter", "params.opt = 'adam'", "--order-by", "metrics.acc")
    assert ascending == [low.info.run_id, high.info.run_id]


def test_list_with_a_bad_filter_names_the_token(cli: Cli) -> None:
    result = cli("runs", "list", "--filter", "bogus.key = 1")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Invalid filter")
    assert "'bogus'" in result.stderr
    assert "Traceback" not in result.output


def test_list_with_a_bad_order_by_fails_cleanly(cli: Cli) -> None:
    result = cli("runs", "list", "--order-by", "metrics.acc SIDEWAYS")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "SIDEWAYS" in result.stderr


def test_list_max_results_limits_the_rows(cli: Cli, make_run: Callable[..., Run]) -> None:
    for _ in range(5):
        make_run(artifact=None)
    assert len(_listed_ids(cli, "--max-results", "3")) == 3
    assert len(_listed_ids(cli)) == 5  # default 100


def test_list_max_results_default_is_100(cli: Cli, client: cairn.Client) -> None:
    for _ in range(101):
        client.create_run("0")
    assert len(_listed_ids(cli)) == 100


@pytest.mark.parametrize(
    ("view", "expected"), [("active", {"kept"}), ("deleted", {"gone"}), ("all", {"kept", "gone"})]
)
def test_list_view_selects_by_lifecycle(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run], view: str, expected: set[str]
) -> None:
    make_run(name="kept")
    client.delete_run(make_run(name="gone").info.run_id)
    result = cli("runs", "list", "--view", view, "--json")
    assert {run["run_name"] for run in json.loads(result.stdout)} == expected
    if view != "active":
        assert "deleted" in cli("runs", "list", "--view", view).output  # a lifecycle column


def test_list_columns_choose_what_is_shown(cli: Cli, make_run: Callable[..., Run]) -> None:
    make_run(params={"lr": "0.125", "depth": "77"}, metrics={"loss": 0.5, "acc": 0.333})
    result = cli("runs", "list", "--columns", "params.lr,metrics.loss", "--columns", "tags.x")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "0.125" in out
    assert "0.5" in out
    assert "77" not in out
    assert "0.333" not in out


def test_list_columns_with_an_unknown_prefix_is_a_usage_error(cli: Cli) -> None:
    result = cli("runs", "list", "--columns", "weights.w1")
    assert result.exit_code == 2
    assert "weights.w1" in result.stderr


def test_list_default_columns_fit_the_terminal(cli: Cli, make_run: Callable[..., Run]) -> None:
    make_run(metrics={f"metric_{i:02d}": float(i) for i in range(30)})
    result = cli("runs", "list", env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 120
    assert "metric_00" in result.output
    assert "metric_29" not in result.output
    assert "more columns not shown" in result.output


def test_list_with_no_runs_says_so(cli: Cli) -> None:
    result = cli("runs", "list")
    assert result.exit_code == 0
    assert "No runs found." in result.output


def test_list_running_run_shows_elapsed_duration(cli: Cli, client: cairn.Client) -> None:
    run = client.create_run("0", start_time=0)
    [listed] = _json(cli("runs", "list", "--json"))  # type: ignore[misc]
    assert listed["status"] == "RUNNING"
    assert listed["end_time"] is None
    assert listed["duration_ms"] > 0
    assert run.info.run_id[:8] in cli("runs", "list").output


# -- describe ---------------------------------------------------------------------------------


@pytest.fixture
def described_run(client: cairn.Client, make_run: Callable[..., Run]) -> Run:
    exp_id = client.create_experiment("iris")
    parent = client.create_run(exp_id)
    run = client.create_run(
        exp_id,
        run_name="child-run",
        tags={
            "mlflow.user": "ada",
            "mlflow.source.name": "train.py",
            "mlflow.source.git.commit": "abc123def456",
            "mlflow.parentRunId": parent.info.run_id,
            "team": "vision",
        },
    )
    run_id = run.info.run_id
    client.log_param(run_id, "lr", 0.01, synchronous=True)
    client.log_metric(run_id, "loss", 0.9, step=0, synchronous=True)
    client.log_metric(run_id, "loss", 0.125, step=1, synchronous=True)
    client.log_inputs(
        run_id,
        [
            DatasetInput(
                Dataset("iris-train", "d1g3st", "local", '{"uri": "/data/iris.csv"}'),
                (InputTag("mlflow.data.context", "training"),),
            )
        ],
    )
    client.set_terminated(run_id)
    return client.get_run(run_id)


def test_describe_shows_info_params_metrics_tags_and_datasets(cli: Cli, described_run: Run) -> None:
    result = cli("runs", "describe", described_run.info.run_id)
    assert result.exit_code == 0, result.output
    out = result.output
    info = described_run.info
    for text in (
        info.run_id,
        "child-run",
        "iris",
        "FINISHED",
        "ada",
        "train.py",
        "abc123def456",
        described_run.data.tags["mlflow.parentRunId"],
        "Params",
        "lr",
        "0.01",
        "Metrics",
        "0.125",
        "Tags",
        "team",
        "vision",
        "Datasets",
        "iris-train",
        "d1g3st",
        "training",
    ):
        assert text in out, text
    assert "0.9" not in out  # latest value only


def test_describe_json(cli: Cli, described_run: Run) -> None:
    result = cli("runs", "describe", described_run.info.run_id, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["run_id"] == described_run.info.run_id
    assert data["params"] == {"lr": "0.01"}
    assert data["metrics"] == {"loss": 0.125}
    assert data["tags"]["team"] == "vision"
    assert data["datasets"] == [
        {
            "name": "iris-train",
            "digest": "d1g3st",
            "source_type": "local",
            "source": '{"uri": "/data/iris.csv"}',
            "schema": None,
            "profile": None,
            "tags": {"mlflow.data.context": "training"},
        }
    ]


def test_describe_an_unknown_run_fails_with_exit_code_1(cli: Cli) -> None:
    result = cli("runs", "describe", "0123456789abcdef0123456789abcdef")
    assert result.exit_code == 1
    assert (
        result.stderr.strip() == "Error: Run with id='0123456789abcdef0123456789abcdef' not found"
    )


# -- delete / restore -------------------------------------------------------------------------


def test_delete_and_restore_several_runs(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    a, b = make_run().info.run_id, make_run().info.run_id
    deleted = cli("runs", "delete", a, b)
    assert deleted.exit_code == 0, deleted.output
    assert {client.get_run(r).info.lifecycle_stage for r in (a, b)} == {"deleted"}
    restored = cli("runs", "restore", a, b)
    assert restored.exit_code == 0, restored.output
    assert {client.get_run(r).info.lifecycle_stage for r in (a, b)} == {"active"}


def test_delete_with_one_unknown_id_changes_nothing(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    known = make_run().info.run_id
    result = cli("runs", "delete", known, "feedface")
    assert result.exit_code == 1
    assert "feedface" in result.stderr
    assert client.get_run(known).info.lifecycle_stage == "active"


def test_delete_needs_a_run_id(cli: Cli) -> None:
    assert cli("runs", "delete").exit_code == 2


# -- colour -----------------------------------------------------------------------------------

GREEN = "\x1b[32m"


def test_statuses_are_coloured_on_a_colour_terminal(cli: Cli, make_run: Callable[..., Run]) -> None:
    make_run()
    result = cli("runs", "list", env={"FORCE_COLOR": "1", "NO_COLOR": ""})
    assert result.exit_code == 0, result.output
    assert GREEN in result.output


def test_no_color_turns_colour_off(cli: Cli, make_run: Callable[..., Run]) -> None:
    run = make_run()
    for args in (("runs", "list"), ("runs", "describe", run.info.run_id)):
        result = cli(*args, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
        assert result.exit_code == 0, result.output
        assert GREEN not in result.output
        assert "FINISHED" in result.output


def test_an_experiment_name_with_a_comma_is_one_name(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    run = make_run(client.create_experiment("a,b"))
    assert _listed_ids(cli, "--experiment", "a,b") == [run.info.run_id]
