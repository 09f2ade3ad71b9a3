"""Queries for invites."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Invite


async def add_invite(
    session: AsyncSession,
    *,
    participant_id: int,
    token_hash: str,
    expires_at: datetime,
    created_by_id: int | None,
) -> Invite:
    """Store a new invite by the hash of its token."""
    invite = Invite(
        participant_id=participant_id,
        token_hash=token_hash,
        expires_at=expires_at,
        created_by_id=created_by_id,
    )
    session.add(invite)
    await session.flush()
    return invite


async def find_invite(
    session: AsyncSession, *, token_hash: str, for_update: bool = False
) -> Invite | None:
    """The invite with this token hash, or None; optionally locked against a racing redeem."""
    query = select(Invite).where(Invite.token_hash == token_hash)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def latest_used_invite(session: AsyncSession, *, participant_id: int) -> Invite | None:
    """The participant's most recently redeemed invite, or None."""
    return await session.scalar(
        select(Invite)
        .where(Invite.participant_id == participant_id, Invite.used_at.is_not(None))
        .order_by(Invite.used_at.desc())
        .limit(1)
    )
