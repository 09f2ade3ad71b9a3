"""Read-only queries for the staff overview pages (dashboard, lists, inbox, audit log).

Every query takes `coach_id`: a coach's id limits it to their own participants; None (an
admin) means everyone.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Appointment,
    AuditEntry,
    ChannelIdentity,
    CoachMessage,
    Course,
    Enrolment,
    HandoverRequest,
    OutboxMessage,
    Participant,
)
from storage.states import OutboxState


def _reachable() -> Any:
    """A participant with at least one chat that has not blocked the bot."""
    return exists().where(
        ChannelIdentity.participant_id == Participant.id, ChannelIdentity.blocked_at.is_(None)
    )


def _scoped(query: Any, coach_id: int | None) -> Any:
    return query if coach_id is None else query.where(Participant.coach_id == coach_id)


async def appointments_between(
    session: AsyncSession, *, coach_id: int | None, start: datetime, end: datetime
) -> list[tuple[Appointment, Participant]]:
    """Appointments (not cancelled) starting in [start, end), with their participant."""
    query = (
        select(Appointment, Participant)
        .join(Participant, Participant.id == Appointment.participant_id)
        .where(
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.cancelled_at.is_(None),
            Participant.status != "deleted",
        )
        .order_by(Appointment.starts_at)
    )
    rows = await session.execute(_scoped(query, coach_id))
    return [(a, p) for a, p in rows.unique().all()]


async def unreachable_participants(
    session: AsyncSession, *, coach_id: int | None, limit: int = 50
) -> list[Participant]:
    """Active participants no chat reaches: never joined, or every chat blocked the bot."""
    query = (
        select(Participant)
        .where(Participant.status == "active", ~_reachable())
        .order_by(Participant.display_name)
        .limit(limit)
    )
    return list((await session.scalars(_scoped(query, coach_id))).unique())


async def open_handovers(session: AsyncSession, *, coach_id: int | None) -> int:
    """How many hand-over requests wait for staff."""
    query = (
        select(func.count())
        .select_from(HandoverRequest)
        .join(Participant, Participant.id == HandoverRequest.participant_id)
        .where(HandoverRequest.status == "open")
    )
    return int(await session.scalar(_scoped(query, coach_id)) or 0)


async def answers_per_week(
    session: AsyncSession, *, coach_id: int | None, first: date, weeks: int, tz: Any
) -> list[tuple[date, Counter[str]]]:
    """For each week from the Monday `first`: answers of its appointments (confirmed,
    declined, reschedule, none)."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    end = start + timedelta(weeks=weeks)
    query = (
        select(Appointment.starts_at, Appointment.response)
        .join(Participant, Participant.id == Appointment.participant_id)
        .where(
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
            Appointment.cancelled_at.is_(None),
        )
    )
    counts = [Counter[str]() for _ in range(weeks)]
    for starts_at, response in await session.execute(_scoped(query, coach_id)):
        index = (starts_at.astimezone(tz).date() - first).days // 7
        if 0 <= index < weeks:
            counts[index][response or "none"] += 1
    return [(first + timedelta(weeks=i), counts[i]) for i in range(weeks)]


async def search_participants(
    session: AsyncSession,
    *,
    coach_id: int | None,
    text: str = "",
    module_id: int | None = None,
    filter_coach_id: int | None = None,
    locale: str | None = None,
    status: str | None = None,
    reachable: bool | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Participant], int]:
    """One page of participants matching the filters, and how many match in all."""
    query = select(Participant).where(Participant.status != "deleted")
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Participant.display_name.ilike(f"%{escaped}%", escape="\\"))
    if module_id is not None:
        query = query.where(Participant.module_id == module_id)
    if filter_coach_id is not None:
        query = query.where(Participant.coach_id == filter_coach_id)
    if locale:
        query = query.where(Participant.locale == locale)
    if status:
        query = query.where(Participant.status == status)
    if reachable is not None:
        query = query.where(_reachable() if reachable else ~_reachable())
    query = _scoped(query, coach_id)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    page = await session.scalars(
        query.order_by(Participant.display_name, Participant.id).offset(offset).limit(limit)
    )
    return list(page.unique()), int(total or 0)


async def chats_of(
    session: AsyncSession, *, participant_ids: list[int]
) -> dict[int, list[ChannelIdentity]]:
    """Each participant's chats (channel, blocked or not)."""
    if not participant_ids:
        return {}
    found: dict[int, list[ChannelIdentity]] = {pid: [] for pid in participant_ids}
    for identity in await session.scalars(
        select(ChannelIdentity).where(ChannelIdentity.participant_id.in_(participant_ids))
    ):
        found[identity.participant_id or 0].append(identity)
    return found


async def appointments_of(
    session: AsyncSession, *, participant_id: int, since: datetime
) -> list[Appointment]:
    """A participant's appointments from `since` on, cancelled ones included."""
    return list(
        await session.scalars(
            select(Appointment)
            .where(Appointment.participant_id == participant_id, Appointment.starts_at >= since)
            .order_by(Appointment.starts_at)
        )
    )


async def courses_for(session: AsyncSession, *, coach_id: int | None) -> list[Course]:
    """Courses, newest first; a coach's own only."""
    query = select(Course).order_by(Course.starts_on.desc(), Course.title)
    if coach_id is not None:
        query = query.where(Course.coach_id == coach_id)
    return list((await session.scalars(query)).unique())


async def course_members(session: AsyncSession, *, course_id: int) -> list[Participant]:
    """The participants enrolled in a course."""
    return list(
        (
            await session.scalars(
                select(Participant)
                .join(Enrolment, Enrolment.participant_id == Participant.id)
                .where(Enrolment.course_id == course_id, Participant.status != "deleted")
                .order_by(Participant.display_name)
            )
        ).unique()
    )


async def inbox_rows(
    session: AsyncSession, *, staff_id: int, unread_only: bool = False, limit: int = 100
) -> list[OutboxMessage]:
    """Notices for a staff user without a linked chat: unread first, newest first."""
    states = ("inbox",) if unread_only else ("inbox", "read")
    return list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.staff_id == staff_id, OutboxMessage.state.in_(states))
            .order_by(OutboxMessage.state, OutboxMessage.created_at.desc())
            .limit(limit)
        )
    )


async def answers_to(
    session: AsyncSession, *, message_ids: list[int]
) -> dict[int, list[CoachMessage]]:
    """Staff answers to participants' messages, oldest first, by the message they answer."""
    found: dict[int, list[CoachMessage]] = {}
    if not message_ids:
        return found
    for answer in await session.scalars(
        select(CoachMessage)
        .where(CoachMessage.reply_to_id.in_(message_ids), CoachMessage.direction == "out")
        .order_by(CoachMessage.created_at, CoachMessage.id)
    ):
        found.setdefault(answer.reply_to_id or 0, []).append(answer)
    return found


async def mark_read(session: AsyncSession, *, staff_id: int, upto_id: int) -> int:
    """Mark a staff user's unread notices up to `upto_id` (those they were shown) read;
    how many."""
    rows = await session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.staff_id == staff_id,
            OutboxMessage.state == "inbox",
            OutboxMessage.id <= upto_id,
        )
    )
    marked = 0
    for row in rows:
        row.state = OutboxState.READ
        marked += 1
    return marked


async def unread_count(session: AsyncSession, *, staff_id: int) -> int:
    """How many notices wait unread in a staff user's inbox."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.staff_id == staff_id, OutboxMessage.state == "inbox")
        )
        or 0
    )


async def audit_entries(
    session: AsyncSession,
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[AuditEntry]:
    """Audit entries, newest first, filtered by actor, action prefix and object."""
    query = select(AuditEntry)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset(offset).limit(limit)
    return list(await session.scalars(query))


async def outcome_counts(
    session: AsyncSession, *, coach_id: int | None = None
) -> dict[int | None, Counter[str]]:
    """Per module (None: no module): "reached" (everyone ever enrolled, erased people
    included), "supported_at_end" (an outcome was recorded) and one count per outcome."""
    query = select(Participant.module_id, Participant.outcome)
    if coach_id is not None:
        query = query.where(Participant.coach_id == coach_id)
    counts: dict[int | None, Counter[str]] = {}
    for module_id, outcome in await session.execute(query):
        counter = counts.setdefault(module_id, Counter())
        counter["reached"] += 1
        if outcome:
            counter["supported_at_end"] += 1
            counter[outcome] += 1
    return counts


async def handover_requests(
    session: AsyncSession, *, coach_id: int | None, limit: int = 200
) -> list[tuple[HandoverRequest, Participant]]:
    """Hand-over requests with consent (open first, then the latest handled ones)."""
    query = (
        select(HandoverRequest, Participant)
        .join(Participant, Participant.id == HandoverRequest.participant_id)
        .where(HandoverRequest.status.in_(("open", "done", "withdrawn")))
        .order_by(HandoverRequest.status != "open", HandoverRequest.created_at.desc())
        .limit(limit)
    )
    rows = await session.execute(_scoped(query, coach_id))
    return [(r, p) for r, p in rows.unique().all()]
