"""Logged models (MLflow 3.x): models with their own ids, tags, params and metrics, and the
runs that output them.

Revision ID: 0003_logged_models
Revises: 0002_datasets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cairn.store.sql.schema import Double, Id

revision = "0003_logged_models"
down_revision = "0002_datasets"
branch_labels = None
depends_on = None


def _model_id() -> sa.Column[str]:
    return sa.Column(
        "model_id",
        sa.String(36),
        sa.ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(36), primary_key=True),
        sa.Column(
            "experiment_id",
            Id,
            sa.ForeignKey("experiments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("model_type", sa.String(500)),
        sa.Column("source_run_id", sa.String(256)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("status_message", sa.Text),
        sa.Column("creator_id", sa.BigInteger),
        sa.Column("artifact_location", sa.String(2048), nullable=False),
        sa.Column("creation_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("last_updated_timestamp_ms", sa.BigInteger, nullable=False),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False, server_default="active"),
        sa.Column("deleted_time", sa.BigInteger),
    )
    op.create_index(
        "ix_logged_models_experiment_created",
        "logged_models",
        ["experiment_id", "lifecycle_stage", "creation_timestamp_ms"],
    )
    op.create_index("ix_logged_models_experiment_name", "logged_models", ["experiment_id", "name"])
    for name in ("logged_model_tags", "logged_model_params"):
        op.create_table(
            name,
            _model_id(),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text, nullable=False),
            sa.PrimaryKeyConstraint("model_id", "key"),
        )
    op.create_table(
        "logged_model_metrics",
        _model_id(),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", Double),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("dataset_name", sa.String(500)),
        sa.Column("dataset_digest", sa.String(36)),
        sa.PrimaryKeyConstraint("model_id", "key", "timestamp", "step", "run_id"),
    )
    op.create_table(
        "run_outputs",
        sa.Column("run_pk", Id, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
        _model_id(),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("run_pk", "model_id"),
    )


def downgrade() -> None:
    for name in (
        "run_outputs",
        "logged_model_metrics",
        "logged_model_params",
        "logged_model_tags",
        "logged_models",
    ):
        op.drop_table(name)
