"""Times, dates and right-to-left text a participant cannot misread; the bilingual mode."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.features.appointments.actions import Item
from bot.features.appointments.render import render_answer_notice, render_appointment, render_list
from bot.i18n import LANGUAGES
from bot.plumbing.formatting import days_and_time, long_date, weekdays
from bot.plumbing.voice import Voice
from storage.models import Appointment, Participant
from tests.helpers import data_of, labels, tr

BERLIN = ZoneInfo("Europe/Berlin")
FSI, PDI = "\u2068", "\u2069"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=BERLIN)


def voice(code: str, **kw) -> Voice:
    return Voice.for_language(code, tz=BERLIN, now=NOW.astimezone(UTC), **kw)


def appointment(**overrides) -> Appointment:
    values = {
        "id": 7,
        "participant_id": 1,
        "kind": "coaching",
        "starts_at": datetime(2026, 11, 26, 14, 30, tzinfo=BERLIN),
        "ends_at": datetime(2026, 11, 26, 15, 15, tzinfo=BERLIN),
        "location": "Kreishaus Unna, Raum 108",
    }
    values.update(overrides)
    return Appointment(**values)


@pytest.mark.parametrize("code", [language.code for language in LANGUAGES])
def test_every_language_shows_the_24_hour_clock(code):
    speaker = voice(code)
    [when] = [
        line
        for line in render_appointment(speaker, appointment()).text.split("\n")
        if line.startswith("🕒")
    ]
    # The span is exactly "14:30–15:15": no 12-hour clock, no ص/م, ድ.ቀ., GD or د.ن.
    assert f" · {speaker.isolate('14:30–15:15')} " in when


def test_dates_put_the_day_first_and_add_the_numeric_date_where_it_helps():
    day = date(2026, 11, 26)
    assert long_date(voice("so"), day) == "Khamiis, 26 Noofeembar 2026 (26.11.2026)"
    assert long_date(voice("en"), day).startswith("Thursday") and "26 November 2026" in long_date(
        voice("en"), day
    )
    assert long_date(voice("ti"), day).endswith("(26.11.2026)")
    arabic = long_date(voice("ar"), day)
    assert "تشرين الثاني" in arabic and arabic.endswith("(26.11.2026)")
    sorani = long_date(voice("ckb"), day)
    assert not sorani.startswith("2026") and "," not in sorani
    assert long_date(voice("ps"), day).startswith("پنجشنبه، 26")
    assert long_date(voice("de"), day) == "Donnerstag, 26. November 2026"


def test_right_to_left_lists_and_arrows():
    ar = voice("ar")
    line = days_and_time(ar, weekdays(ar, [0, 2]), ar.isolate("09:00–12:30"))
    assert "\u060c" in line and "," not in line  # the Arabic comma, never a Latin one
    assert line.endswith(f"{FSI}09:00–12:30{PDI}")
    items = [
        Item(appointment().starts_at + timedelta(days=n), appointment=appointment(id=n + 1))
        for n in range(12)
    ]
    footer = render_list(ar, items, 1)[-1]
    back, more = labels(
        {
            "reply_markup": {
                "inline_keyboard": [
                    [{"text": b.label, "callback_data": b.data} for b in row]
                    for row in footer.buttons
                ]
            }
        }
    )[:2]
    assert back.startswith("▶ ") and more.endswith(" ◀")  # the way a right-to-left reader moves
    de_footer = render_list(voice("de"), items, 1)[-1]
    assert de_footer.buttons[0][0].label.startswith("◀ ")


def test_a_latin_course_title_keeps_its_parentheses_in_rtl():
    from bot.features.appointments.render import render_session
    from bot.plumbing.schedule import Session
    from storage.models import Course

    course = Course(id=1, title="Deutschkurs B1", kind="german_course", location="VHS Unna")
    session = Session(course, appointment().starts_at, appointment().ends_at)
    first_line = render_session(voice("fa"), session).text.split("\n")[0]
    assert f"{FSI}(Deutschkurs B1){PDI}" in first_line


def test_a_german_notice_isolates_an_arabic_script_name():
    participant = Participant(id=1, display_name="أمينة", status="active")
    reply = render_answer_notice(voice("de"), appointment(), participant, "confirmed")
    assert reply is not None and reply.text.startswith(f"{FSI}أمينة{PDI} hat den Termin")


def test_bilingual_mode_adds_the_german_line_but_keeps_buttons_short():
    participant = Participant(id=1, display_name="Amina", locale="ar", bilingual=True)
    bilingual = Voice.for_participant(participant, tz=BERLIN, now=NOW.astimezone(UTC))
    reply = render_appointment(bilingual, appointment(response="confirmed"))
    lines = reply.text.split("\n")
    assert lines[0] == "📅 " + tr("ar", "Coaching appointment")
    # In a right-to-left message the German line is isolated left to right (LRI ... PDI).
    assert lines[1] == "\u2066" + tr("de", "Coaching appointment") + "\u2069"
    assert "\u2066" + tr("de", "✅ You confirmed. Thank you!") + "\u2069" in lines
    assert all("\n" not in button.label for row in reply.buttons for button in row)
    assert reply.buttons[0][0].label == tr("ar", "❌ I cannot come")
    german_reader = Participant(id=2, display_name="X", locale="de", bilingual=True)
    plain = Voice.for_participant(german_reader, tz=BERLIN, now=NOW.astimezone(UTC))
    assert plain.german is None  # German readers get no second German line


async def test_switching_the_bilingual_mode_in_the_chat(
    telegram, sessions, make_participant, bind_chat, make_appointment
):
    participant = await make_participant(accepted=True, locale="uk")
    await bind_chat(participant, 9950)
    user = telegram.fake.user(chat_id=9950)
    [menu] = await user.exchange("/language")
    assert "bi:1" in data_of(menu)
    [done, _main] = await user.press_and_wait("bi:1")
    assert done["text"].split("\n") == [
        tr("uk", "Done. Every message now also comes in German."),
        tr("de", "Done. Every message now also comes in German."),
    ]
    await make_appointment(participant, starts_in=timedelta(days=3))
    replies = await user.exchange("/appointments")
    assert tr("de", "Coaching appointment") in replies[1]["text"]
    [menu] = await user.exchange("/language")
    assert "bi:0" in data_of(menu)
    [done, _main] = await user.press_and_wait("bi:0")
    assert done["text"] == tr("uk", "Done. Messages now come only in your language.")
    async with sessions() as session:
        assert (await session.get(Participant, participant.id)).bilingual is False


async def test_reminders_and_broadcasts_honour_the_bilingual_mode(
    sessions, make_participant, make_appointment
):
    """Pushes are rendered for the recipient at send time: the German line comes along."""
    from bot.features import FEATURES
    from bot.outbox.render import render_outbox
    from bot.plumbing.routes import Routes
    from storage.models import PRIORITY_REMINDER, OutboxMessage
    from storage.outbox import enqueue
    from storage.types import utcnow

    participant = await make_participant(accepted=True, locale="fa", bilingual=True)
    booked = await make_appointment(participant, starts_in=timedelta(days=1))
    async with sessions.begin() as session:
        row_id = await enqueue(
            session,
            template="appointment.reminder",
            participant_id=participant.id,
            subject=("appointment", booked.id),
            params={"starts_at": booked.starts_at.isoformat(), "offset": "1d"},
            due_at=utcnow(),
            priority=PRIORITY_REMINDER,
        )
    async with sessions() as session:
        row = await session.get(OutboxMessage, row_id)
        rendered = await render_outbox(
            session, row, routes=Routes(FEATURES), tz=BERLIN, now=utcnow()
        )
    lines = rendered.reply.text.split("\n")
    assert lines[0] == "⏰ " + tr("fa", "Reminder of your appointment:")
    assert lines[1] == "\u2066" + tr("de", "Reminder of your appointment:") + "\u2069"
    assert "\u2066" + tr("de", "Coaching appointment") + "\u2069" in lines
