"""Render one outbox row for its recipient, now, in their current language.

The dispatcher calls this right before sending; a None result means the push is no longer
meaningful (its subject is gone, the recipient erased their data) and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.plumbing.messages import Reply
from bot.plumbing.routes import Routes, Skip
from bot.plumbing.voice import Voice
from storage.models import OutboxMessage, Participant, StaffUser
from storage.outbox import WAITING_FOR_CONSENT


@dataclass(frozen=True)
class Rendered:
    """A push ready to send, or the reason it must not be sent."""

    reply: Reply | None
    skip_reason: str | None = None
    hold: bool = False  # not yet: kept until the recipient accepted the privacy notice


async def render_outbox(
    session: AsyncSession, row: OutboxMessage, *, routes: Routes, tz: ZoneInfo, now: datetime
) -> Rendered:
    """Build the recipient's voice and render the row with its feature's template."""
    template = routes.templates.get(row.template)
    if template is None:
        return Rendered(None, f"unknown template {row.template}")
    if row.staff_id is not None:
        staff = await session.get(StaffUser, row.staff_id)
        if staff is None or not staff.active:
            return Rendered(None, "staff user inactive")
        voice = Voice.for_staff(staff, tz=tz, now=now)
    else:
        participant = await session.get(Participant, row.participant_id)
        if participant is None or participant.status == "deleted":
            return Rendered(None, "participant erased")
        if participant.privacy_accepted_at is None:
            # Nothing reaches a participant before their consent: a notice in the middle of
            # onboarding would take over the language menu. Onboarding releases the row.
            return Rendered(None, WAITING_FOR_CONSENT, hold=True)
        voice = Voice.for_participant(participant, tz=tz, now=now)
    try:
        reply = await template(session, voice, row)
    except Skip as skip:
        return Rendered(None, skip.reason)
    return Rendered(reply, None if reply is not None else "subject no longer valid")
