"""Counted tries of the throttles (logins, wrong invite codes), in the database so that every
process and every restart sees the same count.

A try is counted under a lock on its key (PostgreSQL: an advisory lock for the transaction;
SQLite: the write lock the first DELETE takes), so parallel tries from several processes
cannot all read "four so far" and all pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ThrottleHit

KEEP = timedelta(days=1)  # longer than any throttle's window


async def _lock(session: AsyncSession, scope: str, key: str, now: datetime) -> None:
    """Serialise tries on one key, and drop its rows too old to count."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"{scope}:{key}"))))
    # Also the first write of the transaction on SQLite: from here it holds the write lock.
    await session.execute(
        delete(ThrottleHit).where(
            ThrottleHit.scope == scope, ThrottleHit.key == key, ThrottleHit.at < now - KEEP
        )
    )


async def count(session: AsyncSession, *, scope: str, key: str, since: datetime) -> int:
    """Tries on this key after `since`."""
    return (
        await session.scalar(
            select(func.count())
            .select_from(ThrottleHit)
            .where(ThrottleHit.scope == scope, ThrottleHit.key == key, ThrottleHit.at > since)
        )
        or 0
    )


async def take(
    session: AsyncSession, *, scope: str, key: str, limit: int, since: datetime, now: datetime
) -> int | None:
    """Count one try unless `limit` tries after `since` are counted already: the new row's id,
    or None (a refused try is not counted, so waiting out the window always helps)."""
    await _lock(session, scope, key, now)
    if await count(session, scope=scope, key=key, since=since) >= limit:
        return None
    hit = ThrottleHit(scope=scope, key=key, at=now)
    session.add(hit)
    await session.flush()
    return hit.id


async def add(session: AsyncSession, *, scope: str, key: str, now: datetime) -> None:
    """Count one try whatever the count (e.g. a wrong code that was checked)."""
    await _lock(session, scope, key, now)
    session.add(ThrottleHit(scope=scope, key=key, at=now))


async def forget(session: AsyncSession, ids: Iterable[int]) -> None:
    """Take these counted tries back (a login that turned out right)."""
    wanted = list(ids)
    if wanted:
        await session.execute(delete(ThrottleHit).where(ThrottleHit.id.in_(wanted)))


async def clear(session: AsyncSession, *, scope: str, prefix: str) -> int:
    """Forget every try whose key begins with `prefix` (an admin lifts a lock); how many."""
    result = await session.execute(
        delete(ThrottleHit).where(ThrottleHit.scope == scope, ThrottleHit.key.startswith(prefix))
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def most(session: AsyncSession, *, scope: str, prefix: str, since: datetime) -> int:
    """The most tries after `since` on any one key that begins with `prefix`."""
    counts = await session.scalars(
        select(func.count())
        .where(
            ThrottleHit.scope == scope, ThrottleHit.key.startswith(prefix), ThrottleHit.at > since
        )
        .group_by(ThrottleHit.key)
    )
    return max(counts.all(), default=0)


async def prune(session: AsyncSession, *, now: datetime) -> int:
    """Delete tries older than any window (the retention job)."""
    result = await session.execute(delete(ThrottleHit).where(ThrottleHit.at < now - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)
