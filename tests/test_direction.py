"""Mixed-direction text in Telegram, by code point: in right-to-left chats a coach's German
answer, the German line of the bilingual mode and commands such as /delete carry isolation
characters in the text itself, so they read as written; dates, times and lists use the
language's punctuation."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.features.contact import ASK
from bot.features.onboarding.chat import PRIVACY_NOTICE
from bot.i18n import FSI, LRI, PDI
from bot.outbox.dispatcher import Dispatcher
from bot.plumbing.formatting import long_date, moment, weekdays
from bot.plumbing.voice import Voice
from storage.identities import bind_identity
from storage.models import Participant
from tests.helpers import data_of, tr

BERLIN = ZoneInfo("Europe/Berlin")
ANSWER = "10:30 Uhr am 7.12., Raum 108. Bitte 2 Fotos mitbringen!"
RTL = ["ar", "fa", "ckb"]


def direction_of_isolate(text: str, start: int) -> str:
    """How a bidi algorithm resolves the isolate opened at `start`: LRI is L, FSI takes its
    first strong letter (UAX #9, P2-P3)."""
    if text[start] == LRI:
        return "L"
    for char in text[start + 1 :]:
        if char == PDI:
            return "L"
        kind = unicodedata.bidirectional(char)
        if kind in ("L", "R", "AL"):
            return "L" if kind == "L" else "R"
    return "L"


async def _drain(telegram, sessions, settings) -> None:
    await Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=settings,
        senders={"telegram": telegram.application.bot_data["sender"]},
    ).drain()


@pytest.mark.parametrize("locale", RTL)
async def test_a_coachs_german_answer_reads_left_to_right_in_a_right_to_left_chat(
    telegram, sessions, settings, make_staff, make_participant, bind_chat, locale
):
    coach = await make_staff(display_name="Miriam Hoffmann", locale="de")
    async with sessions.begin() as session:
        await bind_identity(session, channel="telegram", external_id="9701", staff_id=coach.id)
    person = await make_participant(
        display_name="Amina", locale=locale, accepted=True, coach_id=coach.id
    )
    await bind_chat(person, 9711)
    telegram.router.settings = settings.model_copy(
        update={"office_hours": "00:00-23:59", "office_days": "0,1,2,3,4,5,6"}
    )
    participant_chat = telegram.fake.user(chat_id=9711, language_code=locale)
    await participant_chat.exchange("/write")
    await participant_chat.exchange("متى موعدي؟")
    await _drain(telegram, sessions, settings)
    coach_chat = telegram.fake.user(chat_id=9701, language_code="de")
    [question] = coach_chat.messages()
    await coach_chat.press_and_wait(data_of(question)[0])
    await coach_chat.exchange(ANSWER)
    await _drain(telegram, sessions, settings)

    text = participant_chat.messages()[-1]["text"]
    assert text == tr(
        locale,
        "✉️ Answer from {coach}:\n{text}",
        coach=f"{FSI}Miriam Hoffmann{PDI}",
        text=f"{FSI}{ANSWER}{PDI}",
    )
    line = text.split("\n")[-1]
    assert line == f"\u2068{ANSWER}\u2069"  # by code point: FSI ... PDI around the line
    assert direction_of_isolate(line, 0) == "L"  # "Uhr" decides: left to right


@pytest.mark.parametrize("locale", RTL)
async def test_the_german_line_of_the_bilingual_mode_is_isolated_left_to_right(
    telegram, sessions, make_staff, make_participant, bind_chat, locale
):
    coach = await make_staff(display_name="Miriam Hoffmann", locale="de")
    person = await make_participant(
        display_name="Amina", locale=locale, accepted=True, coach_id=coach.id, bilingual=True
    )
    await bind_chat(person, 9721)
    user = telegram.fake.user(chat_id=9721, language_code=locale)
    [asked] = await user.exchange("/write")
    name = f"{FSI}Miriam Hoffmann{PDI}"
    german = tr("de", ASK, coach=name)
    assert asked["text"] == tr(locale, ASK, coach=name) + "\n" + "\n".join(
        f"\u2066{line}\u2069" for line in german.split("\n")
    )
    for line in asked["text"].split("\n")[-len(german.split("\n")) :]:
        assert line[0] == LRI and line[-1] == PDI


@pytest.mark.parametrize("locale", ["ar", "ckb", "fa"])
async def test_commands_keep_their_slash_in_front_in_right_to_left_text(
    telegram, sessions, make_participant, bind_chat, locale
):
    person = await make_participant(display_name="Amina", locale=locale, accepted=True)
    await bind_chat(person, 9731)
    user = telegram.fake.user(chat_id=9731, language_code=locale)
    [privacy] = await user.exchange("/privacy")
    text = privacy["text"]
    kept = (
        "We also store your answers to appointments, the reasons you give when you cannot "
        "come, and your messages to your coach. We keep them until your data is deleted."
    )
    assert tr(locale, kept) in text  # /privacy says what the notice says
    assert "\u2066/delete\u2069" in text
    assert re.search(r"(?<!\u2066)/delete", text) is None  # never a bare one
    # The privacy notice names /privacy and /delete, both isolated.
    notice = Voice.for_language(locale, tz=BERLIN, now=datetime.now(BERLIN))._(PRIVACY_NOTICE)
    assert "\u2066/privacy\u2069" in notice and "\u2066/delete\u2069" in notice
    assert re.search(r"(?<!\u2066)/(privacy|delete)", notice) is None


async def test_commands_are_not_isolated_in_left_to_right_text_nor_links(telegram):
    voice = Voice.for_language("de", tz=BERLIN, now=datetime.now(BERLIN))
    assert LRI not in voice._(PRIVACY_NOTICE)
    arabic = Voice.for_language("ar", tz=BERLIN, now=datetime.now(BERLIN))
    assert arabic.t.commands_isolated("https://t.me/Bot?start=x /help") == (
        "https://t.me/Bot?start=x \u2066/help\u2069"
    )


# ---------------------------------------------------------------- dates, lists, notices


@pytest.mark.parametrize(
    ("locale", "comma"), [("ar", "، "), ("fa", "، "), ("ps", "، "), ("ckb", "، "), ("ti", "፣ ")]
)
def test_moment_joins_date_and_time_with_the_languages_comma(locale, comma):
    voice = Voice.for_language(locale, tz=BERLIN, now=datetime(2026, 12, 1, tzinfo=BERLIN))
    text = moment(voice, datetime(2026, 12, 7, 10, 30, tzinfo=BERLIN))
    assert text.endswith(f"{comma}10:30")
    assert ", " not in text


def test_sorani_lists_use_the_arabic_comma_and_and():
    voice = Voice.for_language("ckb", tz=BERLIN, now=datetime(2026, 12, 1, tzinfo=BERLIN))
    days = weekdays(voice, [0, 2, 4])
    first, second, third = (weekdays(voice, [n]) for n in (0, 2, 4))
    assert days == f"{first}، {second} و {third}"
    assert "," not in days
    assert weekdays(voice, [0, 2]) == f"{first} و {second}"


@pytest.mark.parametrize("locale", ["ar", "ckb", "de"])
async def test_the_consent_date_in_privacy_is_written_as_everywhere_else(
    telegram, sessions, make_participant, bind_chat, locale
):
    person = await make_participant(display_name="Amina", locale=locale, accepted=True)
    await bind_chat(person, 9741)
    async with sessions() as session:
        accepted = (await session.get(Participant, person.id)).privacy_accepted_at
    voice = Voice.for_language(locale, tz=BERLIN, now=datetime.now(BERLIN))
    expected = long_date(voice, accepted.astimezone(BERLIN).date())
    [privacy] = await telegram.fake.user(chat_id=9741, language_code=locale).exchange("/privacy")
    assert voice.isolate(expected) in privacy["text"]
    if locale == "ar":  # Syrian month names and the numeric date, as in every reminder
        assert f"({accepted.astimezone(BERLIN):%d.%m.%Y})" in privacy["text"]
        assert not any(name in privacy["text"] for name in ("يناير", "نوفمبر", "ديسمبر"))


async def test_when_is_isolated_in_a_coachs_notice(
    telegram, sessions, settings, make_staff, make_participant, bind_chat, make_appointment
):
    """A coach who reads Arabic gets "Amina confirmed the appointment on {when}" with the
    date and time isolated, like names."""
    coach = await make_staff(display_name="Yusuf Demir", locale="ar")
    async with sessions.begin() as session:
        await bind_identity(session, channel="telegram", external_id="9751", staff_id=coach.id)
    person = await make_participant(
        display_name="Amina", locale="de", accepted=True, coach_id=coach.id
    )
    await bind_chat(person, 9752)
    appointment = await make_appointment(person, starts_in=timedelta(days=2))
    user = telegram.fake.user(chat_id=9752, language_code="de")
    await user.exchange("/appointments")
    await user.press_and_wait(f"ap:c:{appointment.id}")
    await _drain(telegram, sessions, settings)
    [notice] = telegram.fake.user(chat_id=9751).messages()
    voice = Voice.for_language("ar", tz=BERLIN, now=datetime.now(BERLIN))
    at = moment(voice, appointment.starts_at)
    assert notice["text"] == tr(
        "ar",
        "{name} confirmed the appointment on {when}.",
        name=f"{FSI}Amina{PDI}",
        when=f"{FSI}{at}{PDI}",
    )
    async with sessions() as session:
        assert (await session.scalar(select(Participant.status))) == "active"
