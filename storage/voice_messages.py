"""Queries for the recordings of voice messages between participants and their coaches."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import VoiceMessage


async def recording_of(session: AsyncSession, *, message_id: int) -> VoiceMessage | None:
    """The recording of a spoken message, or None for a written one."""
    found: VoiceMessage | None = await session.scalar(
        select(VoiceMessage).where(VoiceMessage.message_id == message_id)
    )
    return found


async def spoken_ids(session: AsyncSession, *, message_ids: list[int]) -> set[int]:
    """Which of these messages are spoken (have a recording); the bytes are not loaded."""
    if not message_ids:
        return set()
    found = await session.scalars(
        select(VoiceMessage.message_id).where(VoiceMessage.message_id.in_(message_ids))
    )
    return {message_id for message_id in found if message_id is not None}
