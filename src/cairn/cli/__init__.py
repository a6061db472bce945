"""The ``cairn`` command line: one click group, one module per noun.

Usage examples::

    cairn --version
    cairn experiments list --view all
    cairn experiments create iris --tag team=vision
    cairn runs list --experiment iris --filter "metrics.acc > 0.9" --order-by "metrics.acc DESC"
    cairn runs describe 5f1c0e8a9b2d4c6e8f0a1b2c3d4e5f60 --json
    cairn artifacts download --run-id 5f1c0e8a... --path model --dst ./out
    cairn --tracking-uri sqlite:///tracking.db db upgrade
    cairn gc --older-than 30d --dry-run
    cairn ui                                   # the local store at http://127.0.0.1:5000
    cairn server --backend-store-uri postgresql://db/cairn --host 0.0.0.0

The tracking URI comes from ``--tracking-uri``, else ``CAIRN_TRACKING_URI``, else
``MLFLOW_TRACKING_URI``, else ``./mlruns``. Every cairn error is printed as one
``Error: <message>`` line on stderr with exit code 1; usage errors exit with code 2.

Only click and this package's small modules load at import time, so ``cairn --help`` is
fast; commands import rich, SQLAlchemy and pandas when they run.
"""

from __future__ import annotations

import click

from cairn._version import __version__
from cairn.cli import artifacts, db, experiments, gc, models, runs, server, sync
from cairn.cli._common import CairnGroup, CliState

__all__ = ["main"]


@click.group(cls=CairnGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(
    __version__, "--version", "-V", prog_name="cairn", message="%(prog)s %(version)s"
)
@click.option(
    "--tracking-uri",
    envvar=["CAIRN_TRACKING_URI", "MLFLOW_TRACKING_URI"],
    default="./mlruns",
    show_default=True,
    show_envvar=True,
    metavar="URI",
    help="Where to track: a folder, file:///path, sqlite:///path.db or postgresql://... "
    "(falls back to MLFLOW_TRACKING_URI).",
)
@click.pass_context
def main(ctx: click.Context, tracking_uri: str) -> None:
    """cairn: track, compare and clean up machine-learning experiments.

    Inspect experiments, runs and artifacts of a tracking store, upgrade its database and
    collect what was deleted.
    """
    ctx.obj = CliState(tracking_uri=tracking_uri)


main.add_command(experiments.experiments)
main.add_command(runs.runs)
main.add_command(artifacts.artifacts)
main.add_command(db.db)
main.add_command(gc.gc)
main.add_command(server.server)
main.add_command(server.ui)
main.add_command(sync.sync)
main.add_command(models.models)
