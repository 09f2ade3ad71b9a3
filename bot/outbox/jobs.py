"""The periodic work of one process, on one APScheduler 3 AsyncIOScheduler: the dispatcher
tick (never one job per reminder), every feature's jobs, and outbox retention."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox.dispatcher import Dispatcher
from bot.plumbing.routes import Job, JobContext, Routes
from bot.settings import Settings
from storage.outbox import prune
from storage.signal_menus import prune_menus
from storage.staff import prune_web_sessions
from storage.throttles import prune as prune_throttles
from storage.types import utcnow
from storage.webchat import prune_webchat

log = logging.getLogger(__name__)


def build_scheduler(
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    routes: Routes,
    dispatcher: Dispatcher,
) -> AsyncIOScheduler:
    """A scheduler with the dispatcher tick, the features' jobs and retention; not started."""
    scheduler = AsyncIOScheduler(timezone=settings.tz)
    common = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 60}
    scheduler.add_job(
        _quiet(dispatcher.run, "dispatcher tick"),
        IntervalTrigger(seconds=settings.dispatch_interval_seconds),
        id="dispatcher",
        **common,
    )
    for job in routes.jobs:
        trigger: IntervalTrigger | CronTrigger
        if job.daily_at is not None:
            at = getattr(settings, job.daily_at)
            hour, minute = str(at).split(":")[:2]
            trigger = CronTrigger(hour=int(hour), minute=int(minute), timezone=settings.tz)
            first = None
        else:
            trigger = IntervalTrigger(seconds=job.every or 300)
            first = utcnow()  # plan at start, then every interval
        scheduler.add_job(
            _quiet(_bind(job, sessions, settings), job.name),
            trigger,
            id=job.name,
            next_run_time=first,
            **common,
        )
    scheduler.add_job(
        _quiet(_retention(sessions, settings), "outbox retention"),
        CronTrigger(hour=3, minute=30, timezone=settings.tz),
        id="outbox retention",
        **common,
    )
    return scheduler


def _bind(
    job: Job, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> Callable[[], Awaitable[int]]:
    async def run() -> int:
        return await job.run(JobContext(sessions, settings, utcnow()))

    return run


def _retention(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> Callable[[], Awaitable[int]]:
    async def run() -> int:
        """Prune finished rows after OUTBOX_RETENTION_DAYS (their counts are kept), expired
        staff logins and throttle counts older than a day."""
        now = utcnow()
        before = now - timedelta(days=settings.outbox_retention_days)
        async with sessions.begin() as session:
            pruned = await prune(session, before=before)
            chats = now - timedelta(days=settings.webchat_retention_days)
            pruned += await prune_webchat(session, before=chats)
            pruned += await prune_menus(session, before=chats)
            pruned += await prune_throttles(session, now=now)
            return pruned + await prune_web_sessions(session, now=now)

    return run


def _quiet(run: Callable[[], Awaitable[int]], name: str) -> Callable[[], Awaitable[None]]:
    """Log a job's failure with its traceback; the next run tries again."""

    async def wrapped() -> None:
        try:
            done = await run()
        except Exception:
            log.exception("job %s failed", name)
        else:
            if done and name != "dispatcher tick":
                log.info("job %s: %d", name, done)

    return wrapped
