"""Queries for staff users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import StaffUser


async def find_staff_by_email(session: AsyncSession, *, email: str) -> StaffUser | None:
    """The staff user with this e-mail address (case-insensitive), or None."""
    return await session.scalar(select(StaffUser).where(StaffUser.email == email.lower()))
