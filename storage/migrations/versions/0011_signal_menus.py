"""Signal: the numbered options of the last message to each chat

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "signal_menus",
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_signal_menus")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("signal_menus")
