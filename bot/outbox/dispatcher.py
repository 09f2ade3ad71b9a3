"""The dispatcher: claims due outbox rows, renders each for its recipient now, sends it
through the recipient's channel and records what happened.

One tick claims a small batch under a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
UPDATE's own condition on SQLite), so several processes can dispatch from one database and
a dead process's rows are taken again when its lease runs out. Nothing talks to the network
while a transaction is open: render (read), send, then record (write).

Exactly once, bounded: a row is marked sent only after the platform said so; a crash
between the send and the record, or a timeout after which the message may have arrived,
can give one duplicate. Those rows are counted in `ambiguous` and in `stats`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox.render import render_outbox
from bot.plumbing.blocked import record_blocked
from bot.plumbing.delivery import Outcome, Sender, Status
from bot.plumbing.routes import Routes
from bot.settings import Settings
from storage.models import PRIORITY_REMINDER, ChannelIdentity, OutboxMessage
from storage.outbox import claim_due, finish, release_claims
from storage.types import utcnow

log = logging.getLogger(__name__)

CHANNEL_ORDER = ("telegram", "signal", "web")  # where a push goes first
SEND_TIMEOUT = 60.0  # seconds; the sender's own HTTP timeouts are shorter
MAX_BACKOFF = timedelta(minutes=10)


def worker_name() -> str:
    """A name for this process's claims: host, pid and a random part."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Dispatcher:
    """Sends what is due; call `tick()` periodically (APScheduler does, see bot/app.py)."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        routes: Routes,
        settings: Settings,
        senders: Mapping[str, Sender],
        clock: Callable[[], datetime] = utcnow,
        worker: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.routes = routes
        self.settings = settings
        self.senders = senders
        self.clock = clock
        self.worker = worker or worker_name()
        self.stats: Counter[str] = Counter()
        self._lock = asyncio.Lock()

    async def tick(self) -> int:
        """Claim one batch of due rows and deliver them; how many were claimed."""
        async with self._lock:  # one batch at a time per process
            now = self.clock()
            lease = timedelta(seconds=self.settings.dispatch_lease_seconds)
            async with self.sessions.begin() as session:
                rows = await claim_due(
                    session,
                    now=now,
                    worker=self.worker,
                    lease_until=now + lease,
                    limit=self.settings.dispatch_batch,
                )
            if rows:
                await asyncio.gather(*(self._deliver(row) for row in rows))
            return len(rows)

    async def drain(self, *, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Tick until nothing is due (tests and the command line)."""
        async with asyncio.timeout(timeout):
            while await self.tick():
                pass

    async def stop(self) -> int:
        """Wait for a batch in flight, then give back what this process still holds."""
        async with self._lock:
            return await self.release()

    async def release(self) -> int:
        """Give back what this process holds (clean shutdown); how many rows."""
        async with self.sessions.begin() as session:
            return await release_claims(session, worker=self.worker)

    async def _deliver(self, row: OutboxMessage) -> None:
        try:
            await self._deliver_one(row)
        except Exception:  # one row's trouble must not stop the batch
            log.exception("push %s failed unexpectedly; it is retried", row.id)
            await self._record(row, "pending", error="internal error", backoff=True)

    async def _deliver_one(self, row: OutboxMessage) -> None:
        now = self.clock()
        catch_up = timedelta(minutes=self.settings.reminder_catch_up_minutes)
        if row.priority >= PRIORITY_REMINDER and now - row.due_at > catch_up:
            log.info("push %s skipped: %s late", row.id, now - row.due_at)
            await self._record(row, "skipped", error="too late")
            return
        async with self.sessions() as session:
            rendered = await render_outbox(
                session, row, routes=self.routes, tz=self.settings.tz, now=now
            )
            target = await self._target(session, row) if rendered.reply else None
        if rendered.reply is None:
            log.info("push %s skipped: %s", row.id, rendered.skip_reason)
            await self._record(row, "skipped", error=rendered.skip_reason)
            return
        if target is None:
            # A coach without a linked chat reads it in the admin inbox; a participant
            # without a reachable chat cannot get it.
            state = "inbox" if row.staff_id is not None else "skipped"
            await self._record(row, state, error="no reachable chat")
            return
        channel, chat_id = target
        try:
            outcome = await asyncio.wait_for(
                self.senders[channel].send(chat_id, rendered.reply, priority=row.priority),
                SEND_TIMEOUT,
            )
        except TimeoutError:
            outcome = Outcome(Status.TRANSIENT, error="send timed out", ambiguous=True)
        await self._outcome(row, channel, chat_id, outcome)

    async def _target(self, session: AsyncSession, row: OutboxMessage) -> tuple[str, str] | None:
        """The recipient's first reachable chat on a running channel."""
        owner = (
            ChannelIdentity.staff_id == row.staff_id
            if row.staff_id is not None
            else ChannelIdentity.participant_id == row.participant_id
        )
        chats = (
            await session.execute(
                select(ChannelIdentity.channel, ChannelIdentity.external_id)
                .where(owner, ChannelIdentity.blocked_at.is_(None))
                .order_by(ChannelIdentity.created_at.desc())
            )
        ).all()
        running = [(c, e) for c, e in chats if c in self.senders]
        running.sort(
            key=lambda chat: CHANNEL_ORDER.index(chat[0]) if chat[0] in CHANNEL_ORDER else 9
        )
        return running[0] if running else None

    async def _outcome(
        self, row: OutboxMessage, channel: str, chat_id: str, outcome: Outcome
    ) -> None:
        status = outcome.status
        if status is Status.SENT:
            await self._record(row, "sent", ambiguous=outcome.ambiguous)
        elif status is Status.RETRY_AFTER:
            wait = timedelta(seconds=outcome.retry_after or 1)
            await self._record(row, "pending", error=outcome.error, delay=wait, refund=True)
        elif status is Status.BLOCKED:
            async with self.sessions.begin() as session:
                await record_blocked(
                    session, channel=channel, external_id=chat_id, now=self.clock()
                )
            # Another chat of the same person may still reach them: try again at once.
            async with self.sessions() as session:
                other = await self._target(session, row)
            state = "pending" if other is not None else "blocked"
            await self._record(row, state, error=outcome.error, refund=other is not None)
        elif status is Status.BAD_REQUEST:
            await self._record(row, "failed", error=outcome.error)
        elif row.attempts >= self.settings.dispatch_max_attempts:
            await self._record(row, "failed", error=outcome.error, ambiguous=outcome.ambiguous)
        else:
            await self._record(
                row, "pending", error=outcome.error, backoff=True, ambiguous=outcome.ambiguous
            )

    async def _record(
        self,
        row: OutboxMessage,
        state: str,
        *,
        error: str | None = None,
        delay: timedelta | None = None,
        backoff: bool = False,
        refund: bool = False,
        ambiguous: bool = False,
    ) -> None:
        now = self.clock()
        if backoff:
            delay = min(timedelta(seconds=5 * 2 ** max(row.attempts - 1, 0)), MAX_BACKOFF)
        async with self.sessions.begin() as session:
            held = await finish(
                session,
                row_id=row.id,
                worker=self.worker,
                state=state,
                now=now,
                error=error,
                due_at=now + delay if delay is not None else None,
                ambiguous=ambiguous,
                refund_attempt=refund,
            )
        self.stats[state] += 1
        if ambiguous:
            self.stats["ambiguous"] += 1
        if not held:
            # Our lease ran out and another worker took the row: it may be sent twice.
            self.stats["lost_lease"] += 1
            log.warning("push %s: lease lost before its outcome was recorded", row.id)
