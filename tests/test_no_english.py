"""Every label through gettext: a participant's whole journey through the fake Bot API, in
every language but English, pressing every button the bot shows; no reply and no button
says an English word of a fixed list (names, places and titles, which are data, aside)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.i18n import LANGUAGES
from bot.outbox.dispatcher import Dispatcher
from storage.identities import bind_identity
from storage.models import PRIORITY_REMINDER, Appointment
from storage.outbox import enqueue
from storage.types import utcnow

# English words no other catalog uses (so not "Coach", "Chat", "Menu", "Page", "Start").
ENGLISH = re.compile(
    r"\b(More|Back|Cancel|Skip|Done|Yes|Please|the|and|you|your|with|appointments?|"
    r"courses?|reminders?|buttons?|calendar|today|tomorrow|answer)\b"
)
DATA = (
    "Amina Haddad",
    "Miriam Hoffmann",
    "Kreishaus Unna, Friedrich-Ebert-Straße 17, 59425 Unna",
    "VHS Unna, Lindenplatz 1, 59423 Unna",
    "Deutschkurs B1",
    "Kreis Unna",
    "Wegweiser",
    "Telegram",
    "Teilhabemanagement",
    "Integrationszentrum",
)
# Buttons that would end the journey or switch the language.
NOT_PRESSED = ("lang:", "bi:", "pv:dy", "pv:no", "ho:ok", "mn:lang", "mn:unlink")
MAX_PRESSES = 90


def _english_in(message: dict) -> list[str]:
    parts = [message.get("text") or message.get("caption") or ""]
    markup = message.get("reply_markup") or {}
    parts += [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
    text = "\n".join(parts)
    for data in DATA:
        text = text.replace(data, "")
    text = re.sub(r"/[a-z_]+", "", text)  # commands are the same in every language
    return ENGLISH.findall(text)


@pytest.mark.parametrize("code", [lang.code for lang in LANGUAGES if lang.code != "en"])
async def test_no_english_word_in_any_reply_of_the_journeys(
    telegram,
    sessions,
    settings,
    make_staff,
    make_participant,
    make_invite,
    make_appointment,
    make_course,
    code,
):
    coach = await make_staff(display_name="Miriam Hoffmann", locale="de")
    async with sessions.begin() as session:
        await bind_identity(session, channel="telegram", external_id="9901", staff_id=coach.id)
    person = await make_participant(display_name="Amina Haddad", coach_id=coach.id)
    for day in range(1, 8):  # more than a page
        await make_appointment(person, starts_in=timedelta(days=day, hours=1))
    await make_course(slots=[(0, "09:00", "12:30"), (2, "09:00", "12:30")], participants=[person])
    invite = await make_invite(person)
    user = telegram.fake.user(chat_id=9911, language_code=code)
    seen: list[dict] = []

    async def did(replies: list[dict]) -> None:
        seen.extend(replies)

    await did(await user.exchange(f"/start {invite.token}"))
    await did(await user.press_and_wait(f"lang:{code}"))
    await did(await user.press_and_wait(f"pv:ok:{code}"))
    for command in ("/help", "/menu", "/appointments", "/courses", "/next", "/privacy"):
        await did(await user.exchange(command))
    await did(await user.exchange("hello?"))
    await did(await user.other_and_wait("sticker"))
    await did(await user.exchange("/delete"))
    await did(await user.exchange("/write"))
    await did(await user.exchange("Ich komme später."))

    pressed: set[str] = set()
    for _ in range(MAX_PRESSES):
        waiting = [
            button["callback_data"]
            for message in seen
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in row
            if button.get("callback_data") not in pressed
            and not button.get("callback_data", "").startswith(NOT_PRESSED)
        ]
        if not waiting:
            break
        data = waiting[0]
        pressed.add(data)
        await did(await user.press_and_wait(data, force=True))
    assert {"ap:p:1", "ap:p:0"} <= pressed  # "More" and "Back" were shown and pressed

    # Pushes: a reminder and the coach's answer, rendered by the dispatcher.
    async with sessions.begin() as session:
        last = await session.scalar(select(Appointment).order_by(Appointment.starts_at.desc()))
        await enqueue(
            session,
            template="appointment.reminder",
            participant_id=person.id,
            subject=("appointment", last.id),
            params={"starts_at": last.starts_at.isoformat(), "offset": "24h"},
            due_at=utcnow(),
            priority=PRIORITY_REMINDER,
        )
    await Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=settings,
        senders={"telegram": telegram.application.bot_data["sender"]},
    ).drain()

    pushed = [m for m in user.messages() if m not in seen]
    assert any((m.get("text") or "").startswith("⏰ ") for m in pushed)  # the reminder came
    replies = seen + pushed
    assert len(replies) > 30
    english = {
        word: (message.get("text") or "")[:80]
        for message in replies
        for word in _english_in(message)
    }
    assert english == {}, f"English in {code}: {english}"
