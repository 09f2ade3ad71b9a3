"""A broadcast backlog in the database: the pacing test and bench.broadcast send it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import (
    PRIORITY_BULK,
    Broadcast,
    ChannelIdentity,
    OutboxMessage,
    Participant,
    StaffUser,
)
from storage.types import utcnow

FIRST_CHAT = 900_000
TEXT = "Das Büro ist am Freitag geschlossen."


async def seed_broadcast(sessions: async_sessionmaker[AsyncSession], count: int) -> None:
    """A queued broadcast to `count` consented participants, each with a Telegram chat
    (FIRST_CHAT onwards) and one due outbox row."""
    now = utcnow()
    async with sessions.begin() as session:
        session.add(StaffUser(id=1, email="a@example.org", display_name="A", role="admin"))
        await session.flush()
        session.add(
            Broadcast(
                id=1,
                created_by_id=1,
                segment={"kind": "everyone"},
                params={},
                text=TEXT,
                state="queued",
                recipients=count,
            )
        )
        await session.execute(
            insert(Participant),
            [
                {
                    "id": i + 1,
                    "display_name": f"P{i}",
                    "locale": "de",
                    "coach_id": 1,
                    "privacy_accepted_at": now,
                }
                for i in range(count)
            ],
        )
        await session.execute(
            insert(ChannelIdentity),
            [
                {
                    "participant_id": i + 1,
                    "channel": "telegram",
                    "external_id": str(FIRST_CHAT + i),
                }
                for i in range(count)
            ],
        )
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "participant_id": i + 1,
                    "template": "broadcast.message",
                    "params": {},
                    "subject_type": "broadcast",
                    "subject_id": 1,
                    "broadcast_id": 1,
                    "dedup_key": f"bc:1:{i + 1}",
                    "due_at": now - timedelta(seconds=1),
                    "priority": PRIORITY_BULK,
                }
                for i in range(count)
            ],
        )
