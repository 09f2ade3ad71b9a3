"""A chat that blocked the bot: mark it, and tell the participant's coach once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.identities import find_identity, mark_blocked
from storage.models import PRIORITY_NOTICE
from storage.outbox import enqueue

BLOCKED_NOTICE = "participant.blocked"  # rendered by the staff feature


async def record_blocked(
    session: AsyncSession, *, channel: str, external_id: str, now: datetime
) -> bool:
    """Mark the chat blocked; on the first mark the coach gets a notice. True if newly marked."""
    if not await mark_blocked(session, channel=channel, external_id=external_id, now=now):
        return False
    identity = await find_identity(session, channel=channel, external_id=external_id)
    participant = identity.participant if identity else None
    if identity is not None and participant is not None and participant.coach_id is not None:
        await enqueue(
            session,
            template=BLOCKED_NOTICE,
            staff_id=participant.coach_id,
            subject=("participant", participant.id),
            params={"channel": channel},
            dedup_key=f"blocked:{identity.id}:{now.isoformat()}",
            due_at=now,
            priority=PRIORITY_NOTICE,
        )
    return True
