"""Planning pushes: course reminders and mute, the unconfirmed escalation, the coaches'
daily digest and outbox retention; sent by the dispatcher to the fake Bot API."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.features import courses
from bot.features.appointments.planning import create_appointment, digest
from bot.outbox.dispatcher import Dispatcher
from bot.plumbing.reminders import ReminderPolicy
from bot.plumbing.routes import JobContext
from storage.identities import bind_identity
from storage.models import DeliveryCount, OutboxMessage, StaffUser
from storage.outbox import prune
from storage.types import utcnow
from tests.helpers import data_of, tr

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def quiet_free(settings):
    return settings.model_copy(update={"quiet_hours": ""})


@pytest.fixture
def dispatcher(telegram, sessions, quiet_free) -> Dispatcher:
    return Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=quiet_free,
        senders={"telegram": telegram.application.bot_data["sender"]},
    )


async def _rows(sessions, template: str) -> list[OutboxMessage]:
    async with sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.template == template)
        return list((await session.scalars(query.order_by(OutboxMessage.due_at))).all())


async def test_course_reminders_follow_mute_and_arrive_with_a_mute_button(
    telegram, dispatcher, sessions, quiet_free, make_participant, bind_chat, make_course
):
    # The bot plans the unmuted reminders with its own settings: without quiet hours too,
    # or a run between 21:00 and 23:00 would move the 2 h reminder into the past.
    telegram.router.settings = quiet_free
    participant = await make_participant(accepted=True, locale="ti")
    other = await make_participant(accepted=True, locale="de")
    await bind_chat(participant, 9801)
    soon = datetime.now(BERLIN) + timedelta(hours=2, minutes=1)
    start = soon.time().replace(second=0, microsecond=0)
    end = (soon + timedelta(hours=1)).time().replace(second=0, microsecond=0)
    course = await make_course(
        slots=[(soon.weekday(), start.isoformat(), end.isoformat())],
        participants=[participant, other],
    )
    policy = ReminderPolicy.from_settings(quiet_free)
    context = JobContext(sessions, quiet_free, utcnow())
    assert await courses.sweep(context) >= 2  # the 2h reminder of the session, for both
    assert await courses.sweep(context) == 0  # insert-if-absent: nothing twice
    user = telegram.fake.user(chat_id=9801)
    await user.exchange("/courses")
    await user.press_and_wait(f"co:m:{course.id}")  # mute: this person's rows are cancelled
    mine = [
        r for r in await _rows(sessions, "course.reminder") if r.participant_id == participant.id
    ]
    assert mine and {r.state for r in mine} == {"cancelled"}
    await user.press_and_wait(f"co:u:{course.id}")  # unmute: planned again at once
    fresh = [
        r
        for r in await _rows(sessions, "course.reminder")
        if r.participant_id == participant.id and r.state == "pending"
    ]
    assert len(fresh) == 1
    # Make it due now and send it.
    async with sessions.begin() as session:
        row = await session.get(OutboxMessage, fresh[0].id)
        row.due_at = utcnow()
    await dispatcher.drain()
    reminder = user.last_message()
    assert reminder["text"].startswith("⏰ " + tr("ti", "Reminder of your course:"))
    assert "Deutschkurs B1" in reminder["text"] and data_of(reminder) == [f"co:m:{course.id}"]
    assert policy.offsets("course")[-1].label == "2h"


async def test_an_unanswered_appointment_is_escalated_to_the_coach_once(
    telegram, dispatcher, sessions, quiet_free, make_staff, make_participant, clock
):
    coach = await make_staff(locale="de")
    async with sessions.begin() as session:
        await bind_identity(session, channel="telegram", external_id="9802", staff_id=coach.id)
    participant = await make_participant(
        accepted=True, locale="ar", coach_id=coach.id, display_name="Samira"
    )
    starts_at = utcnow() + timedelta(hours=20)  # already inside the 24 h window
    async with sessions.begin() as session:
        actor = await session.get(StaffUser, coach.id)
        await create_appointment(
            session,
            actor=actor,
            participant_id=participant.id,
            kind="coaching",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            location="Kreishaus",
            policy=ReminderPolicy.from_settings(quiet_free),
            now=utcnow(),
        )
    [escalation] = await _rows(sessions, "appointment.unconfirmed")
    assert escalation.staff_id == coach.id
    # Inside the 24 h window, but the participant first gets four hours to answer.
    assert abs(escalation.due_at - (utcnow() + timedelta(hours=4))) < timedelta(seconds=5)
    await dispatcher.drain()
    coach_chat = telegram.fake.user(chat_id=9802)
    assert coach_chat.messages() == []
    clock.shift(timedelta(hours=4, seconds=5))
    await dispatcher.drain()
    [notice] = coach_chat.messages()
    assert notice["text"].startswith("⚠️ Samira ")
    assert (await _rows(sessions, "appointment.unconfirmed"))[0].state == "sent"


async def test_the_daily_digest_lists_today_and_tomorrow_with_answers(
    telegram, dispatcher, sessions, quiet_free, make_staff, make_participant, make_appointment
):
    coach = await make_staff(locale="de")
    async with sessions.begin() as session:
        await bind_identity(session, channel="telegram", external_id="9803", staff_id=coach.id)
    amina = await make_participant(accepted=True, coach_id=coach.id, display_name="Amina")
    dawit = await make_participant(accepted=True, coach_id=coach.id, display_name="Dawit")
    tomorrow = datetime.combine(date.today() + timedelta(days=1), time(10), BERLIN)
    await make_appointment(amina, starts_at=tomorrow, response="confirmed")
    await make_appointment(dawit, starts_at=tomorrow + timedelta(hours=2))
    await make_appointment(dawit, starts_at=tomorrow + timedelta(days=5))  # not in it
    context = JobContext(sessions, quiet_free, utcnow())
    assert await digest(context) == 1
    assert await digest(context) == 0  # once a day
    await dispatcher.drain()
    [message] = telegram.fake.user(chat_id=9803).messages()
    lines = message["text"].split("\n")
    assert lines[0] == tr("de", "Your appointments today and tomorrow:")
    assert len(lines) == 3
    assert lines[1].endswith("Amina: " + tr("de", "confirmed"))
    assert lines[2].endswith("Dawit: " + tr("de", "no answer yet"))


async def test_retention_prunes_old_finished_rows_and_keeps_their_counts(
    sessions, make_participant
):
    participant = await make_participant()
    old = utcnow() - timedelta(days=40)
    async with sessions.begin() as session:
        for index, state in enumerate(["sent", "sent", "skipped", "pending"]):
            session.add(
                OutboxMessage(
                    participant_id=participant.id,
                    template="appointment.reminder",
                    params={},
                    state=state,
                    due_at=old,
                    created_at=old,
                    dedup_key=f"old:{index}",
                )
            )
        session.add(
            OutboxMessage(
                participant_id=participant.id,
                template="t",
                params={},
                state="sent",
                due_at=utcnow(),
            )
        )
    async with sessions.begin() as session:
        assert await prune(session, before=utcnow() - timedelta(days=30)) == 3
    async with sessions() as session:
        left = (await session.scalars(select(OutboxMessage.state))).all()
        counts = {
            (row.day, row.state): row.count
            for row in (await session.scalars(select(DeliveryCount))).all()
        }
        total = await session.scalar(select(func.sum(DeliveryCount.count)))
    assert sorted(left) == ["pending", "sent"]  # unfinished and recent rows stay
    day = old.astimezone(UTC).date()
    assert counts == {(day, "sent"): 2, (day, "skipped"): 1} and total == 3
