"""Queries for the programme's modules ("Bausteine")."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Module, Participant


async def list_modules(session: AsyncSession, *, retired: bool = True) -> list[Module]:
    """The modules in the order they were made; without the retired ones if `retired` is
    False (what new participants, courses and imports are offered)."""
    query = select(Module).order_by(Module.id)
    if not retired:
        query = query.where(Module.retired_at.is_(None))
    return list(await session.scalars(query))


async def find_module_by_code(session: AsyncSession, *, code: str) -> Module | None:
    """The module with this code (as in a CSV file), or None."""
    return await session.scalar(select(Module).where(Module.code == code))


async def find_module_by_name(session: AsyncSession, *, name: str) -> Module | None:
    """The module with this name (case-insensitive), or None."""
    return await session.scalar(select(Module).where(func.lower(Module.name_de) == name.lower()))


async def participants_per_module(session: AsyncSession) -> dict[int, int]:
    """How many participants (any status but erased) each module has."""
    result = await session.execute(
        select(Participant.module_id, func.count())
        .where(Participant.module_id.is_not(None), Participant.status != "deleted")
        .group_by(Participant.module_id)
    )
    return {module_id: count for module_id, count in result.all() if module_id is not None}
