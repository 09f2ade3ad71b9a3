"""The processes sending with one bot token, on PostgreSQL: each writes a heartbeat, and
counts the others that wrote one within the lease. Times are the database's (`now()`), so
the processes' clocks need not agree."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SendShare

FORGET = timedelta(hours=1)  # rows of processes gone this long are deleted


async def beat(
    session: AsyncSession, *, process: str, held_seconds: float, lease: timedelta
) -> tuple[int, float]:
    """Record that `process` is alive (and held for `held_seconds` by a 429); the number of
    live processes (itself included) and the longest hold any of them has, in seconds."""
    # One beat at a time: two processes that start together would otherwise each miss the
    # other's uncommitted row and both spend the whole budget until their next beat.
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext("send_shares"))))
    now = func.now()
    held = now + timedelta(seconds=held_seconds) if held_seconds > 0 else None
    await session.execute(
        insert(SendShare)
        .values(process=process, seen_at=now, held_until=held)
        .on_conflict_do_update(
            index_elements=[SendShare.process], set_={"seen_at": now, "held_until": held}
        )
    )
    await session.execute(delete(SendShare).where(SendShare.seen_at < now - FORGET))
    alive, hold = (
        await session.execute(
            select(
                func.count(),
                func.extract("epoch", func.max(SendShare.held_until) - now),
            ).where(SendShare.seen_at > now - lease)
        )
    ).one()
    return int(alive), max(float(hold or 0.0), 0.0)


async def leave(session: AsyncSession, *, process: str, lease: timedelta, linger: float) -> None:
    """`process` stops sending: the others count it for `linger` more seconds (its last
    sends are still in the platform's window), then take its share."""
    await session.execute(
        update(SendShare)
        .where(SendShare.process == process)
        .values(seen_at=func.now() - lease + timedelta(seconds=linger))
    )
