"""``cairn runs``: search runs as a table, describe one run, delete and restore runs.

Usage examples::

    cairn runs list                                  # the Default experiment ("0")
    cairn runs list --experiment iris --experiment 4 --filter "metrics.acc > 0.9" \\
        --order-by "metrics.acc DESC" --columns metrics.acc,params.lr --max-results 20
    cairn runs list --view deleted --json
    cairn runs describe 5f1c0e8a9b2d4c6e8f0a1b2c3d4e5f60
    cairn runs delete 5f1c0e8a9b2d4c6e8f0a1b2c3d4e5f60 0a1b2c3d4e5f60718293a4b5c6d7e8f9
    cairn runs restore 5f1c0e8a9b2d4c6e8f0a1b2c3d4e5f60
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import click

from cairn.cli._common import (
    add_plain_row,
    console,
    echo_json,
    format_duration,
    format_metric,
    format_time,
    get_client,
    iter_runs,
    json_option,
    plural,
    resolve_experiment,
    run_duration_ms,
    split_csv,
    styled_status,
    view_option,
    view_type,
)

if TYPE_CHECKING:
    from rich.console import RenderableType

    from cairn.client import Client
    from cairn.entities import Run

SHORT_ID = 8
_VALUE_WIDTH = 24  # widest a name, metric or param cell gets in the table
_COLUMN_OVERHEAD = 3  # a cell's padding (one space each side) and the rule to its right
_MIN_SQUEEZED = 8  # narrowest the name and the extra columns get when the table must shrink

Kind = Literal["metrics", "params", "tags"]
_KINDS: dict[str, Kind] = {
    **dict.fromkeys(("metrics", "metric"), "metrics"),
    **dict.fromkeys(("params", "param", "parameters", "parameter"), "params"),
    **dict.fromkeys(("tags", "tag"), "tags"),
}


@dataclass(frozen=True)
class Column:
    """One extra column of ``runs list``: a metric, param or tag key."""

    kind: Kind
    key: str

    @property
    def label(self) -> str:
        return f"{self.kind}.{self.key}"

    @property
    def header(self) -> str:
        """Two lines (kind over key): narrower than the label, and the key stays readable."""
        return f"{self.kind}\n{self.key}"

    def cell(self, run: Run) -> str:
        data = run.data
        if self.kind == "metrics":
            value = data.metrics.get(self.key)
            return "" if value is None else format_metric(value)
        source: Mapping[str, str] = data.params if self.kind == "params" else data.tags
        return source.get(self.key, "")


def parse_columns(specs: Sequence[str]) -> list[Column]:
    """``["metrics.loss,params.lr"]`` as columns. Raises click.BadParameter for a spec without
    a known prefix."""
    columns = []
    for spec in split_csv(specs):
        prefix, dot, key = spec.partition(".")
        kind = _KINDS.get(prefix.lower())
        if not dot or not key or kind is None:
            raise click.BadParameter(
                f"{spec!r} is not a column; use metrics.<key>, params.<key> or tags.<key>",
                param_hint="--columns",
            )
        columns.append(Column(kind, key))
    return columns


@click.group()
def runs() -> None:
    """Search, describe, delete and restore runs."""


@runs.command("list")
@click.option(
    "--experiment",
    "-e",
    "experiment_refs",
    multiple=True,
    metavar="ID_OR_NAME",
    help="Experiment id or name to search; repeat for more. Default: the Default experiment (0).",
)
@click.option(
    "--filter",
    "filter_string",
    default="",
    metavar="F",
    help="Search filter, e.g. \"metrics.loss < 0.3 AND params.optimizer = 'adam'\".",
)
@click.option(
    "--order-by",
    multiple=True,
    metavar="KEY [ASC|DESC]",
    help='Sort key, e.g. "metrics.loss DESC"; repeat for more. Default: newest first.',
)
@click.option(
    "--max-results",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Show at most this many runs.",
)
@view_option("runs")
@click.option(
    "--columns",
    "column_specs",
    multiple=True,
    metavar="COLS",
    help="Comma-separated metrics./params./tags. columns to show, e.g. params.lr,metrics.loss. "
    "Default: the metrics, then params, of the shown runs, as many as fit.",
)
@json_option
@click.pass_context
def list_runs(
    ctx: click.Context,
    experiment_refs: tuple[str, ...],
    filter_string: str,
    order_by: tuple[str, ...],
    max_results: int,
    view: str,
    column_specs: tuple[str, ...],
    as_json: bool,
) -> None:
    """List the runs of one or more experiments as a table.

    Example: cairn runs list -e iris --filter "metrics.acc > 0.9" --order-by "metrics.acc DESC"
    """
    columns = parse_columns(column_specs) if column_specs else None
    client = get_client(ctx)
    experiment_ids = _experiment_ids(client, experiment_refs)
    found = list(
        iter_runs(
            client,
            experiment_ids,
            view=view_type(view),
            filter_string=filter_string,
            order_by=list(order_by) or None,
            limit=max_results,
        )
    )
    if as_json:
        now = _now_ms()
        echo_json([run_dict(run, now) for run in found])
        return
    _print_runs(found, columns, show_lifecycle=view != "active", multi=len(experiment_ids) > 1)


def _experiment_ids(client: Client, refs: Sequence[str]) -> list[str]:
    if not refs:
        from cairn.store.base import DEFAULT_EXPERIMENT_ID

        return [DEFAULT_EXPERIMENT_ID]
    # Not split on commas, unlike --columns: experiment names may contain them.
    ids = [resolve_experiment(client, ref).experiment_id for ref in refs]
    return list(dict.fromkeys(ids))


def _now_ms() -> int:
    return int(time.time() * 1000)


def candidate_columns(found: Sequence[Run]) -> list[Column]:
    """The default extra columns: every metric key, then every param key, of ``found``."""
    metric_keys = sorted({k for run in found for k in run.data.metrics})
    param_keys = sorted({k for run in found for k in run.data.params})
    return [Column("metrics", k) for k in metric_keys] + [Column("params", k) for k in param_keys]


def _natural_width(header: str, cells: Iterable[str], cap: int | None = None) -> int:
    """Width a column takes in a box table: its widest cell (or header, capped) plus the
    padding and rule around it."""
    from rich.cells import cell_len

    width = max([*(cell_len(line) for line in header.splitlines()), *map(cell_len, cells)])
    return (width if cap is None else min(width, cap)) + _COLUMN_OVERHEAD


def fit_columns(
    found: Sequence[Run], base_width: int, total_width: int
) -> tuple[list[Column], int]:
    """The default columns that fit beside the base columns, in order; and how many did not.

    A table as wide as the terminal stays readable, where one column per key of a run that
    logged 300 metrics would squeeze every cell to an ellipsis.
    """
    chosen: list[Column] = []
    candidates = candidate_columns(found)
    used = base_width
    for column in candidates:
        width = _natural_width(column.header, (column.cell(r) for r in found), _VALUE_WIDTH)
        if used + width > total_width:
            break
        chosen.append(column)
        used += width
    return chosen, len(candidates) - len(chosen)


def _base_cells(
    found: Sequence[Run], *, show_lifecycle: bool, multi: bool
) -> tuple[list[str], list[list[str]]]:
    """Headers and cells of the columns every listing has (id, name, status, times)."""
    headers = ["Run ID", "Name", *(["Exp"] if multi else []), "Status"]
    headers += [*(["Lifecycle"] if show_lifecycle else []), "Started", "Duration"]
    now = _now_ms()
    rows = []
    for run in found:
        info = run.info
        row = [info.run_id[:SHORT_ID], info.run_name, *([info.experiment_id] if multi else [])]
        row += [info.status, *([info.lifecycle_stage] if show_lifecycle else [])]
        row += [format_time(info.start_time, seconds=False)]
        row += [format_duration(run_duration_ms(run, now))]
        rows.append(row)
    return headers, rows


def _print_runs(
    found: Sequence[Run], columns: list[Column] | None, *, show_lifecycle: bool, multi: bool
) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    if not found:
        out.print("No runs found.")
        return
    headers, rows = _base_cells(found, show_lifecycle=show_lifecycle, multi=multi)
    base_widths = [
        _natural_width(h, (row[i] for row in rows), _MIN_SQUEEZED if h == "Name" else None)
        for i, h in enumerate(headers)
    ]
    hidden = 0
    if columns is None:
        columns, hidden = fit_columns(found, 1 + sum(base_widths), out.width)
    extra_widths = [
        _natural_width(c.header, (c.cell(r) for r in found), _MIN_SQUEEZED) for c in columns
    ]
    needed = 1 + sum(base_widths) + sum(extra_widths)
    if needed > out.width:
        # Only when --columns asks for more than fits even squeezed: a wider table that the
        # terminal wraps beats one that rich crops (losing the very columns asked for).
        out = console(width=needed)
    caption = None
    if hidden:
        caption = f"{plural(hidden, 'more column')} not shown: choose with --columns, or widen"
    table = Table(caption=caption)
    # The id, status and times never wrap; the name and the extra columns give way first,
    # down to _MIN_SQUEEZED characters (longer words then end in an ellipsis).
    for header, width in zip(headers, base_widths, strict=True):
        name = header == "Name"
        table.add_column(
            header,
            justify="right" if header in ("Exp", "Duration") else "left",
            min_width=width - _COLUMN_OVERHEAD if name else None,
            max_width=_VALUE_WIDTH if name else None,
            overflow="ellipsis",
            no_wrap=not name,
        )
    for column, width in zip(columns, extra_widths, strict=True):
        table.add_column(
            Text(column.header, overflow="fold"),
            justify="right" if column.kind == "metrics" else "left",
            min_width=width - _COLUMN_OVERHEAD,
            max_width=_VALUE_WIDTH,
            overflow="ellipsis",
        )
    status_at = headers.index("Status")
    for run, row in zip(found, rows, strict=True):
        cells: list[str | Text] = list(row)
        cells[status_at] = styled_status(row[status_at])
        add_plain_row(table, *cells, *(column.cell(run) for column in columns))
    out.print(table)


def run_dict(run: Run, now_ms: int) -> dict[str, Any]:
    """A run as JSON-ready data: its info (times in epoch ms), metrics, params, tags, datasets."""
    info = run.info
    return {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "lifecycle_stage": info.lifecycle_stage,
        "user_id": info.user_id,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "duration_ms": run_duration_ms(run, now_ms),
        "artifact_uri": info.artifact_uri,
        "metrics": dict(run.data.metrics),
        "params": dict(run.data.params),
        "tags": dict(run.data.tags),
        "datasets": [
            {
                "name": item.dataset.name,
                "digest": item.dataset.digest,
                "source_type": item.dataset.source_type,
                "source": item.dataset.source,
                "schema": item.dataset.schema,
                "profile": item.dataset.profile,
                "tags": {tag.key: tag.value for tag in item.tags},
            }
            for item in run.inputs.dataset_inputs
        ],
    }


@runs.command("describe")
@click.argument("run_id")
@json_option
@click.pass_context
def describe_run(ctx: click.Context, run_id: str, as_json: bool) -> None:
    """Show everything about run RUN_ID: info, params, latest metrics, tags and datasets.

    Example: cairn runs describe 5f1c0e8a9b2d4c6e8f0a1b2c3d4e5f60 --json
    """
    client = get_client(ctx)
    run = client.get_run(run_id)
    if as_json:
        echo_json(run_dict(run, _now_ms()))
        return
    experiment_name = _experiment_name(client, run.info.experiment_id)
    out = console()
    for renderable in _describe_sections(run, experiment_name):
        out.print(renderable)


def _experiment_name(client: Client, experiment_id: str) -> str | None:
    from cairn.errors import ExperimentNotFound

    try:
        return client.get_experiment(experiment_id).name
    except ExperimentNotFound:  # purged meanwhile; the run is still worth showing
        return None


# Tags shown in the info panel, by label.
_INFO_TAGS = {
    "User": "mlflow.user",
    "Source": "mlflow.source.name",
    "Source type": "mlflow.source.type",
    "Git commit": "mlflow.source.git.commit",
    "Git branch": "mlflow.source.git.branch",
    "Parent run": "mlflow.parentRunId",
}


def _info_rows(run: Run, experiment_name: str | None) -> list[tuple[str, str]]:
    info, tags = run.info, run.data.tags
    experiment = info.experiment_id + (f" ({experiment_name})" if experiment_name else "")
    rows = [
        ("Run ID", info.run_id),
        ("Name", info.run_name),
        ("Experiment", experiment),
        ("Status", info.status),
        ("Lifecycle", info.lifecycle_stage),
        ("Started", format_time(info.start_time, zone=True)),
        ("Ended", format_time(info.end_time, zone=True)),
        ("Duration", format_duration(run_duration_ms(run, _now_ms()))),
    ]
    for label, tag in _INFO_TAGS.items():
        value = tags.get(tag) or (info.user_id if label == "User" else "")
        rows.append((label, value))
    rows.append(("Artifact URI", info.artifact_uri))
    return [(label, value) for label, value in rows if value]


def _key_value_table(title: str, items: Mapping[str, str]) -> RenderableType:
    from rich.table import Table

    table = Table(title=title, title_justify="left", expand=False)
    table.add_column("Key", overflow="fold")
    table.add_column("Value", overflow="fold")
    for key in sorted(items):
        add_plain_row(table, key, items[key])
    return table


def _describe_sections(run: Run, experiment_name: str | None) -> list[RenderableType]:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in _info_rows(run, experiment_name):
        grid.add_row(label, styled_status(value) if label == "Status" else Text(value))
    sections: list[RenderableType] = [
        Panel(grid, title=Text(f"Run {run.info.run_name}"), title_align="left", expand=False)
    ]
    data = run.data
    metrics = {k: format_metric(v) for k, v in data.metrics.items()}
    for title, items in (("Params", data.params), ("Metrics (latest)", metrics)):
        if items:
            sections.append(_key_value_table(title, items))
    if data.tags:
        sections.append(_key_value_table("Tags", data.tags))
    datasets = run.inputs.dataset_inputs
    if datasets:
        table = Table(title="Datasets", title_justify="left")
        for name in ("Name", "Digest", "Source type", "Context"):
            table.add_column(name, overflow="fold")
        for item in datasets:
            context = next((t.value for t in item.tags if t.key == "mlflow.data.context"), "")
            ds = item.dataset
            add_plain_row(table, ds.name, ds.digest, ds.source_type, context)
        sections.append(table)
    return sections


@runs.command("delete")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID...")
@click.pass_context
def delete_runs(ctx: click.Context, run_ids: tuple[str, ...]) -> None:
    """Soft-delete runs (`cairn runs restore` undoes it; `cairn gc` removes them for good)."""
    client = get_client(ctx)
    for run_id in _existing(client, run_ids):
        client.delete_run(run_id)
        click.echo(f"Deleted run {run_id}.")


@runs.command("restore")
@click.argument("run_ids", nargs=-1, required=True, metavar="RUN_ID...")
@click.pass_context
def restore_runs(ctx: click.Context, run_ids: tuple[str, ...]) -> None:
    """Restore soft-deleted runs."""
    client = get_client(ctx)
    for run_id in _existing(client, run_ids):
        client.restore_run(run_id)
        click.echo(f"Restored run {run_id}.")


def _existing(client: Client, run_ids: Sequence[str]) -> list[str]:
    """The distinct ``run_ids``, once every one of them is known to exist: a typo in the third
    id must not leave the first two changed. Raises RunNotFound."""
    unique = list(dict.fromkeys(run_ids))
    for run_id in unique:
        client.get_run(run_id)
    return unique
