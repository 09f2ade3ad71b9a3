"""Migrations: a database made by 0001 that holds rows upgrades to the newest schema intact."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_engine, upgrade
from storage.types import utcnow

SCHEMA = "wegweiser_migration_test"


@pytest.fixture
async def old_engine(database_url: str, tmp_path) -> AsyncIterator[AsyncEngine]:
    """An empty database of its own: a SQLite file, or a separate PostgreSQL schema."""
    if database_url.startswith("sqlite"):
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    else:
        admin = make_engine(database_url)
        async with admin.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await admin.dispose()
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(
            database_url, connect_args={"server_settings": {"search_path": SCHEMA}}
        )
    yield engine
    await engine.dispose()


async def test_0001_database_with_rows_upgrades_and_keeps_them(old_engine):
    await upgrade(old_engine, "0001")
    now = utcnow()
    later = now + timedelta(days=3)
    is_sqlite = old_engine.dialect.name == "sqlite"
    stamp = now.replace(tzinfo=None) if is_sqlite else now
    async with old_engine.begin() as connection:

        async def insert(sql: str, **params: object) -> None:
            await connection.execute(text(sql), params)

        await insert(
            "INSERT INTO staff_users (id, email, display_name, role, locale, active, created_at)"
            " VALUES (1, 'c@example.org', 'Miriam', 'coach', 'de', true, :now)",
            now=stamp,
        )
        for ident, name, unreachable in ((1, "Amina", False), (2, "Dawit", True)):
            await insert(
                "INSERT INTO participants (id, display_name, locale, coach_id, status,"
                " privacy_accepted_at, bilingual, unreachable, created_at)"
                " VALUES (:id, :name, 'ar', 1, 'active', :now, false, :unreachable, :now)",
                id=ident,
                name=name,
                unreachable=unreachable,
                now=stamp,
            )
            await insert(
                "INSERT INTO channel_identities (id, participant_id, channel, external_id,"
                " created_at) VALUES (:id, :id, 'telegram', :chat, :now)",
                id=ident,
                chat=str(5000 + ident),
                now=stamp,
            )
        await insert(
            "INSERT INTO invites (id, participant_id, token_hash, created_at, expires_at, used_at)"
            " VALUES (1, 1, :hash, :now, :later, :now)",
            hash="a" * 64,
            now=stamp,
            later=later.replace(tzinfo=None) if is_sqlite else later,
        )
        await insert(
            "INSERT INTO appointments (id, participant_id, coach_id, kind, starts_at, ends_at,"
            " location, response, created_at) VALUES (7, 1, 1, 'coaching', :later, :later,"
            " 'Kreishaus Unna', 'declined', :now)",
            later=later.replace(tzinfo=None) if is_sqlite else later,
            now=stamp,
        )
        await insert(
            "INSERT INTO outbox (kind, staff_id, payload, dedup_key, priority, due_at, state,"
            " attempts, created_at) VALUES ('coach_notice', 1, :payload, NULL, 1, :now,"
            " 'pending', 0, :now)",
            payload=json.dumps(
                {"text": "Amina kann nicht", "appointment_id": 7, "event": "declined"}
            ),
            now=stamp,
        )

    await upgrade(old_engine)

    async with old_engine.connect() as connection:
        revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        people = (
            await connection.execute(text("SELECT id, display_name FROM participants ORDER BY id"))
        ).all()
        chats = (
            await connection.execute(
                text(
                    "SELECT participant_id, staff_id, external_id, blocked_at IS NOT NULL"
                    " FROM channel_identities ORDER BY id"
                )
            )
        ).all()
        invite = (
            await connection.execute(text("SELECT participant_id, staff_id FROM invites"))
        ).one()
        [row] = (
            await connection.execute(
                text(
                    "SELECT template, params, subject_type, subject_id, staff_id, state"
                    " FROM outbox"
                )
            )
        ).all()
        appointment = await connection.scalar(text("SELECT response FROM appointments"))
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    assert [revision] == ScriptDirectory.from_config(alembic_config()).get_heads()
    assert [tuple(p) for p in people] == [(1, "Amina"), (2, "Dawit")]
    # Dawit was "unreachable": his chat now carries the blocked state.
    assert [tuple(c) for c in chats] == [(1, None, "5001", False), (2, None, "5002", True)]
    assert tuple(invite) == (1, None)
    assert appointment == "declined"
    params = row.params if isinstance(row.params, dict) else json.loads(row.params)
    assert (row.template, row.subject_type, row.subject_id, row.staff_id, row.state) == (
        "appointment.answer",
        "appointment",
        7,
        1,
        "pending",
    )
    # The frozen German text is gone; the event is kept and rendered anew at send time.
    assert params == {"response": "declined"}


async def test_the_new_checks_hold(old_engine):
    """A chat or a push belongs to exactly one person: the database refuses anything else."""
    from sqlalchemy.exc import IntegrityError

    await upgrade(old_engine)
    now = utcnow()
    stamp = now.replace(tzinfo=None) if old_engine.dialect.name == "sqlite" else now
    async with old_engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO staff_users (id, email, display_name, role, locale, active,"
                " created_at) VALUES (1, 'c@example.org', 'C', 'coach', 'de', true, :now)"
            ),
            {"now": stamp},
        )
        await connection.execute(
            text(
                "INSERT INTO participants (id, display_name, status, bilingual, created_at)"
                " VALUES (1, 'A', 'active', false, :now)"
            ),
            {"now": stamp},
        )
    for owners in ("1, 1", "NULL, NULL"):
        with pytest.raises(IntegrityError):
            async with old_engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO channel_identities (participant_id, staff_id, channel,"
                        f" external_id, created_at) VALUES ({owners}, 'telegram', '1', :now)"
                    ),
                    {"now": stamp},
                )
        with pytest.raises(IntegrityError):
            async with old_engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO outbox (participant_id, staff_id, template, params,"
                        " priority, due_at, state, attempts, created_at)"
                        f" VALUES ({owners}, 't', '{{}}', 1, :now, 'pending', 0, :now)"
                    ),
                    {"now": stamp},
                )
