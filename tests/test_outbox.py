"""The outbox: one recipient per push, insert-if-absent on the dedup key, even when racing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from storage.models import PRIORITY_REMINDER, OutboxMessage
from storage.outbox import enqueue
from storage.types import utcnow


async def _count(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


async def test_enqueue_is_insert_if_absent(sessions, make_participant):
    participant = await make_participant()
    now = utcnow()
    async with sessions.begin() as session:
        first = await enqueue(
            session,
            template="appointment.reminder",
            params={"offset": "24h"},
            participant_id=participant.id,
            subject=("appointment", 12),
            dedup_key="reminder:ap:12:24h",
            due_at=now,
            priority=PRIORITY_REMINDER,
        )
        again = await enqueue(
            session,
            template="appointment.reminder",
            participant_id=participant.id,
            dedup_key="reminder:ap:12:24h",
            due_at=now,
        )
        # No key: never deduplicated.
        free = [
            await enqueue(session, template="t", participant_id=participant.id, due_at=now)
            for _ in range(2)
        ]
    assert isinstance(first, int) and again is None and None not in free
    async with sessions() as session:
        row = await session.get(OutboxMessage, first)
    assert row is not None
    assert (row.template, row.params, row.subject_type, row.subject_id) == (
        "appointment.reminder",
        {"offset": "24h"},
        "appointment",
        12,
    )
    assert (row.state, row.attempts, row.priority) == ("pending", 0, PRIORITY_REMINDER)
    assert await _count(sessions) == 3


async def test_two_planners_racing_on_one_key_both_commit(sessions, make_participant):
    """Neither transaction aborts on the other's insert: one row, two clean commits."""
    participant = await make_participant()

    async def planner() -> int | None:
        async with sessions.begin() as session:
            made = await enqueue(
                session,
                template="course.reminder",
                participant_id=participant.id,
                dedup_key="reminder:course:3:2026-12-01T09:00:2h",
                due_at=utcnow(),
            )
            await asyncio.sleep(0.05)  # hold the transaction open while the other inserts
            return made

    results = await asyncio.gather(planner(), planner())
    assert sorted(result is None for result in results) == [False, True]
    assert await _count(sessions) == 1


async def test_a_push_has_exactly_one_recipient(sessions, make_participant, make_staff):
    participant = await make_participant()
    coach = await make_staff()
    async with sessions() as session:
        for recipients in ({}, {"participant_id": participant.id, "staff_id": coach.id}):
            with pytest.raises(ValueError, match="exactly one recipient"):
                await enqueue(session, template="t", due_at=utcnow(), **recipients)
