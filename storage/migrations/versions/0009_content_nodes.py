"""the "what comes next" tree: nodes with a contact; texts stay in content_entries

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "content_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_phone", sa.String(length=40), nullable=True),
        sa.Column("contact_address", sa.String(length=300), nullable=True),
        sa.Column("contact_hours", sa.String(length=200), nullable=True),
        sa.Column("ask_person", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["content_nodes.id"],
            name=op.f("fk_content_nodes_parent_id_content_nodes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_nodes")),
        sa.UniqueConstraint("key", name=op.f("uq_content_nodes_key")),
    )
    op.create_index(
        op.f("ix_content_nodes_parent_id"), "content_nodes", ["parent_id"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_content_nodes_parent_id"), table_name="content_nodes")
    op.drop_table("content_nodes")
