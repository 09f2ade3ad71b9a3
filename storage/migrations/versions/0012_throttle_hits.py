"""Throttles in the database: login and invite-code tries shared by every process

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "throttle_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_hits")),
    )
    op.create_index(
        "ix_throttle_hits_scope_key_at", "throttle_hits", ["scope", "key", "at"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_throttle_hits_scope_key_at", table_name="throttle_hits")
    op.drop_table("throttle_hits")
