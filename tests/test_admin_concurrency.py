"""The staff web under ordinary concurrency: two coaches save while the dispatcher sends a
broadcast, and no save answers an error (on SQLite a transaction that read first could not
become a writer once another connection had written: "database is locked")."""

from __future__ import annotations

import asyncio
import contextlib

from sqlalchemy import func, select

from storage.models import (
    PRIORITY_BULK,
    Broadcast,
    ChannelIdentity,
    OutboxMessage,
    Participant,
)
from tests.conftest import Pushing
from tests.test_admin_web import PASSWORD, browser, site, staff  # noqa: F401 - fixtures

SAVES = 60  # per coach
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
    sessions,
    telegram,
    settings,
):
    coaches = [await staff(), await staff()]
    people = [
        await make_participant(display_name=name, accepted=True, coach_id=coach.id)
        for name, coach in zip(("Amina", "Samir"), coaches, strict=True)
    ]
    await _broadcast(sessions, coaches[0])
    dispatcher = Pushing(telegram, sessions, telegram.router.settings).dispatcher

    async def send() -> None:
        while True:
            if not await dispatcher.drain(timeout=None):
                await asyncio.sleep(0.005)

    async def save(coach, person) -> list[int]:
        b = browser()
        await b.login(coach.email, PASSWORD)
        await b.get(f"/admin/participants/{person.id}/edit")
        statuses = []
        for n in range(SAVES):
            language = ("ar", "uk")[n % 2]
            answer = await b.post(
                f"/admin/participants/{person.id}/edit",
                {"name": person.display_name, "language": language, "coach": str(coach.id)},
            )
            statuses.append(answer.status_code)
        return statuses

    sending = asyncio.create_task(send())
    try:
        await telegram.fake.wait_for(lambda f: f.count("sendMessage", 200) > 0, timeout=10)
        before = telegram.fake.count("sendMessage", 200)
        results = await asyncio.gather(*(save(c, p) for c, p in zip(coaches, people, strict=True)))
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
    assert set(locales.values()) == {"uk"}  # the last save of each stands
    assert changes >= RECIPIENTS
