"""Roles and states as StrEnums, stored as their values with a CHECK constraint each.

A value that is none of them is refused twice: SQLAlchemy raises before a statement that
writes or compares it reaches the database (`choice()`), and the database's CHECK refuses
it from any other writer. A typo is an error, not a silent no-match.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import Enum


class StaffRole(StrEnum):
    """What a staff user may do: an admin everything, a coach their own caseload."""

    ADMIN = "admin"
    COACH = "coach"


class ParticipantStatus(StrEnum):
    """A participant in the programme, after its end, or erased (only counts remain)."""

    ACTIVE = "active"
    ENDED = "ended"
    DELETED = "deleted"


class AppointmentResponse(StrEnum):
    """A participant's answer to an appointment (None: no answer yet)."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"
    RESCHEDULE = "reschedule"


class BroadcastState(StrEnum):
    """draft -> queued (rows written; due now or later) -> cancelled."""

    DRAFT = "draft"
    QUEUED = "queued"
    CANCELLED = "cancelled"


class OutboxState(StrEnum):
    """pending -> claimed -> sent | failed | blocked | skipped | cancelled; a notice for a
    staff user without a chat: inbox -> read."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    INBOX = "inbox"
    READ = "read"


class HandoverStatus(StrEnum):
    """open -> done (staff handed over) | withdrawn (by the person); declined: they said no."""

    OPEN = "open"
    DONE = "done"
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"


def choice(enum: type[StrEnum], *, name: str, length: int) -> Enum:
    """A column holding one of `enum`'s values (VARCHAR(length)) with the CHECK constraint
    `name`; loaded values come back as members, unknown strings are refused."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
        length=length,
    )
