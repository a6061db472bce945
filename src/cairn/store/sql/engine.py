"""Database engines tuned for the tracking workload, and write transactions that retry.

SQLite (DESIGN decision 3): WAL so readers never block the writer, a busy timeout, and
``BEGIN IMMEDIATE`` for write transactions so two writers queue for the lock up front instead of
deadlocking on a lock upgrade. On top of that :func:`run_write` retries a transaction that still
finds the database busy, with exponential backoff, so many processes logging into one
``./mlruns`` never surface "database is locked".

PostgreSQL: psycopg 3, and the same retry for serialization failures and deadlocks.
"""

from __future__ import annotations

import logging
import os
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from cairn.errors import InvalidTrackingUri, StoreError

log = logging.getLogger("cairn.store")
T = TypeVar("T")

#: How long a write keeps retrying a busy database before giving up.
WRITE_RETRY_SECONDS = float(os.environ.get("CAIRN_WRITE_RETRY_SECONDS", "120"))
_SQLITE_BUSY_TIMEOUT_MS = 10_000
# FULL: a commit is on disk before it returns, as "durable" promises. NORMAL is faster but may
# lose the last commits on power loss (never on a process crash); settable for scratch work.
_SQLITE_SYNCHRONOUS = os.environ.get("CAIRN_SQLITE_SYNCHRONOUS", "FULL").upper()
_RETRYABLE_PG_STATES = {"40001", "40P01", "55P03"}


def make_engine(uri: str) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql://...`` (psycopg 3 driver).

    Raises InvalidTrackingUri for other schemes or a missing driver.
    """
    url = make_url(uri)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise InvalidTrackingUri(
                f"Tracking URI {uri!r} has no database file; use sqlite:///path/to/file.db"
            )
        engine = create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=False)
        _tune_sqlite(engine)
        return engine
    if backend == "postgresql":
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise InvalidTrackingUri(
                f"Tracking URI {uri!r} needs the PostgreSQL driver: pip install 'cairn[postgres]'"
            ) from None
        return create_engine(url, pool_size=8, max_overflow=16, pool_pre_ping=True)
    raise InvalidTrackingUri(
        f"Unsupported database in tracking URI {uri!r}: cairn stores metadata in SQLite "
        "(sqlite:///path.db) or PostgreSQL (postgresql://user@host/db)"
    )


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN, so we choose its kind.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute(f"PRAGMA synchronous={_SQLITE_SYNCHRONOUS}")
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("cairn_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _is_retryable(err: DBAPIError) -> bool:
    orig = err.orig
    if orig is None:
        return False
    state = getattr(orig, "sqlstate", None)
    if state in _RETRYABLE_PG_STATES:
        return True
    message = str(orig).lower()
    return isinstance(err, OperationalError) and (
        "database is locked" in message or "database is busy" in message
    )


def run_write(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run ``work(conn)`` in one write transaction, retrying while the database is busy.

    ``work`` must be safe to re-run: it runs again from the start after a rollback.
    Raises StoreError if the database stays busy for ``CAIRN_WRITE_RETRY_SECONDS``.
    """
    deadline = time.monotonic() + WRITE_RETRY_SECONDS
    delay = 0.005
    while True:
        try:
            with engine.connect().execution_options(cairn_write=True) as conn, conn.begin():
                return work(conn)
        except DBAPIError as err:
            if not _is_retryable(err):
                raise
            if time.monotonic() >= deadline:
                raise StoreError(
                    f"The database stayed busy for {WRITE_RETRY_SECONDS:.0f} s; another "
                    f"process holds a long write lock ({err.orig})"
                ) from err
            log.debug("database busy, retrying in %.3f s", delay)
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 1.0)


def run_read(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run ``work(conn)`` in one read transaction (a consistent snapshot)."""
    with engine.connect() as conn, conn.begin():
        return work(conn)
