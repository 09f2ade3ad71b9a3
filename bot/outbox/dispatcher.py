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
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.outbox.render import render_outbox
from bot.plumbing.blocked import record_blocked
from bot.plumbing.delivery import Outcome, Sender, Status
from bot.plumbing.messages import Reply
from bot.plumbing.metrics import count_send
from bot.plumbing.routes import Routes
from bot.settings import Settings
from storage.models import (
    PRIORITY_REMINDER,
    Appointment,
    Broadcast,
    ChannelIdentity,
    Course,
    OutboxMessage,
    Participant,
    StaffUser,
)
from storage.outbox import claim_due, finish, finish_sent, release_claims
from storage.types import utcnow

log = logging.getLogger(__name__)

CHANNEL_ORDER = ("telegram", "signal", "web")  # where a push goes first
SEND_TIMEOUT = 60.0  # seconds; the sender's own HTTP timeouts are shorter
MAX_BACKOFF = timedelta(minutes=10)
# A push for someone who has not accepted the privacy notice waits: onboarding releases it,
# a look every CONSENT_RECHECK covers a consent given while the row was in flight, and
# it is dropped when they still have not accepted after CONSENT_WAIT.
CONSENT_WAIT = timedelta(days=14)
CONSENT_RECHECK = timedelta(minutes=10)
PIPELINE = 2  # batches in flight per process: one being sent, the next being prepared
# Subjects loaded for a whole batch at once; templates find them with session.get().
SUBJECTS = {
    "appointment": Appointment,
    "broadcast": Broadcast,
    "course": Course,
    "participant": Participant,
}


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
        self._claiming = asyncio.Lock()
        self._batches: dict[asyncio.Task[int], int] = {}  # in flight: rows in each
        self._draining: asyncio.Task[None] | None = None
        self._stopped = False

    async def tick(self) -> int:
        """Claim one batch of due rows and deliver it; how many were claimed.

        Render the batch in one read session, starting each row's send as soon as it is
        rendered (the pacer keeps the limits and the order), then record every outcome in
        one write transaction. No transaction is open while a send waits on the network.
        """
        batch = await self._start_batch()
        if batch is None:
            return 0
        return await batch

    async def drain(self, *, timeout: float | None = 30.0) -> int:  # noqa: ASYNC109
        """Deliver until nothing is due; how many rows were claimed.

        The next batch is claimed and rendered while the last one is still being sent (at
        most PIPELINE batches at once), so a long backlog flows at the pacer's pace instead
        of pausing at every batch for its record, the next claim and the next render.
        """
        async with asyncio.timeout(timeout):
            return await self._drain()

    async def run(self) -> int:
        """The scheduler's job: start draining in the background unless a drain is running.

        It returns at once, so a long broadcast never makes the scheduler skip (and warn
        about) the job's next runs; a reminder that falls due meanwhile is claimed by the
        running drain, which keeps claiming until nothing is due.
        """
        if self._stopped or (self._draining is not None and not self._draining.done()):
            return 0
        self._draining = asyncio.get_running_loop().create_task(self._drain_logged())
        return 0

    async def stop(self) -> int:
        """Take no more, let the batches in flight finish and be recorded, give back what
        this process still holds."""
        self._stopped = True
        async with self._claiming:  # a claim under way becomes a batch before we look
            pass
        if self._batches:
            await asyncio.wait(self._batches)
        if self._draining is not None:
            await asyncio.wait([self._draining])
        return await self.release()

    async def release(self) -> int:
        """Give back what this process holds (clean shutdown); how many rows."""
        async with self.sessions.begin() as session:
            return await release_claims(session, worker=self.worker)

    async def _drain(self) -> int:
        claimed = 0
        in_flight: set[asyncio.Task[int]] = set()
        try:
            while True:
                batch = None
                if len(in_flight) < PIPELINE:
                    batch = await self._start_batch()
                if batch is not None:
                    in_flight.add(batch)
                    claimed += self._batches[batch]
                    continue
                if not in_flight:
                    # Nothing due; batches another drain of this process has under way
                    # hold rows too ("until nothing is due" means recorded): wait for them.
                    others = set(self._batches)
                    if not others:
                        return claimed  # nothing due and nothing under way
                    await asyncio.wait(others)
                    continue
                # Full, or nothing due yet: a batch's record may make rows due again
                # (another chat of a blocked person), so look again once one is done.
                done, in_flight = await asyncio.wait(
                    in_flight, return_when=asyncio.FIRST_COMPLETED
                )
                for finished in done:
                    finished.result()  # a failed record ends the drain; leases expire
        finally:
            # Even when cancelled: a batch stopped between its send and its record would
            # be sent again once its lease ran out.
            if in_flight:
                await asyncio.wait(in_flight)

    async def _drain_logged(self) -> None:
        try:
            await self._drain()
        except Exception:
            log.exception("dispatching failed; the next tick tries again")

    async def _start_batch(self) -> asyncio.Task[int] | None:
        """Claim a batch and start delivering it; None when nothing is due (or stopping)."""
        async with self._claiming:
            if self._stopped:
                return None
            now = self.clock()
            lease = timedelta(seconds=self.settings.dispatch_lease_seconds)
            async with self.sessions.begin() as session:
                rows = await claim_due(
                    session,
                    now=now,
                    worker=self.worker,
                    lease_until=now + lease,
                    limit=self.settings.dispatch_batch_size,
                )
            if not rows:
                return None
            batch = asyncio.get_running_loop().create_task(self._deliver(rows, now))
            self._batches[batch] = len(rows)
            batch.add_done_callback(lambda done: self._batches.pop(done, None))
            return batch

    async def _deliver(self, rows: list[OutboxMessage], now: datetime) -> int:
        sending, results = await self._prepare(rows, now)
        results += await asyncio.gather(*sending)
        await self._record(results)
        return len(rows)

    async def _prepare(
        self, rows: list[OutboxMessage], now: datetime
    ) -> tuple[list[asyncio.Task[Result]], list[Result]]:
        """Render each row for its recipient now and start its send; the sends under way,
        and the rows decided without one (skipped, inbox, retried)."""
        catch_up = timedelta(minutes=self.settings.reminder_catch_up_minutes)
        sending: list[asyncio.Task[Result]] = []
        decided: list[Result] = []
        async with self.sessions() as session:
            chats = await self._prefetch(session, rows)
            for row in rows:
                # Rendering awaits nothing that waits (the batch is prefetched), so without
                # this a batch would hold the event loop for its whole render: replies and
                # the pacer's slots would wait for it.
                await asyncio.sleep(0)
                if row.priority >= PRIORITY_REMINDER and now - row.due_at > catch_up:
                    log.info("push %s skipped: %s late", row.id, now - row.due_at)
                    decided.append(Result(row, "skipped", error="too late"))
                    continue
                try:
                    rendered = await render_outbox(
                        session, row, routes=self.routes, tz=self.settings.tz, now=now
                    )
                    target = self._choose(chats.get(_owner(row.participant_id, row.staff_id), []))
                except Exception:  # one row's trouble must not stop the batch
                    log.exception("push %s could not be rendered; it is retried", row.id)
                    decided.append(Result(row, "pending", error="internal error", backoff=True))
                    continue
                if rendered.hold and now - row.created_at < CONSENT_WAIT:
                    log.info("push %s held: %s", row.id, rendered.skip_reason)
                    wait = min(CONSENT_RECHECK, row.created_at + CONSENT_WAIT - now)
                    decided.append(
                        Result(row, "pending", error=rendered.skip_reason, delay=wait, refund=True)
                    )
                elif rendered.reply is None:
                    log.info("push %s skipped: %s", row.id, rendered.skip_reason)
                    decided.append(Result(row, "skipped", error=rendered.skip_reason))
                elif target is None:
                    # A coach without a linked chat reads it in the admin inbox; a
                    # participant without a reachable chat cannot get it.
                    state = "inbox" if row.staff_id is not None else "skipped"
                    decided.append(Result(row, state, error="no reachable chat"))
                else:
                    send = self._send(row, *target, rendered.reply)
                    sending.append(asyncio.get_running_loop().create_task(send))
        return sending, decided

    async def _send(self, row: OutboxMessage, channel: str, chat_id: str, reply: Reply) -> Result:
        try:
            outcome = await asyncio.wait_for(
                self.senders[channel].send(chat_id, reply, priority=row.priority), SEND_TIMEOUT
            )
        except TimeoutError:
            outcome = Outcome(Status.TRANSIENT, error="send timed out", ambiguous=True)
        status = outcome.status
        count_send(channel, "push", status.value)
        if status is Status.SENT:
            return Result(row, "sent", ambiguous=outcome.ambiguous)
        if status is Status.RETRY_AFTER:
            wait = timedelta(seconds=outcome.retry_after or 1)
            return Result(row, "pending", error=outcome.error, delay=wait, refund=True)
        if status is Status.BLOCKED:
            return Result(row, "blocked", error=outcome.error, blocked=(channel, chat_id))
        if status is Status.BAD_REQUEST:
            return Result(row, "failed", error=outcome.error)
        if row.attempts >= self.settings.dispatch_max_attempts:
            return Result(row, "failed", error=outcome.error, ambiguous=outcome.ambiguous)
        return Result(
            row, "pending", error=outcome.error, backoff=True, ambiguous=outcome.ambiguous
        )

    async def _prefetch(
        self, session: AsyncSession, rows: list[OutboxMessage]
    ) -> dict[tuple[str, int | None], list[tuple[str, str]]]:
        """Load the batch's recipients and subjects in a few queries (templates then find
        them in the session without a round trip each), and each recipient's open chats."""
        people = {row.participant_id for row in rows if row.participant_id}
        staff = {row.staff_id for row in rows if row.staff_id}
        # The session's identity map holds objects weakly: keep them for the batch.
        loaded: list[Any] = []
        if people:
            query = select(Participant).where(Participant.id.in_(people))
            loaded += (await session.scalars(query)).unique().all()
        if staff:
            loaded += (
                await session.scalars(select(StaffUser).where(StaffUser.id.in_(staff)))
            ).all()
        for kind, model in SUBJECTS.items():
            ids = {row.subject_id for row in rows if row.subject_type == kind and row.subject_id}
            if ids:
                subjects = select(model).where(model.id.in_(ids))  # type: ignore[attr-defined]
                loaded += (await session.scalars(subjects)).unique().all()
        session.info["prefetched"] = loaded
        found = await session.execute(
            select(
                ChannelIdentity.participant_id,
                ChannelIdentity.staff_id,
                ChannelIdentity.channel,
                ChannelIdentity.external_id,
            )
            .where(
                or_(
                    ChannelIdentity.participant_id.in_(people), ChannelIdentity.staff_id.in_(staff)
                ),
                ChannelIdentity.blocked_at.is_(None),
            )
            .order_by(ChannelIdentity.created_at.desc())
        )
        chats: dict[tuple[str, int | None], list[tuple[str, str]]] = {}
        for participant_id, staff_id, channel, external_id in found.all():
            chats.setdefault(_owner(participant_id, staff_id), []).append((channel, external_id))
        return chats

    def _choose(self, chats: list[tuple[str, str]]) -> tuple[str, str] | None:
        """The first reachable chat on a running channel, in CHANNEL_ORDER."""
        running = [(c, e) for c, e in chats if c in self.senders]
        running.sort(
            key=lambda chat: CHANNEL_ORDER.index(chat[0]) if chat[0] in CHANNEL_ORDER else 9
        )
        return running[0] if running else None

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
        return self._choose([(channel, chat) for channel, chat in chats])

    async def _record(self, results: list[Result]) -> None:
        """Write every outcome of the batch in one transaction."""
        now = self.clock()
        # Plain successes (most of a broadcast) are written in one UPDATE; the rest one by one.
        plain: list[Result] = []
        others: list[Result] = []
        for result in results:
            simple = result.state == "sent" and not result.ambiguous and not result.error
            (plain if simple else others).append(result)
        async with self.sessions.begin() as session:
            held_ids = await finish_sent(
                session, row_ids=[r.row.id for r in plain], worker=self.worker, now=now
            )
            for result in plain:
                self.stats["sent"] += 1
                if result.row.id not in held_ids:
                    self.stats["lost_lease"] += 1
                    log.warning(
                        "push %s: lease lost before its outcome was recorded", result.row.id
                    )
            for result in others:
                row, state, refund = result.row, result.state, result.refund
                if result.blocked is not None:
                    channel, chat_id = result.blocked
                    await record_blocked(session, channel=channel, external_id=chat_id, now=now)
                    # Another chat of the same person may still reach them: try it at once.
                    if await self._target(session, row) is not None:
                        state, refund = "pending", True
                delay = result.delay
                if result.backoff:
                    delay = min(timedelta(seconds=5 * 2 ** max(row.attempts - 1, 0)), MAX_BACKOFF)
                held = await finish(
                    session,
                    row_id=row.id,
                    worker=self.worker,
                    state=state,
                    now=now,
                    error=result.error,
                    due_at=now + delay if delay is not None else None,
                    ambiguous=result.ambiguous,
                    refund_attempt=refund,
                )
                self.stats[state] += 1
                if result.ambiguous:
                    self.stats["ambiguous"] += 1
                if not held:
                    # Our lease ran out and another worker took the row: maybe sent twice.
                    self.stats["lost_lease"] += 1
                    log.warning("push %s: lease lost before its outcome was recorded", row.id)


def _owner(participant_id: int | None, staff_id: int | None) -> tuple[str, int | None]:
    """Whose chats: a staff user's or a participant's (ids of the two tables may clash)."""
    return ("staff", staff_id) if staff_id else ("participant", participant_id)


@dataclass
class Result:
    """What became of one claimed row, to be recorded."""

    row: OutboxMessage
    state: str
    error: str | None = None
    delay: timedelta | None = None
    backoff: bool = False
    refund: bool = False
    ambiguous: bool = False
    blocked: tuple[str, str] | None = None  # (channel, chat) that answered "blocked"
