"""My appointments end to end through the fake Bot API: list, answers, forged buttons, .ics."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, get_day_names
from icalendar import Calendar
from sqlalchemy import func, select

from bot.features import FEATURES
from bot.features.appointments.actions import NOT_FOUND
from bot.outbox.render import render_outbox
from bot.plumbing.errors import STALE_BUTTON
from bot.plumbing.routes import Routes
from storage.models import Appointment, ChannelIdentity, OutboxMessage
from storage.types import utcnow
from tests.helpers import ARABIC_SCRIPT, data_of, labels, tr

BERLIN = ZoneInfo("Europe/Berlin")
FSI, PDI = "\u2068", "\u2069"


def local_at(days: int, hour: int, minute: int = 0) -> datetime:
    """A moment `days` from today at a Berlin wall-clock time."""
    day = datetime.now(BERLIN).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), BERLIN)


@pytest.fixture
async def member(make_participant, make_staff, bind_chat):
    """Factory: an onboarded participant bound to a Telegram chat, in a language."""

    async def make(locale: str, chat_id: int, **overrides):
        coach = await make_staff(display_name="Miriam Hoffmann")
        participant = await make_participant(
            accepted=True, locale=locale, coach_id=coach.id, **overrides
        )
        await bind_chat(participant, chat_id)
        return participant

    return make


async def _appointment(sessions, appointment_id: int) -> Appointment:
    async with sessions() as session:
        appointment = await session.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment


async def _outbox(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxMessage))).all())


async def _rendered(sessions, row: OutboxMessage) -> str:
    """The text the row's recipient gets when it is sent now."""
    async with sessions() as session:
        rendered = await render_outbox(
            session, row, routes=Routes(FEATURES), tz=BERLIN, now=utcnow()
        )
    assert rendered.reply is not None, rendered.skip_reason
    return rendered.reply.text


@pytest.mark.parametrize("locale", ["de", "ar", "fa", "uk"])
async def test_list_shows_what_when_where_with_whom(
    telegram, member, make_appointment, make_course, locale
):
    """Appointments and course sessions of the next 14 days, soonest first, in the locale."""
    participant = await member(locale, 8001)
    later = await make_appointment(participant, starts_at=local_at(5, 14, 30))
    sooner = await make_appointment(participant, starts_at=local_at(2, 10), kind="language")
    await make_appointment(participant, starts_at=local_at(20, 10))  # beyond 14 days
    await make_appointment(participant, starts_at=local_at(3, 10), cancelled_at=utcnow())
    weekday = local_at(3, 9).weekday()
    await make_course(slots=[(weekday, "09:00", "12:30")], participants=[participant])
    user = telegram.fake.user(chat_id=8001, language_code=locale)

    replies = await user.exchange("/appointments")
    # Day 2 appointment, day 3 course session, day 5 appointment, day 10 course session.
    header, first, session, second, next_session, footer = replies
    assert header["text"] == appointments_header(locale, 4)
    # Arabic dates use the Syrian and Iraqi month names (see bot/plumbing/formatting.py).
    day = format_date(local_at(2, 10).date(), "full", locale="ar_SY" if locale == "ar" else locale)
    assert tr(locale, "Language support") in first["text"]
    assert day in first["text"]
    assert "Kreishaus Unna, Friedrich-Ebert-Straße 17, 59425 Unna" in first["text"]
    assert "Miriam Hoffmann" in first["text"]
    assert data_of(first) == [
        f"ap:c:{sooner.id}",
        f"ap:x:{sooner.id}",
        f"ap:r:{sooner.id}",
        f"ap:i:{sooner.id}",
    ]
    assert labels(first)[0] == tr(locale, "✅ I will come")
    assert tr(locale, "German course") in session["text"] and data_of(session) == []
    assert data_of(second)[0] == f"ap:c:{later.id}"
    assert next_session["text"].split("\n")[0] == session["text"].split("\n")[0]
    assert "ap:i:all" in data_of(footer)
    if locale in {"ar", "fa"}:
        # Addresses, names and times are bidi-isolated inside right-to-left text.
        assert f"{FSI}Kreishaus Unna, Friedrich-Ebert-Straße 17, 59425 Unna{PDI}" in first["text"]
        assert f"{FSI}Miriam Hoffmann{PDI}" in first["text"]
        assert ARABIC_SCRIPT.search(first["text"])
    if locale == "de":
        assert "10:00–10:45" in first["text"] and "14:30–15:15" in second["text"]
        assert get_day_names("wide", locale="de")[local_at(2, 10).weekday()] in first["text"]


def appointments_header(locale: str, n: int) -> str:
    from bot.i18n import translator

    text = translator(locale).ngettext(
        "In the next 14 days you have {n} appointment.",
        "In the next 14 days you have {n} appointments.",
        n,
    )
    assert locale == "en" or "next 14 days" not in text
    return text.format(n=n)


async def test_nothing_upcoming_gets_a_friendly_line(telegram, member):
    await member("uk", 8002)
    user = telegram.fake.user(chat_id=8002)
    [answer] = await user.exchange("/appointments")
    assert answer["text"] == tr(
        "uk",
        "You have no appointments in the next 14 days. "
        "If you think this is wrong, please ask your coach.",
    )


async def test_confirm_once_edits_the_message_and_notifies_the_coach(
    telegram, sessions, member, make_appointment
):
    participant = await member("ar", 8003, display_name="Amina")
    appointment = await make_appointment(participant, starts_at=local_at(2, 10))
    user = telegram.fake.user(chat_id=8003, language_code="ar")
    await user.exchange("/appointments")

    [edited] = await user.press_and_wait(f"ap:c:{appointment.id}")
    assert edited["event"] == "edited"
    assert tr("ar", "✅ You confirmed. Thank you!") in edited["text"]
    assert f"ap:c:{appointment.id}" not in data_of(edited)
    [answer] = telegram.fake.calls_of("answerCallbackQuery")
    assert answer.params["text"] == tr("ar", "Confirmed ✅")
    stored = await _appointment(sessions, appointment.id)
    assert stored.response == "confirmed" and stored.response_at is not None
    [notice] = await _outbox(sessions)
    assert notice.template == "appointment.answer" and notice.staff_id == participant.coach_id
    assert (notice.subject_type, notice.subject_id) == ("appointment", appointment.id)
    text = await _rendered(sessions, notice)
    assert text.startswith("Amina ") and "bestätigt" in text  # German for the coach

    # Pressing ✅ again (an old message, or a redelivered update) changes nothing.
    again = await user.press_and_wait(f"ap:c:{appointment.id}", force=True)
    assert again[0]["text"] == tr("ar", "You have already confirmed this appointment.")
    assert (await _appointment(sessions, appointment.id)).response_at == stored.response_at
    assert len(await _outbox(sessions)) == 1


async def test_cannot_come_with_a_reason(telegram, sessions, member, make_appointment):
    participant = await member("de", 8004)
    appointment = await make_appointment(participant, starts_at=local_at(3, 11))
    user = telegram.fake.user(chat_id=8004, language_code="de")
    await user.exchange("/appointments")

    edited, ask = await user.press_and_wait(f"ap:x:{appointment.id}")
    assert tr("de", "❌ You said you cannot come.") in edited["text"]
    assert data_of(ask) == [f"ap:s:{appointment.id}"]

    [too_long] = await user.exchange("x" * 300)
    assert too_long["text"] == tr(
        "de", "Please write a shorter reason, at most {limit} characters.", limit=200
    )
    [thanks] = await user.exchange("Ich habe einen Termin beim Arzt.")
    assert thanks["text"] == tr("de", "Thank you. Your coach will see your message.")
    stored = await _appointment(sessions, appointment.id)
    assert stored.response == "declined"
    assert stored.response_note == "Ich habe einen Termin beim Arzt."
    [notice] = await _outbox(sessions)
    # The reason may be sensitive: it stays in the database, never in a pushed message.
    text = await _rendered(sessions, notice)
    assert "Arzt" not in text and "kann nicht" in text
    assert "Arzt" not in str(notice.params)
    # The question is closed: the next text is not taken as a reason.
    replies = await user.exchange("Hallo")
    assert replies[0]["text"] == tr(
        "de", "Sorry, I did not understand that. Please use the buttons."
    )
    assert (await _appointment(sessions, appointment.id)).response_note == stored.response_note


async def test_cannot_come_and_skip_the_reason(telegram, sessions, member, make_appointment):
    participant = await member("uk", 8005)
    appointment = await make_appointment(participant)
    user = telegram.fake.user(chat_id=8005)
    await user.exchange("/appointments")
    await user.press_and_wait(f"ap:x:{appointment.id}")
    [skipped] = await user.press_and_wait(f"ap:s:{appointment.id}")
    assert skipped["text"] == tr("uk", "OK. Your coach knows that you cannot come.")
    async with sessions() as session:
        assert await session.scalar(select(ChannelIdentity.awaiting)) is None
    assert (await _appointment(sessions, appointment.id)).response_note is None


async def test_other_time_with_preferred_days(telegram, sessions, member, make_appointment):
    participant = await member("fa", 8006)
    appointment = await make_appointment(participant)
    user = telegram.fake.user(chat_id=8006)
    await user.exchange("/appointments")
    edited, days = await user.press_and_wait(f"ap:r:{appointment.id}")
    assert tr("fa", "🔁 You asked for another time.") in edited["text"]
    monday, wednesday = (get_day_names("wide", locale="fa")[d] for d in (0, 2))
    assert monday in labels(days)
    await user.press_and_wait(f"ap:d:{appointment.id}:0")
    [ticked] = await user.press_and_wait(f"ap:d:{appointment.id}:2")
    assert f"✓ {monday}" in labels(ticked) and f"✓ {wednesday}" in labels(ticked)
    [done] = await user.press_and_wait(f"ap:dd:{appointment.id}")
    assert monday in done["text"] and wednesday in done["text"]
    stored = await _appointment(sessions, appointment.id)
    assert stored.response == "reschedule" and stored.preferred_days == "0,2"
    [notice] = await _outbox(sessions)
    assert notice.params == {"response": "reschedule"}


async def test_forged_buttons_change_nothing(
    telegram, sessions, member, make_participant, make_appointment
):
    """Another participant's id, a cancelled, a past and a garbled appointment."""
    participant = await member("de", 8007)
    stranger = await make_participant(display_name="Someone")
    theirs = await make_appointment(stranger)
    cancelled = await make_appointment(participant, cancelled_at=utcnow())
    past = await make_appointment(participant, starts_in=timedelta(hours=-1))
    user = telegram.fake.user(chat_id=8007, language_code="de")
    await user.exchange("/menu")

    for data, expected in [
        (f"ap:c:{theirs.id}", NOT_FOUND),
        (f"ap:x:{theirs.id}", NOT_FOUND),
        (f"ap:i:{theirs.id}", NOT_FOUND),
        (f"ap:c:{cancelled.id}", "This appointment was cancelled. Your coach will tell you more."),
        (f"ap:r:{past.id}", "This appointment has already started or is over."),
        ("ap:c:abc", STALE_BUTTON),
        ("ap:c:99999999999999999999", STALE_BUTTON),
        (f"ap:d:{theirs.id}:0", NOT_FOUND),
        ("ap:zz:1", STALE_BUTTON),
    ]:
        replies = await user.press_and_wait(data, force=True)
        assert replies[0]["text"] == tr("de", expected), data
    for appointment in (theirs, cancelled, past):
        stored = await _appointment(sessions, appointment.id)
        assert stored.response is None and stored.response_at is None
    assert await _outbox(sessions) == []
    assert not [m for m in telegram.fake.sent() if m.get("document")]


async def test_calendar_file_for_one_and_for_all(telegram, member, make_appointment, make_course):
    participant = await member("uk", 8008)
    appointment = await make_appointment(participant, starts_at=local_at(2, 10))
    await make_appointment(participant, starts_at=local_at(30, 9))
    await make_course(
        slots=[(local_at(4, 9).weekday(), "09:00", "12:30")], participants=[participant]
    )
    user = telegram.fake.user(chat_id=8008)
    await user.exchange("/appointments")

    [one] = await user.press_and_wait(f"ap:i:{appointment.id}")
    assert one["document"]["file_name"] == "appointment.ics"
    calendar = Calendar.from_ical(one["document_content"])
    [event] = calendar.walk("VEVENT")
    assert event["SUMMARY"] == tr("uk", "Coaching appointment")
    assert event.decoded("DTSTART") == local_at(2, 10)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Europe/Berlin"
    [alarm] = event.walk("VALARM")
    assert alarm.decoded("TRIGGER") == -timedelta(hours=2)
    assert one["caption"] == tr("uk", "Open this file to add the appointment to your calendar.")

    [everything] = await user.press_and_wait("ap:i:all")
    events = Calendar.from_ical(everything["document_content"]).walk("VEVENT")
    sessions_in_two_weeks = 2
    assert len(events) == 2 + sessions_in_two_weeks
    assert sum(tr("uk", "German course") in str(e["SUMMARY"]) for e in events) == 2


async def test_long_lists_page(telegram, member, make_appointment):
    participant = await member("de", 8009)
    for day in range(1, 13):
        await make_appointment(participant, starts_at=local_at(day, 10))
    user = telegram.fake.user(chat_id=8009)
    replies = await user.exchange("/appointments")
    assert len(replies) == 7  # header, five items, footer
    footer = replies[-1]
    assert footer["text"] == tr("de", "Page {page} of {pages}", page=1, pages=3)
    assert "ap:p:1" in data_of(footer)
    replies = await user.press_and_wait("ap:p:1")
    assert replies[-1]["text"] == tr("de", "Page {page} of {pages}", page=2, pages=3)
    replies = await user.press_and_wait("ap:p:2")
    assert len(replies) == 4  # header, two items, footer
    assert "ap:p:1" in data_of(replies[-1]) and "ap:p:3" not in data_of(replies[-1])
    # A forged page number shows the last page instead of failing.
    replies = await user.press_and_wait("ap:p:999", force=True)
    assert replies[-1]["text"] == tr("de", "Page {page} of {pages}", page=3, pages=3)


async def test_programme_ended_shows_the_next_steps_pointer(telegram, member, make_appointment):
    participant = await member("ar", 8010, status="ended")
    await make_appointment(participant)
    user = telegram.fake.user(chat_id=8010)
    for command in ("/appointments", "/courses"):
        [answer] = await user.exchange(command)
        assert "KIM" in answer["text"] and ARABIC_SCRIPT.search(answer["text"])
        assert "Kreishaus" not in answer["text"]


async def test_double_press_is_idempotent_in_the_database(
    telegram, sessions, member, make_appointment
):
    """Two presses of ✅ delivered back to back confirm once and notify once."""
    participant = await member("de", 8011)
    appointment = await make_appointment(participant)
    user = telegram.fake.user(chat_id=8011)
    await user.exchange("/appointments")
    await user.press(f"ap:c:{appointment.id}")
    await user.press(f"ap:c:{appointment.id}", force=True)
    await telegram.fake.wait_for_calls("answerCallbackQuery", 2)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


async def test_forged_skip_and_a_reason_for_a_cancelled_appointment(
    telegram, sessions, member, make_appointment
):
    """Skip without an open question is refused; a reason arriving after a cancellation
    gets a clear answer and closes the question instead of trapping the user."""
    participant = await member("de", 8012)
    appointment = await make_appointment(participant)
    user = telegram.fake.user(chat_id=8012)
    await user.exchange("/appointments")
    replies = await user.press_and_wait(f"ap:s:{appointment.id}", force=True)
    assert replies[0]["text"] == tr("de", STALE_BUTTON)

    await user.press_and_wait(f"ap:x:{appointment.id}")
    async with sessions.begin() as session:
        stored = await session.get(Appointment, appointment.id)
        stored.cancelled_at = utcnow()
    replies = await user.exchange("Ich bin krank")
    assert replies[0]["text"] == tr(
        "de", "This appointment was cancelled. Your coach will tell you more."
    )
    async with sessions() as session:
        assert await session.scalar(select(ChannelIdentity.awaiting)) is None
    assert (await _appointment(sessions, appointment.id)).response_note is None
    replies = await user.exchange("Hallo")
    assert replies[0]["text"] == tr(
        "de", "Sorry, I did not understand that. Please use the buttons."
    )
