"""Storage: migrations match the models, timestamps come back aware and in UTC."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from storage.db import make_engine
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


async def test_a_connection_the_server_closed_is_replaced_before_it_is_used(engine):
    """No pre-ping round trip: a pooled connection whose server end died is swapped on
    checkout, so the next turn works instead of failing once per pooled connection."""
    if engine.dialect.name != "postgresql":
        pytest.skip("about PostgreSQL's server-side disconnects; SQLite has no server")
    async with engine.connect() as connection:
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
    async with engine.connect() as connection:  # the pool hands out the same one (LIFO)
        assert await connection.scalar(text("SELECT pg_backend_pid()")) == pid
    killer = make_engine(engine.url.render_as_string(hide_password=False))
    async with killer.connect() as connection:
        await connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(50):  # the server ends it, then our loop reads the close
            gone = await connection.scalar(
                text("SELECT count(*) = 0 FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
            if gone:
                break
            await asyncio.sleep(0.1)
    await killer.dispose()
    await asyncio.sleep(0.2)
    async with engine.connect() as connection:
        replaced = await connection.scalar(text("SELECT pg_backend_pid()"))
    assert replaced != pid
