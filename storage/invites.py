"""Queries for invites (participants' and staff users')."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Invite


async def add_invite(
    session: AsyncSession,
    *,
    token_hash: str,
    expires_at: datetime,
    created_by_id: int | None,
    participant_id: int | None = None,
    staff_id: int | None = None,
) -> Invite:
    """Store a new invite by the hash of its token."""
    invite = Invite(
        participant_id=participant_id,
        staff_id=staff_id,
        token_hash=token_hash,
        expires_at=expires_at,
        created_by_id=created_by_id,
    )
    session.add(invite)
    await session.flush()
    return invite


async def find_invite(session: AsyncSession, *, token_hash: str) -> Invite | None:
    """The invite with this token hash, or None."""
    return await session.scalar(select(Invite).where(Invite.token_hash == token_hash))


async def use_invite(session: AsyncSession, *, token_hash: str, now: datetime) -> int | None:
    """Mark the invite used if it is open; its id, or None if it was not (one UPDATE).

    The condition sits in the UPDATE itself, so of two racing redeems exactly one gets the
    row, on SQLite (writes are serialised) and PostgreSQL (the row lock re-checks it).
    """
    result = await session.execute(
        update(Invite)
        .where(
            Invite.token_hash == token_hash,
            Invite.used_at.is_(None),
            Invite.revoked_at.is_(None),
            Invite.expires_at > now,
        )
        .values(used_at=now)
        .returning(Invite.id)
    )
    return result.scalar_one_or_none()


async def reopen_invite(session: AsyncSession, *, invite_id: int, now: datetime) -> None:
    """Make a used invite usable again if it has not expired or been revoked."""
    await session.execute(
        update(Invite)
        .where(Invite.id == invite_id, Invite.expires_at > now, Invite.revoked_at.is_(None))
        .values(used_at=None)
    )


async def revoke_open_invites(
    session: AsyncSession,
    *,
    participant_id: int | None = None,
    staff_id: int | None = None,
    now: datetime,
) -> int:
    """Revoke the unused, unexpired invites of one participant or staff user; how many."""
    owner = (
        Invite.participant_id == participant_id
        if participant_id is not None
        else Invite.staff_id == staff_id
    )
    result = await session.execute(
        update(Invite)
        .where(
            owner, Invite.used_at.is_(None), Invite.revoked_at.is_(None), Invite.expires_at > now
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def open_invites(
    session: AsyncSession, *, participant_id: int, now: datetime
) -> list[Invite]:
    """The participant's invites that can still be used, newest first."""
    result = await session.scalars(
        select(Invite)
        .where(
            Invite.participant_id == participant_id,
            Invite.used_at.is_(None),
            Invite.revoked_at.is_(None),
            Invite.expires_at > now,
        )
        .order_by(Invite.created_at.desc())
    )
    return list(result)
