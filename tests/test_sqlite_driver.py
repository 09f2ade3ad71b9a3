"""SQLite driver: one trip to aiosqlite's thread per statement, none for an empty COMMIT,
and otherwise what SQLAlchemy's own aiosqlite adapter does (rows, errors, transactions)."""

from __future__ import annotations

import asyncio
import logging

import aiosqlite
import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection
from sqlalchemy.exc import IntegrityError

from storage.db import make_engine, make_sessionmaker
from storage.identities import find_identity
from storage.models import ChannelIdentity, Participant
from storage.sqlite_driver import OneTripConnection


@pytest.fixture(autouse=True)
def _sqlite_only(engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("the one-trip driver is SQLite's; PostgreSQL uses asyncpg")


@pytest.fixture
def trips(monkeypatch):
    """Counts the calls sent to aiosqlite's connection threads."""
    count = {"n": 0}
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):
        count["n"] += 1
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return count


async def _chat(sessions, make_participant, external_id="5001") -> Participant:
    participant = await make_participant()
    async with sessions.begin() as session:
        session.add(
            ChannelIdentity(
                participant_id=participant.id, channel="telegram", external_id=external_id
            )
        )
    return participant


async def test_a_turn_that_only_reads_takes_one_trip(sessions, make_participant, trips):
    participant = await _chat(sessions, make_participant)
    async with sessions() as session:  # a warm pool, as a running bot has
        await session.execute(text("SELECT 1"))
        await session.commit()
    trips["n"] = 0
    async with sessions() as session:
        identity = await find_identity(session, channel="telegram", external_id="5001")
        await session.commit()
    assert identity is not None and identity.participant is not None
    assert identity.participant.id == participant.id
    assert trips["n"] == 1  # the SELECT; the COMMIT had nothing to do


async def test_a_write_is_committed_and_a_rollback_undoes_one(sessions, make_participant, trips):
    await _chat(sessions, make_participant)
    trips["n"] = 0
    async with sessions() as session:
        identity = await find_identity(session, channel="telegram", external_id="5001")
        assert identity is not None
        identity.awaiting = "ap:reason:12"
        await session.commit()
    assert trips["n"] == 3  # SELECT, UPDATE, COMMIT
    async with sessions() as session:
        await session.execute(update(ChannelIdentity).values(awaiting="changed"))
        await session.rollback()
    async with sessions() as session:
        awaiting = await session.scalar(select(ChannelIdentity.awaiting))
    assert awaiting == "ap:reason:12"


async def test_many_rows_bulk_inserts_and_returning(sessions, make_staff):
    coach = await make_staff()
    async with sessions.begin() as session:
        result = await session.execute(
            insert(Participant.__table__),  # Core: a result with the rowcount (executemany)
            [{"display_name": f"P{i}", "coach_id": coach.id} for i in range(250)],
        )
        assert result.rowcount == 250  # type: ignore[attr-defined]
        returned = await session.execute(
            insert(Participant).returning(Participant.id, Participant.display_name),
            {"display_name": "Last", "coach_id": coach.id},
        )
        new_id, name = returned.one()
        assert name == "Last"
    async with sessions() as session:
        names = (await session.scalars(select(Participant.display_name))).all()
        streamed = [p async for p in await session.stream_scalars(select(Participant.id))]
    assert len(names) == 251 and names[0] == "P0"
    assert len(streamed) == 251 and new_id in streamed


async def test_a_failed_statement_raises_and_the_connection_goes_on(
    sessions, make_participant, engine
):
    await _chat(sessions, make_participant)
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(ChannelIdentity(channel="telegram", external_id="5001"))
            await session.flush()
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(ChannelIdentity))
    assert count == 1
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert isinstance(raw.driver_connection, aiosqlite.Connection)
        assert isinstance(raw.dbapi_connection, OneTripConnection)


@pytest.mark.parametrize("private", ["_execute", "_conn"])
async def test_without_aiosqlites_private_api_sqlalchemys_own_adapter_is_used(
    database_url, make_staff, monkeypatch, caplog, private
):
    """An aiosqlite without Connection._execute or _conn (another release): one warning,
    and the engine runs on SQLAlchemy's own aiosqlite connections, with the same results."""
    coach = await make_staff()
    caplog.set_level(logging.WARNING, logger="storage.sqlite_driver")
    # aiosqlite itself needs them to run at all: they are gone while the engine is built.
    with monkeypatch.context() as missing:
        missing.delattr(aiosqlite.Connection, private)
        engine = make_engine(database_url)
    try:
        sessions = make_sessionmaker(engine)

        async def turn(i: int) -> None:  # several connections of the pool at once
            async with sessions.begin() as session:
                session.add(Participant(display_name=f"P{i}", coach_id=coach.id))

        await asyncio.gather(*(turn(i) for i in range(5)))
        with pytest.raises(IntegrityError):
            async with sessions.begin() as session:
                session.add(Participant(display_name="nobody's", coach_id=coach.id + 99))
        async with sessions() as session:
            names = (await session.scalars(select(Participant.display_name))).all()
            streamed = [n async for n in await session.stream_scalars(select(Participant.id))]
        async with engine.connect() as connection:
            adapted = (await connection.get_raw_connection()).dbapi_connection
    finally:
        await engine.dispose()
    assert sorted(names) == [f"P{i}" for i in range(5)] and len(streamed) == 5
    assert isinstance(adapted, AsyncAdapt_aiosqlite_connection)
    assert not isinstance(adapted, OneTripConnection)
    [warning] = [r for r in caplog.records if r.name == "storage.sqlite_driver"]
    assert private in warning.getMessage()
