"""``cairn experiments``: list (table and JSON, views, filters), create, rename, delete,
restore."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest

import cairn
from cairn.entities import Run
from tests.cli._cli_support import Cli


def test_list_shows_the_default_experiment_of_a_fresh_store(cli: Cli) -> None:
    result = cli("experiments", "list")
    assert result.exit_code == 0, result.output
    assert "Default" in result.output
    assert "active" in result.output


def test_list_shows_run_counts_creation_time_and_location(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    exp_id = client.create_experiment("iris")
    make_run(exp_id)
    make_run(exp_id)
    deleted = make_run(exp_id)
    client.delete_run(deleted.info.run_id)
    exp = client.get_experiment(exp_id)
    assert exp.creation_time is not None

    result = cli("experiments", "list")
    assert result.exit_code == 0, result.output
    line = next(row for row in result.output.splitlines() if "iris" in row)
    cells = [cell.strip() for cell in line.split("│") if cell.strip()]
    # Local time, to the second: the same rendering the user's clock shows.
    created = datetime.fromtimestamp(exp.creation_time / 1000).strftime("%Y-%m-%d %H:%M:%S")
    assert cells[:5] == [exp_id, "iris", "active", "2", created]
    assert cells[5] == exp.artifact_location


def test_list_json_parses_and_counts_active_runs(
    cli: Cli, client: cairn.Client, make_run: Callable[..., Run]
) -> None:
    exp_id = client.create_experiment("iris", tags={"team": "vision"})
    make_run(exp_id)
    result = cli("experiments", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = {e["experiment_id"]: e for e in json.loads(result.stdout)}
    assert set(listed) == {"0", exp_id}
    iris = listed[exp_id]
    assert iris["name"] == "iris"
    assert iris["lifecycle_stage"] == "active"
    assert iris["tags"] == {"team": "vision"}
    assert iris["active_runs"] == 1
    assert isinstance(iris["creation_time"], int)
    assert iris["artifact_location"] == client.get_experiment(exp_id).artifact_location


@pytest.mark.parametrize(
    ("view", "expected"),
    [("active", {"0", "keep"}), ("deleted", {"gone"}), ("all", {"0", "keep", "gone"})],
)
def test_list_view_selects_by_lifecycle(
    cli: Cli, client: cairn.Client, view: str, expected: set[str]
) -> None:
    client.create_experiment("keep")
    client.delete_experiment(client.create_experiment("gone"))
    result = cli("experiments", "list", "--view", view, "--json")
    assert result.exit_code == 0, result.output
    names = {e["name"] if e["experiment_id"] != "0" else "0" for e in json.loads(result.stdout)}
    assert names == expected


def test_list_filter_selects_by_name(cli: Cli, client: cairn.Client) -> None:
    client.create_experiment("bert-base")
    client.create_experiment("resnet")
    result = cli("experiments", "list", "--filter", "name LIKE 'bert-%'", "--json")
    assert result.exit_code == 0, result.output
    assert [e["name"] for e in json.loads(result.stdout)] == ["bert-base"]


def test_list_with_a_bad_filter_names_the_token(cli: Cli) -> None:
    result = cli("experiments", "list", "--filter", "name ~~ 'x'")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Invalid filter")
    assert "'~'" in result.stderr


def test_list_prints_names_verbatim_not_as_markup(cli: Cli, client: cairn.Client) -> None:
    client.create_experiment("[bold]loud[/bold]")
    assert "[bold]loud[/bold]" in cli("experiments", "list").output


def test_list_with_nothing_to_show_says_so(cli: Cli) -> None:
    result = cli("experiments", "list", "--view", "deleted")
    assert result.exit_code == 0
    assert "No experiments found." in result.output


def test_create_prints_only_the_new_id(cli: Cli, client: cairn.Client) -> None:
    result = cli("experiments", "create", "iris", "--tag", "team=vision", "--tag", "stage=a=b")
    assert result.exit_code == 0, result.output
    exp_id = result.stdout.strip()
    exp = client.get_experiment(exp_id)
    assert exp.name == "iris"
    assert exp.tags == {"team": "vision", "stage": "a=b"}


def test_create_with_an_artifact_location(cli: Cli, client: cairn.Client) -> None:
    location = "s3://bucket/iris"
    result = cli("experiments", "create", "iris", "--artifact-location", location)
    assert result.exit_code == 0, result.output
    assert client.get_experiment(result.stdout.strip()).artifact_location == location


def test_create_with_a_malformed_tag_is_a_usage_error(cli: Cli) -> None:
    result = cli("experiments", "create", "iris", "--tag", "novalue")
    assert result.exit_code == 2
    assert "--tag" in result.stderr
    assert "KEY=VALUE" in result.stderr


def test_create_a_taken_name_fails_cleanly(cli: Cli, client: cairn.Client) -> None:
    client.create_experiment("iris")
    result = cli("experiments", "create", "iris")
    assert result.exit_code == 1
    assert "Error: Experiment 'iris' already exists" in result.stderr


def test_rename(cli: Cli, client: cairn.Client) -> None:
    exp_id = client.create_experiment("iris")
    result = cli("experiments", "rename", exp_id, "iris-v2")
    assert result.exit_code == 0, result.output
    assert client.get_experiment(exp_id).name == "iris-v2"
    assert "iris-v2" in result.output


def test_rename_an_unknown_experiment_fails_cleanly(cli: Cli) -> None:
    result = cli("experiments", "rename", "42", "x")
    assert result.exit_code == 1
    assert "Error: No experiment with id '42'" in result.stderr


def test_delete_and_restore(cli: Cli, client: cairn.Client, make_run: Callable[..., Run]) -> None:
    exp_id = client.create_experiment("iris")
    run = make_run(exp_id)
    deleted = cli("experiments", "delete", exp_id)
    assert deleted.exit_code == 0, deleted.output
    assert "cairn gc" in deleted.output
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"

    restored = cli("experiments", "restore", exp_id)
    assert restored.exit_code == 0, restored.output
    assert client.get_experiment(exp_id).lifecycle_stage == "active"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"


def test_deleting_the_default_experiment_fails_cleanly(cli: Cli) -> None:
    result = cli("experiments", "delete", "0")
    assert result.exit_code == 1
    assert "Error: The Default experiment (id 0) cannot be deleted" in result.stderr
