"""Contact my coach end to end through the fake Bot API: a participant writes, the coach
gets it in their own chat in their language and answers, the answer reaches only that
participant; a coach cannot answer someone else's participant."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.features.contact import ASK, next_office_time
from bot.outbox.dispatcher import Dispatcher
from storage.identities import bind_identity
from storage.models import CoachMessage, OutboxMessage
from tests.helpers import data_of, tr

BERLIN = ZoneInfo("Europe/Berlin")
QUESTION = "Can I come one hour later on Monday? I have a doctor's appointment."


async def _drain(telegram, sessions, settings) -> None:
    await Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=settings,
        senders={"telegram": telegram.application.bot_data["sender"]},
    ).drain()


@pytest.fixture
async def people(make_staff, make_participant, bind_chat, sessions):
    """Dawit (Tigrinya) with coach Miriam (German, linked chat 9601); Olena with another."""
    miriam = await make_staff(display_name="Miriam Hoffmann", locale="de")
    yusuf = await make_staff(display_name="Yusuf Demir", locale="de")
    async with sessions.begin() as session:
        await bind_identity(session, channel="telegram", external_id="9601", staff_id=miriam.id)
        await bind_identity(session, channel="telegram", external_id="9602", staff_id=yusuf.id)
    dawit = await make_participant(
        display_name="Dawit", locale="ti", accepted=True, coach_id=miriam.id
    )
    olena = await make_participant(
        display_name="Olena", locale="uk", accepted=True, coach_id=yusuf.id
    )
    await bind_chat(dawit, 9611)
    await bind_chat(olena, 9612)
    return dawit, olena


async def test_question_and_answer_reach_exactly_the_right_people(
    telegram, sessions, settings, people
):
    always_open = settings.model_copy(
        update={"office_hours": "00:00-23:59", "office_days": "0,1,2,3,4,5,6"}
    )
    telegram.router.settings = always_open
    dawit_chat = telegram.fake.user(chat_id=9611, language_code="ti")
    [asked] = await dawit_chat.exchange("/write")
    assert asked["text"] == tr("ti", ASK, coach="Miriam Hoffmann")
    [sent] = await dawit_chat.exchange(QUESTION)
    assert sent["text"].startswith(
        tr("ti", "Sent ✅ {coach} gets your message.", coach="Miriam Hoffmann")
    )
    await _drain(telegram, sessions, settings)

    coach_chat = telegram.fake.user(chat_id=9601, language_code="de")
    [notice] = coach_chat.messages()
    assert notice["text"] == tr(
        "de", "✉️ Message from {name}:\n{text}", name="Dawit", text=QUESTION
    )
    [reply_data] = data_of(notice)
    assert reply_data.startswith("cm:r:")
    # The other coach forges the button: refused, nothing stored.
    other = telegram.fake.user(chat_id=9602, language_code="de")
    await other.exchange("/help")
    [refused] = await other.press_and_wait(reply_data, force=True)
    assert refused["text"] == tr("de", "This message is not from one of your participants.")

    await coach_chat.press_and_wait(reply_data)
    [done] = await coach_chat.exchange("Ja, das ist in Ordnung. Bis Montag!")
    assert done["text"] == tr("de", "Sent to {name} ✅", name="Dawit")
    await _drain(telegram, sessions, settings)

    answer = dawit_chat.messages()[-1]
    assert answer["text"] == tr(
        "ti",
        "✉️ Answer from {coach}:\n{text}",
        coach="Miriam Hoffmann",
        text="Ja, das ist in Ordnung. Bis Montag!",
    )
    assert data_of(answer) == ["mn:msg"]
    olena_chat = telegram.fake.user(chat_id=9612, language_code="uk")
    assert olena_chat.messages() == []  # never anything of Dawit's
    assert [m["text"] for m in other.messages() if QUESTION in m["text"]] == []
    async with sessions() as session:
        stored = (await session.scalars(select(CoachMessage).order_by(CoachMessage.id))).all()
        assert [(m.direction, m.participant_id) for m in stored] == [
            ("in", people[0].id),
            ("out", people[0].id),
        ]
        assert stored[0].answered_at is not None
        states = (await session.scalars(select(OutboxMessage.state))).all()
    assert set(states) == {"sent"}


async def test_outside_office_hours_the_participant_learns_when_to_expect_an_answer(
    telegram, sessions, settings, people
):
    closed = settings.model_copy(update={"office_hours": "08:00-08:01", "office_days": "0"})
    telegram.router.settings = closed
    dawit_chat = telegram.fake.user(chat_id=9611, language_code="ti")
    await dawit_chat.exchange("/write")
    [sent] = await dawit_chat.exchange("Hello?")
    # The test's clock stands on a Wednesday at 10:00: the office opens on Monday at 08:00.
    opens = next_office_time(closed, datetime.now(BERLIN))
    assert opens == datetime(2027, 1, 18, 8, 0, tzinfo=BERLIN)
    first_line = tr("ti", "The office is closed now. Expect an answer from {when}.", when="X")
    assert first_line.split("X")[0] in sent["text"]


def test_next_office_time(settings):
    office = settings.model_copy(
        update={"office_hours": "08:00-16:00", "office_days": "0,1,2,3,4"}
    )
    friday_evening = datetime(2026, 11, 27, 18, 0, tzinfo=BERLIN)
    assert next_office_time(office, friday_evening) == datetime(2026, 11, 30, 8, 0, tzinfo=BERLIN)
    monday_noon = datetime(2026, 11, 30, 12, 0, tzinfo=BERLIN)
    assert next_office_time(office, monday_noon) is None
    early_tuesday = datetime(2026, 12, 1, 6, 30, tzinfo=BERLIN)
    assert next_office_time(office, early_tuesday) == datetime(2026, 12, 1, 8, 0, tzinfo=BERLIN)


async def test_a_huge_message_is_refused_and_the_question_stays_open(telegram, sessions, people):
    dawit_chat = telegram.fake.user(chat_id=9611, language_code="ti")
    await dawit_chat.exchange("/write")
    refused, *_ = await dawit_chat.exchange("x" * 5000)
    limit = "This message is too long. Please write at most {limit} characters."
    assert refused["text"].startswith(tr("ti", limit, limit=1000))
    async with sessions() as session:
        assert (await session.scalars(select(CoachMessage))).all() == []
    await dawit_chat.exchange("A shorter question.")  # still answering "write to my coach"
    async with sessions() as session:
        [stored] = (await session.scalars(select(CoachMessage))).all()
    assert stored.body == "A shorter question."


async def test_a_lone_surrogate_in_a_message_is_replaced_not_a_crash(
    telegram, sessions, settings, people
):
    """Telegram's JSON can carry half of an emoji ("\\ud83d"); no database stores it. The
    message reaches the coach with "\ufffd" in its place, and the participant is told it
    was sent, as for any message."""
    always_open = settings.model_copy(
        update={"office_hours": "00:00-23:59", "office_days": "0,1,2,3,4,5,6"}
    )
    telegram.router.settings = always_open
    dawit_chat = telegram.fake.user(chat_id=9611, language_code="ti")
    await dawit_chat.exchange("/write")
    [sent] = await dawit_chat.exchange("Danke \ud83d bis morgen \ud83d\ude00")
    assert sent["text"].startswith(
        tr("ti", "Sent ✅ {coach} gets your message.", coach="Miriam Hoffmann")
    )
    await _drain(telegram, sessions, settings)
    [notice] = telegram.fake.user(chat_id=9601).messages()
    assert notice["text"].endswith("Danke \ufffd bis morgen 😀")
