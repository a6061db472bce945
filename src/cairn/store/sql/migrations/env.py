"""Alembic environment: runs cairn's migrations on the connection handed in by
:func:`cairn.store.sql.migrate.upgrade` (never on a URL read from a config file)."""

from __future__ import annotations

import time
from typing import Any

from alembic import context
from sqlalchemy import Connection, text

from cairn.store.sql.migrate import HISTORY_TABLE, VERSION_TABLE


def _record(ctx: Any, step: Any, heads: Any, run_args: Any) -> None:
    # Keep a dated history of every migration applied, next to Alembic's single head pointer.
    ctx.connection.execute(
        text(f"INSERT INTO {HISTORY_TABLE} (name, direction, applied_at) VALUES (:n, :d, :t)"),
        {
            "n": step.up_revision_id if step.is_upgrade else step.down_revision_ids[0] or "base",
            "d": "upgrade" if step.is_upgrade else "downgrade",
            "t": int(time.time() * 1000),
        },
    )


connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode rebuilds tables
    on_version_apply=_record,
)
with context.begin_transaction():
    context.run_migrations()
