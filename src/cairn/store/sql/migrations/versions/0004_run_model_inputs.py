"""Logged models a run used as inputs (MLflow 3.x's ``inputs.model_inputs``): a run that
evaluates or fine-tunes a model records it here, next to the datasets it read.

Revision ID: 0004_run_model_inputs
Revises: 0003_logged_models
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cairn.store.sql.schema import Id

revision = "0004_run_model_inputs"
down_revision = "0003_logged_models"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_model_inputs",
        sa.Column("run_pk", Id, sa.ForeignKey("runs.pk", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "model_id",
            sa.String(36),
            sa.ForeignKey("logged_models.model_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("run_pk", "model_id"),
    )


def downgrade() -> None:
    op.drop_table("run_model_inputs")
