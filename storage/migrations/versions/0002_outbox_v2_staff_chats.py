"""outbox v2, staff chats, blocked state per chat, indexes

- channel_identities: a chat belongs to one participant or one staff user (CHECK); it
  remembers the invite that bound it and whether it blocked the bot (`blocked_at`).
- invites: for a participant or a staff user (CHECK).
- participants: `unreachable` moves to the chats as `blocked_at`.
- outbox: recipient + subject + template key + parameters, rendered at send time; the old
  rows' frozen text is dropped and their event kept as parameters.
- indexes the queries need: participants.coach_id, enrolments.course_id,
  appointments.starts_at, channel_identities.participant_id, audit(object_type, object_id),
  and partial indexes for due rows and expired leases.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:30:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ONE_OWNER = "(participant_id IS NULL) <> (staff_id IS NULL)"
PENDING = sa.text("state = 'pending'")
CLAIMED = sa.text("state = 'claimed'")


def upgrade() -> None:
    """Apply this revision, keeping every row."""
    bind = op.get_bind()

    with op.batch_alter_table("invites") as batch:
        batch.alter_column("participant_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("staff_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_invites_staff_id_staff_users"),
            "staff_users",
            ["staff_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_check_constraint("one_owner", ONE_OWNER)

    with op.batch_alter_table("channel_identities") as batch:
        batch.alter_column("participant_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("staff_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("invite_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("blocked_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_foreign_key(
            op.f("fk_channel_identities_staff_id_staff_users"),
            "staff_users",
            ["staff_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_foreign_key(
            op.f("fk_channel_identities_invite_id_invites"),
            "invites",
            ["invite_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_check_constraint("one_owner", ONE_OWNER)
        batch.create_index(
            op.f("ix_channel_identities_participant_id"), ["participant_id"], unique=False
        )
        batch.create_index(op.f("ix_channel_identities_staff_id"), ["staff_id"], unique=False)

    # A participant marked unreachable had blocked the bot: that is now a fact about the chat.
    bind.execute(
        sa.text(
            "UPDATE channel_identities SET blocked_at = :now WHERE participant_id IN "
            "(SELECT id FROM participants WHERE unreachable)"
        ).bindparams(sa.bindparam("now", type_=storage.types.UTCDateTime(timezone=True))),
        {"now": storage.types.utcnow()},
    )
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("unreachable")
        batch.create_index(op.f("ix_participants_coach_id"), ["coach_id"], unique=False)

    with op.batch_alter_table("enrolments") as batch:
        batch.create_index(op.f("ix_enrolments_course_id"), ["course_id"], unique=False)
    with op.batch_alter_table("appointments") as batch:
        batch.create_index(op.f("ix_appointments_starts_at"), ["starts_at"], unique=False)
    with op.batch_alter_table("audit_log") as batch:
        batch.create_index("ix_audit_log_object", ["object_type", "object_id"], unique=False)

    _outbox_v2(bind)


def _outbox_v2(bind: sa.Connection) -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("subject_type", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("subject_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("template", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("broadcast_id", sa.Integer(), nullable=True))
        batch.alter_column(
            "dedup_key", existing_type=sa.String(length=120), type_=sa.String(length=160)
        )

    # Old rows carried frozen text; keep what they were about and render them anew.
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("subject_type", sa.String),
        sa.column("subject_id", sa.Integer),
        sa.column("template", sa.String),
        sa.column("params", sa.JSON),
    )
    for row in bind.execute(sa.select(outbox.c.id, outbox.c.kind, outbox.c.payload)).all():
        payload = row.payload if isinstance(row.payload, dict) else json.loads(row.payload or "{}")
        appointment_id = payload.get("appointment_id")
        if row.kind == "coach_notice" and appointment_id is not None:
            values = {
                "subject_type": "appointment",
                "subject_id": int(appointment_id),
                "template": "appointment.answer",
                "params": {"response": payload.get("event")},
            }
        else:
            values = {"template": f"legacy.{row.kind}", "params": {}}
        bind.execute(sa.update(outbox).where(outbox.c.id == row.id).values(**values))

    # A row with no recipient, or two, could never be delivered.
    bind.execute(sa.text("DELETE FROM outbox WHERE (participant_id IS NULL) = (staff_id IS NULL)"))
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_state_due")
        batch.alter_column("template", existing_type=sa.String(length=60), nullable=False)
        batch.alter_column("params", existing_type=sa.JSON(), nullable=False)
        batch.drop_column("payload")
        batch.drop_column("kind")
        batch.create_check_constraint("one_recipient", ONE_OWNER)
        batch.create_index(op.f("ix_outbox_participant_id"), ["participant_id"], unique=False)
        batch.create_index(op.f("ix_outbox_staff_id"), ["staff_id"], unique=False)
        batch.create_index(op.f("ix_outbox_broadcast_id"), ["broadcast_id"], unique=False)
        batch.create_index("ix_outbox_subject", ["subject_type", "subject_id"], unique=False)
        batch.create_index(
            "ix_outbox_due",
            ["priority", "due_at"],
            unique=False,
            sqlite_where=PENDING,
            postgresql_where=PENDING,
        )
        batch.create_index(
            "ix_outbox_lease",
            ["lease_until"],
            unique=False,
            sqlite_where=CLAIMED,
            postgresql_where=CLAIMED,
        )


def downgrade() -> None:
    """Not supported: the old outbox held frozen text that cannot be rebuilt."""
    raise NotImplementedError("0002 cannot be downgraded; restore a backup instead")
