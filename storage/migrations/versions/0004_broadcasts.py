"""broadcasts, and /stop for them per participant

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("versions", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("send_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("pruned_counts", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["staff_users.id"],
            name=op.f("fk_broadcasts_created_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    with op.batch_alter_table("broadcasts") as batch:
        batch.create_index(op.f("ix_broadcasts_created_by_id"), ["created_by_id"], unique=False)
    with op.batch_alter_table("participants") as batch:
        batch.add_column(
            sa.Column(
                "broadcasts_stopped_at", storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    # Rows from before could not point at a broadcast; now they may, with a foreign key.
    op.execute("UPDATE outbox SET broadcast_id = NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.create_foreign_key(
            op.f("fk_outbox_broadcast_id_broadcasts"),
            "broadcasts",
            ["broadcast_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("fk_outbox_broadcast_id_broadcasts"), type_="foreignkey")
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("broadcasts_stopped_at")
    op.drop_table("broadcasts")
