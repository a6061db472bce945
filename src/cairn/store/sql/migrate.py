"""Schema versions: create a fresh database, refuse an old or foreign one, upgrade on request.

Migrations are Alembic revisions in ``migrations/versions``, named for what they do
(``0001_core``, ``0002_datasets``). Alembic's pointer to the current revision lives in
``cairn_schema_version`` (not Alembic's default table name, so an MLflow database is never taken
for ours), and every applied migration is also recorded with its time in
``cairn_schema_history``.

Opening a store calls :func:`ensure_schema`: an empty database gets the newest schema; an older
one raises :class:`~cairn.errors.SchemaOutdated` telling the user to run ``cairn db upgrade``;
one from a newer cairn raises :class:`~cairn.errors.SchemaTooNew`. Checking costs one query and
never imports Alembic; Alembic is loaded only when a migration actually runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from cairn.errors import SchemaOutdated, SchemaTooNew, StoreError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

VERSION_TABLE = "cairn_schema_version"
HISTORY_TABLE = "cairn_schema_history"

#: Every revision this cairn knows, oldest first; the last one is the head.
REVISIONS: tuple[str, ...] = (
    "0001_core",
    "0002_datasets",
    "0003_logged_models",
    "0004_run_model_inputs",
)
HEAD = REVISIONS[-1]

# Serializes schema creation between processes on PostgreSQL (SQLite uses BEGIN IMMEDIATE).
_PG_LOCK_ID = 0x636169726E  # "cairn"


def current_revision(conn: Connection) -> str | None:
    """The database's revision, or None when it has no cairn version table."""
    try:
        with conn.begin_nested() if conn.in_transaction() else conn.begin():
            row = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
    except DBAPIError:
        return None
    return row[0] if row else None


def check_revision(revision: str | None, uri: str) -> None:
    """Raise unless ``revision`` is the head this cairn expects."""
    if revision == HEAD:
        return
    if revision in REVISIONS:
        raise SchemaOutdated(
            f"The database at {uri} uses an older cairn schema ({revision}; this cairn needs "
            f"{HEAD}). Back it up, then run: cairn db upgrade {uri}"
        )
    raise SchemaTooNew(
        f"The database at {uri} was written by a newer cairn (schema {revision!r}, unknown "
        f"to this version, which knows up to {HEAD}). Upgrade cairn: pip install -U cairn"
    )


def ensure_schema(engine: Engine, uri: str) -> None:
    """Create the schema in an empty database; check the revision of an existing one.

    Raises SchemaOutdated, SchemaTooNew, or StoreError for a database holding tables that
    cairn did not create.
    """
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
    except OperationalError as err:  # the first contact: a server down, a role or db missing
        reason = " ".join(str(err.orig or err).split())
        raise StoreError(f"Cannot open the database {_shown(uri)}: {reason}") from None
    if revision is not None:
        check_revision(revision, uri)
        return
    with engine.connect().execution_options(cairn_write=True) as conn, conn.begin():
        _lock_for_migration(conn)
        revision = current_revision(conn)  # another process may have created it meanwhile
        if revision is None:
            _refuse_foreign_tables(conn, uri)
            _run_alembic(conn, HEAD)
            return
    check_revision(revision, uri)


def _shown(uri: str) -> str:
    """``uri`` with its password hidden.

    >>> _shown("postgresql://me:secret@db:5432/runs")
    'postgresql://me:***@db:5432/runs'
    """
    try:
        return make_url(uri).render_as_string(hide_password=True)
    except Exception:  # not a database URL (a folder shown as the store's name)
        return uri


def upgrade(engine: Engine, target: str = HEAD) -> tuple[str | None, str]:
    """Migrate the database to ``target``; return (revision before, revision after).

    Raises SchemaTooNew if the database is newer than this cairn.
    """
    with engine.connect().execution_options(cairn_write=True) as conn, conn.begin():
        _lock_for_migration(conn)
        before = current_revision(conn)
        if before is not None and before not in REVISIONS:
            check_revision(before, str(engine.url))
        if before is None:
            _refuse_foreign_tables(conn, str(engine.url))
        if before != target:
            _run_alembic(conn, target)
    return before, target


def _refuse_foreign_tables(conn: Connection, uri: str) -> None:
    foreign = set(inspect(conn).get_table_names()) - {HISTORY_TABLE}
    if foreign:
        raise StoreError(
            f"The database at {uri} already holds tables cairn did not create "
            f"({', '.join(sorted(foreign)[:5])}...). Is it an MLflow database? Point "
            "cairn at a new database file or an empty PostgreSQL database."
        )


def _lock_for_migration(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_ID})


def _run_alembic(conn: Connection, target: str) -> None:
    from alembic import command
    from alembic.config import Config

    conn.execute(
        text(
            f"CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (name VARCHAR(64) NOT NULL, "
            "direction VARCHAR(16) NOT NULL, applied_at BIGINT NOT NULL)"
        )
    )
    config = Config()
    config.set_main_option("script_location", "cairn.store.sql:migrations")
    config.attributes["connection"] = conn
    if target.startswith("-") or target == "base":
        command.downgrade(config, target)
    else:
        command.upgrade(config, target)
