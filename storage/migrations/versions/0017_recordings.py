"""Recordings: spoken versions of "what comes next" entries and broadcast templates

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 01:36:59
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("audio", sa.LargeBinary(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("text_version", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "subject IN ('content', 'template')", name=op.f("ck_recordings_subject")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_recordings_uploaded_by_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("subject", "key", "locale", name=op.f("uq_recordings_subject")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("recordings")
