"""Shared fixtures: a real database (SQLite or PostgreSQL), factories, the fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.features import FEATURES, welcome
from bot.features.onboarding.invites import NewInvite, create_invite
from bot.i18n import compile_catalogs
from bot.plumbing.router import Router
from bot.settings import Settings, load_settings
from storage.db import make_engine, make_sessionmaker, upgrade
from storage.models import Base, Participant, StaffUser
from storage.types import utcnow
from tests.fake_telegram import FakeTelegram, fake_telegram  # noqa: F401 - fixture

TOKEN = "123456:TEST-TOKEN-abcdefghij"
BERLIN = ZoneInfo("Europe/Berlin")
# The instants tests start at: a Wednesday morning in winter (+01:00) and one in summer
# (+02:00). Every test runs at one of them, so none depends on the hour, weekday or season
# it happens to be run in. Both lie ahead of the real date, so a real browser's own clock
# never finds the server's cookies expired.
INSTANTS = {
    "winter": datetime(2027, 1, 13, 10, 0, tzinfo=BERLIN),
    "summer": datetime(2027, 7, 14, 10, 0, tzinfo=BERLIN),
}


class Clock:
    """The one clock of a test: `datetime.now()`, `time.time()` and the app's `utcnow()`
    all read it. It starts at a fixed instant and runs on from there (sleeps, timeouts and
    the pacer keep their real, monotonic time); `move_to` and `shift` jump it."""

    def __init__(self, traveller: Any) -> None:
        self._traveller = traveller

    def now(self) -> datetime:
        """The current instant, in UTC."""
        return utcnow()

    def local(self) -> datetime:
        """The current instant in Berlin."""
        return utcnow().astimezone(BERLIN)

    def move_to(self, instant: datetime) -> None:
        """Jump to `instant` (aware) and run on from there."""
        self._traveller.move_to(instant)

    def shift(self, delta: timedelta) -> None:
        """Jump ahead (or back) by `delta`."""
        self._traveller.shift(delta)


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Any:
    """Every test's clock: winter by default; parametrize `clock` indirectly with "winter",
    "summer" or an aware datetime to start elsewhere."""
    start = getattr(request, "param", "winter")
    instant = INSTANTS[start] if isinstance(start, str) else start
    with time_machine.travel(instant, tick=True) as traveller:
        yield Clock(traveller)


def _database_url(tmp_dir: Path) -> str:
    return os.environ.get("WEGWEISER_TEST_DATABASE_URL") or (
        f"sqlite+aiosqlite:///{tmp_dir / 'test.db'}"
    )


async def _fresh_schema(url: str) -> None:
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database per test run, migrated with Alembic from scratch."""
    url = _database_url(tmp_path_factory.mktemp("db"))
    compile_catalogs()
    asyncio.run(_fresh_schema(url))
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The test database, emptied before each test."""
    engine = make_engine(database_url)
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(
                text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            )
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory on the test database."""
    return make_sessionmaker(engine)


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for tests; no `.env` is read."""
    return load_settings(_env_file=None, database_url=database_url)


@pytest.fixture
def router(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Router:
    """The core router over the test database."""
    return Router(settings, sessions, FEATURES, welcome)


@pytest.fixture
def make_staff(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[..., Awaitable[StaffUser]]:
    """Factory: a staff user (coach by default)."""
    counter = iter(range(1, 10_000))

    async def make(**overrides: Any) -> StaffUser:
        n = next(counter)
        values: dict[str, Any] = {
            "email": f"coach{n}@example.org",
            "display_name": f"Coach {n}",
            "role": "coach",
        }
        values.update(overrides)
        async with sessions.begin() as session:
            user = StaffUser(**values)
            session.add(user)
        return user

    return make


@pytest.fixture
def make_participant(
    sessions: async_sessionmaker[AsyncSession], make_staff: Callable[..., Awaitable[StaffUser]]
) -> Callable[..., Awaitable[Participant]]:
    """Factory: a participant with a coach; `accepted=True` skips onboarding."""

    async def make(*, accepted: bool = False, **overrides: Any) -> Participant:
        if "coach_id" not in overrides:
            overrides["coach_id"] = (await make_staff()).id
        values: dict[str, Any] = {"display_name": "Amina"}
        values.update(overrides)
        if accepted:
            values.setdefault("privacy_accepted_at", utcnow())
            values.setdefault("locale", "de")
        async with sessions.begin() as session:
            participant = Participant(**values)
            session.add(participant)
        return participant

    return make


@pytest.fixture
def make_invite(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[..., Awaitable[NewInvite]]:
    """Factory: an invite for a participant; `age` moves its creation into the past."""

    async def make(
        participant: Participant, *, age: timedelta = timedelta(0), valid_days: int = 14
    ) -> NewInvite:
        async with sessions.begin() as session:
            fresh = await session.get(Participant, participant.id)
            assert fresh is not None
            return await create_invite(
                session, participant=fresh, now=utcnow() - age, valid_days=valid_days
            )

    return make


@contextlib.asynccontextmanager
async def serve_app(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port; yields its base URL."""
    import socket

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


class TelegramHarness:
    """The real bot application polling the fake Bot API, plus the database behind it."""

    def __init__(self, fake: FakeTelegram, application: Any, router: Router) -> None:
        self.fake = fake
        self.application = application
        self.router = router


class Pushing:
    """The dispatcher and scheduler of one process, wired as `wegweiser run` wires them,
    over the test database and the Telegram harness's sender (the scheduler not started)."""

    def __init__(self, telegram: TelegramHarness, sessions: Any, settings: Settings) -> None:
        from bot.outbox.dispatcher import Dispatcher
        from bot.outbox.jobs import build_scheduler
        from bot.plumbing.reminders import ReminderPolicy

        self.settings = settings
        self.policy = ReminderPolicy.from_settings(settings)
        self.dispatcher = Dispatcher(
            sessions=sessions,
            routes=telegram.router.routes,
            settings=settings,
            senders={"telegram": telegram.application.bot_data["sender"]},
        )
        self.scheduler = build_scheduler(
            settings=settings,
            sessions=sessions,
            routes=telegram.router.routes,
            dispatcher=self.dispatcher,
        )


def track_handled_updates(application: Any, fake: FakeTelegram) -> None:
    """Report each update to the fake once every handler (and the error handler) is done.

    A handler in the last group runs after the others, also after one that raised, so the
    fake knows when all replies to an update were sent instead of waiting for quiet.
    """
    from telegram import Update
    from telegram.ext import TypeHandler

    async def report(update: Update, _context: Any) -> None:
        fake.mark_handled(update.update_id)

    application.add_handler(TypeHandler(Update, report), group=99)
    fake.track_handling()


@pytest.fixture
async def telegram(
    fake_telegram: FakeTelegram,  # noqa: F811 - the fixture imported above
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[TelegramHarness]:
    """Wegweiser's Telegram adapter running against the fake, polling over loopback HTTP."""
    from bot.app import _start_telegram, _stop_telegram
    from bot.channels.telegram import build_application

    fake_telegram.rate_limits(enabled=False)
    bot_settings = settings.model_copy(
        update={
            "telegram_bot_token": fake_telegram.token,
            "telegram_api_url": fake_telegram.base_url,
            # The fake's limits are off here; tests of pacing switch both on.
            "telegram_messages_per_second": 1000.0,
            "telegram_seconds_per_chat": 0.0,
        }
    )
    router = Router(bot_settings, sessions, FEATURES, welcome)
    application = build_application(bot_settings, router)
    track_handled_updates(application, fake_telegram)
    await _start_telegram(bot_settings, application)
    try:
        yield TelegramHarness(fake_telegram, application, router)
    finally:
        await _stop_telegram(application)


@pytest.fixture
def bind_chat(sessions: async_sessionmaker[AsyncSession]) -> Callable[..., Awaitable[None]]:
    """Factory: bind a chat to a participant, as a redeemed invite would."""

    async def bind(
        participant: Participant, chat_id: int | str, channel: str = "telegram"
    ) -> None:
        from storage.identities import bind_identity

        async with sessions.begin() as session:
            await bind_identity(
                session, participant_id=participant.id, channel=channel, external_id=str(chat_id)
            )

    return bind


@pytest.fixture
def make_appointment(
    sessions: async_sessionmaker[AsyncSession],
) -> Callable[..., Awaitable[Any]]:
    """Factory: an appointment starting at `starts_at` (or `starts_in` from now)."""
    from storage.models import Appointment

    async def make(
        participant: Participant, *, starts_in: timedelta | None = None, **overrides: Any
    ) -> Appointment:
        starts_at = overrides.pop("starts_at", None) or utcnow() + (starts_in or timedelta(days=2))
        values: dict[str, Any] = {
            "participant_id": participant.id,
            "coach_id": participant.coach_id,
            "kind": "coaching",
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(minutes=45),
            "location": "Kreishaus Unna, Friedrich-Ebert-Straße 17, 59425 Unna",
        }
        values.update(overrides)
        async with sessions.begin() as session:
            appointment = Appointment(**values)
            session.add(appointment)
        return appointment

    return make


@pytest.fixture
def make_course(sessions: async_sessionmaker[AsyncSession]) -> Callable[..., Awaitable[Any]]:
    """Factory: a course with weekly slots [(weekday, "09:00", "12:30")], enrolling people."""
    from datetime import date, time

    from storage.models import Course, CourseException, CourseSlot, Enrolment

    async def make(
        *,
        slots: list[tuple[int, str, str]],
        participants: list[Participant] = (),
        exceptions: list[date] = (),
        **overrides: Any,
    ) -> Course:
        today = utcnow().date()
        values: dict[str, Any] = {
            "title": "Deutschkurs B1",
            "kind": "german_course",
            "location": "VHS Unna, Lindenplatz 1, 59423 Unna",
            "starts_on": today - timedelta(days=30),
            "ends_on": today + timedelta(days=90),
        }
        values.update(overrides)
        async with sessions.begin() as session:
            course = Course(
                **values,
                slots=[
                    CourseSlot(
                        weekday=d, start_time=time.fromisoformat(s), end_time=time.fromisoformat(e)
                    )
                    for d, s, e in slots
                ],
                exceptions=[CourseException(on_date=day) for day in exceptions],
            )
            session.add(course)
            await session.flush()
            for participant in participants:
                session.add(Enrolment(participant_id=participant.id, course_id=course.id))
        return course

    return make
