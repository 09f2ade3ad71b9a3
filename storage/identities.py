"""Queries for chat bindings (channel identities)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity


async def find_identity(
    session: AsyncSession, *, channel: str, external_id: str
) -> ChannelIdentity | None:
    """The binding of one chat, with its participant, or None."""
    return await session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
        )
    )


async def bind_identity(
    session: AsyncSession, *, participant_id: int, channel: str, external_id: str
) -> ChannelIdentity:
    """Bind a chat to a participant."""
    identity = ChannelIdentity(
        participant_id=participant_id, channel=channel, external_id=external_id
    )
    session.add(identity)
    await session.flush()
    return identity


async def unbind_identity(session: AsyncSession, *, identity_id: int) -> None:
    """Remove one chat binding."""
    await session.execute(delete(ChannelIdentity).where(ChannelIdentity.id == identity_id))


async def count_identities(session: AsyncSession, *, participant_id: int) -> int:
    """How many chats are bound to a participant."""
    return (
        await session.scalar(
            select(func.count()).where(ChannelIdentity.participant_id == participant_id)
        )
        or 0
    )
