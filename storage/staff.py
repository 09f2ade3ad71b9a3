"""Queries for staff users and their web sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import StaffSession, StaffUser


async def find_staff_by_email(session: AsyncSession, *, email: str) -> StaffUser | None:
    """The staff user with this e-mail address (case-insensitive), or None."""
    return await session.scalar(select(StaffUser).where(StaffUser.email == email.lower()))


async def add_web_session(
    session: AsyncSession, *, token_hash: str, staff_id: int, csrf_token: str, expires_at: datetime
) -> StaffSession:
    """Store a new login by the hash of its cookie."""
    web_session = StaffSession(
        token_hash=token_hash, staff_id=staff_id, csrf_token=csrf_token, expires_at=expires_at
    )
    session.add(web_session)
    await session.flush()
    return web_session


async def find_web_session(
    session: AsyncSession, *, token_hash: str, now: datetime
) -> StaffSession | None:
    """The open login with this cookie hash of an active staff user, or None."""
    return await session.scalar(
        select(StaffSession)
        .join(StaffUser, StaffUser.id == StaffSession.staff_id)
        .where(
            StaffSession.token_hash == token_hash,
            StaffSession.expires_at > now,
            StaffUser.active.is_(True),
        )
    )


async def end_web_sessions(
    session: AsyncSession, *, token_hash: str | None = None, staff_id: int | None = None
) -> int:
    """End one login (by cookie hash) or every login of a staff user; how many ended."""
    query = delete(StaffSession)
    if token_hash is not None:
        query = query.where(StaffSession.token_hash == token_hash)
    if staff_id is not None:
        query = query.where(StaffSession.staff_id == staff_id)
    result = await session.execute(query)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def prune_web_sessions(session: AsyncSession, *, now: datetime) -> int:
    """Forget expired logins; how many."""
    result = await session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
