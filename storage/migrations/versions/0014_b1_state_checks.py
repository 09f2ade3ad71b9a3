"""Roles and states are checked by the database: one CHECK constraint per column

Revision ID: 0014_b1
Revises: 0013
Create Date: 2026-12-08 01:00:00

The values are those of storage.states as of this revision, written out here so that the
migration stays what it was when the enums grow. A row holding another value stops the
upgrade (it would be a bug to look at, not something to guess a value for).
"""

from __future__ import annotations

from alembic import op

revision = "0014_b1"
down_revision = "0013"
branch_labels = None
depends_on = None

CHECKS = (
    ("staff_users", "role", ("admin", "coach")),
    ("participants", "status", ("active", "ended", "deleted")),
    ("appointments", "response", ("confirmed", "declined", "reschedule")),
    ("broadcasts", "state", ("draft", "queued", "cancelled")),
    (
        "outbox",
        "state",
        (
            "pending",
            "claimed",
            "sent",
            "failed",
            "blocked",
            "skipped",
            "cancelled",
            "inbox",
            "read",
        ),
    ),
    ("handover_requests", "status", ("open", "done", "withdrawn", "declined")),
)


def upgrade() -> None:
    """Apply this revision (SQLite rebuilds each table in batch mode)."""
    for table, column, values in CHECKS:
        allowed = ", ".join(f"'{value}'" for value in values)
        with op.batch_alter_table(table) as batch:
            batch.create_check_constraint(op.f(f"ck_{table}_{column}"), f"{column} IN ({allowed})")


def downgrade() -> None:
    """Revert this revision."""
    for table, column, _ in reversed(CHECKS):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(op.f(f"ck_{table}_{column}"), type_="check")
