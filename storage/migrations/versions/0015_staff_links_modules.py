"""Staff password links (invite and reset by a one-time link) and retired modules

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 00:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "staff_password_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_password_links_created_by_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_password_links_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "purpose IN ('invite', 'reset')", name=op.f("ck_staff_password_links_purpose")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_password_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_password_links_token_hash")),
    )
    op.create_index(
        op.f("ix_staff_password_links_staff_id"),
        "staff_password_links",
        ["staff_id"],
        unique=False,
    )
    # A plain ADD COLUMN: a batch copy of `modules` would trip the participants' foreign keys.
    op.add_column(
        "modules", sa.Column("retired_at", storage.types.UTCDateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_column("modules", "retired_at")
    op.drop_index(op.f("ix_staff_password_links_staff_id"), table_name="staff_password_links")
    op.drop_table("staff_password_links")
