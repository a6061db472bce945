"""``cairn db current`` and ``cairn db upgrade``, on fresh, old, missing and foreign databases."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text

import cairn
from cairn.errors import SchemaOutdated
from cairn.store.sql import migrate
from cairn.store.sql.engine import make_engine
from tests.cli._cli_support import Cli

OLD = "0001_core"


def _make_old_database(db_file: Path) -> None:
    """A database left at the first revision, holding one experiment logged back then."""
    db_file.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{db_file}")
    try:
        with engine.connect().execution_options(cairn_write=True) as conn, conn.begin():
            migrate._run_alembic(conn, OLD)
            conn.execute(
                text(
                    "INSERT INTO experiments (name, artifact_location, lifecycle_stage, "
                    "creation_time, last_update_time) VALUES ('from-the-past', 'past', "
                    "'active', 1700000000000, 1700000000000)"
                )
            )
    finally:
        engine.dispose()


@pytest.fixture
def old_store(mlruns: Path) -> Path:
    _make_old_database(mlruns / "cairn.db")
    return mlruns


def test_an_old_database_is_refused_until_upgraded(old_store: Path) -> None:
    with pytest.raises(SchemaOutdated, match="cairn db upgrade"):
        cairn.Client(tracking_uri=str(old_store)).search_experiments()


def test_commands_on_an_old_database_point_to_db_upgrade(cli: Cli, old_store: Path) -> None:
    result = cli("experiments", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert "cairn db upgrade" in result.stderr


def test_current_on_an_old_database_prints_its_revision_and_a_hint(
    cli: Cli, old_store: Path
) -> None:
    result = cli("db", "current")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == OLD
    assert "cairn db upgrade" in result.stderr


def test_upgrade_brings_an_old_database_to_head_and_keeps_its_data(
    cli: Cli, old_store: Path
) -> None:
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert OLD in result.stdout
    assert migrate.HEAD in result.stdout

    client = cairn.Client(tracking_uri=str(old_store))
    past = client.get_experiment_by_name("from-the-past")
    assert past is not None
    assert past.creation_time == 1700000000000
    assert cli("db", "current").stdout.strip() == migrate.HEAD
    # ...and the upgraded store takes new data.
    client.create_run(past.experiment_id)


def test_upgrade_takes_the_folder_as_an_argument(cli: Cli, old_store: Path) -> None:
    result = cli("db", "upgrade", str(old_store), tracking_uri=None)
    assert result.exit_code == 0, result.output
    assert cli("db", "current", str(old_store), tracking_uri=None).stdout.strip() == migrate.HEAD


def test_upgrade_takes_a_sqlite_uri(cli: Cli, tmp_path: Path) -> None:
    db_file = tmp_path / "tracking.db"
    _make_old_database(db_file)
    uri = f"sqlite:///{db_file}"
    result = cli("db", "upgrade", uri)
    assert result.exit_code == 0, result.output
    assert f"{OLD} -> {migrate.HEAD}" in result.stdout
    with closing(sqlite3.connect(db_file)) as conn, conn:
        (revision,) = conn.execute(f"SELECT version_num FROM {migrate.VERSION_TABLE}").fetchone()
    assert revision == migrate.HEAD


def test_upgrade_of_a_current_database_changes_nothing(cli: Cli, client: cairn.Client) -> None:
    client.create_experiment("now")
    result = cli("db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "already at the newest revision" in result.stdout
    assert migrate.HEAD in result.stdout


def test_current_on_a_fresh_store_is_head(cli: Cli, client: cairn.Client) -> None:
    client.search_experiments()  # creates the database
    result = cli("db", "current")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == migrate.HEAD
    assert result.stderr == ""


@pytest.mark.parametrize("command", ["current", "upgrade"])
def test_a_missing_database_is_an_error_and_is_not_created(
    cli: Cli, mlruns: Path, command: str
) -> None:
    result = cli("db", command)
    assert result.exit_code == 1
    assert "Error: No cairn database at" in result.stderr
    assert not (mlruns / "cairn.db").exists()


@pytest.mark.parametrize("uri", ["http://localhost:5000", "https://tracking.example.com"])
def test_a_tracking_server_uri_is_rejected(cli: Cli, uri: str) -> None:
    result = cli("db", "upgrade", uri)
    assert result.exit_code == 1
    assert "is a tracking server, not a database" in result.stderr


def test_upgrade_refuses_a_database_cairn_did_not_create(cli: Cli, tmp_path: Path) -> None:
    db_file = tmp_path / "mlflow.db"
    with closing(sqlite3.connect(db_file)) as conn, conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
    result = cli("db", "upgrade", f"sqlite:///{db_file}")
    assert result.exit_code == 1
    assert "holds tables cairn did not create" in result.stderr
    with closing(sqlite3.connect(db_file)) as conn, conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "experiments" not in tables


def test_current_of_a_foreign_database_is_none(cli: Cli, tmp_path: Path) -> None:
    db_file = tmp_path / "other.db"
    with closing(sqlite3.connect(db_file)) as conn, conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
    result = cli("db", "current", f"sqlite:///{db_file}")
    assert result.exit_code == 0
    assert result.stdout.strip() == "none"


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        # The real PostgreSQL of the test machine, with a role that does not exist ...
        ("postgresql://no_such_role:secret@127.0.0.1:5432/test", 'role "no_such_role"'),
        # ... and a port where nothing listens.
        ("postgresql://postgres@127.0.0.1:1/test", "Connection refused"),
    ],
)
def test_a_database_that_cannot_be_opened_is_one_error_line_without_the_password(
    cli: Cli, uri: str, reason: str
) -> None:
    result = cli("experiments", "list", tracking_uri=uri)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: Cannot open the database postgresql://")
    assert reason in result.output
    assert "secret" not in result.output and "Traceback" not in result.output
