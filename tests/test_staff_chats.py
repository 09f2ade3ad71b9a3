"""Staff chats: a coach links their own Telegram chat with a one-time staff invite and gets
notices there, rendered in the coach's language when they are sent."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.features import FEATURES
from bot.features.appointments.render import render_appointment
from bot.features.onboarding.chat import STAFF_LINKED
from bot.features.onboarding.invites import ALREADY_USED, create_staff_invite
from bot.outbox.render import render_outbox
from bot.plumbing.routes import Routes
from bot.plumbing.voice import Voice
from storage.models import Appointment, AuditEntry, ChannelIdentity, OutboxMessage, StaffUser
from storage.types import utcnow
from tests.helpers import ARABIC_SCRIPT, CYRILLIC, data_of, tr

BERLIN = ZoneInfo("Europe/Berlin")


async def _staff_invite(sessions, staff: StaffUser):
    async with sessions.begin() as session:
        fresh = await session.get(StaffUser, staff.id)
        return await create_staff_invite(session, staff=fresh, now=utcnow(), valid_days=14)


async def test_a_coach_links_a_chat_and_sees_staff_commands_only(telegram, sessions, make_staff):
    coach = await make_staff(display_name="Miriam Hoffmann", locale="de")
    invite = await _staff_invite(sessions, coach)
    chat = telegram.fake.user(chat_id=9501, language_code="en")

    linked, menu = await chat.exchange(f"/start {invite.token}")
    # The coach's language (German), not the Telegram client's (English).
    assert linked["text"] == tr("de", STAFF_LINKED, name="Miriam Hoffmann")
    assert data_of(menu) == ["mn:bc", "mn:rep", "mn:unlink", "mn:lang", "mn:help"]
    async with sessions() as session:
        identity = await session.scalar(select(ChannelIdentity))
    assert identity is not None
    assert (identity.staff_id, identity.participant_id) == (coach.id, None)

    [help_text] = await chat.exchange("/help")
    commands = [line.split(" ")[0] for line in help_text["text"].split("\n")[1:-1]]
    assert commands == ["/menu", "/broadcast", "/report", "/language", "/unlink", "/help"]
    # Participant commands and buttons do not work for a staff chat.
    [unknown, _menu] = await chat.exchange("/appointments")
    assert unknown["text"] == tr(
        "de", "I do not know this command. Send /help to see what I can do."
    )
    [menu_again] = await chat.press_and_wait("ap:c:1", force=True)
    assert data_of(menu_again) == data_of(menu)

    # The same link does not work twice, not even for another coach's phone.
    other = telegram.fake.user(chat_id=9502, language_code="de")
    [used] = await other.exchange(f"/start {invite.token}")
    assert used["text"] == tr("de", ALREADY_USED)

    [question] = await chat.press_and_wait("mn:unlink")
    assert "st:unlink" in data_of(question)
    [done] = await chat.press_and_wait("st:unlink")
    assert done["text"] == tr(
        "de",
        "This chat is disconnected. Notices wait for you in the admin inbox. "
        "Ask an admin for a new link to connect a chat again.",
    )
    async with sessions() as session:
        assert await session.scalar(select(ChannelIdentity)) is None
        actions = set((await session.scalars(select(AuditEntry.action))).all())
    assert {"staff_invite.created", "invite.used", "staff_chat.unlinked"} <= actions


async def test_the_coach_notice_renders_in_the_coachs_current_language(
    telegram, sessions, make_staff, make_participant, bind_chat, make_appointment
):
    """The notice is a template key in the outbox: the coach's language at send time wins."""
    coach = await make_staff(display_name="Yusuf Demir", locale="de")
    participant = await make_participant(
        accepted=True, locale="ti", coach_id=coach.id, display_name="Dawit"
    )
    await bind_chat(participant, 9503)
    appointment = await make_appointment(participant, starts_in=timedelta(days=2))
    user = telegram.fake.user(chat_id=9503)
    await user.exchange("/appointments")
    await user.press_and_wait(f"ap:x:{appointment.id}")
    await user.exchange("Ich bin krank")
    async with sessions() as session:
        [row] = (await session.scalars(select(OutboxMessage))).all()
    assert row.staff_id == coach.id and row.participant_id is None

    routes = Routes(FEATURES)

    async def render_now() -> str:
        async with sessions() as session:
            fresh = await session.get(OutboxMessage, row.id)
            rendered = await render_outbox(session, fresh, routes=routes, tz=BERLIN, now=utcnow())
        assert rendered.reply is not None, rendered.skip_reason
        return rendered.reply.text

    german = await render_now()
    assert german.startswith("Dawit ") and "kann nicht" in german and "krank" not in german
    # The coach switches to Arabic before the notice goes out: it goes out in Arabic.
    async with sessions.begin() as session:
        (await session.get(StaffUser, coach.id)).locale = "ar"
    arabic = await render_now()
    assert ARABIC_SCRIPT.search(arabic) and "\u2068Dawit\u2069" in arabic
    assert "krank" not in arabic
    # The appointment is deleted: the notice has nothing left to say and is skipped.
    async with sessions.begin() as session:
        await session.delete(await session.get(Appointment, appointment.id))
    async with sessions() as session:
        fresh = await session.get(OutboxMessage, row.id)
        skipped = await render_outbox(session, fresh, routes=routes, tz=BERLIN, now=utcnow())
    assert skipped.reply is None and skipped.skip_reason == "appointment deleted"


async def test_an_appointment_renders_for_a_participant_outside_any_update(
    sessions, make_participant, make_appointment
):
    """A Voice built from the stored participant alone, as the dispatcher will build it."""
    participant = await make_participant(accepted=True, locale="ar", display_name="Amina")
    # Tomorrow at noon in Berlin: "now + 25 h" is the day after tomorrow late in the evening.
    tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)
    noon = datetime.combine(tomorrow, time(12), tzinfo=BERLIN).astimezone(UTC)
    appointment = await make_appointment(participant, starts_at=noon)
    async with sessions() as session:
        stored = await session.get(Appointment, appointment.id)
        voice = Voice.for_participant(participant, tz=BERLIN, now=utcnow())
        reply = render_appointment(voice, stored)
    assert reply.lang == "ar" and reply.rtl
    assert reply.text.startswith("📅 " + tr("ar", "Coaching appointment"))
    assert "\u2068Kreishaus Unna, Friedrich-Ebert-Straße 17, 59425 Unna\u2069" in reply.text
    assert tr("ar", "tomorrow") in reply.text
    assert [b.label for b in reply.buttons[0]] == [
        tr("ar", "✅ I will come"),
        tr("ar", "❌ I cannot come"),
    ]
    assert [b.data for row in reply.buttons for b in row][:2] == [
        f"ap:c:{appointment.id}",
        f"ap:x:{appointment.id}",
    ]


async def test_answers_reach_the_coachs_linked_chat(
    telegram, sessions, settings, make_staff, make_participant, bind_chat, make_appointment
):
    """✅ and ❌ from a participant arrive in the coach's own chat, in the coach's language."""
    from bot.outbox.dispatcher import Dispatcher
    from storage.identities import bind_identity

    coach = await make_staff(locale="uk")
    async with sessions.begin() as session:
        await bind_identity(session, channel="telegram", external_id="9520", staff_id=coach.id)
    participant = await make_participant(
        accepted=True, locale="de", coach_id=coach.id, display_name="Hevin"
    )
    await bind_chat(participant, 9521)
    appointment = await make_appointment(participant, starts_in=timedelta(days=2))
    user = telegram.fake.user(chat_id=9521)
    await user.exchange("/appointments")
    await user.press_and_wait(f"ap:c:{appointment.id}")
    await user.press_and_wait(f"ap:x:{appointment.id}")
    dispatcher = Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=settings,
        senders={"telegram": telegram.application.bot_data["sender"]},
    )
    await dispatcher.drain()
    texts = [m["text"] for m in telegram.fake.sent(9520)]
    assert len(texts) == 2
    assert texts[0].startswith("Hevin ") and texts[1].startswith("Hevin ")
    assert texts[0] != texts[1] and all(CYRILLIC.search(text) for text in texts)
