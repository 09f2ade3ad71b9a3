"""Signal end to end against a fake signal-cli daemon over real HTTP on loopback: joining
with "start CODE", numbered options instead of buttons, a reminder pushed by the
dispatcher, each failure signal-cli reports, and a reconnect of the event stream."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.channels.signal import SignalReceiver, SignalSender
from bot.features.onboarding.chat import PRIVACY_NOTICE
from bot.outbox.dispatcher import Dispatcher
from storage.models import PRIORITY_REMINDER, Appointment, ChannelIdentity, OutboxMessage
from storage.outbox import enqueue
from storage.types import utcnow
from tests.conftest import serve_app
from tests.fake_signal import ACCOUNT, FakeSignal
from tests.helpers import tr

AMINA = "0b5e7a00-1111-4222-8333-444455556666"


class SignalHarness:
    """The fake daemon and the bot's Signal sender and receiver on one database."""

    def __init__(self, fake, sender, receiver, sessions, settings, router) -> None:
        self.fake, self.sender, self.receiver = fake, sender, receiver
        self.sessions, self.settings, self.router = sessions, settings, router

    async def say(self, uuid: str, text: str) -> list[str]:
        """A person writes; the bot's answers to them (until quiet)."""
        before = len(self.fake.to(uuid))
        self.fake.deliver(self.fake.envelope(uuid, text))
        await self.fake.wait_for(lambda: len(self.fake.to(uuid)) > before)
        await asyncio.sleep(0.2)  # a multi-message answer arrives in one go
        return [s.message for s in self.fake.to(uuid)[before:]]

    def number_of(self, uuid: str, label: str) -> str:
        """The number shown before an option in the latest messages to `uuid`."""
        for sent in reversed(self.fake.to(uuid)):
            for line in sent.message.splitlines():
                number, _, rest = line.partition(" ")
                if number.isdigit() and rest == label:
                    return number
        raise AssertionError(f"no option {label!r} in {self.fake.to(uuid)[-1].message!r}")

    async def dispatch(self) -> None:
        """Send what is due, through the Signal sender."""
        await Dispatcher(
            sessions=self.sessions,
            routes=self.router.routes,
            settings=self.settings,
            senders={"signal": self.sender},
        ).drain()


@pytest.fixture
async def signal(settings, sessions, router):
    fake = FakeSignal()
    async with serve_app(fake.app()) as url:
        sender = SignalSender(rpc_url=url, account=ACCOUNT, sessions=sessions)
        receiver = SignalReceiver(events_url=url, router=router, sender=sender)
        receiver.start()
        await asyncio.wait_for(receiver.connected.wait(), 5)
        try:
            yield SignalHarness(fake, sender, receiver, sessions, settings, router)
        finally:
            await receiver.stop()
            await sender.close()


async def test_join_with_start_code_and_answer_by_number(
    signal, sessions, make_participant, make_invite, make_appointment
):
    participant = await make_participant(display_name="Amina")
    invite = await make_invite(participant)
    appointment = await make_appointment(participant, starts_in=timedelta(days=2))

    [menu] = await signal.say(AMINA, f"start {invite.token}")
    assert "1 " in menu and "العربية" in menu  # the languages as numbered options
    [notice] = await signal.say(AMINA, signal.number_of(AMINA, "العربية"))
    assert notice.startswith(tr("ar", PRIVACY_NOTICE))
    # The consent options get numbers of their own: a "1" typed twice never means agree.
    assert f"16 {tr('ar', '✅ Yes, I agree')}" in notice
    answers = await signal.say(AMINA, signal.number_of(AMINA, tr("ar", "✅ Yes, I agree")))
    assert tr("ar", "Thank you! You are connected now.") in answers[0]
    async with sessions() as session:
        identity = await session.scalar(select(ChannelIdentity))
    assert identity.channel == "signal" and identity.external_id == AMINA

    await signal.say(AMINA, "/appointments")
    confirm = signal.number_of(AMINA, tr("ar", "✅ I will come"))
    [confirmed] = await signal.say(AMINA, confirm)
    assert tr("ar", "✅ You confirmed. Thank you!") in confirmed
    async with sessions() as session:
        assert (await session.get(Appointment, appointment.id)).response == "confirmed"
    # A number that is no option, and plain text, get a clear answer; nothing changes.
    unknown = await signal.say(AMINA, "77")
    said = "Sorry, I did not understand that. Please type the number of an option."
    assert tr("ar", said) in unknown[0]
    async with sessions() as session:
        assert (await session.get(Appointment, appointment.id)).response == "confirmed"


async def test_a_reminder_arrives_with_numbered_options_and_the_number_works(
    signal, sessions, make_participant, bind_chat, make_appointment
):
    participant = await make_participant(display_name="Dawit", accepted=True, locale="ti")
    await bind_chat(participant, AMINA, channel="signal")
    appointment = await make_appointment(participant, starts_in=timedelta(hours=3))
    async with sessions.begin() as session:
        await enqueue(
            session,
            template="appointment.reminder",
            participant_id=participant.id,
            subject=("appointment", appointment.id),
            params={"starts_at": appointment.starts_at.isoformat(), "offset": "2h"},
            due_at=utcnow(),
            priority=PRIORITY_REMINDER,
        )
    await signal.dispatch()
    [reminder] = [s.message for s in signal.fake.to(AMINA)]
    assert tr("ti", "Reminder of your appointment:") in reminder
    confirm = signal.number_of(AMINA, tr("ti", "✅ I will come"))
    await signal.say(AMINA, confirm)  # answered through the receiver, menu from the push
    async with sessions() as session:
        assert (await session.get(Appointment, appointment.id)).response == "confirmed"
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.template == "appointment.reminder")
        )
    assert row.state == "sent"


@pytest.mark.parametrize(
    ("failure", "state", "blocked"),
    [
        ("unregistered", "blocked", True),
        ("unresolvable", "blocked", True),
        ("rate_limit", "pending", False),
        ("proof_required", "pending", False),
        ("io", "pending", False),
        ("network", "pending", False),
        ("untrusted", "failed", False),
    ],
)
async def test_each_failure_signal_cli_reports_is_handled(
    signal, sessions, make_participant, bind_chat, failure, state, blocked
):
    participant = await make_participant(display_name="Olena", accepted=True, locale="uk")
    await bind_chat(participant, AMINA, channel="signal")
    async with sessions.begin() as session:
        await enqueue(
            session,
            template="coach.answer",
            participant_id=participant.id,
            subject=("message", 999),
            params={},
            due_at=utcnow(),
        )
    signal.fake.fail(AMINA, failure)
    # Render needs a message: one from the coach.
    from storage.models import CoachMessage

    async with sessions.begin() as session:
        session.add(
            CoachMessage(id=999, participant_id=participant.id, direction="out", body="Hallo")
        )
    await signal.dispatch()
    async with sessions() as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.template == "coach.answer")
        )
        identity = await session.scalar(select(ChannelIdentity))
    assert row.state == state, row.last_error
    assert (identity.blocked_at is not None) is blocked
    if failure in ("rate_limit", "proof_required"):
        assert row.due_at > utcnow() + timedelta(seconds=30)  # as long as Signal asked
    assert signal.fake.sent == []


async def test_the_event_stream_reconnects_and_nothing_sent_meanwhile_is_lost(
    signal, sessions, make_participant, bind_chat
):
    participant = await make_participant(display_name="Farid", accepted=True, locale="fa")
    await bind_chat(participant, AMINA, channel="signal")
    connections = signal.fake.connections
    signal.fake.drop_connections()
    signal.fake.deliver(signal.fake.envelope(AMINA, "/help"))  # while nobody listens
    await signal.fake.wait_for(lambda: signal.fake.connections > connections)
    await signal.fake.wait_for(lambda: signal.fake.to(AMINA))
    assert tr("fa", "I help you with your programme. These are my commands:") in (
        signal.fake.to(AMINA)[0].message
    )


async def test_a_calendar_file_goes_as_a_data_uri_attachment(
    signal, sessions, make_participant, bind_chat, make_appointment
):
    participant = await make_participant(display_name="Hevin", accepted=True, locale="de")
    await bind_chat(participant, AMINA, channel="signal")
    await make_appointment(participant, starts_in=timedelta(days=2))
    await signal.say(AMINA, "/appointments")
    number = signal.number_of(AMINA, tr("de", "📅 Add to calendar"))
    await signal.say(AMINA, number)
    [with_file] = [s for s in signal.fake.to(AMINA) if s.attachments]
    assert with_file.attachments[0].startswith("data:text/calendar;filename=")


async def test_a_push_falls_back_to_another_chat_when_signal_says_unregistered(
    signal, sessions, router, make_participant, bind_chat
):
    from bot.channels.webchat import WebChat, WebChatSender
    from storage.models import CoachMessage, WebChatEntry

    participant = await make_participant(display_name="Samira", accepted=True, locale="fr")
    await bind_chat(participant, AMINA, channel="signal")
    await bind_chat(participant, "w" + "a" * 40, channel="web")
    async with sessions.begin() as session:
        session.add(
            CoachMessage(id=321, participant_id=participant.id, direction="out", body="Bonjour")
        )
        await session.flush()
        await enqueue(
            session,
            template="coach.answer",
            participant_id=participant.id,
            subject=("message", 321),
            params={},
            due_at=utcnow(),
        )
    signal.fake.fail(AMINA, "unregistered")
    await Dispatcher(
        sessions=sessions,
        routes=router.routes,
        settings=signal.settings,
        senders={"signal": signal.sender, "web": WebChatSender(WebChat(router))},
    ).drain()
    async with sessions() as session:
        row = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.template == "coach.answer")
        )
        notice = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.template == "participant.blocked")
        )
        chats = {c.channel: c for c in await session.scalars(select(ChannelIdentity))}
        [entry] = (await session.scalars(select(WebChatEntry))).all()
    assert row.state == "sent"
    assert notice is not None  # the coach hears that Signal no longer reaches her
    assert chats["signal"].blocked_at is not None and chats["web"].blocked_at is None
    assert "Bonjour" in entry.text and entry.chat_id == "w" + "a" * 40


async def test_a_notice_planned_during_onboarding_waits_and_the_menu_keeps_its_numbers(
    signal, sessions, settings, router, make_staff, make_participant, make_invite
):
    """A coach plans an appointment in the staff web while a participant is between the
    numbered language menu and the privacy notice on Signal: nothing is pushed into the
    middle (the numbers keep meaning languages); right after "I agree" the notice comes."""
    from datetime import datetime, time

    from bot.features.staff import accounts
    from bot.web.app import create_app
    from tests.admin_client import AdminBrowser
    from tests.conftest import BERLIN

    coach = await make_staff(password_hash=await accounts.hash_password("correct horse 1"))
    participant = await make_participant(display_name="Amina", coach_id=coach.id)
    invite = await make_invite(participant)
    await signal.say(AMINA, f"start {invite.token}")
    day = datetime.now(BERLIN).date() + timedelta(days=2)
    async with serve_app(create_app(settings, sessions, router)) as site:
        web = AdminBrowser(site)
        assert (await web.login(coach.email, "correct horse 1")).status_code == 303
        await web.get(f"/admin/participants/{participant.id}")
        planned = await web.post(
            f"/admin/participants/{participant.id}/appointments",
            {
                "kind": "coaching",
                "date": day.isoformat(),
                "start": time(10).strftime("%H:%M"),
                "end": "10:45",
                "location": "Kreishaus",
            },
        )
        await web.close()
    assert planned.status_code == 303
    before = len(signal.fake.to(AMINA))
    await signal.dispatch()
    assert len(signal.fake.to(AMINA)) == before  # held: the menu is still the last message
    [notice] = await signal.say(AMINA, signal.number_of(AMINA, "العربية"))
    assert notice.startswith(tr("ar", PRIVACY_NOTICE))
    await signal.say(AMINA, signal.number_of(AMINA, tr("ar", "✅ Yes, I agree")))
    sent = len(signal.fake.to(AMINA))
    await signal.dispatch()
    [pushed] = [s.message for s in signal.fake.to(AMINA)[sent:]]
    assert pushed.startswith("📅 " + tr("ar", "You have a new appointment:"))
    assert tr("ar", "✅ I will come") in pushed


async def test_a_slow_chat_does_not_stall_the_others(
    signal, sessions, make_participant, bind_chat
):
    """Sends to one person hang (a bad link at signal-cli's end): another person's message
    is answered meanwhile, and the slow person's two messages are answered in order."""
    slow, quick = AMINA, "0b5e7a00-9999-4222-8333-444455556666"
    for uuid, name in ((slow, "Amina"), (quick, "Dawit")):
        person = await make_participant(display_name=name, accepted=True, locale="de")
        await bind_chat(person, uuid, channel="signal")
    signal.fake.slow[slow] = 3.0  # long against the quick answer, also on a loaded machine
    signal.fake.deliver(signal.fake.envelope(slow, "/help"))
    signal.fake.deliver(signal.fake.envelope(slow, "/privacy"))
    await asyncio.sleep(0.1)
    signal.fake.deliver(signal.fake.envelope(quick, "/help"))
    await signal.fake.wait_for(lambda: signal.fake.to(quick), timeout=2.5)
    assert signal.fake.to(slow) == []  # still sending the first answer
    help_answer = [s.message for s in signal.fake.to(quick)]
    await signal.fake.wait_for(lambda: len(signal.fake.to(slow)) > len(help_answer), timeout=30)
    texts = [s.message for s in signal.fake.to(slow)]
    assert texts[: len(help_answer)] == help_answer  # /help first, then /privacy


# ---------------------------------------------------------------- numbers keep their meaning


async def test_a_repeated_or_late_number_never_does_something_else(
    signal, sessions, make_staff, make_participant, bind_chat, make_appointment
):
    """After "N" confirms, the card comes again without ✅: N is not reused for ❌, so a
    resend on a bad network (or a second tap) confirms once and never declines."""
    coach = await make_staff()
    participant = await make_participant(
        display_name="Amina", accepted=True, locale="ar", coach_id=coach.id
    )
    await bind_chat(participant, AMINA, channel="signal")
    appointment = await make_appointment(participant, starts_in=timedelta(days=2))
    await signal.say(AMINA, "/appointments")
    confirm = signal.number_of(AMINA, tr("ar", "✅ I will come"))
    decline = signal.number_of(AMINA, tr("ar", "❌ I cannot come"))
    [confirmed] = await signal.say(AMINA, confirm)
    assert tr("ar", "✅ You confirmed. Thank you!") in confirmed
    assert tr("ar", "✅ I will come") not in confirmed
    assert f"{decline} {tr('ar', '❌ I cannot come')}" in confirmed  # ❌ kept its number
    assert f"{confirm} " not in "\n".join(confirmed.splitlines()[-4:])  # no line reuses it
    again = await signal.say(AMINA, confirm)  # the same message once more
    assert tr("ar", "You have already confirmed this appointment.") in again[0]
    await signal.say(AMINA, "/menu")  # other menus in between...
    late = await signal.say(AMINA, confirm)  # ...and the old number still means ✅
    assert tr("ar", "You have already confirmed this appointment.") in late[0]
    async with sessions() as session:
        assert (await session.get(Appointment, appointment.id)).response == "confirmed"
        notices = (
            await session.scalars(
                select(OutboxMessage).where(OutboxMessage.template == "appointment.answer")
            )
        ).all()
    assert [row.params["response"] for row in notices] == ["confirmed"]  # the coach: once


# ---------------------------------------------------------------- replies Signal refused


@pytest.mark.parametrize("failure", ["rate_limit", "io", "network"])
async def test_a_refused_reply_is_sent_again_after_the_wait_asked(
    signal, make_participant, bind_chat, failure
):
    participant = await make_participant(display_name="Dawit", accepted=True, locale="ti")
    await bind_chat(participant, AMINA, channel="signal")
    signal.fake.retry_after = 1
    signal.fake.fail(AMINA, failure)
    signal.fake.deliver(signal.fake.envelope(AMINA, "/help"))
    await signal.fake.wait_for(lambda: signal.fake.to(AMINA), timeout=10)
    [refused_at] = signal.fake.refused_at
    [answer] = signal.fake.to(AMINA)
    assert tr("ti", "I help you with your programme. These are my commands:") in answer.message
    assert answer.at - refused_at >= 0.9  # waited as long as Signal asked (1 s)


async def test_a_reply_refused_for_a_day_is_dropped_with_a_log_line(
    signal, make_participant, bind_chat, caplog
):
    participant = await make_participant(display_name="Dawit", accepted=True, locale="de")
    await bind_chat(participant, AMINA, channel="signal")
    signal.fake.fail(AMINA, "proof_required")  # Signal asks to wait a day
    signal.fake.deliver(signal.fake.envelope(AMINA, "/help"))
    await signal.fake.wait_for(lambda: signal.fake.refused_at)
    await signal.fake.wait_for(lambda: "signal reply dropped" in caplog.text)
    assert signal.fake.to(AMINA) == []
    assert "rate limited (proof required)" in caplog.text


# ---------------------------------------------------------------- the channel's way to answer


@pytest.mark.parametrize("kind", ["audio/aac", "image/jpeg"])
async def test_a_voice_note_or_photo_gets_a_clear_answer(
    signal, sessions, make_participant, bind_chat, kind
):
    participant = await make_participant(display_name="Hevin", accepted=True, locale="ckb")
    await bind_chat(participant, AMINA, channel="signal")
    signal.fake.deliver(signal.fake.attachment_envelope(AMINA, kind))
    await signal.fake.wait_for(lambda: signal.fake.to(AMINA))
    await asyncio.sleep(0.2)
    first, menu = [s.message for s in signal.fake.to(AMINA)]
    assert first == tr("ckb", "I can only read text. Please type the number of an option.")
    assert "1 " in menu  # the main menu, numbered


async def test_signal_texts_say_type_the_number_telegram_texts_say_press(
    signal, sessions, make_participant, bind_chat, make_appointment
):
    """The bad-input answers and questions on Signal name numbers, never buttons."""
    participant = await make_participant(display_name="Olena", accepted=True, locale="uk")
    await bind_chat(participant, AMINA, channel="signal")
    await make_appointment(participant, starts_in=timedelta(days=2))
    said = await signal.say(AMINA, "hello?")
    assert (
        tr("uk", "Sorry, I did not understand that. Please type the number of an option.")
        in (said[0])
    )
    await signal.say(AMINA, "/appointments")
    *_card, question = await signal.say(
        AMINA, signal.number_of(AMINA, tr("uk", "❌ I cannot come"))
    )
    assert question.startswith(
        tr(
            "uk",
            "Your coach will know that you cannot come. Do you want to tell them why? "
            "Write a short message, or type the number of Skip.",
        )
    )
    await signal.say(AMINA, "/appointments")
    *_card, days = await signal.say(AMINA, signal.number_of(AMINA, tr("uk", "🔁 Other time")))
    assert days.startswith(
        tr(
            "uk",
            "Which days are good for you? Type the number of each day that fits, "
            "then the number of Done.",
        )
    )
    [help_text] = await signal.say(AMINA, "/help")
    assert (
        tr(
            "uk",
            "You can also type the numbers of the options. "
            "For other questions, please talk to your coach.",
        )
        in help_text
    )
    everything = "\n".join(s.message for s in signal.fake.to(AMINA))
    for word in ("кнопк", "Натисніть", "натисніть"):  # "button", "press"
        assert word not in everything


def test_a_lost_press_on_signal_asks_to_type_the_number_again():
    """When a fault lost an answer, Signal is told to type the number, Telegram to press."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.plumbing.faults import PRESS_LOST, not_arrived
    from bot.plumbing.messages import Incoming
    from bot.plumbing.voice import Voice

    voice = Voice.for_language("so", tz=ZoneInfo("Europe/Berlin"), now=datetime.now())
    on_signal = not_arrived(voice, Incoming("signal", AMINA, callback="ap:c:1"))
    assert on_signal.text == tr(
        "so",
        "Because of a fault on our side, your answer did not reach us. "
        "Please type the number again in a minute.",
    )
    on_telegram = not_arrived(voice, Incoming("telegram", "1", callback="ap:c:1"))
    assert on_telegram.text == tr("so", PRESS_LOST)
