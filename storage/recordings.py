"""Queries for the recorded spoken versions of texts (content entries, broadcast templates)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import undefer

from storage.models import Recording


async def recordings_of(
    session: AsyncSession, *, subject: str, keys: list[str]
) -> dict[tuple[str, str], Recording]:
    """The recordings of some texts, by (key, locale), without their audio."""
    if not keys:
        return {}
    rows = await session.scalars(
        select(Recording).where(Recording.subject == subject, Recording.key.in_(keys))
    )
    return {(row.key, row.locale): row for row in rows}


async def recording(
    session: AsyncSession, *, subject: str, key: str, locale: str, with_audio: bool = False
) -> Recording | None:
    """One text's recording in one language (with its audio if asked)."""
    query = select(Recording).where(
        Recording.subject == subject, Recording.key == key, Recording.locale == locale
    )
    if with_audio:
        query = query.options(undefer(Recording.audio))
    return await session.scalar(query)
