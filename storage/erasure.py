"""Erasing a participant's personal data everywhere, keeping only anonymous counts.

What stays: the participant row with its id, module, status "deleted" and outcome (the
programme's counts), and audit entries (ids only). Everything else about the person goes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import truncate_wal_after_commit
from storage.models import (
    Appointment,
    ChannelIdentity,
    CoachMessage,
    Enrolment,
    HandoverRequest,
    Invite,
    OutboxMessage,
    Participant,
    SignalMenu,
    VoiceMessage,
    WebChatEntry,
)
from storage.states import ParticipantStatus


async def erase_participant_data(
    session: AsyncSession, *, participant: Participant, now: datetime
) -> dict[str, int]:
    """Delete the person's chats, invites, appointments, enrolments, pushes, hand-over
    requests, messages and voice recordings, and blank the row; how many rows of each kind
    went. On SQLite the commit empties the write-ahead log, so the erased data is in no file
    any more."""
    appointment_ids = list(
        await session.scalars(
            select(Appointment.id).where(Appointment.participant_id == participant.id)
        )
    )
    # The person's chats on channels that keep state of their own: the web chat's stored
    # transcript, Signal's numbered options (keyed by the person's Signal id). A web chat's
    # key (a hash of a random cookie) stays: that browser then sees the confirmation, in a
    # chat that belongs to nobody.
    chats = list(
        await session.execute(
            select(ChannelIdentity.channel, ChannelIdentity.external_id).where(
                ChannelIdentity.participant_id == participant.id
            )
        )
    )
    web = [external for channel, external in chats if channel == "web"]
    signal = [external for channel, external in chats if channel == "signal"]
    counts: dict[str, int] = {}
    # Pushes to the person, and notices to staff about their appointments (they name them).
    message_ids = list(
        await session.scalars(
            select(CoachMessage.id).where(CoachMessage.participant_id == participant.id)
        )
    )
    about = OutboxMessage.participant_id == participant.id
    if message_ids:
        about = or_(
            about,
            (OutboxMessage.subject_type == "message") & OutboxMessage.subject_id.in_(message_ids),
        )
    if appointment_ids:
        about = or_(
            about,
            (OutboxMessage.subject_type == "appointment")
            & OutboxMessage.subject_id.in_(appointment_ids),
        )
    for name, statement in (
        ("pushes", delete(OutboxMessage).where(about)),
        ("chats", delete(ChannelIdentity).where(ChannelIdentity.participant_id == participant.id)),
        ("invites", delete(Invite).where(Invite.participant_id == participant.id)),
        ("appointments", delete(Appointment).where(Appointment.participant_id == participant.id)),
        ("courses", delete(Enrolment).where(Enrolment.participant_id == participant.id)),
        (
            "handovers",
            delete(HandoverRequest).where(HandoverRequest.participant_id == participant.id),
        ),
        # Recordings before their messages: SQLite cascades only with foreign keys on.
        ("voice", delete(VoiceMessage).where(VoiceMessage.participant_id == participant.id)),
        ("messages", delete(CoachMessage).where(CoachMessage.participant_id == participant.id)),
        ("web chat", delete(WebChatEntry).where(WebChatEntry.chat_id.in_(web))),
        ("signal menus", delete(SignalMenu).where(SignalMenu.chat_id.in_(signal))),
    ):
        result = await session.execute(statement)
        counts[name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    truncate_wal_after_commit(session)  # else the WAL keeps what went until a checkpoint
    participant.display_name = ""
    participant.locale = None
    participant.coach_id = None
    participant.bilingual = False
    participant.privacy_accepted_at = None
    participant.broadcasts_stopped_at = None
    participant.status = ParticipantStatus.DELETED
    participant.ended_at = participant.ended_at or now
    return counts
