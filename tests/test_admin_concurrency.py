"""The staff web under ordinary concurrency: two coaches save while the dispatcher sends a
broadcast, and no save answers an error (on SQLite a transaction that read first could not
become a writer once another connection had written: "database is locked")."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading

import pytest
from sqlalchemy import event, func, select

from storage.models import (
    PRIORITY_BULK,
    Broadcast,
    ChannelIdentity,
    Enrolment,
    OutboxMessage,
    Participant,
)
from tests.conftest import Pushing
from tests.test_admin_web import PASSWORD, browser, site, staff  # noqa: F401 - fixtures

ROUNDS = 20  # per coach, three saves each: an edit, an enrolment, taking out again
RECIPIENTS = 3000
FIRST_CHAT = 810_000


async def _broadcast(sessions, coach) -> None:
    """A broadcast of the coach's to RECIPIENTS consented participants, each with a chat."""
    async with sessions.begin() as session:
        broadcast = Broadcast(
            created_by_id=coach.id,
            segment={"kind": "everyone"},
            params={},
            text="Das Büro ist am Freitag geschlossen.",
            state="queued",
            recipients=RECIPIENTS,
        )
        people = [
            Participant(
                display_name=f"P{i}",
                coach_id=coach.id,
                locale="de",
                privacy_accepted_at=coach.created_at,
            )
            for i in range(RECIPIENTS)
        ]
        session.add_all([broadcast, *people])
        await session.flush()
        for i, person in enumerate(people):
            session.add(
                ChannelIdentity(
                    channel="telegram", external_id=str(FIRST_CHAT + i), participant_id=person.id
                )
            )
            session.add(
                OutboxMessage(
                    participant_id=person.id,
                    template="broadcast.message",
                    params={},
                    subject_type="broadcast",
                    subject_id=broadcast.id,
                    broadcast_id=broadcast.id,
                    dedup_key=f"bc:{broadcast.id}:{person.id}",
                    due_at=coach.created_at,
                    priority=PRIORITY_BULK,
                )
            )


async def test_two_coaches_save_while_a_broadcast_goes_out_and_no_save_fails(
    browser,  # noqa: F811
    staff,  # noqa: F811
    make_participant,
    make_course,
    sessions,
    telegram,
    settings,
):
    coaches = [await staff(), await staff()]
    people = [
        await make_participant(display_name=name, accepted=True, coach_id=coach.id)
        for name, coach in zip(("Amina", "Samir"), coaches, strict=True)
    ]
    courses = [
        await make_course(slots=[(n, "09:00", "12:00")], coach_id=coach.id)
        for n, coach in enumerate(coaches)
    ]
    await _broadcast(sessions, coaches[0])
    dispatcher = Pushing(telegram, sessions, telegram.router.settings).dispatcher

    async def send() -> None:
        while True:
            if not await dispatcher.drain(timeout=None):
                await asyncio.sleep(0.005)

    async def save(coach, person, course) -> list[int]:
        """An edit (writes at once), then an enrolment and taking out again (each reads
        inside its savepoint before it writes: where SQLite's stale snapshot bit)."""
        b = browser()
        await b.login(coach.email, PASSWORD)
        await b.get(f"/admin/participants/{person.id}/edit")
        statuses = []
        for n in range(ROUNDS):
            language = ("ar", "uk")[n % 2]
            for path, form in (
                (
                    f"/admin/participants/{person.id}/edit",
                    {"name": person.display_name, "language": language, "coach": str(coach.id)},
                ),
                (f"/admin/courses/{course.id}/enrol", {"participant": str(person.id)}),
                (f"/admin/courses/{course.id}/leave", {"participant": str(person.id)}),
            ):
                statuses.append((await b.post(path, form)).status_code)
        return statuses

    sending = asyncio.create_task(send())
    try:
        await telegram.fake.wait_for(lambda f: f.count("sendMessage", 200) > 0, timeout=10)
        before = telegram.fake.count("sendMessage", 200)
        results = await asyncio.gather(
            *(save(*mine) for mine in zip(coaches, people, courses, strict=True))
        )
        sent_meanwhile = telegram.fake.count("sendMessage", 200) - before
    finally:
        sending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sending
    statuses = [status for result in results for status in result]
    errors = [status for status in statuses if status != 303]
    print(
        f"\n{len(statuses)} saves by two coaches while the dispatcher sent {sent_meanwhile} "
        f"messages: {len(errors)} errors {sorted(set(errors))}"
    )
    assert len(statuses) >= 100 and errors == []
    assert 50 < sent_meanwhile < RECIPIENTS  # the broadcast went out all the while
    async with sessions() as session:
        locales = {
            p.id: await session.scalar(select(Participant.locale).where(Participant.id == p.id))
            for p in people
        }
        changes = await session.scalar(select(func.count()).select_from(OutboxMessage))
        enrolled = await session.scalar(select(func.count()).select_from(Enrolment))
    assert set(locales.values()) == {"uk"}  # the last save of each stands
    assert enrolled == 0  # every enrolment was taken out again
    assert changes >= RECIPIENTS


async def test_another_writer_committing_between_a_saves_read_and_write_breaks_nothing(
    browser,  # noqa: F811
    staff,  # noqa: F811
    make_participant,
    make_course,
    sessions,
    engine,
    database_url,
):
    """Deterministic: the moment an enrolment has read inside its savepoint, another
    connection writes and commits. On SQLite a deferred transaction that read first cannot
    become a writer after that ("database is locked", SQLITE_BUSY_SNAPSHOT): the save must
    hold the write lock from its start, so the other writer waits for it instead."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's snapshot upgrade; PostgreSQL locks rows and has no such error")
    coach = await staff()
    person = await make_participant(display_name="Amina", accepted=True, coach_id=coach.id)
    other = await make_participant(display_name="Samir", accepted=True, coach_id=coach.id)
    course = await make_course(slots=[(0, "09:00", "12:00")], coach_id=coach.id)
    b = browser()
    await b.login(coach.email, PASSWORD)
    await b.get(f"/admin/courses/{course.id}")
    path = database_url.split("///", 1)[1]
    outcome: list[str] = []

    def other_writer() -> None:
        connection = sqlite3.connect(path, timeout=30)
        try:
            connection.execute(
                "UPDATE participants SET display_name = 'Samira' WHERE id = ?", (other.id,)
            )
            connection.commit()
            outcome.append("committed")
        finally:
            connection.close()

    in_savepoint = False
    writer = threading.Thread(target=other_writer)

    def between_read_and_write(_conn, _cursor, statement, *_args) -> None:
        nonlocal in_savepoint
        if statement.startswith("SAVEPOINT"):
            in_savepoint = True
        elif in_savepoint and statement.startswith("SELECT") and not writer.is_alive():
            if not outcome and writer.ident is None:
                writer.start()
                # Long enough for an unhindered commit; a writer that waits for our lock
                # goes on after this request's commit.
                writer.join(timeout=1.0)
                outcome.append("joined" if not writer.is_alive() else "waiting")

    event.listen(engine.sync_engine, "after_cursor_execute", between_read_and_write)
    try:
        enrolled = await b.post(
            f"/admin/courses/{course.id}/enrol", {"participant": str(person.id)}
        )
    finally:
        event.remove(engine.sync_engine, "after_cursor_execute", between_read_and_write)
    writer.join(timeout=30)
    print(f"\nthe other writer: {outcome}; the save answered {enrolled.status_code}")
    assert writer.ident is not None  # the enrolment read inside its savepoint
    assert enrolled.status_code == 303
    # The save held the write lock: the other writer waited and committed after it.
    assert outcome == ["waiting", "committed"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Enrolment)) == 1
        assert (await session.get(Participant, other.id)).display_name == "Samira"
