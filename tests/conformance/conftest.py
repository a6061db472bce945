"""One store contract, every store: each test here runs against a SQLite file, against
the real PostgreSQL on 127.0.0.1:5432, against the REST store talking to the real server
app in-process (``create_app`` over a SQLite folder, through ``InProcessTransport``), and, in
the set marked ``server`` (``rest_uvicorn``), against the REST store over real HTTP: a uvicorn
server on a loopback port, one per session, serving a fresh app (and store) for each test.

PostgreSQL gets a template database per test session (schema migrated once); each test clones
it into a database of its own (``CREATE DATABASE ... TEMPLATE``), dropped after the test. Set
``CAIRN_TEST_POSTGRES_URI`` to use another server, or ``CAIRN_TEST_POSTGRES=0`` to leave
PostgreSQL out on a machine that has none (CI always has it).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from cairn.store.base import TrackingStore
from cairn.store.rest import RestTrackingStore
from cairn.store.sql.store import SqlTrackingStore

POSTGRES_ADMIN_URI = os.environ.get(
    "CAIRN_TEST_POSTGRES_URI", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "rest", "rest_uvicorn"]
if os.environ.get("CAIRN_TEST_POSTGRES", "1") != "0":
    BACKENDS.append("postgresql")

#: Backends that store data themselves; ``@pytest.mark.sql_only`` tests run on these only.
#: Garbage collection (``deleted_run_ids``, ``purge_*``) is one such part of the contract: it
#: is not in the REST protocol, ``cairn gc`` runs on the server's host against its backend.
SQL_BACKENDS = [b for b in BACKENDS if not b.startswith("rest")]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store" in metafunc.fixturenames:
        sql_only = metafunc.definition.get_closest_marker("sql_only") is not None
        backends = SQL_BACKENDS if sql_only else BACKENDS
        params = [
            pytest.param(b, marks=pytest.mark.server) if b == "rest_uvicorn" else b
            for b in backends
        ]
        metafunc.parametrize("store", params, indirect=True)


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


class SwitchableApp:
    """An ASGI app that hands each request to ``current``: one real server, a fresh app per
    test."""

    def __init__(self) -> None:
        self.current: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.current(scope, receive, send)


@pytest.fixture(scope="session")
def uvicorn_server() -> Iterator[tuple[str, SwitchableApp]]:
    """A uvicorn server on a free loopback port, in a thread, for the whole session."""
    import uvicorn

    app = SwitchableApp()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="conformance-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}", app
    server.should_exit = True
    thread.join(timeout=30)


def make_uvicorn_store(tmp_path: Path, request: pytest.FixtureRequest) -> RestTrackingStore:
    """The REST store with its own HTTP client (keep-alive, retries) against the real server."""
    from cairn.server import ServerSettings, create_app

    url, app = request.getfixturevalue("uvicorn_server")
    settings = ServerSettings.for_uri(str(tmp_path / "server"))
    app.current = create_app(settings)
    request.addfinalizer(settings.tracking_store.close)
    return RestTrackingStore(url, spool_dir=tmp_path / "spool")


def make_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> TrackingStore:
    if backend == "rest":
        return make_rest_store(tmp_path, request)
    if backend == "rest_uvicorn":
        return make_uvicorn_store(tmp_path, request)
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
