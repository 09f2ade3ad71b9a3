"""Queries for staff users, their web sessions, set-password links and caseloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Appointment,
    Course,
    Participant,
    StaffPasswordLink,
    StaffSession,
    StaffUser,
)


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


async def list_staff(session: AsyncSession) -> list[StaffUser]:
    """Every staff user, active ones first, then by name."""
    result = await session.scalars(
        select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.display_name, StaffUser.id)
    )
    return list(result)


async def count_active_admins(session: AsyncSession) -> int:
    """How many active admins there are (the last one may not be demoted or deactivated)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(StaffUser)
            .where(StaffUser.role == "admin", StaffUser.active.is_(True))
        )
        or 0
    )


async def add_password_link(
    session: AsyncSession,
    *,
    staff_id: int,
    token_hash: str,
    purpose: str,
    expires_at: datetime,
    created_by_id: int | None,
) -> StaffPasswordLink:
    """Store a new set-password link by the hash of its token."""
    link = StaffPasswordLink(
        staff_id=staff_id,
        token_hash=token_hash,
        purpose=purpose,
        expires_at=expires_at,
        created_by_id=created_by_id,
    )
    session.add(link)
    await session.flush()
    return link


def _open_link(token_hash: str, now: datetime) -> Any:
    return (
        StaffPasswordLink.token_hash == token_hash,
        StaffPasswordLink.used_at.is_(None),
        StaffPasswordLink.revoked_at.is_(None),
        StaffPasswordLink.expires_at > now,
    )


async def find_open_password_link(
    session: AsyncSession, *, token_hash: str, now: datetime
) -> StaffPasswordLink | None:
    """The unused, unrevoked, unexpired link with this token hash, or None."""
    return await session.scalar(select(StaffPasswordLink).where(*_open_link(token_hash, now)))


async def use_password_link(
    session: AsyncSession, *, token_hash: str, now: datetime
) -> int | None:
    """Mark the link used if it is still open: its staff id, or None (of two racing uses,
    exactly one gets it: the condition sits in the UPDATE)."""
    result = await session.execute(
        update(StaffPasswordLink)
        .where(*_open_link(token_hash, now))
        .values(used_at=now)
        .returning(StaffPasswordLink.staff_id)
    )
    return result.scalar_one_or_none()


async def revoke_password_links(session: AsyncSession, *, staff_id: int, now: datetime) -> int:
    """Revoke a staff user's open set-password links; how many."""
    result = await session.execute(
        update(StaffPasswordLink)
        .where(
            StaffPasswordLink.staff_id == staff_id,
            StaffPasswordLink.used_at.is_(None),
            StaffPasswordLink.revoked_at.is_(None),
            StaffPasswordLink.expires_at > now,
        )
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def open_password_links(
    session: AsyncSession, *, now: datetime
) -> dict[int, StaffPasswordLink]:
    """The newest open set-password link per staff user (to show "link sent, until ...")."""
    result = await session.scalars(
        select(StaffPasswordLink)
        .where(
            StaffPasswordLink.used_at.is_(None),
            StaffPasswordLink.revoked_at.is_(None),
            StaffPasswordLink.expires_at > now,
        )
        .order_by(StaffPasswordLink.created_at)
    )
    return {link.staff_id: link for link in result}


async def caseload(session: AsyncSession, *, coach_id: int) -> list[Participant]:
    """A coach's participants who are not erased (for a hand-over to another coach)."""
    result = await session.scalars(
        select(Participant)
        .where(Participant.coach_id == coach_id, Participant.status != "deleted")
        .order_by(Participant.status, Participant.display_name, Participant.id)
    )
    return list(result)


async def reassign_caseload(
    session: AsyncSession, *, from_id: int, to_id: int, now: datetime
) -> tuple[int, int, int]:
    """Give one coach's participants, courses and coming appointments of those participants
    to another; how many of each."""
    moved = list(
        await session.scalars(
            update(Participant)
            .where(Participant.coach_id == from_id, Participant.status != "deleted")
            .values(coach_id=to_id)
            .returning(Participant.id)
        )
    )
    courses = await session.execute(
        update(Course).where(Course.coach_id == from_id).values(coach_id=to_id)
    )
    appointments = await session.execute(
        update(Appointment)
        .where(
            Appointment.coach_id == from_id,
            Appointment.participant_id.in_(moved),
            Appointment.starts_at > now,
            Appointment.cancelled_at.is_(None),
        )
        .values(coach_id=to_id)
    )
    return (
        len(moved),
        int(courses.rowcount or 0),  # type: ignore[attr-defined]
        int(appointments.rowcount or 0),  # type: ignore[attr-defined]
    )


async def caseload_sizes(session: AsyncSession) -> dict[int, int]:
    """How many participants (not erased) each staff user has."""
    result = await session.execute(
        select(Participant.coach_id, func.count())
        .where(Participant.coach_id.is_not(None), Participant.status != "deleted")
        .group_by(Participant.coach_id)
    )
    return {coach_id: n for coach_id, n in result.all() if coach_id is not None}
