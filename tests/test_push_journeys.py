"""Every push proven at the person who gets it.

Each journey starts where a person starts it (the staff web over real HTTP with login and
CSRF, a bot conversation through the fake Bot API, or one of the scheduler's own jobs), lets
the real dispatcher send what is due, and asserts on what the recipient's chat received —
text in their language, buttons, exactly once — and on each row's final state. Time comes
from the test's clock: the journeys run at a fixed winter (+01:00) and summer (+02:00)
instant, and the clock is moved to each reminder's due time instead of waiting for it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.features.handover import ENDED_TEXT
from bot.features.handover import QUESTION as KIM_QUESTION
from bot.features.staff import accounts
from bot.outbox.jobs import build_scheduler
from bot.plumbing.formatting import moment, weekdays
from bot.plumbing.voice import Voice
from bot.web.app import create_app
from storage.identities import bind_identity
from storage.models import Appointment, Module, OutboxMessage, Participant
from tests.admin_client import AdminBrowser
from tests.conftest import BERLIN, Pushing, serve_app
from tests.helpers import data_of, tr

PASSWORD = "correct horse battery"
SEASONS = pytest.mark.parametrize("clock", ["winter", "summer"], indirect=True)
PARTICIPANT_CHAT, COACH_CHAT = 7001, 7002


class World(Pushing):
    """The staff web, the bot on the fake Bot API, and the dispatcher with the scheduler's
    jobs, all on one database and one clock. The scheduler is built as `wegweiser run`
    builds it but not started: `job()` runs one of its jobs now, at the test's time."""

    def __init__(self, telegram, sessions, site: str) -> None:
        super().__init__(telegram, sessions, telegram.router.settings)
        self.telegram = telegram
        self.fake = telegram.fake
        self.sessions = sessions
        self.site = site
        self.browsers: list[AdminBrowser] = []

    async def job(self, name: str) -> None:
        """Run one of the scheduler's jobs (its wrapped function, as the scheduler would)."""
        job = self.scheduler.get_job(name)
        assert job is not None, name
        await job.func()

    async def deliver(self) -> None:
        """Let the dispatcher send (and record) everything that is due now."""
        await self.dispatcher.drain()

    async def staff_login(self, email: str) -> AdminBrowser:
        """A browser logged into the staff web."""
        browser = AdminBrowser(self.site)
        self.browsers.append(browser)
        assert (await browser.login(email, PASSWORD)).status_code == 303
        return browser

    async def rows(self, template: str) -> list[OutboxMessage]:
        """The outbox rows of one template, oldest first."""
        async with self.sessions() as session:
            query = select(OutboxMessage).where(OutboxMessage.template == template)
            return list((await session.scalars(query.order_by(OutboxMessage.id))).all())

    async def close(self) -> None:
        """Stop the dispatcher and close the browsers."""
        await self.dispatcher.stop()
        for browser in self.browsers:
            await browser.close()


@pytest.fixture
def overrides(request: pytest.FixtureRequest) -> dict:
    """Settings a test changes (parametrize `overrides` indirectly); none by default."""
    return getattr(request, "param", {})


@pytest.fixture
async def world(telegram, sessions, overrides) -> AsyncIterator[World]:
    """The whole product on loopback, without any timer of its own."""
    telegram.router.settings = telegram.router.settings.model_copy(update=overrides)
    async with serve_app(create_app(telegram.router.settings, sessions, telegram.router)) as url:
        running = World(telegram, sessions, url)
        try:
            yield running
        finally:
            await running.close()


@pytest.fixture
async def people(world, make_staff, make_participant):
    """A coach (German, Telegram linked, with a password) and her participant (Arabic,
    Telegram bound, privacy accepted)."""
    hashed = await accounts.hash_password(PASSWORD)
    coach = await make_staff(display_name="Maria Hoffmann", locale="de", password_hash=hashed)
    person = await make_participant(
        accepted=True, locale="ar", display_name="Samira", coach_id=coach.id
    )
    async with world.sessions.begin() as session:
        await bind_identity(
            session, channel="telegram", external_id=str(COACH_CHAT), staff_id=coach.id
        )
        await bind_identity(
            session,
            channel="telegram",
            external_id=str(PARTICIPANT_CHAT),
            participant_id=person.id,
        )
    return coach, person


def _local(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A Berlin wall-clock time `day_offset` days from the test's today."""
    today = datetime.now(BERLIN).date()
    return datetime.combine(today + timedelta(days=day_offset), time(hour, minute), BERLIN)


def _new(chat, seen: int) -> list[dict]:
    """The messages a chat received since it had `seen` of them."""
    return chat.messages()[seen:]


async def _plan(
    web, person, starts: datetime, *, kind: str = "coaching", location: str = "Kreishaus"
) -> None:
    """Plan an appointment on the participant's page, as a coach does, 45 minutes long."""
    await web.get(f"/admin/participants/{person.id}")
    planned = await web.post(
        f"/admin/participants/{person.id}/appointments",
        {
            "kind": kind,
            "date": starts.date().isoformat(),
            "start": starts.strftime("%H:%M"),
            "end": (starts + timedelta(minutes=45)).strftime("%H:%M"),
            "location": location,
        },
    )
    assert planned.status_code == 303
    assert planned.headers["location"].startswith(f"/admin/participants/{person.id}")


@SEASONS
async def test_planned_moved_and_cancelled_in_the_staff_web_reach_the_participant(
    world, people, clock
):
    """The headline promise: an appointment planned in the staff web is announced, its
    reminders arrive at each offset, the coach hears when no answer came, and a move and a
    cancellation reach the participant, each exactly once and in Arabic."""
    coach, person = people
    participant = world.fake.user(chat_id=PARTICIPANT_CHAT)
    coach_chat = world.fake.user(chat_id=COACH_CHAT)
    offset = datetime.now(BERLIN).strftime("%z")
    assert offset == ("+0100" if clock.local().month == 1 else "+0200")
    web = await world.staff_login(coach.email)
    starts = _local(2, 10)
    await _plan(web, person, starts, location="Kreishaus Unna, Raum 108")
    async with world.sessions() as session:
        appointment = await session.scalar(select(Appointment))
    ident = appointment.id
    await world.deliver()
    [notice] = participant.messages()
    assert notice["text"].startswith("📅 " + tr("ar", "You have a new appointment:"))
    assert "10:00" in notice["text"] and "\u2068Kreishaus Unna, Raum 108\u2069" in notice["text"]
    assert data_of(notice) == [f"ap:c:{ident}", f"ap:x:{ident}", f"ap:r:{ident}", f"ap:i:{ident}"]
    assert [r.state for r in await world.rows("appointment.changed")] == ["sent"]
    # Reminders wait for 1d and 2h before the start, in UTC whatever the form's offset.
    pending = await world.rows("appointment.reminder")
    assert [r.due_at for r in pending] == [starts - timedelta(days=1), starts - timedelta(hours=2)]
    assert {r.state for r in pending} == {"pending"}
    await world.job("appointment reminders")  # the sweep finds the same keys: no second set
    assert len(await world.rows("appointment.reminder")) == 2

    # The coach moves it to 14:00 the same day: one notice with the new time.
    moved = await web.post(
        f"/admin/participants/{person.id}/appointments/{ident}/move",
        {"date": starts.date().isoformat(), "start": "14:00", "end": "14:45"},
    )
    assert moved.status_code == 303
    assert moved.headers["location"].startswith(f"/admin/participants/{person.id}")
    await world.deliver()
    [move_notice] = _new(participant, 1)
    assert move_notice["text"].startswith("🔁 " + tr("ar", "Your appointment has a new time:"))
    assert "14:00" in move_notice["text"]
    new_start = starts.replace(hour=14)
    reminders = await world.rows("appointment.reminder")
    assert sorted(r.state for r in reminders) == ["cancelled", "cancelled", "pending", "pending"]
    assert sorted(r.due_at for r in reminders if r.state == "pending") == [
        new_start - timedelta(days=1),
        new_start - timedelta(hours=2),
    ]
    assert coach_chat.messages() == []  # the participant has time to answer first

    # The day before at 14:00: the 1d reminder to the participant, and, no answer having
    # come, the escalation to the coach (in German).
    clock.move_to(new_start - timedelta(days=1, seconds=-1))
    await world.deliver()
    [first] = _new(participant, 2)
    assert first["text"].startswith("⏰ " + tr("ar", "Reminder of your appointment:"))
    assert "14:00" in first["text"] and data_of(first)[:2] == [f"ap:c:{ident}", f"ap:x:{ident}"]
    [escalation] = coach_chat.messages()
    german = Voice.for_language("de", tz=BERLIN, now=clock.now())
    assert escalation["text"] == "⚠️ " + tr(
        "de",
        "{name} has not answered yet for the appointment on {when}.",
        name=german.isolate("Samira"),
        when=moment(german, new_start),
    )
    assert [r.state for r in await world.rows("appointment.unconfirmed")][-1] == "sent"

    # Two hours before: the 2h reminder; nothing else, nothing twice.
    clock.move_to(new_start - timedelta(hours=2, seconds=-1))
    await world.deliver()
    await world.deliver()
    [second] = _new(participant, 3)
    assert second["text"].startswith("⏰ " + tr("ar", "Reminder of your appointment:"))
    assert len(coach_chat.messages()) == 1

    # Cancelled an hour before (the coach logs in again: yesterday's login has ended): the
    # participant is told; nothing is pending any more.
    web = await world.staff_login(coach.email)
    await web.get(f"/admin/participants/{person.id}")
    cancelled = await web.post(f"/admin/participants/{person.id}/appointments/{ident}/cancel")
    assert cancelled.status_code == 303
    assert cancelled.headers["location"].startswith(f"/admin/participants/{person.id}")
    await world.deliver()
    [cancel_notice] = _new(participant, 4)
    assert cancel_notice["text"].startswith("❌ " + tr("ar", "This appointment was cancelled:"))
    assert [r.state for r in await world.rows("appointment.changed")] == ["sent"] * 3
    assert {r.state for r in await world.rows("appointment.reminder")} == {"sent", "cancelled"}
    assert len(participant.messages()) == 5 and len(coach_chat.messages()) == 1



async def test_answers_reach_the_coach_once_and_the_reason_stays_off_telegram(
    world, people, clock, make_appointment
):
    """✅, ❌ with a typed reason and 🔁 with weekdays, each pressed in the bot: the coach's
    chat gets one notice per answer in German; a second ✅ changes nothing and tells nobody;
    the reason (possibly health data) never goes over Telegram but the staff web shows it
    with the chosen days."""
    coach, person = people
    participant = world.fake.user(chat_id=PARTICIPANT_CHAT)
    coach_chat = world.fake.user(chat_id=COACH_CHAT)
    ident = (await make_appointment(person, starts_at=_local(3, 11))).id
    german = Voice.for_language("de", tz=BERLIN, now=clock.now())
    when = moment(german, _local(3, 11))
    name = german.isolate("Samira")

    await participant.exchange("/appointments")
    await participant.press_and_wait(f"ap:c:{ident}")
    # A second press (a resend on a bad network) of the same ✅ changes nothing.
    await participant.press(f"ap:c:{ident}", force=True)
    await participant.press_and_wait(f"ap:c:{ident}", force=True)
    await world.deliver()
    await world.deliver()
    assert [m["text"] for m in coach_chat.messages()] == [
        tr("de", "{name} confirmed the appointment on {when}.", name=name, when=when)
    ]

    await participant.press_and_wait(f"ap:x:{ident}")
    await participant.exchange("Ich bin krank, Arzttermin")
    await world.deliver()
    assert [m["text"] for m in coach_chat.messages()[1:]] == [
        tr("de", "{name} cannot come to the appointment on {when}.", name=name, when=when)
    ]

    web = await world.staff_login(coach.email)
    page = (await web.get(f"/admin/participants/{person.id}")).text
    assert "❌ kann nicht</span>: <q>Ich bin krank, Arzttermin</q>" in page

    await participant.press_and_wait(f"ap:r:{ident}")
    await participant.press_and_wait(f"ap:d:{ident}:0")
    await participant.press_and_wait(f"ap:d:{ident}:2")
    [done] = await participant.press_and_wait(f"ap:dd:{ident}")
    arabic = Voice.for_language("ar", tz=BERLIN, now=clock.now())
    assert done["text"] == tr(
        "ar",
        "Thank you. Your coach will suggest another time on: {days}.",
        days=weekdays(arabic, [0, 2]),
    )
    await world.deliver()
    assert [m["text"] for m in coach_chat.messages()[2:]] == [
        tr(
            "de",
            "{name} asks for another time for the appointment on {when}.",
            name=name,
            when=when,
        )
    ]
    assert all("krank" not in m["text"] for m in world.fake.sent())  # nowhere, to nobody
    assert {r.state for r in await world.rows("appointment.answer")} == {"sent"}
    assert len(await world.rows("appointment.answer")) == 3

    page = (await web.get(f"/admin/participants/{person.id}")).text
    assert "🔁 möchte anderen Termin</span> (bevorzugte Tage: Mo., Mi.)" in page


async def test_a_blocked_chat_is_reported_to_the_coach_once(world, people, clock):
    """The participant blocked the bot: the staff web's notice gets 403, the chat is marked
    blocked, the coach hears of it once, and the reminders that follow are not tried."""
    coach, person = people
    world.fake.block(PARTICIPANT_CHAT)
    web = await world.staff_login(coach.email)
    starts = _local(2, 10)
    await _plan(web, person, starts)
    await world.deliver()
    await world.deliver()
    german = Voice.for_language("de", tz=BERLIN, now=clock.now())
    [notice] = world.fake.user(chat_id=COACH_CHAT).messages()
    assert notice["text"] == "⚠️ " + tr(
        "de",
        "{name} has blocked the bot. Reminders cannot reach them there. "
        "Please contact them another way.",
        name=german.isolate("Samira"),
    )
    assert [r.state for r in await world.rows("appointment.changed")] == ["blocked"]
    assert [r.state for r in await world.rows("participant.blocked")] == ["sent"]
    clock.move_to(starts - timedelta(days=1, seconds=-1))
    await world.deliver()
    assert {r.state for r in await world.rows("appointment.reminder")} == {"skipped", "pending"}
    assert world.fake.sent(PARTICIPANT_CHAT) == []
    # The coach also hears, as always, that no answer came; nothing else.
    [_, escalation] = world.fake.user(chat_id=COACH_CHAT).messages()
    assert escalation["text"].startswith("⚠️ " + german.isolate("Samira"))
    assert world.fake.count("sendMessage", 403) == 1


@SEASONS
async def test_the_digest_job_sends_each_coach_their_day(world, people, clock, make_appointment):
    """At COACH_DIGEST_TIME the scheduler's digest job lists the coach's appointments of
    today and tomorrow with the answers so far; run twice, it sends once."""
    _coach, person = people
    clock.move_to(_local(1, 7, 30))
    await make_appointment(person, starts_at=_local(0, 9), response="confirmed")
    await make_appointment(person, starts_at=_local(1, 14))
    await make_appointment(person, starts_at=_local(4, 9))  # not today or tomorrow
    await world.job("coach digest")
    await world.job("coach digest")
    await world.deliver()
    german = Voice.for_language("de", tz=BERLIN, now=clock.now())
    [digest] = world.fake.user(chat_id=COACH_CHAT).messages()
    lines = digest["text"].split("\n")
    assert lines[0] == tr("de", "Your appointments today and tomorrow:")
    assert lines[1:] == [
        f"• {german.isolate(moment(german, _local(0, 9)))} – {german.isolate('Samira')}: "
        + tr("de", "confirmed"),
        f"• {german.isolate(moment(german, _local(1, 14)))} – {german.isolate('Samira')}: "
        + tr("de", "no answer yet"),
    ]
    assert [r.state for r in await world.rows("coach.digest")] == ["sent"]


async def test_programme_end_from_the_staff_web_asks_about_kim_and_staff_see_the_request(
    world, people, clock
):
    """Staff plan the end for today in the staff web; the scheduler's programme-end job ends
    the participant, who gets what happens now and the KIM question in Arabic, answers yes
    and agrees in the bot; the request shows on the staff web's hand-over list."""
    coach, person = people
    async with world.sessions.begin() as session:
        session.add(Module(code="coaching", name_de="Coaching"))
    async with world.sessions() as session:
        module_id = await session.scalar(select(Module.id))
    async with world.sessions.begin() as session:
        (await session.get(Participant, person.id)).module_id = module_id
    web = await world.staff_login(coach.email)
    await web.get("/admin/programme-end")
    today = clock.local().date().isoformat()
    planned = await web.post("/admin/programme-end", {"module": str(module_id), "ends_on": today})
    assert planned.status_code == 200 and 'id="planned"' in planned.text
    await world.job("programme end")
    await world.job("programme end")  # ended once, told once
    await world.deliver()
    participant = world.fake.user(chat_id=PARTICIPANT_CHAT)
    [notice] = participant.messages()
    assert notice["text"] == tr("ar", ENDED_TEXT) + "\n\n" + tr("ar", KIM_QUESTION)
    assert data_of(notice) == ["ho:yes", "ho:no"]
    assert [r.state for r in await world.rows("programme.ended")] == ["sent"]
    await participant.press_and_wait("ho:yes")
    await participant.press_and_wait("ho:ok")
    page = (await web.get("/admin/handovers")).text
    assert "Samira" in page and "Maria Hoffmann" in page and "Coaching" in page


async def test_a_question_to_the_coach_and_the_answers_from_bot_and_staff_web(
    world, people, make_staff, make_participant, bind_chat, clock
):
    """A participant writes to their coach in the bot: the coach's linked chat gets it with
    "↩️ Reply", answers there, and the participant gets the answer. A coach without a linked
    chat reads the next question in the staff web's inbox and answers there; it arrives too."""
    participant = world.fake.user(chat_id=PARTICIPANT_CHAT)
    coach_chat = world.fake.user(chat_id=COACH_CHAT)
    await participant.exchange("/write")
    await participant.exchange("Wo ist Raum 108?")
    await world.deliver()
    german = Voice.for_language("de", tz=BERLIN, now=clock.now())
    [question] = coach_chat.messages()
    assert question["text"] == tr(
        "de",
        "✉️ Message from {name}:\n{text}",
        name=german.isolate("Samira"),
        text="Wo ist Raum 108?",
    )
    [reply_data] = data_of(question)
    assert reply_data.startswith("cm:r:")
    await coach_chat.press_and_wait(reply_data)
    await coach_chat.exchange("Im ersten Stock, links.")
    await world.deliver()
    arabic = Voice.for_language("ar", tz=BERLIN, now=clock.now())
    answer = participant.messages()[-1]
    assert answer["text"] == tr(
        "ar",
        "✉️ Answer from {coach}:\n{text}",
        coach=arabic.isolate("Maria Hoffmann"),
        text=arabic.free_text("Im ersten Stock, links."),  # isolated: reads left to right
    )
    assert data_of(answer) == ["mn:msg"]

    # A second coach reads and answers in the staff web only.
    hashed = await accounts.hash_password(PASSWORD)
    web_coach = await make_staff(display_name="Yusuf Demir", locale="de", password_hash=hashed)
    dawit = await make_participant(
        accepted=True, locale="ti", display_name="Dawit", coach_id=web_coach.id
    )
    await bind_chat(dawit, 7003)
    dawit_chat = world.fake.user(chat_id=7003)
    await dawit_chat.exchange("/write")
    await dawit_chat.exchange("Kann ich morgen später kommen?")
    await world.deliver()
    assert [r.state for r in await world.rows("coach.message")] == ["sent", "inbox"]
    web = await world.staff_login(web_coach.email)
    inbox = (await web.get("/admin/inbox")).text
    assert "Kann ich morgen später kommen?" in inbox and "Wo ist Raum 108?" not in inbox
    message_id = int(re.search(r"/admin/messages/(\d+)/answer", inbox).group(1))
    answered = await web.post(f"/admin/messages/{message_id}/answer", {"text": "Ja, bis 11 Uhr."})
    assert answered.status_code == 303
    await world.deliver()
    tigrinya = Voice.for_language("ti", tz=BERLIN, now=clock.now())
    [*_, web_answer] = dawit_chat.messages()
    assert web_answer["text"] == tr(
        "ti",
        "✉️ Answer from {coach}:\n{text}",
        coach=tigrinya.isolate("Yusuf Demir"),
        text="Ja, bis 11 Uhr.",
    )
    assert {r.state for r in await world.rows("coach.answer")} == {"sent"}
    assert len(await world.rows("coach.answer")) == 2
    assert all("Ja, bis 11 Uhr." not in m["text"] for m in participant.messages())


@SEASONS
async def test_course_reminders_follow_mute_and_unmute(world, people, clock, make_course):
    """The scheduler's course job plans the reminders of tomorrow's 14:00 session; muted in
    the bot, the day-before one is not sent; unmuted, the 2 h one arrives, once, with its
    button."""
    _coach, person = people
    tomorrow = _local(1, 14)
    course = await make_course(
        slots=[(tomorrow.weekday(), "14:00", "16:30")], participants=[person]
    )
    await world.job("course reminders")
    due = [r.due_at for r in await world.rows("course.reminder") if r.state == "pending"]
    assert due == [tomorrow - timedelta(days=1), tomorrow - timedelta(hours=2)]
    participant = world.fake.user(chat_id=PARTICIPANT_CHAT)
    await participant.exchange("/courses")
    await participant.press_and_wait(f"co:m:{course.id}")
    before = len(participant.messages())
    clock.move_to(tomorrow - timedelta(days=1, seconds=-1))
    await world.deliver()
    assert len(participant.messages()) == before  # muted: nothing
    clock.shift(timedelta(hours=1))
    await participant.press_and_wait(f"co:u:{course.id}")
    clock.move_to(tomorrow - timedelta(hours=2, seconds=-1))
    await world.deliver()
    await world.job("course reminders")  # the sweep plans nothing twice
    await world.deliver()
    [reminder] = participant.messages()[before:]
    assert reminder["text"].startswith("⏰ " + tr("ar", "Reminder of your course:"))
    assert "14:00" in reminder["text"] and "Deutschkurs B1" in reminder["text"]
    assert data_of(reminder) == [f"co:m:{course.id}"]
    states = sorted(r.state for r in await world.rows("course.reminder"))
    assert states == ["cancelled", "sent"]


@SEASONS
async def test_a_reminder_due_in_the_quiet_hours_comes_the_evening_before(world, people, clock):
    """Planned for 09:30, the 2 h reminder would fall at 07:30, inside the quiet hours
    (21:00-08:00): it comes at 21:00 the evening before, not a second earlier, once."""
    coach, person = people
    starts = _local(2, 9, 30)
    web = await world.staff_login(coach.email)
    await _plan(web, person, starts)
    await world.deliver()
    participant = world.fake.user(chat_id=PARTICIPANT_CHAT)
    assert len(participant.messages()) == 1  # the notice
    evening = _local(1, 21)
    reminders = await world.rows("appointment.reminder")
    assert [r.due_at for r in reminders] == [starts - timedelta(days=1), evening]
    clock.move_to(starts - timedelta(days=1, seconds=-1))
    await world.deliver()
    assert len(participant.messages()) == 2  # the day-before one, at 09:30
    clock.move_to(evening - timedelta(seconds=2))
    await world.deliver()
    assert len(participant.messages()) == 2  # 20:59:58: not yet
    clock.move_to(evening + timedelta(seconds=1))
    await world.deliver()
    await world.deliver()
    [late] = participant.messages()[2:]
    assert late["text"].startswith("⏰ " + tr("ar", "Reminder of your appointment:"))
    assert "09:30" in late["text"]
    assert [r.state for r in await world.rows("appointment.reminder")] == ["sent", "sent"]


async def test_nothing_reaches_a_participant_before_the_privacy_notice_is_accepted(
    world, people, make_participant, make_invite, clock
):
    """A coach plans an appointment while the participant is still in onboarding: the
    notice waits (the language menu and the privacy notice stay the last messages), and it
    arrives right after "I agree", once."""
    coach, _person = people
    newcomer = await make_participant(display_name="Olena", coach_id=coach.id)
    invite = await make_invite(newcomer)
    chat = world.fake.user(chat_id=7010, language_code="uk")
    [menu] = await chat.exchange(f"/start {invite.token}")
    web = await world.staff_login(coach.email)
    await _plan(web, newcomer, _local(2, 10))
    await world.deliver()
    assert [m["message_id"] for m in chat.messages()] == [menu["message_id"]]
    [notice_held] = await world.rows("appointment.changed")
    assert notice_held.state == "pending" and notice_held.due_at > clock.now()
    await chat.press_and_wait("lang:uk")
    clock.shift(timedelta(minutes=2))
    await world.deliver()
    assert len(chat.messages()) == 1  # the menu, edited into the privacy notice
    await chat.press_and_wait("pv:ok:uk")
    seen = len(chat.messages())
    await world.deliver()
    await world.deliver()
    [notice] = chat.messages()[seen:]
    assert notice["text"].startswith("📅 " + tr("uk", "You have a new appointment:"))
    assert [r.state for r in await world.rows("appointment.changed")] == ["sent"]


async def test_changed_reminder_offsets_replace_the_pending_reminders(world, people, clock):
    """Planned with REMINDER_OFFSETS=1d,2h, swept by the reminder job after a change to
    1d,3h: the 2h reminder is cancelled with a reason and a 3h one planned; the participant
    gets the 3h one and nothing at 2h."""
    coach, person = people
    web = await world.staff_login(coach.email)
    starts = _local(2, 15)
    await _plan(web, person, starts)
    await world.deliver()
    changed = world.settings.model_copy(update={"reminder_offsets": "1d,3h"})
    scheduler = build_scheduler(
        settings=changed,
        sessions=world.sessions,
        routes=world.telegram.router.routes,
        dispatcher=world.dispatcher,
    )
    await scheduler.get_job("appointment reminders").func()
    await scheduler.get_job("appointment reminders").func()  # nothing twice
    rows = await world.rows("appointment.reminder")
    pending = sorted((r.params["offset"], r.due_at) for r in rows if r.state == "pending")
    assert pending == [("1d", starts - timedelta(days=1)), ("3h", starts - timedelta(hours=3))]
    [dropped] = [r for r in rows if r.state == "cancelled"]
    assert dropped.params["offset"] == "2h" and dropped.last_error == "no longer planned"
    participant = world.fake.user(chat_id=PARTICIPANT_CHAT)
    clock.move_to(starts - timedelta(hours=3, seconds=-1))
    await world.deliver()
    clock.move_to(starts - timedelta(hours=2, seconds=-1))
    await world.deliver()
    texts = [m["text"] for m in participant.messages()]
    reminder = "⏰ " + tr("ar", "Reminder of your appointment:")
    assert sum(text.startswith(reminder) for text in texts) == 1  # 1d was skipped: too late


@SEASONS
@pytest.mark.parametrize(
    "overrides", [{"reminder_offsets_by_kind": {"nursing": "2d,1d,2h"}}], indirect=True
)
async def test_each_offset_of_a_kind_arrives_once_at_its_time(world, people, clock):
    """REMINDER_OFFSETS_BY_KIND gives nursing appointments three reminders: two days, one
    day and two hours before; each arrives at its time, none before, none twice."""
    coach, person = people
    web = await world.staff_login(coach.email)
    starts = _local(3, 11)
    await _plan(web, person, starts, kind="nursing", location="Pflegeschule Unna")
    await world.deliver()
    participant = world.fake.user(chat_id=PARTICIPANT_CHAT)
    [notice] = participant.messages()
    assert tr("ar", "Nursing training appointment") in notice["text"]
    reminder = "⏰ " + tr("ar", "Reminder of your appointment:")
    for step, before in enumerate(
        (timedelta(days=2), timedelta(days=1), timedelta(hours=2)), start=1
    ):
        clock.move_to(starts - before - timedelta(seconds=2))
        await world.deliver()
        assert len(participant.messages()) == step  # not yet
        clock.move_to(starts - before + timedelta(seconds=1))
        await world.deliver()
        await world.deliver()
        [arrived] = participant.messages()[step:]
        assert arrived["text"].startswith(reminder) and "11:00" in arrived["text"]
    offsets = [(r.params["offset"], r.state) for r in await world.rows("appointment.reminder")]
    assert offsets == [("2d", "sent"), ("1d", "sent"), ("2h", "sent")]
