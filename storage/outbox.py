"""Queries for the outbox of pushes the dispatcher sends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PRIORITY_NOTICE, OutboxMessage


async def enqueue(
    session: AsyncSession,
    *,
    template: str,
    due_at: datetime,
    params: dict[str, Any] | None = None,
    participant_id: int | None = None,
    staff_id: int | None = None,
    subject: tuple[str, int] | None = None,
    dedup_key: str | None = None,
    priority: int = PRIORITY_NOTICE,
    broadcast_id: int | None = None,
) -> int | None:
    """Add a push in the caller's transaction; None if one with `dedup_key` exists already.

    Insert-if-absent (`ON CONFLICT DO NOTHING`): two producers racing on one key never
    abort each other's transaction, on PostgreSQL and SQLite alike.
    """
    if (participant_id is None) == (staff_id is None):
        raise ValueError("a push has exactly one recipient: a participant or a staff user")
    subject_type, subject_id = subject if subject is not None else (None, None)
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxMessage)
        .values(
            template=template,
            params=params or {},
            due_at=due_at,
            participant_id=participant_id,
            staff_id=staff_id,
            subject_type=subject_type,
            subject_id=subject_id,
            dedup_key=dedup_key,
            priority=priority,
            broadcast_id=broadcast_id,
        )
        .on_conflict_do_nothing(index_elements=[OutboxMessage.dedup_key])
        .returning(OutboxMessage.id)
    )
    return await session.scalar(statement)
