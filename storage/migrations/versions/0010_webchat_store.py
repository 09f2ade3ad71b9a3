"""the web chat as a stored channel: issued keys and transcripts in the database

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 21:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "webchat_keys",
        sa.Column("chat_id", sa.String(length=41), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_webchat_keys")),
    )
    op.create_index(
        op.f("ix_webchat_keys_last_seen_at"), "webchat_keys", ["last_seen_at"], unique=False
    )
    op.create_table(
        "webchat_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.String(length=41), nullable=False),
        sa.Column("sender", sa.String(length=4), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reply", sa.JSON(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webchat_entries")),
    )
    op.create_index(
        op.f("ix_webchat_entries_chat_id"), "webchat_entries", ["chat_id"], unique=False
    )
    op.create_index(
        op.f("ix_webchat_entries_created_at"), "webchat_entries", ["created_at"], unique=False
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_webchat_entries_created_at"), table_name="webchat_entries")
    op.drop_index(op.f("ix_webchat_entries_chat_id"), table_name="webchat_entries")
    op.drop_table("webchat_entries")
    op.drop_index(op.f("ix_webchat_keys_last_seen_at"), table_name="webchat_keys")
    op.drop_table("webchat_keys")
