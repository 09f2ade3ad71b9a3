"""Storage: migrations match the models, timestamps come back aware and in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from storage.models import Base, Participant


async def test_migrations_match_the_models(engine):
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {
        "participants",
        "channel_identities",
        "invites",
        "modules",
        "courses",
        "course_slots",
        "course_exceptions",
        "enrolments",
        "appointments",
        "outbox",
        "content_entries",
        "handover_requests",
        "audit_log",
        "staff_users",
    } <= tables


async def test_timestamps_are_utc_and_aware(sessions, make_participant):
    berlin = timezone(timedelta(hours=1))
    participant = await make_participant(
        privacy_accepted_at=datetime(2026, 11, 25, 10, 0, tzinfo=berlin)
    )
    async with sessions() as session:
        stored = await session.get(Participant, participant.id)
    assert stored is not None
    assert stored.privacy_accepted_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert stored.privacy_accepted_at.tzinfo is not None
    assert stored.created_at.tzinfo is not None


async def test_naive_timestamps_are_refused(sessions, make_staff):
    coach = await make_staff()
    with pytest.raises(Exception, match="naive datetime"):
        async with sessions.begin() as session:
            session.add(
                Participant(
                    display_name="X", coach_id=coach.id, privacy_accepted_at=datetime(2026, 1, 1)
                )
            )
