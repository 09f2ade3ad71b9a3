"""One Telegram budget per bot token, however many processes send with it (PostgreSQL).

Every process writes a heartbeat row (`storage.send_shares`) each HEARTBEAT seconds and
paces at 1/N of the limits, N being the processes whose heartbeat is younger than LEASE. A
process that starts while others send waits until they have seen it and their last second
at the larger share has passed; one that stops lingers in the count for a WINDOW; one that
dies (SIGKILL, a lost machine) drops out after LEASE and the others take its part. A 429
that one process gets holds all of them, from their next heartbeat.

Why shares and not one elected sender: replies go out from whichever process received the
update (several in webhook mode), so they must come out of the same budget as the pushes;
and with shares a standby process does useful work instead of waiting for a lock. SQLite
has one process, which keeps the whole budget.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.plumbing.pacer import WINDOW, Pacer
from storage import send_shares

log = logging.getLogger(__name__)

HEARTBEAT = 1.0  # seconds between heartbeats
LEASE = timedelta(seconds=5)  # a process silent this long is counted out (failover time)
BEAT_TIMEOUT = 3.0  # one heartbeat's database round trip may take this long


class SharedBudget:
    """Splits the pacers' rates among the live processes of one bot token."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        pacers: Sequence[Pacer],
        heartbeat: float = HEARTBEAT,
        lease: timedelta = LEASE,
    ) -> None:
        self.sessions = sessions
        self.pacers = list(pacers)
        self.heartbeat = heartbeat
        self.lease = lease
        self.process = secrets.token_hex(16)
        self.processes = 1
        self._task: asyncio.Task[None] | None = None
        self._last_beat = 0.0

    async def start(self) -> None:
        """Join: count the others, and if there are any, send nothing until they have seen
        this process (a heartbeat) and spent out their last window at the larger share."""
        await self._beat()
        if self.processes > 1:
            for pacer in self.pacers:
                pacer.hold(2 * self.heartbeat + WINDOW)
        log.info("Telegram budget: %d sending processes share it", self.processes)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Leave: the others take this process's share once its last window has passed."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            async with asyncio.timeout(BEAT_TIMEOUT), self.sessions.begin() as session:
                await send_shares.leave(
                    session, process=self.process, lease=self.lease, linger=WINDOW + 0.1
                )
        except Exception as error:  # the row expires after the lease anyway
            log.warning("Telegram budget: could not leave (%s)", type(error).__name__)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                await self._beat()
            except Exception as error:
                log.warning("Telegram budget: heartbeat failed (%s)", type(error).__name__)
                if loop.time() - self._last_beat > self.lease.total_seconds() - self.heartbeat:
                    # The others may count this process out soon and take its share: stop
                    # sending until a heartbeat gets through again.
                    for pacer in self.pacers:
                        pacer.hold(self.heartbeat)

    async def _beat(self) -> None:
        held = self.pacers[0].held_for if self.pacers else 0.0
        async with asyncio.timeout(BEAT_TIMEOUT), self.sessions.begin() as session:
            alive, hold = await send_shares.beat(
                session, process=self.process, held_seconds=held, lease=self.lease
            )
        self._last_beat = asyncio.get_running_loop().time()
        if alive != self.processes:
            log.info("Telegram budget: now shared by %d processes", alive)
        self.processes = alive
        for pacer in self.pacers:
            pacer.divide(alive)
        if hold > held + 0.05 and self.pacers:
            self.pacers[0].hold(hold)  # another process got a 429
