"""``cairn db``: show and upgrade the schema revision of a tracking database.

Usage examples::

    cairn db current                              # the configured store (./mlruns by default)
    cairn db upgrade ./mlruns                     # the folder's cairn.db
    cairn db upgrade sqlite:///tracking.db
    cairn db upgrade postgresql://cairn@db-host/cairn

These commands open the database directly instead of through the store, because opening an
outdated database as a store is refused (it raises SchemaOutdated asking for this very
command).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cairn.cli._common import CliError, tracking_state

if TYPE_CHECKING:
    from sqlalchemy import Engine


@dataclass(frozen=True)
class Database:
    """Where a tracking URI keeps its metadata."""

    uri: str  #: the SQLAlchemy URI
    display: str  #: what to show the user
    path: Path | None = None  #: the SQLite file, when it is one


def database_for(tracking_uri: str) -> Database:
    """The database behind ``tracking_uri`` (a folder means its ``cairn.db``).

    Raises CliError for a tracking server, whose database only its host can upgrade;
    InvalidTrackingUri for an unknown scheme.
    """
    from cairn.store.registry import EMBEDDED_DB_NAME, local_path, resolve_tracking_uri

    resolved = resolve_tracking_uri(tracking_uri)
    scheme = resolved.partition(":")[0].lower()
    if scheme in ("http", "https"):
        raise CliError(
            f"{resolved} is a tracking server, not a database: run `cairn db upgrade` on the "
            "server's host, against the database URI the server was started with"
        )
    if scheme == "file":
        folder = Path(local_path(resolved))
        db_path = folder / EMBEDDED_DB_NAME
        return Database("sqlite:///" + str(db_path), f"{folder} ({EMBEDDED_DB_NAME})", db_path)
    if scheme == "sqlite":
        db_path = Path(resolved[len("sqlite:///") :])
        return Database(resolved, str(db_path), db_path)
    return Database(resolved, _hide_password(resolved))


def _hide_password(uri: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(uri).render_as_string(hide_password=True)
    except Exception:  # an unparsable URI: make_engine reports it properly later
        return uri


@contextmanager
def open_engine(database: Database) -> Iterator[Engine]:
    """An engine for an existing database; disposed on exit.

    Raises CliError when a SQLite file does not exist: both commands inspect or change a
    database, and silently creating an empty one would only hide a wrong path.
    """
    from cairn.store.sql.engine import make_engine

    if database.path is not None and not database.path.is_file():
        raise CliError(
            f"No cairn database at {database.path} (cairn creates one the first time "
            "something is tracked there; check the path or --tracking-uri)"
        )
    engine = make_engine(database.uri)
    try:
        yield engine
    finally:
        engine.dispose()


def _uri_argument(ctx: click.Context, uri: str | None) -> Database:
    return database_for(uri or tracking_state(ctx).tracking_uri)


@click.group()
def db() -> None:
    """Show or upgrade the schema of a tracking database."""


@db.command("current")
@click.argument("uri", required=False)
@click.pass_context
def current(ctx: click.Context, uri: str | None) -> None:
    """Print the schema revision of the database at URI (default: the tracking URI).

    Prints `none` for a database without cairn's tables; a hint goes to stderr when the
    revision is not the newest this cairn knows.
    """
    from cairn.store.sql import migrate

    target = uri or tracking_state(ctx).tracking_uri
    database = database_for(target)
    with open_engine(database) as engine, engine.connect() as conn:
        revision = migrate.current_revision(conn)
    click.echo(revision or "none")
    if revision is None:
        click.echo(f"{database.display} holds no cairn schema yet.", err=True)
    elif revision != migrate.HEAD and revision in migrate.REVISIONS:
        click.echo(
            f"Outdated: this cairn uses {migrate.HEAD}; run: cairn db upgrade {target}",
            err=True,
        )
    elif revision not in migrate.REVISIONS:
        click.echo(
            f"Unknown to this cairn (it knows up to {migrate.HEAD}): written by a newer cairn?",
            err=True,
        )


@db.command("upgrade")
@click.argument("uri", required=False)
@click.pass_context
def upgrade(ctx: click.Context, uri: str | None) -> None:
    """Upgrade the database at URI (default: the tracking URI) to the newest schema.

    Back the database up first: migrations change tables in place. Prints the revision before
    and after.

    Example: cairn db upgrade ./mlruns
    """
    from cairn.store.sql import migrate

    database = _uri_argument(ctx, uri)
    with open_engine(database) as engine:
        _refuse_foreign(engine, database)
        before, after = migrate.upgrade(engine)
    if before == after:
        click.echo(f"{database.display} is already at the newest revision, {after}.")
    else:
        click.echo(f"Upgraded {database.display}: {before or 'empty'} -> {after}.")


def _refuse_foreign(engine: Engine, database: Database) -> None:
    """Refuse a database that holds tables but no cairn revision (an MLflow database, say):
    ``migrate.upgrade`` would add cairn's tables among them."""
    from sqlalchemy import inspect

    from cairn.store.sql import migrate

    with engine.connect() as conn:
        if migrate.current_revision(conn) is not None:
            return
        tables = set(inspect(conn).get_table_names()) - {migrate.HISTORY_TABLE}
    if tables:
        raise CliError(
            f"The database at {database.display} holds tables cairn did not create "
            f"({', '.join(sorted(tables)[:5])}); refusing to add cairn's schema to it"
        )
