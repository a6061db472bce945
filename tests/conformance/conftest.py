"""One store contract, every store: each test here runs against a SQLite file, against
the real PostgreSQL on 127.0.0.1:5432, and against the REST store talking to the real server
app in-process (``create_app`` over a SQLite folder, through ``InProcessTransport``).

PostgreSQL gets a template database per test session (schema migrated once); each test clones
it into a database of its own (``CREATE DATABASE ... TEMPLATE``), dropped after the test. Set
``CAIRN_TEST_POSTGRES_URI`` to use another server, or ``CAIRN_TEST_POSTGRES=0`` to leave
PostgreSQL out on a machine that has none (CI always has it).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from cairn.store.base import TrackingStore
from cairn.store.rest import RestTrackingStore
from cairn.store.sql.store import SqlTrackingStore

POSTGRES_ADMIN_URI = os.environ.get(
    "CAIRN_TEST_POSTGRES_URI", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "rest"]
if os.environ.get("CAIRN_TEST_POSTGRES", "1") != "0":
    BACKENDS.append("postgresql")

#: Backends that store data themselves; ``@pytest.mark.sql_only`` tests run on these only.
#: Garbage collection (``deleted_run_ids``, ``purge_*``) is one such part of the contract: it
#: is not in the REST protocol, ``cairn gc`` runs on the server's host against its backend.
SQL_BACKENDS = [b for b in BACKENDS if b != "rest"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames:
        sql_only = metafunc.definition.get_closest_marker("sql_only") is not None
        metafunc.parametrize("store", SQL_BACKENDS if sql_only else BACKENDS, indirect=True)


def _pg_uri(database: str) -> str:
    return POSTGRES_ADMIN_URI.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[object]:
    engine = create_engine(POSTGRES_ADMIN_URI, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_template(pg_admin: object) -> Iterator[str]:
    """A migrated database that each test clones."""
    name = f"cairn_tpl_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    store = SqlTrackingStore(
        _pg_uri(name), artifact_root="file:///tmp/cairn-pg-artifacts", relative_locations=False
    )
    store.close()
    yield name
    with pg_admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def make_rest_store(tmp_path: Path, request: pytest.FixtureRequest) -> RestTrackingStore:
    """The REST store, over the real server app served in-process (no socket, no retries)."""
    import httpx

    from cairn.server import ServerSettings, create_app
    from cairn.server.testing import InProcessTransport
    from cairn.store._rest_http import RetryPolicy

    settings = ServerSettings.for_uri(str(tmp_path / "server"))
    client = httpx.Client(
        transport=InProcessTransport(create_app(settings)), base_url="http://testserver"
    )

    def close() -> None:
        client.close()
        settings.tracking_store.close()

    request.addfinalizer(close)
    return RestTrackingStore(
        "http://testserver",
        http_client=client,
        retry_policy=RetryPolicy(max_retries=0),
        spool_dir=tmp_path / "spool",
    )


def make_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> TrackingStore:
    if backend == "rest":
        return make_rest_store(tmp_path, request)
    if backend == "sqlite":
        return SqlTrackingStore(
            f"sqlite:///{tmp_path / 'cairn.db'}", artifact_root=(tmp_path / "artifacts").as_uri()
        )
    template = request.getfixturevalue("pg_template")
    admin = request.getfixturevalue("pg_admin")
    name = f"cairn_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    request.addfinalizer(drop)
    return SqlTrackingStore(
        _pg_uri(name), artifact_root=(tmp_path / "artifacts").as_uri(), relative_locations=False
    )


@pytest.fixture
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TrackingStore]:
    """A fresh, empty store of each backend (parametrized by pytest_generate_tests)."""
    s = make_store(request.param, tmp_path, request)
    yield s
    s.close()
