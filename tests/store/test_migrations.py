"""Schema versions: creation, refusal of old/new/foreign databases, upgrades that keep data."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from cairn.errors import SchemaOutdated, SchemaTooNew, StoreError
from cairn.store.sql import migrate
from cairn.store.sql.engine import make_engine
from cairn.store.sql.schema import metadata
from cairn.store.sql.store import SqlTrackingStore


def _engine(tmp_path: Path) -> tuple[str, Engine]:
    uri = f"sqlite:///{tmp_path / 'db.sqlite'}"
    return uri, make_engine(uri)


def _migrate_to(engine: Engine, revision: str) -> None:
    with engine.connect().execution_options(cairn_write=True) as conn, conn.begin():
        migrate._run_alembic(conn, revision)


def test_an_empty_database_gets_the_newest_schema(tmp_path: Path) -> None:
    uri, engine = _engine(tmp_path)
    SqlTrackingStore(uri, artifact_root="file:///tmp/a").close()
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD
        history = conn.execute(text(f"SELECT name FROM {migrate.HISTORY_TABLE}")).scalars()
        assert list(history) == list(migrate.REVISIONS)


def test_known_revisions_are_alembics_history_in_order() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "cairn.store.sql:migrations")
    script = ScriptDirectory.from_config(config)
    ordered = [rev.revision for rev in reversed(list(script.walk_revisions()))]
    assert tuple(ordered) == migrate.REVISIONS
    assert script.get_current_head() == migrate.HEAD


def test_migrations_build_exactly_the_schema_the_code_expects(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    uri, engine = _engine(tmp_path)
    SqlTrackingStore(uri, artifact_root="file:///tmp/a").close()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = [
            d
            for d in compare_metadata(context, metadata)
            if not (d[0] == "remove_table" and d[1].name.startswith("cairn_schema"))
        ]
    assert diff == []


def test_an_older_database_asks_for_an_upgrade_and_upgrading_keeps_its_data(
    tmp_path: Path,
) -> None:
    uri, engine = _engine(tmp_path)
    _migrate_to(engine, "0001_core")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO experiments (id, name, artifact_location, lifecycle_stage, "
                "creation_time, last_update_time) VALUES (7, 'kept', '7', 'active', 1, 1)"
            )
        )
    with pytest.raises(SchemaOutdated, match="cairn db upgrade") as info:
        SqlTrackingStore(uri, artifact_root="file:///tmp/a")
    assert "0001_core" in str(info.value)
    before, after = migrate.upgrade(engine)
    assert (before, after) == ("0001_core", migrate.HEAD)
    store = SqlTrackingStore(uri, artifact_root="file:///tmp/a")
    assert store.get_experiment("7").name == "kept"
    store.close()


def test_a_database_from_a_newer_cairn_is_refused_untouched(tmp_path: Path) -> None:
    uri, engine = _engine(tmp_path)
    SqlTrackingStore(uri, artifact_root="file:///tmp/a").close()
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {migrate.VERSION_TABLE} SET version_num = '0099_future'"))
    with pytest.raises(SchemaTooNew, match="newer cairn"):
        SqlTrackingStore(uri, artifact_root="file:///tmp/a")
    with pytest.raises(SchemaTooNew):
        migrate.upgrade(engine)
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == "0099_future"


def test_a_database_with_foreign_tables_is_refused(tmp_path: Path) -> None:
    uri, engine = _engine(tmp_path)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        conn.execute(text("CREATE TABLE experiments (experiment_id INTEGER)"))
    with pytest.raises(StoreError, match="MLflow"):
        SqlTrackingStore(uri, artifact_root="file:///tmp/a")
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        assert {t for (t,) in tables} == {"alembic_version", "experiments"}


def test_upgrade_refuses_a_database_with_foreign_tables(tmp_path: Path) -> None:
    _, engine = _engine(tmp_path)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE runs (run_uuid VARCHAR(32))"))
    with pytest.raises(StoreError, match="did not create"):
        migrate.upgrade(engine)
    with engine.connect() as conn:
        tables = conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))
        assert {t for (t,) in tables} == {"runs"}
