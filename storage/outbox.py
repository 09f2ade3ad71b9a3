"""Queries for the outbox of pushes the dispatcher sends."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import case, delete, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import dialect_insert
from storage.models import (
    PRIORITY_BULK,
    PRIORITY_NOTICE,
    PRIORITY_REMINDER,
    PRIORITY_REPLY,
    DeliveryCount,
    OutboxMessage,
)


async def enqueue(
    session: AsyncSession,
    *,
    template: str,
    due_at: datetime,
    params: dict[str, Any] | None = None,
    participant_id: int | None = None,
    staff_id: int | None = None,
    subject: tuple[str, int] | None = None,
    dedup_key: str | None = None,
    priority: int = PRIORITY_NOTICE,
    broadcast_id: int | None = None,
) -> int | None:
    """Add a push in the caller's transaction; None if one with `dedup_key` exists already.

    Insert-if-absent on the dedup key (`ON CONFLICT`): two producers racing on one key never
    abort each other's transaction, on PostgreSQL and SQLite alike. A cancelled row counts
    as absent and is made pending again (a course unmuted, an appointment moved back).
    """
    if (participant_id is None) == (staff_id is None):
        raise ValueError("a push has exactly one recipient: a participant or a staff user")
    subject_type, subject_id = subject if subject is not None else (None, None)
    insert = dialect_insert(session)
    new = insert(OutboxMessage)
    statement = (
        new.values(
            template=template,
            params=params or {},
            due_at=due_at,
            participant_id=participant_id,
            staff_id=staff_id,
            subject_type=subject_type,
            subject_id=subject_id,
            dedup_key=dedup_key,
            priority=priority,
            broadcast_id=broadcast_id,
        )
        .on_conflict_do_update(
            index_elements=[OutboxMessage.dedup_key],
            set_={
                "state": "pending",
                "due_at": new.excluded.due_at,
                "params": new.excluded.params,
                "attempts": 0,
                "last_error": None,
            },
            where=OutboxMessage.state == "cancelled",
        )
        .returning(OutboxMessage.id)
    )
    return await session.scalar(statement)


WAITING_FOR_CONSENT = "waiting for the privacy notice"  # last_error of a held row


async def release_held(session: AsyncSession, *, participant_id: int, now: datetime) -> int:
    """Make a participant's pushes held for their consent due now; how many rows."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.participant_id == participant_id,
            OutboxMessage.state == "pending",
            OutboxMessage.last_error == WAITING_FOR_CONSENT,
        )
        .values(due_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


PRIORITIES = (PRIORITY_REPLY, PRIORITY_NOTICE, PRIORITY_REMINDER, PRIORITY_BULK)


async def claim_due(
    session: AsyncSession,
    *,
    now: datetime,
    worker: str,
    lease_until: datetime,
    limit: int,
) -> list[OutboxMessage]:
    """Take up to `limit` due rows for this worker, most urgent first, under a lease.

    Rows whose lease ran out (a dead worker's) are taken again first. Each priority is
    read from the partial index `(priority, due_at) WHERE state = 'pending'` in due order,
    so a tick that finds nothing due touches a few index pages however many rows wait.
    On PostgreSQL the rows are locked with SKIP LOCKED, so several processes never take the
    same row; on SQLite writes are serialised and the UPDATE's own condition decides.
    """
    claimed: list[OutboxMessage] = []
    expired = (OutboxMessage.state == "claimed", OutboxMessage.lease_until < now)
    # A dead worker may have sent a row and died before recording it: taken again, such a row
    # may reach its chat twice, and is counted as ambiguous.
    claimed += await _take(session, expired, None, now, worker, lease_until, limit, ambiguous=True)
    for priority in PRIORITIES:
        if len(claimed) >= limit:
            break
        due = (
            OutboxMessage.state == "pending",
            OutboxMessage.priority == priority,
            OutboxMessage.due_at <= now,
        )
        taken = await _take(
            session, due, OutboxMessage.due_at, now, worker, lease_until, limit - len(claimed)
        )
        claimed += taken
    return claimed


async def _take(
    session: AsyncSession,
    condition: tuple[Any, ...],
    order: Any,
    now: datetime,
    worker: str,
    lease_until: datetime,
    limit: int,
    *,
    ambiguous: bool = False,
) -> list[OutboxMessage]:
    # Ids first, then the UPDATE: PostgreSQL may run an `IN (SELECT ... LIMIT n SKIP LOCKED)`
    # subquery more than once and so take more than n rows. The UPDATE repeats the
    # condition, so on SQLite a row another process took in between is left alone.
    query = select(OutboxMessage.id).where(*condition).limit(limit)
    if order is not None:
        query = query.order_by(order)
    ids = list((await session.scalars(query.with_for_update(skip_locked=True))).all())
    if not ids:
        return []
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), *condition)
        .values(
            state="claimed",
            claimed_by=worker,
            lease_until=lease_until,
            attempts=OutboxMessage.attempts + 1,
            **({"ambiguous": OutboxMessage.ambiguous + 1} if ambiguous else {}),
        )
        .returning(OutboxMessage)
        .execution_options(synchronize_session=False)
    )
    rows = list((await session.scalars(statement)).all())
    return sorted(rows, key=lambda row: (row.priority, row.due_at))


async def finish_sent(
    session: AsyncSession, *, row_ids: list[int], worker: str, now: datetime
) -> set[int]:
    """Record many plain successes in one UPDATE; the ids this worker still held."""
    if not row_ids:
        return set()
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(row_ids),
            OutboxMessage.claimed_by == worker,
            OutboxMessage.state == "claimed",
        )
        .values(state="sent", lease_until=None, sent_at=now)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    return set(result.scalars().all())


async def finish(
    session: AsyncSession,
    *,
    row_id: int,
    worker: str,
    state: str,
    now: datetime,
    error: str | None = None,
    due_at: datetime | None = None,
    ambiguous: bool = False,
    refund_attempt: bool = False,
) -> bool:
    """Record what became of a claimed row; False if this worker no longer held it.

    `state` "pending" with `due_at` reschedules it (a retry); the lease is released.
    """
    # A finished row keeps the name of the worker that finished it (who sent it).
    values: dict[str, Any] = {"state": state, "lease_until": None}
    if state == "pending":
        values["claimed_by"] = None
    if state == "sent":
        values["sent_at"] = now
    if error is not None:
        values["last_error"] = error[:200]
    if due_at is not None:
        values["due_at"] = due_at
    if ambiguous:
        values["ambiguous"] = OutboxMessage.ambiguous + 1
    if refund_attempt:
        values["attempts"] = OutboxMessage.attempts - 1
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == row_id,
            OutboxMessage.claimed_by == worker,
            OutboxMessage.state == "claimed",
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release_claims(session: AsyncSession, *, worker: str) -> int:
    """Give back every row this worker holds (a clean shutdown); how many."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.claimed_by == worker, OutboxMessage.state == "claimed")
        .values(state="pending", claimed_by=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def cancel_pending(
    session: AsyncSession,
    *,
    subject: tuple[str, int],
    template: str,
    keep: set[str] | None = None,
    participant_id: int | None = None,
    reason: str | None = None,
) -> int:
    """Cancel the pending pushes of one template about one subject, except `keep` keys;
    `reason` is kept as the row's last error, for the delivery report and the logs."""
    query = update(OutboxMessage).where(
        OutboxMessage.subject_type == subject[0],
        OutboxMessage.subject_id == subject[1],
        OutboxMessage.template == template,
        OutboxMessage.state == "pending",
    )
    if participant_id is not None:
        query = query.where(OutboxMessage.participant_id == participant_id)
    if keep:
        query = query.where(OutboxMessage.dedup_key.not_in(keep))
    result = await session.execute(
        query.values(state="cancelled", last_error=reason).execution_options(
            synchronize_session=False
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def prune(session: AsyncSession, *, before: datetime) -> int:
    """Delete finished rows created before `before`, adding them to the daily counts first."""
    finished = ("sent", "skipped", "failed", "blocked", "cancelled")
    old = (
        OutboxMessage.state.in_(finished),
        OutboxMessage.created_at < before,
    )
    day = func.date(OutboxMessage.created_at)
    groups = (
        await session.execute(
            select(day, OutboxMessage.template, OutboxMessage.state, func.count())
            .where(*old)
            .group_by(day, OutboxMessage.template, OutboxMessage.state)
        )
    ).all()
    for on_day, template, state, count in groups:
        on_date = on_day if isinstance(on_day, date) else date.fromisoformat(str(on_day))
        existing = await session.scalar(
            select(DeliveryCount).where(
                DeliveryCount.day == on_date,
                DeliveryCount.template == template,
                DeliveryCount.state == state,
            )
        )
        if existing is None:
            session.add(DeliveryCount(day=on_date, template=template, state=state, count=count))
        else:
            existing.count += count
    result = await session.execute(
        delete(OutboxMessage).where(*old).execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def backlog(session: AsyncSession, *, now: datetime) -> list[tuple[str, str, int]]:
    """Unfinished pushes as (template, state, rows); state "due" (pending, due now),
    "planned" (pending, due later) or "claimed" (a dispatcher holds them).

    Each state is read through its partial index, so the finished rows (kept for
    OUTBOX_RETENTION_DAYS) are not scanned.
    """
    found: list[tuple[str, str, int]] = []
    due = case((OutboxMessage.due_at <= now, "due"), else_="planned")
    for state, name in (("pending", due), ("claimed", literal("claimed"))):
        rows = await session.execute(
            select(OutboxMessage.template, name, func.count())
            .where(OutboxMessage.state == state)
            .group_by(OutboxMessage.template, name)
        )
        found += [(template, label, int(count)) for template, label, count in rows.all()]
    return found


async def oldest_due(session: AsyncSession, *, now: datetime) -> datetime | None:
    """When the longest-waiting due push became due (None when none waits)."""
    return await session.scalar(
        select(func.min(OutboxMessage.due_at)).where(
            OutboxMessage.state == "pending", OutboxMessage.due_at <= now
        )
    )
