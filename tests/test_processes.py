"""Whole processes: `wegweiser run` in subprocesses against the fake Bot API over loopback.

A backlog of due reminders is sent by one process that is killed with SIGKILL halfway and
started again, and by two processes sharing one PostgreSQL. Nothing may be lost; a
duplicate is possible only for a send in flight at the crash.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from bot.outbox.dispatcher import PIPELINE
from bot.settings import load_settings
from storage.models import (
    PRIORITY_REMINDER,
    Appointment,
    ChannelIdentity,
    OutboxMessage,
    Participant,
    StaffUser,
)
from storage.types import utcnow
from tests.helpers import most_in_any_window

ROOT = Path(__file__).parents[1]
FIRST_CHAT = 200_000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def seed_backlog(sessions, count: int) -> None:
    """`count` participants, each with a chat, an appointment and a reminder due now."""
    now = utcnow()
    starts = now + timedelta(days=5)
    async with sessions.begin() as session:
        coach = StaffUser(email="coach@example.org", display_name="Coach", role="coach")
        session.add(coach)
        await session.flush()
        await session.execute(
            insert(Participant),
            [
                {
                    "id": 1000 + i,
                    "display_name": f"P{i}",
                    "locale": "de",
                    "coach_id": coach.id,
                    "privacy_accepted_at": now,
                }
                for i in range(count)
            ],
        )
        await session.execute(
            insert(ChannelIdentity),
            [
                {
                    "participant_id": 1000 + i,
                    "channel": "telegram",
                    "external_id": str(FIRST_CHAT + i),
                }
                for i in range(count)
            ],
        )
        await session.execute(
            insert(Appointment),
            [
                {
                    "id": 5000 + i,
                    "participant_id": 1000 + i,
                    "coach_id": coach.id,
                    "kind": "coaching",
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=1),
                    "location": "Kreishaus Unna",
                }
                for i in range(count)
            ],
        )
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "participant_id": 1000 + i,
                    "template": "appointment.reminder",
                    "subject_type": "appointment",
                    "subject_id": 5000 + i,
                    "params": {"starts_at": starts.isoformat(), "offset": "2h"},
                    "dedup_key": f"backlog:{i}",
                    "due_at": now,
                    "priority": PRIORITY_REMINDER,
                }
                for i in range(count)
            ],
        )


def start_bot(database_url: str, fake, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """`python -m bot run` as its own process, polling and sending to the fake; its
    standard error goes to `log` (a pipe could fill up and stall it)."""
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.base_url,
        "WEB_PORT": str(_free_port()),
        "QUIET_HOURS": "",
        "DISPATCH_INTERVAL_SECONDS": "0.05",
        "DISPATCH_BATCH": "40",
        "DISPATCH_LEASE_SECONDS": "5",
        "TELEGRAM_MESSAGES_PER_SECOND": "400",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    with log.open("ab") as errors:
        return subprocess.Popen(
            # On the test's clock: rows the test wrote for "now" are due for it too.
            [sys.executable, "-m", "tests.clocked", utcnow().isoformat(), "bot", "run"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )


def backlog_sends(fake) -> Counter[int]:
    """How many messages each backlog chat got."""
    return Counter(
        c.params["chat_id"]
        for c in fake.calls_of("sendMessage")
        if c.status == 200 and c.params["chat_id"] >= FIRST_CHAT
    )


async def _wait(predicate, timeout: float, what: str) -> None:  # noqa: ASYNC109
    """Poll `predicate`: the other process reports through the fake and the database."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110 - nothing to wait on across processes
            await asyncio.sleep(0.05)


async def _until_all_sent(fake, sessions, count: int, timeout: float) -> dict[str, int]:  # noqa: ASYNC109
    """Wait until every backlog chat got a message and every row is recorded as sent."""
    await _wait(lambda: len(backlog_sends(fake)) >= count, timeout, "every chat")
    states = await _states(sessions)
    async with asyncio.timeout(30):
        while states.get("sent", 0) < count:
            await asyncio.sleep(0.2)
            states = await _states(sessions)
    return states


async def _states(sessions) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        )
        return dict(rows.all())


async def _stop(process: subprocess.Popen[bytes], log: Path) -> str:
    """SIGTERM and wait, without blocking the loop: the fake must keep answering meanwhile."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(20):
                while process.poll() is None:  # noqa: ASYNC110 - another process
                    await asyncio.sleep(0.05)
        except TimeoutError:
            process.kill()
            process.wait()
    return log.read_text(errors="replace")  # noqa: ASYNC240 - a small log, read once


@pytest.mark.parametrize("count", [1000])
async def test_sigkill_in_the_middle_of_a_backlog_loses_nothing(
    fake_telegram, sessions, database_url, count, tmp_path
):
    fake_telegram.rate_limits(enabled=True, global_per_second=500)
    await seed_backlog(sessions, count)
    log = tmp_path / "bot.log"
    first = start_bot(database_url, fake_telegram, log)
    try:
        await _wait(lambda: sum(backlog_sends(fake_telegram).values()) >= count // 3, 60, "sends")
    finally:
        first.kill()  # SIGKILL: no cleanup, claimed rows keep their leases
        first.wait()
    at_crash = sum(backlog_sends(fake_telegram).values())
    in_flight = (await _states(sessions)).get("claimed", 0)
    second = start_bot(database_url, fake_telegram, log)
    try:
        states = await _until_all_sent(fake_telegram, sessions, count, 90)
    finally:
        output = await _stop(second, log)
    sends = backlog_sends(fake_telegram)
    duplicates = sum(sends.values()) - len(sends)
    print(
        f"\nSIGKILL after {at_crash} of {count} sends: lost 0, duplicates {duplicates}, "
        f"rows claimed at the crash {in_flight}, 429s {fake_telegram.rejected_429}"
    )
    assert len(sends) == count  # nothing lost
    # At most the batches that were in flight: PIPELINE of them, each a quarter second of
    # the pace (100 rows at 400/s; DISPATCH_BATCH=40 is less).
    batch = load_settings(
        _env_file=None, dispatch_batch=40, telegram_messages_per_second=400
    ).dispatch_batch_size
    assert duplicates <= in_flight <= PIPELINE * batch
    assert states == {"sent": count}
    # Every row that reached its chat twice is counted as ambiguous (taken again after the
    # dead process's lease ran out), and no row that was not in flight at the crash.
    async with sessions() as session:
        ambiguous = set(
            (
                await session.scalars(
                    select(OutboxMessage.participant_id).where(OutboxMessage.ambiguous > 0)
                )
            ).all()
        )
    twice = {chat - FIRST_CHAT + 1000 for chat, times in sends.items() if times > 1}
    print(f"ambiguous rows {len(ambiguous)}, of them sent twice {len(twice)}")
    assert twice <= ambiguous and len(ambiguous) <= in_flight
    assert "Traceback" not in output, output[-2000:]


async def test_two_processes_on_one_postgresql_send_each_row_once(
    fake_telegram, sessions, database_url, tmp_path
):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (set WEGWEISER_TEST_DATABASE_URL); SQLite has one writer")
    count = 2000
    fake_telegram.rate_limits(enabled=True, global_per_second=1000)
    await seed_backlog(sessions, count)
    log = tmp_path / "bots.log"
    receiver = start_bot(database_url, fake_telegram, log)
    sender_only = start_bot(database_url, fake_telegram, log, TELEGRAM_RECEIVE="false")
    try:
        states = await _until_all_sent(fake_telegram, sessions, count, 120)
    finally:
        await _stop(receiver, log)
        logs = await _stop(sender_only, log)
    sends = backlog_sends(fake_telegram)
    duplicates = sum(sends.values()) - len(sends)
    async with sessions() as session:
        senders = (
            await session.execute(select(func.count(func.distinct(OutboxMessage.claimed_by))))
        ).scalar()
    print(
        f"\ntwo processes (both sent: {senders == 2}), {count} rows: "
        f"duplicates {duplicates}, states {states}"
    )
    assert len(sends) == count and duplicates == 0
    assert senders == 2  # both processes took their share
    assert "Traceback" not in logs, logs[-2000:]


@pytest.mark.parametrize("processes", [2, 3])
async def test_processes_on_one_postgresql_share_one_telegram_budget_and_take_over(
    fake_telegram, sessions, database_url, tmp_path, processes
):
    """All dispatching, two or three processes stay within the bot token's 30/s together
    (the fake refuses the 31st message in any sliding second), each sends its part, and when
    one is killed the others take its share within the lease."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL (set WEGWEISER_TEST_DATABASE_URL); SQLite has one process")
    from bot.channels.telegram_budget import LEASE

    count = 420
    fake_telegram.rate_limits(enabled=True, global_per_second=30)
    await seed_backlog(sessions, count)
    log = tmp_path / "bots.log"
    env = {"TELEGRAM_MESSAGES_PER_SECOND": "30", "DISPATCH_BATCH": "10"}
    bots = [start_bot(database_url, fake_telegram, log, **env)]
    bots += [
        start_bot(database_url, fake_telegram, log, TELEGRAM_RECEIVE="false", **env)
        for _ in range(processes - 1)
    ]
    try:
        await _wait(lambda: sum(backlog_sends(fake_telegram).values()) >= count // 3, 60, "sends")
        async with sessions() as session:
            senders = await session.scalar(
                select(func.count(func.distinct(OutboxMessage.claimed_by))).where(
                    OutboxMessage.state == "sent"
                )
            )
        bots[-1].kill()  # SIGKILL: no goodbye, its heartbeat just stops
        bots[-1].wait()
        killed_at = asyncio.get_running_loop().time()
        states = await _until_all_sent(fake_telegram, sessions, count, 120)
    finally:
        logs = ""
        for bot in bots[:-1]:
            logs = await _stop(bot, log)
    calls = sorted(
        c.time
        for c in fake_telegram.calls_of("sendMessage")
        if c.status == 200 and c.params["chat_id"] >= FIRST_CHAT
    )
    sends = backlog_sends(fake_telegram)
    duplicates = sum(sends.values()) - len(sends)
    first, last = calls[0], calls[-1]
    rate = (len(calls) - 1) / (last - first)
    print(
        f"\n{processes} processes, {count} rows at 30/s: {rate:.1f}/s overall "
        f"({rate / 30:.2f} of the limit), most in any second {most_in_any_window(calls, 1.0)}, "
        f"429s {fake_telegram.rejected_429}, duplicates {duplicates}, senders {senders}"
    )
    assert fake_telegram.rejected_429 == 0
    assert most_in_any_window(calls, 1.0) <= 30
    assert senders == processes  # every process sent its part
    assert len(sends) == count and states == {"sent": count}
    assert duplicates <= PIPELINE * 10  # at most the killed process's batches in flight
    # The survivors took over: the last rows went out at more than the shares of before.
    tail = [t for t in calls if t > killed_at + LEASE.total_seconds() + 2]
    if len(tail) > 30:
        tail_rate = (len(tail) - 1) / (tail[-1] - tail[0])
        assert tail_rate > 30 / processes * 1.2, tail_rate
    assert "Traceback" not in logs, logs[-2000:]


async def test_sigterm_answers_every_update_already_fetched(fake_telegram, database_url, tmp_path):
    """60 users write at once; SIGTERM while the answers are on their way: all arrive."""
    fake_telegram.rate_limits(enabled=False)
    log = tmp_path / "bot.log"
    bot = start_bot(database_url, fake_telegram, log, LOG_LEVEL="INFO")
    try:
        await _wait(lambda: fake_telegram.calls_of("getUpdates"), 30, "polling")
        fake_telegram.delay_next("sendMessage", 0.5, count=60)
        users = [fake_telegram.user(chat_id=300_000 + i, language_code="de") for i in range(60)]
        for user in users:
            await user.send("/help")
        await _wait(lambda: fake_telegram.calls_of("sendMessage"), 30, "the first answer")
        bot.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            while bot.poll() is None:  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.05)
    finally:
        output = await _stop(bot, log)
    assert bot.returncode == 0, output[-2000:]
    unanswered = [u.chat_id for u in users if not fake_telegram.sent(u.chat_id)]
    assert unanswered == [], output[-2000:]
    assert " ERROR " not in output and "Traceback" not in output


async def test_sigterm_in_the_middle_of_a_backlog_leaves_nothing_claimed(
    fake_telegram, sessions, database_url, tmp_path
):
    fake_telegram.rate_limits(enabled=True)
    await seed_backlog(sessions, 300)
    log = tmp_path / "bot.log"
    bot = start_bot(database_url, fake_telegram, log, TELEGRAM_MESSAGES_PER_SECOND="30")
    try:
        await _wait(lambda: sum(backlog_sends(fake_telegram).values()) >= 40, 60, "sends")
        bot.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            while bot.poll() is None:  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.05)
    finally:
        output = await _stop(bot, log)
    assert bot.returncode == 0, output[-2000:]
    states = await _states(sessions)
    assert "claimed" not in states and states.get("sent", 0) >= 40
    assert states["sent"] + states["pending"] == 300
    assert sum(backlog_sends(fake_telegram).values()) == states["sent"]  # none twice


async def test_sigint_stops_without_an_error(fake_telegram, database_url, tmp_path):
    fake_telegram.rate_limits(enabled=False)
    log = tmp_path / "bot.log"
    bot = start_bot(database_url, fake_telegram, log, LOG_LEVEL="INFO")
    try:
        await _wait(lambda: fake_telegram.calls_of("getUpdates"), 30, "polling")
        bot.send_signal(signal.SIGINT)
        async with asyncio.timeout(15):
            while bot.poll() is None:  # noqa: ASYNC110 - another process
                await asyncio.sleep(0.05)
    finally:
        output = await _stop(bot, log)
    assert bot.returncode == 0
    assert " ERROR " not in output and "Traceback" not in output, output[-2000:]
