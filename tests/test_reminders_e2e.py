"""Reminders and notices end to end: planned by the actions, sent by the dispatcher on its
APScheduler tick through the real python-telegram-bot client to the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.features.appointments.planning import (
    cancel_appointment,
    create_appointment,
    move_appointment,
)
from storage.models import Appointment, ChannelIdentity, OutboxMessage, StaffUser
from storage.types import utcnow
from tests.conftest import Pushing
from tests.helpers import ARABIC_SCRIPT, data_of, tr


@pytest.fixture
async def pushing(telegram, sessions, settings) -> AsyncIterator[Pushing]:
    quick = settings.model_copy(update={"quiet_hours": "", "dispatch_interval_seconds": 0.1})
    running = Pushing(telegram, sessions, quick)
    running.scheduler.start()
    try:
        yield running
    finally:
        running.scheduler.shutdown(wait=False)
        await running.dispatcher.stop()


async def _coach(sessions, staff_id: int) -> StaffUser:
    async with sessions() as session:
        coach = await session.get(StaffUser, staff_id)
        assert coach is not None
        return coach


async def _rows(sessions) -> list[OutboxMessage]:
    async with sessions() as session:
        return list(
            (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        )


async def test_a_reminder_arrives_on_time_in_the_current_language_and_its_buttons_work(
    telegram, pushing, sessions, make_participant, bind_chat
):
    participant = await make_participant(accepted=True, locale="de", display_name="Amina")
    await bind_chat(participant, 9601)
    coach = await _coach(sessions, participant.coach_id)
    user = telegram.fake.user(chat_id=9601)
    # Two hours and three seconds ahead: the "2h" reminder is due in three seconds.
    starts_at = utcnow() + timedelta(hours=2, seconds=3)
    async with sessions.begin() as session:
        appointment = await create_appointment(
            session,
            actor=coach,
            participant_id=participant.id,
            kind="coaching",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=45),
            location="Kreishaus Unna, Raum 108",
            policy=pushing.policy,
            now=utcnow(),
        )
    # The participant hears about the new appointment at once, in German.
    notice = await user.reply(timeout=5)
    assert notice["text"].startswith("📅 " + tr("de", "You have a new appointment:"))
    # They switch to Arabic before the reminder is due: it comes in Arabic.
    async with sessions.begin() as session:
        stored = await session.get(type(participant), participant.id)
        stored.locale = "ar"
    reminder = await user.reply(timeout=10)
    due = starts_at - timedelta(hours=2)
    assert utcnow() - due < timedelta(seconds=60)
    assert reminder["text"].startswith("⏰ " + tr("ar", "Reminder of your appointment:"))
    assert (
        ARABIC_SCRIPT.search(reminder["text"])
        and "\u2068Kreishaus Unna, Raum 108\u2069" in (reminder["text"])
    )
    assert data_of(reminder)[:2] == [f"ap:c:{appointment.id}", f"ap:x:{appointment.id}"]
    [edited] = await user.press_and_wait(f"ap:c:{appointment.id}")
    assert tr("ar", "✅ You confirmed. Thank you!") in edited["text"]
    async with sessions() as session:
        assert (await session.get(Appointment, appointment.id)).response == "confirmed"
    await pushing.dispatcher.drain()
    rows = {row.template: row for row in await _rows(sessions)}
    assert rows["appointment.reminder"].state == "sent"
    assert rows["appointment.changed"].state == "sent"
    # The coach has no linked chat: the notice waits for the admin inbox, nothing is lost.
    assert rows["appointment.answer"].state == "inbox"
    # The 1d reminder was already past when planned: not planned at all.
    assert [
        row.params["offset"]
        for row in await _rows(sessions)
        if row.template == "appointment.reminder"
    ] == ["2h"]


async def test_moved_and_cancelled_appointments_never_get_a_stale_reminder(
    telegram, pushing, sessions, make_participant, bind_chat, make_staff
):
    coach = await make_staff(locale="de")
    participant = await make_participant(accepted=True, locale="uk", coach_id=coach.id)
    await bind_chat(participant, 9602)
    user = telegram.fake.user(chat_id=9602)
    starts_at = utcnow() + timedelta(days=3)
    async with sessions.begin() as session:
        appointment = await create_appointment(
            session,
            actor=coach,
            participant_id=participant.id,
            kind="language",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            location="VHS Unna",
            policy=pushing.policy,
            now=utcnow(),
        )
    await user.reply(timeout=5)  # the "new appointment" notice
    later = starts_at + timedelta(days=1)
    async with sessions.begin() as session:
        await move_appointment(
            session,
            actor=coach,
            appointment_id=appointment.id,
            starts_at=later,
            ends_at=later + timedelta(hours=1),
            policy=pushing.policy,
            now=utcnow(),
        )
    moved = await user.reply(timeout=5)
    assert moved["text"].startswith("🔁 " + tr("uk", "Your appointment has a new time:"))
    rows = [r for r in await _rows(sessions) if r.template == "appointment.reminder"]
    assert sorted((r.params["starts_at"] == later.isoformat(), r.state) for r in rows) == [
        (False, "cancelled"),
        (False, "cancelled"),
        (True, "pending"),
        (True, "pending"),
    ]
    async with sessions.begin() as session:
        await cancel_appointment(session, actor=coach, appointment_id=appointment.id, now=utcnow())
    cancelled = await user.reply(timeout=5)
    assert cancelled["text"].startswith("❌ " + tr("uk", "This appointment was cancelled:"))
    assert data_of(cancelled) == ["mn:menu"]
    states = {r.state for r in await _rows(sessions) if r.template == "appointment.reminder"}
    assert states == {"cancelled"}


async def test_a_blocked_chat_stops_pushes_and_tells_the_coach_once(
    telegram, pushing, sessions, make_participant, make_staff, bind_chat
):
    coach = await make_staff(locale="de", display_name="Miriam")
    participant = await make_participant(
        accepted=True, locale="de", coach_id=coach.id, display_name="Dawit"
    )
    await bind_chat(participant, 9604)
    async with sessions.begin() as session:
        from storage.identities import bind_identity

        await bind_identity(session, channel="telegram", external_id="9605", staff_id=coach.id)
    telegram.fake.block(9604)
    coach_chat = telegram.fake.user(chat_id=9605)
    starts_at = utcnow() + timedelta(days=3)
    # Both in one transaction: both notices are due at once and tried in one batch (planned
    # one after the other, the second might find the chat already marked and be skipped).
    async with sessions.begin() as session:
        for offset in (0, 1):
            moment = starts_at + timedelta(days=offset)
            await create_appointment(
                session,
                actor=coach,
                participant_id=participant.id,
                kind="coaching",
                starts_at=moment,
                ends_at=moment + timedelta(hours=1),
                location="Kreishaus",
                policy=pushing.policy,
                now=utcnow(),
            )
    notice = await coach_chat.reply(timeout=10)
    assert notice["text"] == "⚠️ " + tr(
        "de",
        "{name} has blocked the bot. Reminders cannot reach them there. "
        "Please contact them another way.",
        name="Dawit",
    )
    await asyncio.sleep(0.5)
    assert [m["text"] for m in telegram.fake.sent(9605)].count(notice["text"]) == 1
    rows = await _rows(sessions)
    assert sorted(r.state for r in rows if r.template == "appointment.changed") == [
        "blocked",
        "blocked",
    ]
    async with sessions() as session:
        identity = await session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.external_id == "9604")
        )
    assert identity is not None and identity.blocked_at is not None
