"""``cairn gc``: permanently remove soft-deleted runs, experiments and logged models, with their
artifacts.

Usage examples::

    cairn gc --dry-run                      # what would go; changes nothing
    cairn gc --older-than 30d --yes         # runs/experiments deleted at least 30 days ago
    cairn gc --run-ids 5f1c0e8a...,0a1b2c3d...
    cairn gc --experiment-ids 4,7           # these experiments and all their deleted runs

What is collected:

* with neither ``--run-ids`` nor ``--experiment-ids``: every deleted run, every deleted logged
  model, then every deleted experiment left without runs (all subject to ``--older-than``);
* ``--run-ids``: exactly these runs (each must be deleted, and old enough);
* ``--experiment-ids``: these experiments (each must be deleted, and old enough) and every
  deleted run they hold; their logged models go with them.

A run's artifacts are deleted through the artifact repository of its artifact URI before its
database rows, so an interrupted gc never leaves files that no record points to. An
experiment's artifact folder is deleted only when it lies strictly inside the store's artifact
root and overlaps no other experiment's folder nor the database file; otherwise it is left in
place (and reported).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from cairn.cli._common import (
    AgeType,
    CliError,
    add_plain_row,
    console,
    err_console,
    format_duration,
    get_client,
    iter_experiments,
    iter_runs,
    plural,
    split_csv,
)
from cairn.errors import CairnError, InvalidState

if TYPE_CHECKING:
    from rich.console import Console

    from cairn.client import Client
    from cairn.entities import Experiment, LoggedModel, Run
    from cairn.store.base import TrackingStore

#: From this many runs on, removal shows a progress bar.
PROGRESS_THRESHOLD = 20


@dataclass
class Plan:
    """What one gc removes."""

    runs: list[Run] = field(default_factory=list)
    #: Deleted logged models outside the experiments removed (those take theirs along).
    models: list[LoggedModel] = field(default_factory=list)
    experiments: list[Experiment] = field(default_factory=list)
    #: Experiment id -> artifact folder to delete with it (absent: the folder stays).
    folders: dict[str, str] = field(default_factory=dict)
    #: Deleted experiments that were asked for or eligible but stay, with the reason.
    kept: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.runs or self.models or self.experiments)


def _counts(runs: int, models: int, experiments: int) -> str:
    """How many of each, naming logged models only when there are some.

    >>> _counts(2, 0, 1)
    '2 runs and 1 experiment'
    >>> _counts(0, 1, 0)
    '0 runs, 1 logged model and 0 experiments'
    """
    parts = [plural(runs, "run")]
    if models:
        parts.append(plural(models, "logged model"))
    parts.append(plural(experiments, "experiment"))
    return ", ".join(parts[:-1]) + " and " + parts[-1]


@click.command("gc")
@click.option(
    "--older-than",
    type=AgeType(),
    default=None,
    metavar="AGE",
    help="Only what was deleted at least this long ago: 30d, 12h, 90m, 45s or 0. "
    "Default: everything deleted.",
)
@click.option(
    "--run-ids",
    multiple=True,
    metavar="IDS",
    help="Comma-separated ids of deleted runs to remove (only these).",
)
@click.option(
    "--experiment-ids",
    multiple=True,
    metavar="IDS",
    help="Comma-separated ids of deleted experiments to remove, with all their runs.",
)
@click.option("--dry-run", is_flag=True, help="List what would be removed; change nothing.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def gc(
    ctx: click.Context,
    older_than: int | None,
    run_ids: tuple[str, ...],
    experiment_ids: tuple[str, ...],
    dry_run: bool,
    yes: bool,
) -> None:
    """Permanently remove soft-deleted runs, experiments and logged models, with their artifacts.

    This cannot be undone. Use --dry-run first to see what would go.

    Example: cairn gc --older-than 30d --dry-run
    """
    client = get_client(ctx)
    notes = err_console()
    plan = make_plan(
        client,
        older_than_ms=older_than,
        run_ids=split_csv(run_ids),
        experiment_ids=split_csv(experiment_ids),
    )
    for experiment_id, reason in plan.kept:
        notes.print(f"Keeping deleted experiment {experiment_id}: {reason}.", markup=False)
    if plan.empty:
        click.echo("Nothing to remove.")
        return
    counts = _counts(len(plan.runs), len(plan.models), len(plan.experiments))
    if dry_run:
        _print_plan(plan)
        click.echo(f"Dry run: would permanently remove {counts}; nothing was changed.")
        return
    if not yes:
        click.confirm(f"Permanently remove {counts}, with their artifacts?", abort=True, err=True)
    removed = execute(client.store, plan, notes)
    click.echo(f"Removed {_counts(*removed)}.")


# -- planning ---------------------------------------------------------------------------------


def make_plan(
    client: Client,
    *,
    older_than_ms: int | None,
    run_ids: Sequence[str],
    experiment_ids: Sequence[str],
) -> Plan:
    """Decide what to remove, checking every named id first. Changes nothing.

    Raises RunNotFound / ExperimentNotFound for unknown ids and InvalidState for a named run
    or experiment that is not deleted (or deleted more recently than ``older_than_ms``).
    """
    from cairn.entities import ViewType

    store = client.store
    eligible_runs = set(store.deleted_run_ids(older_than_ms))
    runs: dict[str, Run] = {}
    candidates: list[Experiment] = []
    for run_id in run_ids:
        run = client.get_run(run_id)
        _check_run(run, eligible_runs, older_than_ms)
        runs[run_id] = run
    every_experiment = list(iter_experiments(client, view=ViewType.ALL))
    if experiment_ids:
        eligible = set(_deleted_experiment_ids(client, older_than_ms))
        for experiment_id in experiment_ids:
            experiment = client.get_experiment(experiment_id)
            _check_experiment(experiment, eligible, older_than_ms)
            candidates.append(experiment)
            for run in iter_runs(client, [experiment_id], view=ViewType.DELETED_ONLY):
                runs.setdefault(run.info.run_id, run)
    elif not run_ids:
        all_ids = [e.experiment_id for e in every_experiment]
        for run in iter_runs(client, all_ids, view=ViewType.DELETED_ONLY):
            if run.info.run_id in eligible_runs:
                runs[run.info.run_id] = run
        eligible = set(_deleted_experiment_ids(client, older_than_ms))
        candidates = [e for e in every_experiment if e.experiment_id in eligible]
    plan = Plan(runs=list(runs.values()))
    _plan_experiments(client, plan, candidates, every_experiment, set(runs))
    if not run_ids and not experiment_ids:
        going = {e.experiment_id for e in plan.experiments}
        for model_id in store.deleted_logged_model_ids(older_than_ms):
            model = store.get_logged_model(model_id, allow_deleted=True)
            if model.experiment_id not in going:
                plan.models.append(model)
    return plan


def _check_run(run: Run, eligible: set[str], older_than_ms: int | None) -> None:
    from cairn.entities import LifecycleStage

    run_id = run.info.run_id
    if run.info.lifecycle_stage != LifecycleStage.DELETED:
        raise InvalidState(
            f"Run {run_id} is not deleted; gc only removes deleted runs "
            f"(delete it first: cairn runs delete {run_id})"
        )
    if run_id not in eligible:
        raise InvalidState(
            f"Run {run_id} was deleted less than {format_duration(older_than_ms)} ago "
            "(see --older-than)"
        )


def _check_experiment(
    experiment: Experiment, eligible: set[str], older_than_ms: int | None
) -> None:
    from cairn.entities import LifecycleStage

    experiment_id = experiment.experiment_id
    if experiment.lifecycle_stage != LifecycleStage.DELETED:
        raise InvalidState(
            f"Experiment {experiment_id} is not deleted; gc only removes deleted experiments "
            f"(delete it first: cairn experiments delete {experiment_id})"
        )
    if experiment_id not in eligible:
        raise InvalidState(
            f"Experiment {experiment_id} was deleted less than "
            f"{format_duration(older_than_ms)} ago (see --older-than)"
        )


def _deleted_experiment_ids(client: Client, older_than_ms: int | None) -> list[str]:
    """Deleted experiments, deleted at least ``older_than_ms`` ago when given."""
    from cairn.entities import ViewType

    listed = getattr(client.store, "deleted_experiment_ids", None)
    if listed is not None:
        ids: list[str] = listed(older_than_ms)
        return ids
    if older_than_ms is not None:
        # Without deletion times we cannot honour the age: keep every experiment.
        return []
    return [e.experiment_id for e in iter_experiments(client, view=ViewType.DELETED_ONLY)]


def _plan_experiments(
    client: Client,
    plan: Plan,
    candidates: Sequence[Experiment],
    every_experiment: Sequence[Experiment],
    collected_runs: set[str],
) -> None:
    """Add the candidates that will hold no runs once ``collected_runs`` are gone, each with
    its artifact folder when that is safe to delete."""
    from cairn.entities import ViewType

    for experiment in candidates:
        remaining = sum(
            1
            for run in iter_runs(client, [experiment.experiment_id], view=ViewType.ALL)
            if run.info.run_id not in collected_runs
        )
        if remaining:
            plan.kept.append(
                (
                    experiment.experiment_id,
                    f"it still holds {plural(remaining, 'run')} that this gc does not remove",
                )
            )
        else:
            plan.experiments.append(experiment)
    going = {e.experiment_id for e in plan.experiments}
    others = [e.artifact_location for e in every_experiment if e.experiment_id not in going]
    root = getattr(client.store, "artifact_root", None)
    database = _database_file(client.store)
    for experiment in plan.experiments:
        location = experiment.artifact_location
        if root is not None and removable_folder(location, root, others, database):
            plan.folders[experiment.experiment_id] = location


def _database_file(store: TrackingStore) -> str | None:
    engine = getattr(store, "engine", None)
    if engine is None or engine.dialect.name != "sqlite":
        return None
    database: str | None = engine.url.database
    return database


def removable_folder(
    location: str, artifact_root: str, others: Iterable[str], database_file: str | None = None
) -> bool:
    """True when deleting folder ``location`` is safe: strictly inside ``artifact_root``, not
    overlapping (containing, or inside) any of the ``others`` folders, and not holding
    ``database_file``.

    >>> removable_folder("file:///m/4", "file:///m", ["file:///m/0"])
    True
    >>> removable_folder("file:///elsewhere/4", "file:///m", [])
    False
    """
    from cairn.artifacts import local_path_from_uri

    local, root = local_path_from_uri(location), local_path_from_uri(artifact_root)
    if local is None or root is None:
        return _removable_remote(location, artifact_root, others)
    folder = os.path.realpath(local)
    real_root = os.path.realpath(root)
    if folder == real_root or not _within(folder, real_root):
        return False
    for other in others:
        other_local = local_path_from_uri(other)
        if other_local is None:
            continue
        other_real = os.path.realpath(other_local)
        if _within(other_real, folder) or _within(folder, other_real):
            return False
    return database_file is None or not _within(os.path.realpath(database_file), folder)


def _within(path: str, root: str) -> bool:
    from cairn.artifacts.base import is_within

    return is_within(path, root)


def _removable_remote(location: str, artifact_root: str, others: Iterable[str]) -> bool:
    """The same rule for object-store URIs (``s3://bucket/prefix/4``), compared as text."""
    if location.partition(":")[0].lower() != artifact_root.partition(":")[0].lower():
        return False
    root = artifact_root.rstrip("/") + "/"
    folder = location.rstrip("/")
    if not folder.startswith(root):
        return False
    # "." and ".." would let a textually-inside URI point elsewhere.
    if any(part in ("", ".", "..") for part in folder[len(root) :].split("/")):
        return False
    for other in others:
        other = other.rstrip("/")
        if other == folder or other.startswith(folder + "/") or folder.startswith(other + "/"):
            return False
    return True


# -- output and execution ---------------------------------------------------------------------


def _print_plan(plan: Plan) -> None:
    from rich.table import Table

    table = Table(title="Would remove", title_justify="left")
    table.add_column("Kind", no_wrap=True)
    table.add_column("ID", no_wrap=True)
    table.add_column("Name", overflow="fold", min_width=8)
    table.add_column("Exp", justify="right", no_wrap=True)
    table.add_column("Artifacts deleted", overflow="fold")
    for run in plan.runs:
        info = run.info
        location = _readable(info.artifact_uri)
        add_plain_row(table, "run", info.run_id, info.run_name, info.experiment_id, location)
    for model in plan.models:
        location = _readable(model.artifact_uri)
        add_plain_row(
            table, "logged model", model.model_id, model.name, model.experiment_id, location
        )
    for experiment in plan.experiments:
        folder = plan.folders.get(experiment.experiment_id)
        location = "(folder left in place)" if folder is None else _readable(folder)
        add_plain_row(table, "experiment", experiment.experiment_id, experiment.name, "", location)
    console().print(table)


def _readable(uri: str) -> str:
    """A local path for a ``file:`` URI (shorter, and what the user would type); else the URI."""
    from cairn.artifacts import local_path_from_uri

    return local_path_from_uri(uri) or uri


def execute(store: TrackingStore, plan: Plan, notes: Console) -> tuple[int, int, int]:
    """Remove the plan's runs and logged models (artifacts first, then rows), then its
    experiments; return how many runs, logged models and experiments went.

    Each run is checked again just before its files go: one restored since the plan was made
    (by someone else, meanwhile) is skipped with a note, as is an experiment it keeps alive.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=notes,
        transient=True,
        disable=len(plan.runs) < PROGRESS_THRESHOLD,
    )
    runs_removed = models_removed = experiments_removed = 0
    with progress:
        task = progress.add_task("Removing runs", total=len(plan.runs))
        for run in plan.runs:
            if _still_deleted(store, run.info.run_id, notes):
                _delete_run_artifacts(run, runs_removed)
                store.purge_run(run.info.run_id)
                runs_removed += 1
            progress.advance(task)
    for model in plan.models:
        if _purge_model(store, model):
            models_removed += 1
    for experiment in plan.experiments:
        if _purge_experiment(store, experiment, plan.folders.get(experiment.experiment_id), notes):
            experiments_removed += 1
    return runs_removed, models_removed, experiments_removed


def _still_deleted(store: TrackingStore, run_id: str, notes: Console) -> bool:
    from cairn.entities import LifecycleStage
    from cairn.errors import RunNotFound

    try:
        stage = store.get_run(run_id).info.lifecycle_stage
    except RunNotFound:  # purged by a concurrent gc: nothing left to do
        return False
    if stage != LifecycleStage.DELETED:
        notes.print(f"Skipping run {run_id}: it was restored meanwhile.", markup=False)
        return False
    return True


def _purge_model(store: TrackingStore, model: LoggedModel) -> bool:
    """Artifacts, then rows, of one logged model still deleted; its folder
    ``<experiment>/models/<model_id>/`` goes too when nothing else is left in it."""
    from cairn.artifacts import local_path_from_uri
    from cairn.errors import ResourceNotFound

    # A deleted logged model cannot be restored, so only a concurrent gc changes it meanwhile.
    model_id = model.model_id
    try:
        store.get_logged_model(model_id, allow_deleted=True)
    except ResourceNotFound:
        return False
    _delete_folder(model.artifact_uri, f"logged model {model_id}")
    store.purge_logged_model(model_id)
    local = local_path_from_uri(model.artifact_uri)
    if local is not None:
        parent = os.path.dirname(os.path.abspath(local))
        if os.path.basename(parent) == model_id:
            with contextlib.suppress(OSError):  # not empty, or already gone: leave it
                os.rmdir(parent)
    return True


def _purge_experiment(
    store: TrackingStore, experiment: Experiment, folder: str | None, notes: Console
) -> bool:
    from cairn.errors import ExperimentNotFound

    experiment_id = experiment.experiment_id
    try:
        current = store.get_experiment(experiment_id)
    except ExperimentNotFound:
        return False
    # Rows first here: purge_experiment refuses while any run remains (one restored meanwhile),
    # and then the folder must stay too.
    try:
        store.purge_experiment(experiment_id)
    except InvalidState as err:
        notes.print(f"Keeping experiment {experiment_id}: {err.message}.", markup=False)
        return False
    if folder is not None and current.artifact_location == folder:
        _delete_folder(folder, f"experiment {experiment_id}")
    return True


def _delete_run_artifacts(run: Run, removed_before: int) -> None:
    from cairn.artifacts import local_path_from_uri

    uri = run.info.artifact_uri
    local = local_path_from_uri(uri)
    if local is not None and os.path.islink(local):
        # The repository would delete what the link points to (wherever that is); the run
        # owns the link, not its target.
        os.unlink(local)
    else:
        try:
            _delete_folder(uri, f"run {run.info.run_id}")
        except CliError as err:
            raise CliError(
                f"{err.message} ({plural(removed_before, 'run')} removed before it)"
            ) from err
    # The run's own folder (<experiment>/<run_id>/) is left empty; remove it if it is.
    if local is not None:
        parent = os.path.dirname(os.path.abspath(local))
        if os.path.basename(parent) == run.info.run_id:
            # Not empty (someone else's files) or already gone: leave it.
            with contextlib.suppress(OSError):
                os.rmdir(parent)


def _delete_folder(uri: str, owner: str) -> None:
    from cairn.artifacts import get_artifact_repository

    try:
        get_artifact_repository(uri).delete_artifacts()
    except (CairnError, OSError) as err:
        message = err.message if isinstance(err, CairnError) else str(err)
        raise CliError(f"Could not delete the artifacts of {owner} at {uri}: {message}") from err
