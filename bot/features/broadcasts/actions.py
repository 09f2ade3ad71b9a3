"""Broadcast use cases: who is in a segment, the content, queueing, cancelling, counts.

A coach reaches only their own participants and courses; the admin role reaches everyone.
Only active participants who accepted the privacy notice, have a chat that has not
blocked the bot, and have not sent /stop are recipients.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import BY_CODE, N_
from bot.plumbing.errors import UserError
from bot.plumbing.ownership import may_act_for
from storage import audit
from storage.models import (
    PRIORITY_BULK,
    Appointment,
    Broadcast,
    ChannelIdentity,
    Course,
    Enrolment,
    OutboxMessage,
    Participant,
    StaffUser,
)
from storage.outbox import cancel_pending, enqueue
from storage.states import BroadcastState

MESSAGE = "broadcast.message"  # the outbox template of one recipient's copy
MAX_TEXT = 1000

# Templates with placeholders, rendered in each recipient's language; "date" is a day,
# "place" is typed by staff and shown as written.
# TRANSLATORS: broadcast to participants; {date} is a weekday and date.
COURSE_CANCELLED = N_("Your course on {date} is cancelled.")
# TRANSLATORS: broadcast to participants; {place} is a room or an address, as staff wrote it.
ROOM_CHANGED = N_("Your course has a new room: {place}.")
# TRANSLATORS: broadcast to participants.
BRING_DOCUMENTS = N_("Please bring your documents to your next appointment.")
# TRANSLATORS: broadcast to participants; {date} is a weekday and date.
OFFICE_CLOSED = N_("The office is closed on {date}.")
TEMPLATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "course_cancelled": (COURSE_CANCELLED, ("date",)),
    "room_changed": (ROOM_CHANGED, ("place",)),
    "bring_documents": (BRING_DOCUMENTS, ()),
    "office_closed": (OFFICE_CLOSED, ("date",)),
}

NOT_FOUND = N_("I cannot find this broadcast. Start a new one with /broadcast.")


async def start_broadcast(session: AsyncSession, *, actor: StaffUser, now: datetime) -> Broadcast:
    """A new draft for this staff user."""
    broadcast = Broadcast(created_by_id=actor.id, segment={}, params={}, created_at=now)
    session.add(broadcast)
    await session.flush()
    return broadcast


async def own_broadcast(
    session: AsyncSession, *, actor: StaffUser, broadcast_id: int, draft: bool = False
) -> Broadcast:
    """A broadcast this staff user may change; someone else's reads like a missing one."""
    broadcast = await session.get(Broadcast, broadcast_id, with_for_update=True)
    if broadcast is None or not may_act_for(actor, broadcast.created_by_id):
        raise UserError(NOT_FOUND)
    if draft and broadcast.state != "draft":
        raise UserError(N_("This broadcast was sent already. /report shows how it goes."))
    return broadcast


async def choose_segment(
    session: AsyncSession,
    *,
    actor: StaffUser,
    broadcast_id: int,
    kind: str,
    target_id: int | None = None,
    languages: list[str] | None = None,
    within_days: int | None = None,
) -> Broadcast:
    """Who gets it: a course, a module, the actor's caseload or everyone, optionally narrowed."""
    broadcast = await own_broadcast(session, actor=actor, broadcast_id=broadcast_id, draft=True)
    admin = actor.role == "admin"
    if kind == "course":
        course = await session.get(Course, target_id) if target_id else None
        if course is None or (not admin and course.coach_id != actor.id):
            raise UserError(N_("You can only write to your own courses."))
    elif kind in {"module", "everyone"} and not admin:
        raise UserError(N_("Only the programme's admins can write to everyone or a module."))
    elif kind not in {"caseload", "module", "everyone"}:
        raise UserError(N_("This group does not exist."))
    if languages and any(code not in BY_CODE for code in languages):
        raise UserError(N_("This language is not available. Please choose one from the list."))
    broadcast.segment = {
        "kind": kind,
        "id": target_id,
        "languages": languages or None,
        "within_days": within_days,
    }
    return broadcast


async def set_content(
    session: AsyncSession,
    *,
    actor: StaffUser,
    broadcast_id: int,
    template: str | None = None,
    params: dict[str, str] | None = None,
    text: str | None = None,
    versions: dict[str, str] | None = None,
) -> Broadcast:
    """What it says: a template with its parameters, free text, or versions per language."""
    broadcast = await own_broadcast(session, actor=actor, broadcast_id=broadcast_id, draft=True)
    for written in [text, *(versions or {}).values()]:
        if written is not None and not written.strip():
            raise UserError(N_("The message is empty. Please write a few words."))
        if written is not None and len(written) > MAX_TEXT:
            raise UserError(
                N_("This message is too long. Please write at most {limit} characters."),
                limit=MAX_TEXT,
            )
    if template is not None and template not in TEMPLATES:
        raise UserError(N_("This button no longer works. Please use the menu."))
    broadcast.template = template
    broadcast.params = dict(params or {})
    broadcast.text = text.strip() if text else None
    broadcast.versions = {k: v.strip() for k, v in versions.items()} if versions else None
    return broadcast


def missing_parameter(broadcast: Broadcast) -> str | None:
    """The next parameter the template still needs ("date", "place"), or None."""
    if broadcast.template is None:
        return None
    _message, needed = TEMPLATES[broadcast.template]
    return next((name for name in needed if not broadcast.params.get(name)), None)


async def recipients(
    session: AsyncSession, *, broadcast: Broadcast, actor: StaffUser, now: datetime
) -> list[Participant]:
    """The segment's members who can and want to get a broadcast now."""
    segment = broadcast.segment
    reachable = exists(
        select(ChannelIdentity.id).where(
            ChannelIdentity.participant_id == Participant.id,
            ChannelIdentity.blocked_at.is_(None),
        )
    )
    query = select(Participant).where(
        Participant.status == "active",
        Participant.privacy_accepted_at.is_not(None),
        Participant.broadcasts_stopped_at.is_(None),
        reachable,
    )
    kind = segment.get("kind")
    if kind == "course":
        query = query.where(
            exists(
                select(Enrolment.id).where(
                    Enrolment.participant_id == Participant.id,
                    Enrolment.course_id == segment.get("id"),
                )
            )
        )
    elif kind == "module":
        query = query.where(Participant.module_id == segment.get("id"))
    elif kind == "caseload":
        query = query.where(Participant.coach_id == actor.id)
    elif kind != "everyone":
        raise UserError(N_("Please choose who gets the message first."))
    if segment.get("languages"):
        query = query.where(Participant.locale.in_(segment["languages"]))
    if segment.get("within_days"):
        query = query.where(
            exists(
                select(Appointment.id).where(
                    Appointment.participant_id == Participant.id,
                    Appointment.cancelled_at.is_(None),
                    Appointment.starts_at >= now,
                    Appointment.starts_at < now + timedelta(days=int(segment["within_days"])),
                )
            )
        )
    return list((await session.scalars(query.order_by(Participant.id))).unique().all())


async def queue_broadcast(
    session: AsyncSession,
    *,
    actor: StaffUser,
    broadcast_id: int,
    send_at: datetime,
    now: datetime,
) -> Broadcast:
    """Write one outbox row per recipient, due at `send_at`; the dispatcher does the rest."""
    broadcast = await own_broadcast(session, actor=actor, broadcast_id=broadcast_id, draft=True)
    if broadcast.template is None and broadcast.text is None and not broadcast.versions:
        raise UserError(N_("Please choose what the message says first."))
    if missing_parameter(broadcast) is not None:
        raise UserError(N_("Please choose what the message says first."))
    people = await recipients(session, broadcast=broadcast, actor=actor, now=now)
    if not people:
        raise UserError(N_("Nobody in this group can get a message right now."))
    for person in people:
        await enqueue(
            session,
            template=MESSAGE,
            participant_id=person.id,
            subject=("broadcast", broadcast.id),
            broadcast_id=broadcast.id,
            dedup_key=f"bc:{broadcast.id}:{person.id}",  # never twice to one person
            due_at=max(send_at, now),
            priority=PRIORITY_BULK,
        )
    broadcast.state = BroadcastState.QUEUED
    broadcast.send_at = max(send_at, now)
    broadcast.recipients = len(people)
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="broadcast.queued",
        object_type="broadcast",
        object_id=broadcast.id,
        detail={"recipients": len(people)},
    )
    return broadcast


async def cancel_broadcast(
    session: AsyncSession, *, actor: StaffUser, broadcast_id: int, now: datetime
) -> int:
    """Stop what has not gone out yet; how many copies were stopped."""
    broadcast = await own_broadcast(session, actor=actor, broadcast_id=broadcast_id)
    if broadcast.state == "cancelled":
        raise UserError(N_("This broadcast was stopped already."))
    stopped = await cancel_pending(session, subject=("broadcast", broadcast.id), template=MESSAGE)
    broadcast.state = BroadcastState.CANCELLED
    broadcast.cancelled_at = now
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="broadcast.cancelled",
        object_type="broadcast",
        object_id=broadcast.id,
        detail={"stopped": stopped},
    )
    return stopped


async def counts(session: AsyncSession, *, broadcast: Broadcast) -> Counter[str]:
    """Delivery report: sent / pending / failed / blocked / skipped / cancelled."""
    rows = await session.execute(
        select(OutboxMessage.state, func.count())
        .where(OutboxMessage.broadcast_id == broadcast.id)
        .group_by(OutboxMessage.state)
    )
    found: Counter[str] = Counter(dict(broadcast.pruned_counts or {}))
    for state, count in rows.all():
        found["pending" if state in {"pending", "claimed"} else state] += count
    return found


async def recent_broadcasts(
    session: AsyncSession, *, actor: StaffUser, limit: int = 5
) -> list[Broadcast]:
    """The last sent or planned broadcasts this staff user may see."""
    query = select(Broadcast).where(Broadcast.state != "draft")
    if actor.role != "admin":
        query = query.where(Broadcast.created_by_id == actor.id)
    return list((await session.scalars(query.order_by(Broadcast.id.desc()).limit(limit))).all())


async def stop_broadcasts(
    session: AsyncSession, *, participant: Participant, now: datetime
) -> bool:
    """/stop: no more broadcasts to this participant; False if stopped already."""
    if participant.broadcasts_stopped_at is not None:
        return False
    participant.broadcasts_stopped_at = now
    await audit.record(
        session,
        actor=f"participant:{participant.id}",
        action="broadcasts.stopped",
        object_type="participant",
        object_id=participant.id,
    )
    return True
