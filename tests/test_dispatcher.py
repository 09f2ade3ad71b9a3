"""The dispatcher against the fake Bot API: outcomes, retries, pacing, catch-up, leases."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.outbox.dispatcher import PIPELINE, Dispatcher
from storage.models import PRIORITY_REMINDER, Appointment, ChannelIdentity, OutboxMessage
from storage.outbox import enqueue
from storage.types import utcnow


class Clock:
    """A manual_clock the test moves; the dispatcher reads it for due times and leases."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def manual_clock() -> Clock:
    return Clock()


@pytest.fixture
def dispatcher(telegram, sessions, settings, manual_clock) -> Dispatcher:
    return Dispatcher(
        sessions=sessions,
        routes=telegram.router.routes,
        settings=settings.model_copy(update={"quiet_hours": ""}),
        senders={"telegram": telegram.application.bot_data["sender"]},
        clock=manual_clock,
        worker="test-worker",
    )


@pytest.fixture
async def reminder(sessions, make_participant, make_appointment, bind_chat, manual_clock):
    """Factory: a participant on a chat with an appointment and its reminder row, due now."""

    async def make(chat_id: int, *, due_in=timedelta(0), starts_in=timedelta(days=2), **kw):
        participant = await make_participant(accepted=True, locale="de", **kw)
        await bind_chat(participant, chat_id)
        appointment = await make_appointment(participant, starts_at=manual_clock.now + starts_in)
        async with sessions.begin() as session:
            row_id = await enqueue(
                session,
                template="appointment.reminder",
                participant_id=participant.id,
                subject=("appointment", appointment.id),
                params={"starts_at": appointment.starts_at.isoformat(), "offset": "2h"},
                dedup_key=f"test:{appointment.id}",
                due_at=manual_clock.now + due_in,
                priority=PRIORITY_REMINDER,
            )
        return row_id, appointment

    return make


async def _row(sessions, row_id) -> OutboxMessage:
    async with sessions() as session:
        row = await session.get(OutboxMessage, row_id)
        assert row is not None
        return row


async def test_sent_once_even_when_ticked_again(dispatcher, sessions, telegram, reminder):
    row_id, _ = await reminder(9701)
    assert await dispatcher.tick() == 1
    assert await dispatcher.tick() == 0
    row = await _row(sessions, row_id)
    assert (row.state, row.attempts, row.claimed_by) == ("sent", 1, "test-worker")
    assert row.lease_until is None and row.sent_at is not None
    [message] = telegram.fake.sent(9701)
    assert message["text"].startswith("⏰ ")


async def test_never_sent_for_cancelled_declined_started_or_moved(
    dispatcher, sessions, telegram, reminder, manual_clock
):
    cancelled, a = await reminder(9702)
    declined, b = await reminder(9703)
    moved, c = await reminder(9704)
    started, _ = await reminder(9705, starts_in=timedelta(minutes=-5))
    async with sessions.begin() as session:
        await session.execute(
            update(Appointment).where(Appointment.id == a.id).values(cancelled_at=manual_clock.now)
        )
        await session.execute(
            update(Appointment).where(Appointment.id == b.id).values(response="declined")
        )
        await session.execute(
            update(Appointment)
            .where(Appointment.id == c.id)
            .values(starts_at=c.starts_at + timedelta(hours=1))
        )
    await dispatcher.drain()
    reasons = {
        row_id: ((row := await _row(sessions, row_id)).state, row.last_error)
        for row_id in (cancelled, declined, moved, started)
    }
    assert reasons == {
        cancelled: ("skipped", "appointment cancelled"),
        declined: ("skipped", "participant declined"),
        moved: ("skipped", "appointment moved"),
        started: ("skipped", "appointment started"),
    }
    assert telegram.fake.sent() == []


async def test_reminders_due_while_down_are_sent_within_the_catch_up_window_only(
    dispatcher, sessions, telegram, reminder
):
    recent, _ = await reminder(9706, due_in=timedelta(minutes=-10))
    stale, _ = await reminder(9707, due_in=timedelta(hours=-2))
    await dispatcher.drain()
    assert (await _row(sessions, recent)).state == "sent"
    old = await _row(sessions, stale)
    assert (old.state, old.last_error) == ("skipped", "too late")
    assert telegram.fake.sent(9707) == []


async def test_429_reschedules_and_nothing_is_sent_before_retry_after(
    dispatcher, sessions, telegram, reminder, manual_clock
):
    row_id, _ = await reminder(9708)
    other, _ = await reminder(9709)
    telegram.fake.fail_next("sendMessage", 429, retry_after=2)
    await dispatcher.tick()
    calls = telegram.fake.calls_of("sendMessage")
    refused = next(c for c in calls if c.status == 429)
    row = await _row(sessions, row_id if refused.params["chat_id"] == 9708 else other)
    assert row.state == "pending" and row.attempts == 0
    assert row.due_at >= manual_clock.now + timedelta(seconds=2)
    manual_clock.advance(seconds=2)
    await dispatcher.drain()
    # A request already on the wire when the 429 came back may still arrive (here within
    # milliseconds); after that, nothing reaches the fake before retry_after has passed.
    in_flight = 0.05
    later = [c for c in telegram.fake.calls_of("sendMessage") if c.time > refused.time + in_flight]
    assert later and min(c.time for c in later) - refused.time >= 2.0
    assert {(await _row(sessions, r)).state for r in (row_id, other)} == {"sent"}


async def test_403_marks_the_chat_blocked_and_the_row_final(
    dispatcher, sessions, telegram, reminder
):
    row_id, _ = await reminder(9710)
    telegram.fake.block(9710)
    await dispatcher.drain()
    assert (await _row(sessions, row_id)).state == "blocked"
    async with sessions() as session:
        identity = await session.scalar(select(ChannelIdentity))
    assert identity is not None and identity.blocked_at is not None
    # A later push to that person is not even tried while the chat stays blocked.
    second, _ = await reminder(9711)
    async with sessions.begin() as session:
        row = await session.get(OutboxMessage, second)
        row.participant_id = identity.participant_id
    await dispatcher.drain()
    assert (await _row(sessions, second)).last_error == "no reachable chat"
    assert len(telegram.fake.calls_of("sendMessage")) == 1


async def test_5xx_and_timeouts_retry_with_backoff_then_fail(
    dispatcher, sessions, telegram, reminder, manual_clock, settings
):
    row_id, _ = await reminder(9712)
    telegram.fake.fail_next("sendMessage", 502, count=2)
    await dispatcher.tick()
    row = await _row(sessions, row_id)
    assert (row.state, row.attempts) == ("pending", 1) and row.due_at > manual_clock.now
    manual_clock.advance(seconds=5)
    await dispatcher.tick()
    assert (await _row(sessions, row_id)).attempts == 2
    manual_clock.advance(seconds=10)
    await dispatcher.drain()
    row = await _row(sessions, row_id)
    assert (row.state, row.attempts) == ("sent", 3)
    # A row that keeps failing stops after DISPATCH_MAX_ATTEMPTS with its reason.
    doomed, _ = await reminder(9713)
    telegram.fake.fail_next("sendMessage", 500, count=settings.dispatch_max_attempts)
    for _ in range(settings.dispatch_max_attempts):
        manual_clock.advance(minutes=11)
        await dispatcher.tick()
    row = await _row(sessions, doomed)
    assert (row.state, row.attempts) == ("failed", settings.dispatch_max_attempts)
    assert "Internal Server Error" in (row.last_error or "")


async def test_a_dead_workers_lease_expires_and_the_row_is_taken_again(
    dispatcher, sessions, telegram, reminder, manual_clock, settings
):
    row_id, _ = await reminder(9714)
    async with sessions.begin() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row_id)
            .values(
                state="claimed",
                claimed_by="dead-worker",
                lease_until=manual_clock.now + timedelta(seconds=30),
            )
        )
    assert await dispatcher.tick() == 0  # still leased
    manual_clock.advance(seconds=31)
    assert await dispatcher.tick() == 1
    assert (await _row(sessions, row_id)).state == "sent"
    assert len(telegram.fake.sent(9714)) == 1


async def test_the_job_drains_a_backlog_in_the_background(
    dispatcher, sessions, telegram, reminder
):
    """The scheduler's job returns at once; one drain sends every row in overlapping
    batches, a second job run meanwhile starts nothing, and stop() finds nothing held."""
    # Batches of 2 (the pace in these settings only sizes the batch; the pacer is the app's).
    dispatcher.settings = dispatcher.settings.model_copy(
        update={"dispatch_batch": 2, "telegram_messages_per_second": 4.0}
    )
    assert dispatcher.settings.dispatch_batch_size == 2
    rows = [(await reminder(9800 + i))[0] for i in range(7)]
    telegram.fake.delay_next("sendMessage", 0.2, count=7)  # a slow network
    assert await dispatcher.run() == 0  # returns at once
    first = dispatcher._draining
    assert first is not None and not first.done()
    await dispatcher.run()
    assert dispatcher._draining is first  # one drain per process
    overlap = 0
    while not first.done():
        overlap = max(overlap, len(dispatcher._batches))
        await asyncio.sleep(0.01)
    assert overlap == PIPELINE  # the next batch was ready while one was being sent
    for chat in range(9800, 9807):
        assert len(telegram.fake.sent(chat)) == 1
    assert {(await _row(sessions, row_id)).state for row_id in rows} == {"sent"}
    assert await dispatcher.stop() == 0  # nothing left claimed


async def test_stop_lets_the_batches_in_flight_finish(dispatcher, sessions, telegram, reminder):
    """Stopping mid-drain sends and records what was claimed, claims nothing more."""
    # Batches of 2 (the pace in these settings only sizes the batch; the pacer is the app's).
    dispatcher.settings = dispatcher.settings.model_copy(
        update={"dispatch_batch": 2, "telegram_messages_per_second": 4.0}
    )
    assert dispatcher.settings.dispatch_batch_size == 2
    rows = [(await reminder(9810 + i))[0] for i in range(8)]
    telegram.fake.delay_next("sendMessage", 0.3, count=8)
    await dispatcher.run()
    await asyncio.sleep(0.1)  # the first two batches are on the wire
    assert await dispatcher.stop() == 0
    states = [(await _row(sessions, row_id)).state for row_id in rows]
    assert states.count("claimed") == 0
    sent = states.count("sent")
    assert 2 <= sent < 8 and set(states) == {"sent", "pending"}
    assert len(telegram.fake.calls_of("sendMessage")) == sent
    assert await dispatcher.tick() == 0  # a stopped dispatcher takes nothing
