"""Queries for chat bindings (channel identities) of participants and staff users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChannelIdentity

# Every update starts with this lookup: built once, since building the expression cost more
# than SQLite takes to answer it.
_BY_CHAT = select(ChannelIdentity).where(
    ChannelIdentity.channel == bindparam("channel"),
    ChannelIdentity.external_id == bindparam("external_id"),
)


async def find_identity(
    session: AsyncSession, *, channel: str, external_id: str
) -> ChannelIdentity | None:
    """The binding of one chat, with its participant or staff user, or None."""
    return await session.scalar(_BY_CHAT, {"channel": channel, "external_id": external_id})


async def bind_identity(
    session: AsyncSession,
    *,
    channel: str,
    external_id: str,
    participant_id: int | None = None,
    staff_id: int | None = None,
    invite_id: int | None = None,
) -> ChannelIdentity:
    """Bind a chat to a participant or to a staff user (exactly one)."""
    identity = ChannelIdentity(
        participant_id=participant_id,
        staff_id=staff_id,
        channel=channel,
        external_id=external_id,
        invite_id=invite_id,
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


async def mark_blocked(
    session: AsyncSession, *, channel: str, external_id: str, now: datetime
) -> bool:
    """Record that this chat blocked the bot; True if it was not marked before."""
    result = await session.execute(
        update(ChannelIdentity)
        .where(
            ChannelIdentity.channel == channel,
            ChannelIdentity.external_id == external_id,
            ChannelIdentity.blocked_at.is_(None),
        )
        .values(blocked_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def blocked_chats(session: AsyncSession) -> dict[str, int]:
    """How many chats have blocked the bot, per channel."""
    rows = await session.execute(
        select(ChannelIdentity.channel, func.count())
        .where(ChannelIdentity.blocked_at.is_not(None))
        .group_by(ChannelIdentity.channel)
    )
    return {channel: int(count) for channel, count in rows.all()}
