"""Broadcasts end to end: a coach writes to a course from their chat, each participant gets
it in their language through the outbox and the dispatcher, and the report adds up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import select

from bot.features.broadcasts import actions
from bot.features.broadcasts.render import render_content
from bot.i18n import translator
from bot.outbox.dispatcher import Dispatcher
from bot.plumbing.formatting import long_date
from bot.plumbing.voice import Voice
from storage.identities import bind_identity
from storage.models import Broadcast, OutboxMessage, StaffUser
from storage.types import utcnow
from tests.helpers import ARABIC_SCRIPT, data_of, tr

ETHIOPIC = __import__("re").compile(r"[\u1200-\u137F]")


class Clock:
    """The real time, until a test moves it ahead by `skew`."""

    def __init__(self) -> None:
        self.skew = timedelta(0)

    def __call__(self):
        return utcnow() + self.skew


@pytest.fixture
def manual_clock() -> Clock:
    return Clock()


@pytest.fixture
def dispatcher(telegram, sessions, settings, manual_clock) -> Dispatcher:
    return Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=settings,
        senders={"telegram": telegram.application.bot_data["sender"]},
        clock=manual_clock,
    )


@pytest.fixture
async def classroom(sessions, make_staff, make_participant, bind_chat, make_course):
    """A coach with a linked chat (9900) and a course with de, ar and ti speakers."""
    coach = await make_staff(display_name="Yusuf", locale="de")
    async with sessions.begin() as session:
        await bind_identity(session, channel="telegram", external_id="9900", staff_id=coach.id)
    people = {}
    for chat, locale in ((9901, "de"), (9902, "ar"), (9903, "ti")):
        person = await make_participant(accepted=True, locale=locale, coach_id=coach.id)
        await bind_chat(person, chat)
        people[locale] = person
    course = await make_course(
        slots=[(0, "09:00", "12:00")], participants=list(people.values()), coach_id=coach.id
    )
    return coach, people, course


async def _rows(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def test_a_coach_cancels_a_course_day_for_de_ar_and_ti(
    telegram, dispatcher, sessions, classroom, settings
):
    _coach, people, course = classroom
    chat = telegram.fake.user(chat_id=9900)
    [question] = await chat.exchange("/broadcast")
    assert question["text"] == tr("de", "Who should get the message?")
    draft = int(data_of(question)[0].split(":")[2])
    assert f"bc:gc:{draft}:{course.id}" in data_of(question)
    [what] = await chat.press_and_wait(f"bc:gc:{draft}:{course.id}")
    assert what["text"] == tr("de", "What should the message say?")
    [which_day] = await chat.press_and_wait(f"bc:t:{draft}:0")  # course cancelled on a day
    assert which_day["text"] == tr("de", "Which day?")
    [preview] = await chat.press_and_wait(f"bc:d:{draft}:3")
    day = utcnow().astimezone(settings.tz).date() + timedelta(days=3)
    lines = preview["text"].split("\n")
    assert "3" in lines[0] and "Deutschkurs B1" in lines[0]
    german = tr("de", actions.COURSE_CANCELLED, date=format_date(day, "full", locale="de"))
    assert f"• Deutsch (1): {german}" in lines
    assert any(ARABIC_SCRIPT.search(line) for line in lines[1:])
    assert any(ETHIOPIC.search(line) for line in lines[1:])
    assert telegram.fake.sent(9901) == []  # nothing before "send"
    [done] = await chat.press_and_wait(f"bc:now:{draft}")
    assert done["text"] == translator("de").ngettext(
        "Done. {n} person gets the message now. /report shows how it goes.",
        "Done. {n} people get the message now. /report shows how it goes.",
        3,
    ).format(n=3)
    await dispatcher.drain()
    for chat_id, locale in ((9901, "de"), (9902, "ar"), (9903, "ti")):
        [message] = telegram.fake.sent(chat_id)
        expected = Voice.for_language(locale, tz=settings.tz, now=utcnow())
        text = tr(
            locale,
            actions.COURSE_CANCELLED,
            date=expected.isolate(long_date(expected, day)),
        )
        assert message["text"] == "📢 " + text, locale
    # Each person once, and the report adds up.
    rows = await _rows(sessions)
    assert sorted(r.participant_id for r in rows) == sorted(p.id for p in people.values())
    [report] = await chat.exchange("/report")
    assert f"{tr('de', 'sent')} 3" in report["text"]


async def test_blocked_and_stopped_participants(telegram, dispatcher, sessions, classroom):
    coach, _people, course = classroom
    ar = telegram.fake.user(chat_id=9902)
    [stopped] = await ar.exchange("/stop")
    assert ARABIC_SCRIPT.search(stopped["text"])
    telegram.fake.block(9903)
    async with sessions.begin() as session:
        actor = await session.get(StaffUser, coach.id)
        draft = await actions.start_broadcast(session, actor=actor, now=utcnow())
        await actions.choose_segment(
            session, actor=actor, broadcast_id=draft.id, kind="course", target_id=course.id
        )
        await actions.set_content(
            session, actor=actor, broadcast_id=draft.id, text="Morgen Kuchen!"
        )
        queued = await actions.queue_broadcast(
            session, actor=actor, broadcast_id=draft.id, send_at=utcnow(), now=utcnow()
        )
    assert queued.recipients == 2  # /stop is respected when recipients are chosen
    await dispatcher.drain()
    await dispatcher.drain()
    assert [m["text"] for m in telegram.fake.sent(9901)] == ["📢 Morgen Kuchen!"]  # as written
    async with sessions() as session:
        broadcast = await session.get(Broadcast, draft.id)
        found = await actions.counts(session, broadcast=broadcast)
    assert found == {"sent": 1, "blocked": 1}
    assert (
        len([c for c in telegram.fake.calls_of("sendMessage") if c.params["chat_id"] == 9903]) == 1
    )  # not retried
    # /start again: general messages resume.
    [back, _menu] = await ar.exchange("/start")
    assert back["text"] == tr("ar", "Welcome back. You get general messages again.")


async def test_a_coach_cannot_reach_another_coachs_course(
    telegram, sessions, classroom, make_staff, make_course, make_participant
):
    _coach, _people, _course = classroom
    other = await make_staff()
    theirs = await make_course(
        slots=[(1, "10:00", "11:00")],
        coach_id=other.id,
        participants=[await make_participant(accepted=True)],
    )
    chat = telegram.fake.user(chat_id=9900)
    [question] = await chat.exchange("/broadcast")
    draft = int(data_of(question)[0].split(":")[2])
    assert f"bc:gc:{draft}:{theirs.id}" not in data_of(question)
    replies = await chat.press_and_wait(f"bc:gc:{draft}:{theirs.id}", force=True)
    assert replies[0]["text"] == tr("de", "You can only write to your own courses.")
    replies = await chat.press_and_wait(f"bc:ge:{draft}", force=True)
    assert replies[0]["text"] == tr(
        "de", "Only the programme's admins can write to everyone or a module."
    )
    # Another coach's draft, by a forged id: it reads like a missing one.
    async with sessions.begin() as session:
        foreign = await actions.start_broadcast(
            session, actor=await session.get(StaffUser, other.id), now=utcnow()
        )
    replies = await chat.press_and_wait(f"bc:now:{foreign.id}", force=True)
    assert replies[0]["text"] == tr("de", actions.NOT_FOUND)
    assert await _rows(sessions) == []


async def test_a_planned_broadcast_can_be_stopped_and_a_5xx_storm_loses_nothing(
    telegram, dispatcher, sessions, classroom, manual_clock
):
    _coach, _people, course = classroom
    chat = telegram.fake.user(chat_id=9900)
    [question] = await chat.exchange("/broadcast")
    draft = int(data_of(question)[0].split(":")[2])
    await chat.press_and_wait(f"bc:gc:{draft}:{course.id}")
    await chat.press_and_wait(f"bc:t:{draft}:2")  # bring your documents: no parameters
    [planned] = await chat.press_and_wait(f"bc:tm:{draft}")
    assert "3" in planned["text"]
    assert await dispatcher.tick() == 0  # not due before tomorrow 08:00
    [report] = await chat.exchange("/report")
    assert f"bc:stop:{draft}" in data_of(report)
    [stopped] = await chat.press_and_wait(f"bc:stop:{draft}")
    assert "3" in stopped["text"]
    assert {r.state for r in await _rows(sessions)} == {"cancelled"}

    # A second one, sent now, into a storm of 5xx: retried until every copy is out.
    [question] = await chat.exchange("/broadcast")
    second = int(data_of(question)[0].split(":")[2])
    await chat.press_and_wait(f"bc:gc:{second}:{course.id}")
    await chat.press_and_wait(f"bc:t:{second}:2")
    telegram.fake.fail_next("sendMessage", 502, count=7)
    await chat.press_and_wait(f"bc:now:{second}")
    for _ in range(12):
        manual_clock.skew += timedelta(minutes=11)
        await dispatcher.tick()
    rows = [r for r in await _rows(sessions) if r.broadcast_id == second]
    assert {r.state for r in rows} == {"sent"} and len(rows) == 3
    for chat_id in (9901, 9902, 9903):
        assert len(telegram.fake.sent(chat_id)) == 1


async def test_versions_per_language_fall_back_to_english_then_german(sessions, make_staff):
    coach = await make_staff()
    async with sessions.begin() as session:
        actor = await session.get(StaffUser, coach.id)
        draft = await actions.start_broadcast(session, actor=actor, now=utcnow())
        broadcast = await actions.set_content(
            session,
            actor=actor,
            broadcast_id=draft.id,
            versions={"ar": "مرحبا", "de": "Hallo"},
        )
    tz = __import__("zoneinfo").ZoneInfo("Europe/Berlin")
    assert render_content(Voice.for_language("ar", tz=tz, now=utcnow()), broadcast) == "مرحبا"
    assert render_content(Voice.for_language("uk", tz=tz, now=utcnow()), broadcast) == "Hallo"


async def test_a_segment_narrowed_by_language_and_by_coming_appointments(
    sessions, classroom, make_appointment
):
    coach, people, course = classroom
    await make_appointment(people["ar"], starts_in=timedelta(days=2))
    await make_appointment(people["de"], starts_in=timedelta(days=20))
    async with sessions.begin() as session:
        actor = await session.get(StaffUser, coach.id)
        draft = await actions.start_broadcast(session, actor=actor, now=utcnow())
        broadcast = await actions.choose_segment(
            session, actor=actor, broadcast_id=draft.id, kind="caseload", within_days=7
        )
        soon = await actions.recipients(session, broadcast=broadcast, now=utcnow())
        broadcast = await actions.choose_segment(
            session,
            actor=actor,
            broadcast_id=draft.id,
            kind="course",
            target_id=course.id,
            languages=["de", "ti"],
        )
        spoken = await actions.recipients(session, broadcast=broadcast, now=utcnow())
    assert [p.id for p in soon] == [people["ar"].id]
    assert sorted(p.locale for p in spoken) == ["de", "ti"]
