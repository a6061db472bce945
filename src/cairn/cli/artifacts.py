"""``cairn artifacts``: list and download the files a run saved.

Usage examples::

    cairn artifacts list --run-id 5f1c0e8a9b2d4c6e8f0a1b2c3d4e5f60
    cairn artifacts list --run-id 5f1c0e8a9b2d4c6e8f0a1b2c3d4e5f60 --path plots --json
    cairn artifacts download --run-id 5f1c0e8a9b2d4c6e8f0a1b2c3d4e5f60 --path model --dst ./out
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from cairn.cli._common import add_plain_row, console, echo_json, get_client, json_option

if TYPE_CHECKING:
    from cairn.entities import FileInfo

_run_id_option = click.option(
    "--run-id", required=True, metavar="RUN_ID", help="The run whose artifacts to use."
)


@click.group()
def artifacts() -> None:
    """List and download run artifacts."""


@artifacts.command("list")
@_run_id_option
@click.option(
    "--path",
    default="",
    metavar="P",
    help="Folder inside the run's artifacts to list (default: the top level).",
)
@json_option
@click.pass_context
def list_artifacts(ctx: click.Context, run_id: str, path: str, as_json: bool) -> None:
    """List the files and folders directly under a folder of a run's artifacts.

    Example: cairn artifacts list --run-id 5f1c0e8a9b2d4c6e8f0a1b2c3d4e5f60 --path plots
    """
    infos = get_client(ctx).list_artifacts(run_id, path or None)
    if as_json:
        echo_json([{"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size} for f in infos])
        return
    _print_listing(infos, path)


def _print_listing(infos: Sequence[FileInfo], path: str) -> None:
    from rich.filesize import decimal
    from rich.table import Table

    out = console()
    if not infos:
        where = f"under {path!r}" if path else "in this run"
        out.print(f"No artifacts {where}.", markup=False)
        return
    table = Table()
    table.add_column("Path", overflow="fold")
    table.add_column("Size", justify="right", no_wrap=True)
    table.add_column("Dir", no_wrap=True)
    for info in infos:
        size = "" if info.file_size is None else decimal(info.file_size)
        add_plain_row(table, info.path + ("/" if info.is_dir else ""), size, _yes(info.is_dir))
    out.print(table)


def _yes(flag: bool) -> str:
    return "yes" if flag else ""


@artifacts.command("download")
@_run_id_option
@click.option(
    "--path",
    default="",
    metavar="P",
    help="File or folder inside the run's artifacts (default: all of them).",
)
@click.option(
    "--dst",
    type=click.Path(file_okay=False, dir_okay=True, writable=True),
    default=None,
    metavar="DIR",
    help="Local folder to download into (created if missing; default: a new temporary folder).",
)
@click.pass_context
def download_artifacts(ctx: click.Context, run_id: str, path: str, dst: str | None) -> None:
    """Download a file or folder of a run's artifacts and print its local path.

    Example: cairn artifacts download --run-id 5f1c0e8a9b2d4c6e8f0a1b2c3d4e5f60 --path model
    """
    local = get_client(ctx).download_artifacts(run_id, path, dst)
    click.echo(local)
