"""`wegweiser backup` of a running instance and `wegweiser restore` into a fresh database
find every participant, appointment and push; a restore never overwrites data unasked."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.features.appointments.planning import create_appointment
from bot.plumbing.reminders import ReminderPolicy
from storage.db import make_engine, make_sessionmaker
from storage.models import Appointment, OutboxMessage, Participant, StaffUser
from storage.types import utcnow
from tests.conftest import Pushing

TABLES = {"participants": Participant, "appointments": Appointment, "outbox": OutboxMessage}


async def _ids(sessions) -> dict[str, set[int]]:
    async with sessions() as session:
        return {
            name: set(await session.scalars(select(model.id))) for name, model in TABLES.items()
        }


async def _wegweiser(tmp_path: Path, database_url: str, *args: str) -> tuple[int, str, str]:
    """`python -m bot ARGS` as an operator runs it, with DATABASE_URL; code, out, err."""
    env = {**os.environ, "DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,  # no .env of the checkout
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _fresh_database(database_url: str, tmp_path: Path) -> str:
    """An empty database beside the test's: a new SQLite file, or PostgreSQL's
    <name>_restore, dropped and created again."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'restored.db'}"
    import asyncpg

    name = f"{url.database}_restore"
    admin = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database="postgres"
    )
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def pg_tools(database_url: str) -> None:
    """PostgreSQL's backups need pg_dump and pg_restore; skipped with the reason without."""
    import shutil

    if database_url.startswith("postgresql") and not (
        shutil.which("pg_dump") and shutil.which("pg_restore")
    ):
        pytest.skip("pg_dump/pg_restore are not on PATH (apt-get install postgresql-client)")


async def test_backup_while_the_bot_writes_and_restore_finds_every_row(
    pg_tools,
    telegram,
    settings,
    sessions,
    make_staff,
    make_participant,
    bind_chat,
    tmp_path,
    database_url,
):
    coach = await make_staff(role="admin")
    policy = ReminderPolicy.from_settings(settings)
    pushing = Pushing(telegram, sessions, settings)
    planned = 0

    async def plan_one() -> None:
        """A new participant with a chat and an appointment (reminders, a notice), then the
        dispatcher sends what is due: the instance writes the whole time."""
        nonlocal planned
        planned += 1
        person = await make_participant(
            display_name=f"Person {planned}", accepted=True, coach_id=coach.id
        )
        await bind_chat(person, 60_000 + planned)
        starts = utcnow() + timedelta(days=2, minutes=planned)
        async with sessions.begin() as session:
            actor = await session.get(StaffUser, coach.id)
            await create_appointment(
                session,
                actor=actor,
                participant_id=person.id,
                kind="coaching",
                starts_at=starts,
                ends_at=starts + timedelta(minutes=45),
                location="Kreishaus Unna",
                policy=policy,
                now=utcnow(),
            )
        await pushing.dispatcher.drain()

    for _ in range(30):
        await plan_one()
    stop = asyncio.Event()

    async def keep_writing() -> None:
        while not stop.is_set():
            await plan_one()

    writer = asyncio.create_task(keep_writing())
    try:
        before = await _ids(sessions)
        planned_before = planned
        target = tmp_path / "wegweiser.backup"
        code, out, err = await _wegweiser(tmp_path, database_url, "backup", str(target))
        assert (code, err) == (0, ""), err
        assert out.startswith(f"backup written to {target}")
        written_during_backup = planned - planned_before
    finally:
        stop.set()
        await writer
    after = await _ids(sessions)
    assert written_during_backup > 0, "the instance wrote while the backup ran"

    fresh = await _fresh_database(database_url, tmp_path)
    code, out, err = await _wegweiser(tmp_path, fresh, "restore", str(target))
    assert (code, err) == (0, ""), err
    engine = make_engine(fresh)
    try:
        restored = await _ids(make_sessionmaker(engine))
    finally:
        await engine.dispose()
    for table in TABLES:
        assert before[table] <= restored[table] <= after[table], table
    assert len(restored["outbox"]) >= 3 * 30  # two reminders and a notice each, at least
    assert telegram.fake.sent(), "the dispatcher sent while it ran"

    # A second restore into the now full database is refused, in one line, and changes nothing.
    code, out, err = await _wegweiser(tmp_path, fresh, "restore", str(target))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "not empty" in err and "--force" in err
    code, _out, err = await _wegweiser(tmp_path, fresh, "restore", "--force", str(target))
    assert (code, err) == (0, "")


async def test_backup_and_restore_refuse_in_one_line(tmp_path, database_url):
    code, _out, err = await _wegweiser(tmp_path, database_url, "restore", "no-such-file")
    assert code == 1 and err == "wegweiser: no-such-file is not a file\n"
    (tmp_path / "taken").write_text("not a backup\n" * 100)
    code, _out, err = await _wegweiser(tmp_path, database_url, "backup", "taken")
    assert code == 1 and err == "wegweiser: taken exists already; choose a new file name\n"
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    code, _out, err = await _wegweiser(tmp_path, empty, "restore", "taken")
    assert code == 1 and err == "wegweiser: taken: file is not a database\n"


async def test_without_pg_dump_the_backup_says_what_is_missing(tmp_path):
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/nothing"
    env_path = {"PATH": str(tmp_path)}  # no pg_dump there
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "backup",
        "out.dump",
        cwd=tmp_path,
        env={**os.environ, **env_path, "DATABASE_URL": url},
        stderr=asyncio.subprocess.PIPE,
    )
    _out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 1
    assert err.decode() == (
        "wegweiser: pg_dump is not on PATH; install PostgreSQL's client tools "
        "(e.g. apt-get install postgresql-client), the server's version or newer\n"
    )
