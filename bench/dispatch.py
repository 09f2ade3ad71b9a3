"""Benchmarks of the push path, each printed as a ratio to a baseline of the same run.

1. A dispatcher tick that finds nothing due, with many future rows vs few (target ≤ 1.5×);
   start-up likewise (migrations check, the feature sweeps, the first tick).
2. Reminders due at once to distinct chats against the fake Bot API enforcing 30/s:
   finish time / (n / 30 s) (target ≤ 1.10) and the 429s (target 0).
3. One chat with many due rows at 1 message/s per chat (burst 3): 429s (target 0).
4. 200 connected participants sending /help at once, limits off: updates/s of the bot vs a
   bare python-telegram-bot echo bot on the same fake (target ≥ 0.6×), median of rounds.

Run: python -m bench.dispatch            (small sizes, as CI runs it)
     python -m bench.dispatch --full     (1,000,000 rows, 5,000 reminders, 20 rows)
     ... --postgresql postgresql+asyncpg://postgres@127.0.0.1:5432/test   (/help on it too)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("PTB_TIMEDELTA", "true")

from sqlalchemy import insert, text
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bench.remote_fake import RemoteFake
from bot.app import settle_heap
from bot.channels.telegram import build_application
from bot.features import FEATURES, welcome
from bot.outbox.dispatcher import Dispatcher
from bot.plumbing.router import Router
from bot.plumbing.routes import JobContext, Routes
from bot.settings import load_settings
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import (
    PRIORITY_REMINDER,
    Appointment,
    ChannelIdentity,
    OutboxMessage,
    Participant,
    StaffUser,
)
from storage.types import utcnow
from tests.fake_telegram import FakeTelegram

CHUNK = 20_000


async def _database(folder: Path, name: str, url: str | None = None):  # type: ignore[no-untyped-def]
    """A fresh SQLite file, or, given a PostgreSQL URL, its emptied public schema."""
    url = url or f"sqlite+aiosqlite:///{folder}/{name}.db"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    return url, engine, make_sessionmaker(engine)


async def _future_rows(sessions, count: int) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    async with sessions.begin() as session:
        session.add(StaffUser(id=1, email="c@example.org", display_name="C", role="coach"))
        session.add(Participant(id=1, display_name="P", coach_id=1))
    for start in range(0, count, CHUNK):
        async with sessions.begin() as session:
            await session.execute(
                insert(OutboxMessage),
                [
                    {
                        "participant_id": 1,
                        "template": "appointment.reminder",
                        "params": {},
                        "due_at": now + timedelta(days=1, seconds=i),
                        "priority": PRIORITY_REMINDER,
                        "dedup_key": f"future:{i}",
                    }
                    for i in range(start, min(start + CHUNK, count))
                ],
            )


async def idle_tick(folder: Path, rows: int, rounds: int) -> tuple[float, float]:
    """Seconds per idle tick, and the start-up work, with `rows` future rows waiting."""
    url, engine, sessions = await _database(folder, f"idle-{rows}")
    await _future_rows(sessions, rows)
    settings = load_settings(_env_file=None, database_url=url)
    routes = Routes(FEATURES)
    dispatcher = Dispatcher(sessions=sessions, routes=routes, settings=settings, senders={})
    await dispatcher.tick()
    started = time.perf_counter()
    for _ in range(rounds):
        assert await dispatcher.tick() == 0
    per_tick = (time.perf_counter() - started) / rounds
    started = time.perf_counter()
    await upgrade(engine)  # what a start does: schema check, the sweeps, a first tick
    for job in routes.jobs:
        if job.every:
            await job.run(JobContext(sessions, settings, utcnow()))
    await dispatcher.tick()
    startup = time.perf_counter() - started
    await engine.dispose()
    return per_tick, startup


async def _due_backlog(sessions, chats: list[int], rows_per_chat: int) -> None:  # type: ignore[no-untyped-def]
    now = utcnow()
    starts = now + timedelta(days=2)
    async with sessions.begin() as session:
        await _people(session, chats, ("ar",))
        await session.execute(
            insert(Appointment),
            [
                {
                    "id": i + 1,
                    "participant_id": i + 1,
                    "coach_id": 1,
                    "kind": "coaching",
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=1),
                    "location": "Kreishaus Unna",
                }
                for i in range(len(chats))
            ],
        )
        await session.execute(
            insert(OutboxMessage),
            [
                {
                    "participant_id": i + 1,
                    "template": "appointment.reminder",
                    "subject_type": "appointment",
                    "subject_id": i + 1,
                    "params": {"starts_at": starts.isoformat(), "offset": "2h"},
                    "due_at": now,
                    "priority": PRIORITY_REMINDER,
                    "dedup_key": f"due:{i}:{k}",
                }
                for i in range(len(chats))
                for k in range(rows_per_chat)
            ],
        )


async def paced_backlog(folder: Path, chats: int, rows_per_chat: int, name: str) -> dict:
    """Send a due backlog through the real client to the fake enforcing Telegram's limits."""
    url, engine, sessions = await _database(folder, name)
    chat_ids = [700_000 + i for i in range(chats)]
    await _due_backlog(sessions, chat_ids, rows_per_chat)
    total = chats * rows_per_chat
    async with FakeTelegram() as fake:
        fake.rate_limits(
            enabled=True, global_per_second=30, per_chat_per_second=1, per_chat_burst=3
        )
        settings = load_settings(
            _env_file=None,
            database_url=url,
            telegram_bot_token=fake.token,
            telegram_api_url=fake.base_url,
            dispatch_batch=60,
            reminder_catch_up_minutes=600,
        )
        router = Router(settings, sessions, FEATURES, welcome)
        application = build_application(settings, router)
        await application.initialize()
        dispatcher = Dispatcher(
            sessions=sessions,
            routes=router.routes,
            settings=settings,
            senders={"telegram": application.bot_data["sender"]},
        )
        settle_heap()  # as `wegweiser run` does once it has started
        started = time.perf_counter()
        while fake.count("sendMessage", 200) < total:
            # As the scheduler's job does (Dispatcher.run): drain, batches overlapping.
            if not await dispatcher.drain(timeout=None):
                await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        await application.shutdown()
        result = {"elapsed": elapsed, "total": total, "429": fake.rejected_429}
    await engine.dispose()
    return result


LANGUAGES = ("de", "ar", "uk", "fa", "ti", "en")


async def _people(session, chats: list[int], languages: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    """A coach, and per chat a participant who finished onboarding (ids 1..n), each with a
    Telegram chat, the languages taken in turn."""
    session.add(StaffUser(id=1, email="c@example.org", display_name="C", role="coach"))
    await session.flush()
    await session.execute(
        insert(Participant),
        [
            {
                "id": i + 1,
                "display_name": f"P{i}",
                "locale": languages[i % len(languages)],
                "coach_id": 1,
                "privacy_accepted_at": utcnow(),
            }
            for i in range(len(chats))
        ],
    )
    await session.execute(
        insert(ChannelIdentity),
        [
            {"participant_id": i + 1, "channel": "telegram", "external_id": str(chat)}
            for i, chat in enumerate(chats)
        ],
    )


async def _connected(sessions, users: int) -> None:  # type: ignore[no-untyped-def]
    """Participants on chats 800,000 and up, in six languages."""
    async with sessions.begin() as session:
        await _people(session, [800_000 + i for i in range(users)], LANGUAGES)


async def _echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(update.effective_message.text or "")


def _bare(token: str, base_url: str) -> Application:  # type: ignore[type-arg]
    """The baseline: a bare python-telegram-bot echo bot, PTB's defaults throughout."""
    bare = Application.builder().token(token).base_url(base_url).build()
    bare.add_handler(MessageHandler(filters.ALL, _echo))
    return bare


async def _alternate(
    run: Callable[[Application], Awaitable[float]],  # type: ignore[type-arg]
    fake: FakeTelegram | RemoteFake,
    sessions,  # type: ignore[no-untyped-def]
    url: str,
    rounds: int,
) -> tuple[float, float, float]:
    """`rounds` of the bare echo bot, then ours, each on /help: the medians of each and of
    the rounds' ratios (one round is a fraction of a second; the median steadies it)."""
    settings = load_settings(
        _env_file=None,
        database_url=url,
        telegram_bot_token=fake.token,
        telegram_api_url=fake.base_url,
        telegram_messages_per_second=100_000,
        telegram_seconds_per_chat=0,
    )
    theirs: list[float] = []
    ours: list[float] = []
    for _ in range(rounds):
        theirs.append(await run(_bare(fake.token, fake.base_url)))
        router = Router(settings, sessions, FEATURES, welcome)
        ours.append(await run(build_application(settings, router)))
    ratios = [mine / base for mine, base in zip(ours, theirs, strict=True)]
    return statistics.median(ours), statistics.median(theirs), statistics.median(ratios)


async def updates_apart(
    folder: Path, users: int, rounds: int = 5, url: str | None = None
) -> tuple[float, float, float]:
    """As `updates_per_second` on loopback, with the fake in a process of its own (as
    Telegram is): the bots' own costs, without the fake's work in their event loop. The
    updates wait in the fake before each bot starts polling."""

    async def run(application: Application, fake: RemoteFake) -> float:  # type: ignore[type-arg]
        await fake.send("/help", 800_000, users)
        before = (await fake.stats())["calls"]
        await application.initialize()
        await application.start()
        settle_heap()  # as `wegweiser run` does once it has started; the same for both
        assert application.updater is not None
        started = time.perf_counter()
        await application.updater.start_polling(poll_interval=0.0)
        while (await fake.stats())["calls"] - before < users:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - started
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        return users / elapsed

    url, engine, sessions = await _database(folder, "updates-apart", url)
    await _connected(sessions, users)
    async with RemoteFake(limits=False) as fake:
        result = await _alternate(lambda app: run(app, fake), fake, sessions, url, rounds)
        sample = await fake.last_text(800_001)
        assert "/help" in sample, "the bench must measure the real /help answer"
    await engine.dispose()
    return result


async def updates_per_second(
    folder: Path, users: int, latency: float = 0.0, rounds: int = 5, url: str | None = None
) -> tuple[float, float, float]:
    """/help from `users` connected participants at once, `rounds` times, alternating with a
    bare python-telegram-bot echo bot on the same fake (see `_alternate`).

    `latency` delays every sendMessage in the fake, as a network between the bot and
    Telegram does (tens of milliseconds); 0 measures the CPU cost on loopback alone.
    """

    async def run(application: Application, fake: FakeTelegram) -> float:  # type: ignore[type-arg]
        if latency:
            fake.delay_next("sendMessage", latency, count=users)
        before = fake.count("sendMessage")
        await application.initialize()
        await application.start()
        settle_heap()  # as `wegweiser run` does once it has started; the same for both
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0)
        people = [fake.user(chat_id=800_000 + i, language_code="de") for i in range(users)]
        started = time.perf_counter()
        for person in people:
            await person.send("/help")
        await fake.wait_for(lambda f: f.count("sendMessage") - before >= users, timeout=120)
        elapsed = time.perf_counter() - started
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
        return users / elapsed

    url, engine, sessions = await _database(folder, f"updates-{latency}", url)
    await _connected(sessions, users)
    async with FakeTelegram() as fake:
        fake.rate_limits(enabled=False)
        result = await _alternate(lambda app: run(app, fake), fake, sessions, url, rounds)
        sample = fake.sent(800_001)[-1]["text"]
        assert "/help" in sample, "the bench must measure the real /help answer"
    await engine.dispose()
    return result


async def main(full: bool, postgresql: str | None) -> None:
    """Run every benchmark at the chosen size and print the ratios."""
    few, many = 1_000, (1_000_000 if full else 50_000)
    reminders, burst_rows = (5_000, 20) if full else (150, 6)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        small_tick, small_start = await idle_tick(path, few, 300)
        large_tick, large_start = await idle_tick(path, many, 300)
        print(f"bench dispatch ({'full' if full else 'small'} sizes, SQLite)")
        print(
            f"  idle tick: {few:,} future rows {small_tick * 1000:.2f} ms, {many:,} rows "
            f"{large_tick * 1000:.2f} ms: ratio {large_tick / small_tick:.2f}x (target <= 1.5)"
        )
        print(
            f"  start-up:  {few:,} rows {small_start * 1000:.0f} ms, {many:,} rows "
            f"{large_start * 1000:.0f} ms: ratio {large_start / small_start:.2f}x"
        )
        spread = await paced_backlog(path, reminders, 1, "spread")
        ideal = spread["total"] / 30
        print(
            f"  {spread['total']:,} reminders to as many chats at 30/s: "
            f"{spread['elapsed']:.1f} s, "
            f"ratio to {ideal:.1f} s = {spread['elapsed'] / ideal:.3f} (target <= 1.10), "
            f"429s {spread['429']}"
        )
        one_chat = await paced_backlog(path, 1, burst_rows, "one-chat")
        print(
            f"  one chat, {burst_rows} due rows at 1/s (burst 3): {one_chat['elapsed']:.1f} s, "
            f"429s {one_chat['429']}"
        )
        databases = [("SQLite", None)] + ([("PostgreSQL", postgresql)] if postgresql else [])
        # A round is a fraction of a second; on a shared 2-core VM one slow round moved a
        # median of three by a tenth, so even the small run takes five.
        rounds = 7 if full else 5
        for name, url in databases:
            for latency in (0.0, 0.03):
                ours, bare, ratio = await updates_per_second(
                    path, 200, latency, rounds, url
                )
                where = f"{latency * 1000:.0f} ms per send" if latency else "loopback"
                print(
                    f"  200 participants /help at once, limits off, {where}, {name}: "
                    f"{ours:.0f} updates/s vs bare PTB echo bot {bare:.0f}/s (medians): "
                    f"ratio {ratio:.2f}x (target >= 0.6)"
                )
            ours, bare, ratio = await updates_apart(path, 200, rounds, url)
            print(
                f"  the same on loopback with the fake in its own process, {name}: "
                f"{ours:.0f} updates/s vs {bare:.0f}/s: ratio {ratio:.2f}x (target >= 0.6)"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="the full sizes (minutes)")
    parser.add_argument(
        "--postgresql",
        metavar="URL",
        help="also measure /help on this PostgreSQL database (its public schema is emptied)",
    )
    options = parser.parse_args()
    asyncio.run(main(options.full, options.postgresql))
