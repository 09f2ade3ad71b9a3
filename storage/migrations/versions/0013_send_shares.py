"""Send shares: the processes that split one bot token's budget (PostgreSQL)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "send_shares",
        sa.Column("process", sa.String(length=32), nullable=False),
        sa.Column("seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("held_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("process", name=op.f("pk_send_shares")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("send_shares")
