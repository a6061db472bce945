"""Core tracking tables: experiments, runs, interned keys, params, tags, metric history in
column blocks and per-(run, key) metric summaries.

Revision ID: 0001_core
Revises:
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

from cairn.store.sql.schema import Double, Id

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(500), nullable=False, unique=True),
        sa.Column("artifact_location", sa.String(2048), nullable=False),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False, server_default="active"),
        sa.Column("creation_time", sa.BigInteger, nullable=False),
        sa.Column("last_update_time", sa.BigInteger, nullable=False),
        sa.Column("deleted_time", sa.BigInteger),
    )
    op.create_table(
        "experiment_tags",
        sa.Column(
            "experiment_id",
            Id,
            sa.ForeignKey("experiments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "key"),
    )
    op.create_table(
        "runs",
        sa.Column("pk", Id, primary_key=True, autoincrement=True),
        sa.Column("run_uuid", sa.String(32), nullable=False, unique=True),
        sa.Column("experiment_id", Id, sa.ForeignKey("experiments.id"), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("start_time", sa.BigInteger, nullable=False),
        sa.Column("end_time", sa.BigInteger),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False, server_default="active"),
        sa.Column("deleted_time", sa.BigInteger),
    )
    op.create_index(
        "ix_runs_experiment_start", "runs", ["experiment_id", "lifecycle_stage", "start_time"]
    )
    op.create_table(
        "keys",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(250), nullable=False, unique=True),
    )
    for name in ("params", "tags"):
        op.create_table(
            name,
            sa.Column("run_pk", Id, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
            sa.Column("key_id", Id, sa.ForeignKey("keys.id"), nullable=False),
            sa.Column("value", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("run_pk", "key_id"),
        )
        op.create_index(f"ix_{name}_key_value", name, ["key_id", "value"])
    op.create_table(
        "metric_blocks",
        sa.Column("run_pk", Id, nullable=False),
        sa.Column("key_id", Id, nullable=False),
        sa.Column("first_index", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("min_step", sa.BigInteger, nullable=False),
        sa.Column("max_step", sa.BigInteger, nullable=False),
        sa.Column("steps", sa.LargeBinary, nullable=False),
        sa.Column("timestamps", sa.LargeBinary, nullable=False),
        sa.Column("values", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("run_pk", "key_id", "first_index"),
    )
    op.create_table(
        "metric_summaries",
        sa.Column("run_pk", Id, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("key_id", Id, sa.ForeignKey("keys.id"), nullable=False),
        sa.Column("latest_value", Double),
        sa.Column("latest_step", sa.BigInteger, nullable=False),
        sa.Column("latest_timestamp", sa.BigInteger, nullable=False),
        sa.Column("min_value", Double),
        sa.Column("max_value", Double),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("tail_index", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_pk", "key_id"),
    )
    op.create_index(
        "ix_metric_summaries_key_latest", "metric_summaries", ["key_id", "latest_value"]
    )
    now = int(time.time() * 1000)
    # The Default experiment always exists with id 0; its artifacts live under <root>/0.
    op.execute(
        sa.text(
            "INSERT INTO experiments (id, name, artifact_location, lifecycle_stage, "
            "creation_time, last_update_time) VALUES (0, 'Default', '0', 'active', :t, :t)"
        ).bindparams(t=now)
    )


def downgrade() -> None:
    for name in (
        "metric_summaries",
        "metric_blocks",
        "tags",
        "params",
        "keys",
        "runs",
        "experiment_tags",
        "experiments",
    ):
        op.drop_table(name)
