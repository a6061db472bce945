"""Datasets and the runs that used them (MLflow's log-inputs).

Revision ID: 0002_datasets
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cairn.store.sql.schema import Id

revision = "0002_datasets"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "experiment_id",
            Id,
            sa.ForeignKey("experiments.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("digest", sa.String(36), nullable=False),
        sa.Column("source_type", sa.String(36), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("schema", sa.Text),
        sa.Column("profile", sa.Text),
        sa.UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_identity"),
    )
    op.create_table(
        "run_inputs",
        sa.Column("run_pk", Id, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "dataset_id", Id, sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("tags", sa.Text, nullable=False, server_default="{}"),
        sa.Column("context", sa.String(500)),
        sa.PrimaryKeyConstraint("run_pk", "dataset_id"),
    )


def downgrade() -> None:
    op.drop_table("run_inputs")
    op.drop_table("datasets")
