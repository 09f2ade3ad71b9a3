"""Queries for the outbox of pushes the dispatcher sends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    due_at: datetime,
    participant_id: int | None = None,
    staff_id: int | None = None,
    dedup_key: str | None = None,
    priority: int = 5,
) -> OutboxMessage | None:
    """Add a push in the caller's transaction; None if one with `dedup_key` exists already."""
    if dedup_key is not None:
        existing = await session.scalar(
            select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)
        )
        if existing is not None:
            return None
    message = OutboxMessage(
        kind=kind,
        payload=payload,
        due_at=due_at,
        participant_id=participant_id,
        staff_id=staff_id,
        dedup_key=dedup_key,
        priority=priority,
    )
    session.add(message)
    await session.flush()
    return message
