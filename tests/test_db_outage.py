"""A database outage while updates arrive loses nothing: the bot talks to PostgreSQL through a
TCP relay (tests/db_relay.py) that cuts every connection and refuses new ones for 6 s. Each
turn that loses its connection is tried once more when the database answers again; a turn
whose database stays away longer tells its user exactly what to send again, in their
language. Telegram confirmed these updates and never delivers them again."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from bot.plumbing.faults import INVITE_LOST, PRESS_LOST, TEXT_LOST
from storage.db import make_engine, make_sessionmaker
from storage.models import ChannelIdentity, CoachMessage, Participant
from tests.db_relay import Relay
from tests.helpers import printed, tr

USERS = 112  # the updates of the outage in issue #23: 48 of 112 were lost
OUTAGE = 6.0  # seconds without a database
LANGUAGES = ("ar", "uk", "fa", "ti", "de", "fr", "so", "tr")


@pytest.fixture
async def relay(database_url):
    """The relay in front of the test's PostgreSQL."""
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "a TCP relay can cut only a networked database: set WEGWEISER_TEST_DATABASE_URL "
            "to PostgreSQL (SQLite has no connection to lose)"
        )
    url = make_url(database_url)
    relay = Relay(url.host or "127.0.0.1", url.port or 5432)
    await relay.start()
    yield relay
    await relay.stop()


@pytest.fixture
async def sessions(engine, relay, database_url):
    """Replaces conftest's: every connection of the bot goes through the relay."""
    url = make_url(database_url).set(host="127.0.0.1", port=relay.port)
    relayed = make_engine(url.render_as_string(hide_password=False))
    yield make_sessionmaker(relayed)
    await relayed.dispose()


def _open_all_week(telegram, **changes):
    settings = telegram.router.settings.model_copy(
        update={"office_hours": "00:00-23:59", "office_days": "0,1,2,3,4,5,6", **changes}
    )
    telegram.router.settings = settings


async def _writers(sessions, make_staff, count):
    """`count` participants, each in their chat with "write to my coach" open."""
    miriam = await make_staff(display_name="Miriam Hoffmann", locale="de")
    async with sessions.begin() as session:
        people = [
            Participant(
                display_name=f"P{n}",
                coach_id=miriam.id,
                locale=LANGUAGES[n % len(LANGUAGES)],
                privacy_accepted_at=miriam.created_at,
            )
            for n in range(count)
        ]
        session.add_all(people)
        await session.flush()
        for n, person in enumerate(people):
            session.add(
                ChannelIdentity(
                    channel="telegram",
                    external_id=str(20_000 + n),
                    participant_id=person.id,
                    awaiting=f"cm:q:{person.id}",
                )
            )
    return people


def _typed(records, texts):
    """Log records that carry any of `texts` (message, arguments or traceback)."""
    return [r for r in records if any(text in printed(r) for text in texts)]


async def test_a_six_second_outage_loses_none_of_112_confirmed_updates(
    telegram, relay, sessions, make_staff, caplog
):
    caplog.set_level(logging.INFO)
    _open_all_week(telegram, database_outage_seconds=15.0)
    people = await _writers(sessions, make_staff, USERS)
    chats = [
        telegram.fake.user(chat_id=20_000 + n, language_code=p.locale)
        for n, p in enumerate(people)
    ]
    questions = [f"Question {n}: can I come later on Monday?" for n in range(USERS)]
    outage: asyncio.Task[None] | None = None
    updates = []
    for n, (chat, question) in enumerate(zip(chats, questions, strict=True)):
        if n == USERS // 8:  # a few are answered; the rest arrive during and after the outage
            outage = asyncio.create_task(relay.outage(OUTAGE))
        updates.append(await chat.send(question))
        await asyncio.sleep(0.07)  # 112 updates over about 8 s; the outage covers 6 of them
    assert outage is not None
    await outage
    await telegram.fake.wait_for(
        lambda fake: set(updates) <= fake.handled, timeout=40, description="every update"
    )
    assert telegram.fake.pending_updates == []  # Telegram will not deliver any of them again
    async with sessions() as session:
        stored = set((await session.scalars(select(CoachMessage.body))).all())
    told, lost = [], []
    for chat, person, question in zip(chats, people, questions, strict=True):
        texts = [m["text"] for m in chat.messages()]
        repeat = tr(person.locale, TEXT_LOST, text="")
        if question in stored:
            assert len(texts) == 1 and texts[0].startswith(
                tr(person.locale, "Sent ✅ {coach} gets your message.", coach="")[:8]
            )
        elif any(text.startswith(repeat) and question in text for text in texts):
            told.append(question)
        else:
            lost.append(question)
    print(
        f"\n{USERS} confirmed updates, {relay.cut} connections cut for {OUTAGE:.0f} s: "
        f"{len(stored)} handled, {len(told)} told what to send again, {len(lost)} lost"
    )
    assert relay.cut > 0
    assert lost == []
    assert told == []  # the database was back within the wait: every update was handled
    assert _typed(caplog.records, questions) == []


async def test_a_longer_outage_tells_each_user_what_to_send_again(
    telegram, relay, sessions, make_staff, make_participant, make_invite, caplog
):
    caplog.set_level(logging.INFO)
    _open_all_week(telegram, database_outage_seconds=1.0)
    await _writers(sessions, make_staff, 2)  # the second, Olena, speaks Ukrainian
    async with sessions.begin() as session:  # her "write to my coach" is not open yet
        await session.execute(
            update(ChannelIdentity)
            .where(ChannelIdentity.external_id == "20001")
            .values(awaiting=None)
        )
    newcomer = await make_participant(display_name="Samir")
    invite = await make_invite(newcomer)
    olena_chat = telegram.fake.user(chat_id=20_001, language_code="uk")
    [asked] = await olena_chat.exchange("/write")  # a button to press comes with the question
    samir_chat = telegram.fake.user(chat_id=20_100, language_code="ar")

    outage = asyncio.create_task(relay.outage(4.0))
    await asyncio.sleep(0.2)
    [lost_text] = await olena_chat.exchange("Bitte um Rückruf 4711", timeout=10)
    [lost_press] = await olena_chat.press_and_wait(olena_chat.buttons(asked)[0][0][1], timeout=10)
    [lost_invite] = await samir_chat.exchange(f"/start {invite.token}", timeout=10)
    await outage

    assert lost_text["text"] == tr("uk", TEXT_LOST, text="Bitte um Rückruf 4711")
    assert lost_press["text"] == tr("uk", PRESS_LOST)
    assert lost_invite["text"] == tr("ar", INVITE_LOST)
    assert invite.token not in lost_invite["text"]
    # Sent again once the database is back, it arrives.
    [sent] = await olena_chat.exchange("Bitte um Rückruf 4711")
    assert sent["text"].startswith(tr("uk", "Sent ✅ {coach} gets your message.", coach="")[:6])
    async with sessions() as session:
        assert (await session.scalars(select(CoachMessage.body))).all() == [
            "Bitte um Rückruf 4711"
        ]
    assert _typed(caplog.records, ["Rückruf 4711", invite.token]) == []
