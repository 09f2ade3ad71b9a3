"""Queries for the staff-edited content tree ("what comes next") and its translations."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ContentEntry, ContentNode


async def child_nodes(session: AsyncSession, *, parent_id: int | None) -> list[ContentNode]:
    """The entries under a node (or the top level), in their order."""
    return list(
        await session.scalars(
            select(ContentNode)
            .where(
                ContentNode.parent_id.is_(None)
                if parent_id is None
                else ContentNode.parent_id == parent_id
            )
            .order_by(ContentNode.position, ContentNode.id)
        )
    )


async def all_nodes(session: AsyncSession) -> list[ContentNode]:
    """Every node, parents before children."""
    return list(
        await session.scalars(
            select(ContentNode).order_by(
                ContentNode.parent_id.is_not(None), ContentNode.position, ContentNode.id
            )
        )
    )


async def texts_of(
    session: AsyncSession, *, keys: list[str]
) -> dict[tuple[str, str], ContentEntry]:
    """The language versions of some nodes, by (key, locale)."""
    if not keys:
        return {}
    rows = await session.scalars(select(ContentEntry).where(ContentEntry.key.in_(keys)))
    return {(row.key, row.locale): row for row in rows}
