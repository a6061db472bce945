"""``cairn experiments``: list, create, rename, delete and restore experiments.

Usage examples::

    cairn experiments list
    cairn experiments list --view all --filter "name LIKE 'bert-%'" --json
    cairn experiments create iris --artifact-location s3://bucket/iris --tag team=vision
    cairn experiments rename 3 iris-v2
    cairn experiments delete 3        # soft delete: `cairn gc` removes it for good
    cairn experiments restore 3
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from cairn.cli._common import (
    add_plain_row,
    console,
    echo_json,
    format_time,
    get_client,
    iter_experiments,
    json_option,
    parse_key_values,
    view_option,
    view_type,
)

if TYPE_CHECKING:
    from cairn.client import Client
    from cairn.entities import Experiment


@click.group()
def experiments() -> None:
    """List, create, rename, delete and restore experiments."""


@experiments.command("list")
@view_option("experiments")
@click.option(
    "--filter",
    "filter_string",
    metavar="F",
    help="Search filter, e.g. \"name LIKE 'bert-%'\" or \"tags.team = 'vision'\".",
)
@json_option
@click.pass_context
def list_experiments(
    ctx: click.Context, view: str, filter_string: str | None, as_json: bool
) -> None:
    """List experiments with their number of active runs.

    Example: cairn experiments list --view all --filter "name LIKE 'bert-%'"
    """
    client = get_client(ctx)
    found = list(iter_experiments(client, view=view_type(view), filter_string=filter_string))
    counts = _run_counts(client, [e.experiment_id for e in found])
    if as_json:
        echo_json([_experiment_dict(e, counts.get(e.experiment_id)) for e in found])
        return
    _print_experiments(found, counts)


def _run_counts(client: Client, experiment_ids: Sequence[str]) -> dict[str, int]:
    """Active runs per experiment, when the store can count them cheaply (else empty)."""
    count_runs = getattr(client.store, "count_runs", None)
    if count_runs is None or not experiment_ids:
        return {}
    counts: dict[str, int] = count_runs(experiment_ids)
    return counts


def _experiment_dict(experiment: Experiment, runs: int | None) -> dict[str, Any]:
    return {
        "experiment_id": experiment.experiment_id,
        "name": experiment.name,
        "lifecycle_stage": experiment.lifecycle_stage,
        "artifact_location": experiment.artifact_location,
        "creation_time": experiment.creation_time,
        "last_update_time": experiment.last_update_time,
        "tags": dict(experiment.tags),
        "active_runs": runs,
    }


def _print_experiments(found: Sequence[Experiment], counts: dict[str, int]) -> None:
    from rich.table import Table

    out = console()
    if not found:
        out.print("No experiments found.")
        return
    table = Table()
    table.add_column("ID", justify="right", no_wrap=True)
    table.add_column("Name", overflow="fold")
    table.add_column("Lifecycle", no_wrap=True)
    table.add_column("Runs", justify="right", no_wrap=True)
    table.add_column("Created", no_wrap=True)
    table.add_column("Artifact location", overflow="fold")
    for exp in found:
        count = counts.get(exp.experiment_id)
        add_plain_row(
            table,
            exp.experiment_id,
            exp.name,
            exp.lifecycle_stage,
            "" if count is None else str(count),
            format_time(exp.creation_time),
            exp.artifact_location,
        )
    out.print(table)


@experiments.command("create")
@click.argument("name")
@click.option(
    "--artifact-location",
    metavar="URI",
    help="Where the experiment's runs keep their artifacts (default: under the store's root).",
)
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="KEY=VALUE",
    help="A tag to set on the experiment; repeat for more.",
)
@click.pass_context
def create_experiment(
    ctx: click.Context, name: str, artifact_location: str | None, tags: tuple[str, ...]
) -> None:
    """Create an experiment named NAME and print its id.

    Example: cairn experiments create iris --tag team=vision
    """
    tag_map = parse_key_values(tags, "--tag")
    experiment_id = get_client(ctx).create_experiment(name, artifact_location, tag_map)
    # The bare id, so scripts can capture it: EXP=$(cairn experiments create iris)
    click.echo(experiment_id)


@experiments.command("rename")
@click.argument("experiment_id")
@click.argument("new_name")
@click.pass_context
def rename_experiment(ctx: click.Context, experiment_id: str, new_name: str) -> None:
    """Rename experiment EXPERIMENT_ID to NEW_NAME."""
    get_client(ctx).rename_experiment(experiment_id, new_name)
    click.echo(f"Renamed experiment {experiment_id} to {new_name!r}.")


@experiments.command("delete")
@click.argument("experiment_id")
@click.pass_context
def delete_experiment(ctx: click.Context, experiment_id: str) -> None:
    """Soft-delete experiment EXPERIMENT_ID and its runs.

    Nothing is lost yet: `cairn experiments restore` brings it back, `cairn gc` removes it
    for good.
    """
    get_client(ctx).delete_experiment(experiment_id)
    click.echo(
        f"Deleted experiment {experiment_id} and its runs (restore with: cairn experiments "
        f"restore {experiment_id}; remove for good with: cairn gc)."
    )


@experiments.command("restore")
@click.argument("experiment_id")
@click.pass_context
def restore_experiment(ctx: click.Context, experiment_id: str) -> None:
    """Restore the deleted experiment EXPERIMENT_ID, with the runs deleted along with it."""
    get_client(ctx).restore_experiment(experiment_id)
    click.echo(f"Restored experiment {experiment_id}.")
