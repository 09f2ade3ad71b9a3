"""programme end: planned last day and outcome per participant; a declined hand-over

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("participants") as batch:
        batch.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
    with op.batch_alter_table("handover_requests") as batch:
        batch.alter_column(
            "consent_at", existing_type=storage.types.UTCDateTime(timezone=True), nullable=True
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("handover_requests") as batch:
        batch.alter_column(
            "consent_at", existing_type=storage.types.UTCDateTime(timezone=True), nullable=False
        )
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("outcome")
        batch.drop_column("ends_on")
