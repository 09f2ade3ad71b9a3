"""My courses end to end: schedule in the participant's language, muting reminders."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date
from sqlalchemy import select

from bot.i18n import translator
from bot.plumbing.formatting import weekdays
from storage.models import Enrolment
from tests.helpers import ARABIC_SCRIPT, data_of, tr

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def enrolled(make_participant, bind_chat, make_course):
    """Factory: a participant in a Mon+Wed German course whose next Monday is cancelled."""

    async def make(locale: str, chat_id: int):
        participant = await make_participant(accepted=True, locale=locale)
        await bind_chat(participant, chat_id)
        today = datetime.now(BERLIN).date()
        next_monday = today + timedelta(days=7 - today.weekday())
        course = await make_course(
            slots=[(0, "09:00", "12:30"), (2, "09:00", "12:30")],
            participants=[participant],
            exceptions=[next_monday],
        )
        return participant, course, next_monday

    return make


@pytest.mark.parametrize("locale", ["de", "ar", "fa", "uk"])
async def test_courses_list_the_weekly_schedule(telegram, enrolled, locale):
    _participant, course, cancelled = await enrolled(locale, 8101)
    user = telegram.fake.user(chat_id=8101)
    [message] = await user.exchange("/courses")
    t = translator(locale)
    text = message["text"]
    assert tr(locale, "German course") in text and "Deutschkurs B1" in text
    assert weekdays(t, [0, 2]) in text  # "Montag und Mittwoch", "الاثنين والأربعاء", ...
    assert "VHS Unna, Lindenplatz 1, 59423 Unna" in text
    assert tr(locale, "🔔 You get reminders for this course.") in text
    assert data_of(message) == [f"co:m:{course.id}", "mn:menu"]
    # The next session skips the cancelled Monday.
    next_line = next(line for line in text.split("\n") if line.startswith("⏭"))
    assert format_date(cancelled, "full", locale=locale) not in next_line
    if locale == "de":
        assert "Montag und Mittwoch, 09:00–12:30" in text
    if locale in {"ar", "fa"}:
        assert ARABIC_SCRIPT.search(text) and "\u2068VHS Unna" in text


async def test_mute_and_unmute_a_course(telegram, sessions, enrolled):
    _participant, course, _ = await enrolled("uk", 8102)
    user = telegram.fake.user(chat_id=8102)
    await user.exchange("/courses")
    [muted] = await user.press_and_wait(f"co:m:{course.id}")
    assert muted["event"] == "edited"
    assert tr("uk", "🔕 Reminders for this course are off.") in muted["text"]
    # The card keeps the Menu button the last card of /courses has.
    assert data_of(muted) == [f"co:u:{course.id}", "mn:menu"]
    async with sessions() as session:
        assert await session.scalar(select(Enrolment.muted)) is True
    # The old "mute" button pressed again: a clear answer, nothing changes.
    [again] = await user.press_and_wait(f"co:m:{course.id}", force=True)
    assert again["text"] == tr("uk", "Reminders for this course are already off.")
    [unmuted] = await user.press_and_wait(f"co:u:{course.id}")
    assert tr("uk", "🔔 You get reminders for this course.") in unmuted["text"]
    assert data_of(unmuted) == [f"co:m:{course.id}", "mn:menu"]
    async with sessions() as session:
        assert await session.scalar(select(Enrolment.muted)) is False


async def test_someone_elses_course_cannot_be_muted(
    telegram, sessions, enrolled, make_participant, make_course
):
    await enrolled("de", 8103)
    stranger = await make_participant(display_name="Other")
    theirs = await make_course(slots=[(1, "13:00", "16:00")], participants=[stranger])
    user = telegram.fake.user(chat_id=8103)
    await user.exchange("/menu")
    expected = {
        f"co:m:{theirs.id}": "I cannot find this course. Here are your courses now: /courses",
        "co:m:x": "This button no longer works. Please use the menu.",
        "co:q:1": "This button no longer works. Please use the menu.",
    }
    for data, message in expected.items():
        replies = await user.press_and_wait(data, force=True)
        assert replies[0]["text"] == tr("de", message), data
    async with sessions() as session:
        muted = (await session.scalars(select(Enrolment.muted))).all()
    assert muted == [False, False]


async def test_no_courses_gets_a_friendly_line(telegram, make_participant, bind_chat):
    participant = await make_participant(accepted=True, locale="fa")
    await bind_chat(participant, 8104)
    user = telegram.fake.user(chat_id=8104)
    [answer] = await user.exchange("/courses")
    assert answer["text"] == tr(
        "fa", "You are not in a course right now. Your coach can tell you about courses."
    )


async def test_privacy_shows_what_is_stored(telegram, make_participant, bind_chat):
    participant = await make_participant(accepted=True, locale="de", display_name="Hevin")
    await bind_chat(participant, 8105)
    user = telegram.fake.user(chat_id=8105)
    [answer] = await user.exchange("/privacy")
    assert "Hevin" in answer["text"] and "Deutsch" in answer["text"]
    assert answer["text"].startswith(
        tr(
            "de",
            "This is what we store about you:\n• Name: {name}\n"
            "• Language: {language}\n• Connected chats: {chats}\n"
            "• Your coach: {coach}\n• You agreed on: {date}\n"
            "We also store your appointments and courses. We do "
            "not store your residence status, nationality or "
            "birthday.",
        ).split("\n")[0]
    )
