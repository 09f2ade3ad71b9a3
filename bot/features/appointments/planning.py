"""Reminders, escalations, staff changes and the coaches' digest for appointments.

The planner writes outbox rows in the caller's transaction; rows carry no text, only what
they are about, and are checked and rendered when they are sent (see render.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.plumbing.errors import UserError
from bot.plumbing.ownership import may_act_for
from bot.plumbing.reminders import ReminderPolicy
from bot.plumbing.routes import JobContext
from storage import audit
from storage.appointments import get_appointment
from storage.models import (
    PRIORITY_NOTICE,
    PRIORITY_REMINDER,
    Appointment,
    Participant,
    StaffUser,
)
from storage.outbox import cancel_pending, enqueue
from storage.types import as_utc, instant_text

REMINDER = "appointment.reminder"
UNCONFIRMED = "appointment.unconfirmed"  # to the coach, once, when no answer came in time
CHANGED = "appointment.changed"  # to the participant: new, moved or cancelled by staff
DIGEST = "coach.digest"
SWEEP_AHEAD = timedelta(days=3)  # the sweep plans what starts within this window


async def plan_reminders(
    session: AsyncSession,
    *,
    appointment: Appointment,
    policy: ReminderPolicy,
    now: datetime,
    planned_at: datetime | None = None,
) -> int:
    """Make an appointment's pending reminders and escalation follow the policy now; how
    many rows were added.

    Pending rows planned for another start time (a move) or for an offset the policy no
    longer has (REMINDER_OFFSETS changed) are cancelled; missing ones are added. A row that
    is due but not yet sent is kept. `planned_at` is when the participant was told (the
    escalation waits a fair time after it); the sweep leaves it None.
    """
    subject = ("appointment", appointment.id)
    keys: set[str] = set()
    added = 0
    starts_at = as_utc(appointment.starts_at)
    starts = instant_text(starts_at)
    open_ = (
        appointment.cancelled_at is None and appointment.response != "declined" and starts_at > now
    )
    if open_:
        for label, due in policy.due_times(appointment.kind, starts_at):
            key = f"reminder:ap:{appointment.id}:{starts}:{label}"
            keys.add(key)  # kept even when due already: it may be waiting for its send
            if due <= now:
                continue  # too late to plan this one; a later offset may still come
            added += (
                await enqueue(
                    session,
                    template=REMINDER,
                    participant_id=appointment.participant_id,
                    subject=subject,
                    params={"starts_at": starts, "offset": label},
                    dedup_key=key,
                    due_at=due,
                    priority=PRIORITY_REMINDER,
                )
                is not None
            )
        coach_id = appointment.coach_id
        escalation = policy.escalation_due(starts_at, planned_at=planned_at or now)
        if escalation is not None and coach_id is not None and appointment.response is None:
            key = f"unconfirmed:ap:{appointment.id}:{starts}"
            keys.add(key)
            added += (
                await enqueue(
                    session,
                    template=UNCONFIRMED,
                    staff_id=coach_id,
                    subject=subject,
                    params={"starts_at": starts},
                    dedup_key=key,
                    due_at=max(escalation, now),
                    priority=PRIORITY_NOTICE,
                )
                is not None
            )
    for template in (REMINDER, UNCONFIRMED):
        await cancel_pending(
            session, subject=subject, template=template, keep=keys, reason="no longer planned"
        )
    return added


# ---------------------------------------------------------------- staff actions


def _check_staff(actor: StaffUser, participant: Participant | None) -> Participant:
    if participant is None or not may_act_for(actor, participant.coach_id):
        # TRANSLATORS: to staff planning appointments (admin web or bot).
        raise UserError(N_("This participant is not one of yours, or does not exist."))
    if participant.status != "active":
        # TRANSLATORS: to staff planning appointments (admin web or bot).
        raise UserError(N_("This participant's programme has ended."))
    return participant


async def create_appointment(
    session: AsyncSession,
    *,
    actor: StaffUser,
    participant_id: int,
    kind: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str,
    policy: ReminderPolicy,
    now: datetime,
) -> Appointment:
    """Plan an appointment for one of the actor's participants; reminders and a notice."""
    participant = _check_staff(actor, await session.get(Participant, participant_id))
    starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
    if not starts_at < ends_at:
        # TRANSLATORS: to staff planning appointments (admin web or bot).
        raise UserError(N_("An appointment must end after it starts."), field="end")
    if starts_at <= now:
        # TRANSLATORS: to staff planning appointments (admin web or bot).
        raise UserError(N_("An appointment must start in the future."), field="date")
    appointment = Appointment(
        participant_id=participant.id,
        coach_id=participant.coach_id or actor.id,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location.strip(),
    )
    session.add(appointment)
    await session.flush()
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="appointment.created",
        object_type="appointment",
        object_id=appointment.id,
    )
    await _tell_participant(session, appointment, "new", now)
    await plan_reminders(session, appointment=appointment, policy=policy, now=now, planned_at=now)
    return appointment


async def move_appointment(
    session: AsyncSession,
    *,
    actor: StaffUser,
    appointment_id: int,
    starts_at: datetime,
    ends_at: datetime,
    policy: ReminderPolicy,
    now: datetime,
    location: str | None = None,
) -> Appointment:
    """Move an appointment: the old answer and reminders no longer apply."""
    appointment = await _staff_appointment(session, actor, appointment_id)
    starts_at, ends_at = as_utc(starts_at), as_utc(ends_at)
    if not starts_at < ends_at or starts_at <= now:
        # TRANSLATORS: to staff planning appointments (admin web or bot).
        raise UserError(N_("An appointment must start in the future and end after it starts."))
    appointment.starts_at, appointment.ends_at = starts_at, ends_at
    if location is not None:
        appointment.location = location.strip()
    appointment.response = appointment.response_at = None
    appointment.response_note = appointment.preferred_days = None
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="appointment.moved",
        object_type="appointment",
        object_id=appointment.id,
    )
    await _tell_participant(session, appointment, "moved", now)
    await plan_reminders(session, appointment=appointment, policy=policy, now=now, planned_at=now)
    return appointment


async def cancel_appointment(
    session: AsyncSession, *, actor: StaffUser, appointment_id: int, now: datetime
) -> Appointment:
    """Cancel an appointment: its reminders stop and the participant is told."""
    appointment = await _staff_appointment(session, actor, appointment_id)
    appointment.cancelled_at = now
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="appointment.cancelled",
        object_type="appointment",
        object_id=appointment.id,
    )
    subject = ("appointment", appointment.id)
    for template in (REMINDER, UNCONFIRMED, CHANGED):
        await cancel_pending(
            session, subject=subject, template=template, reason="appointment cancelled"
        )
    await _tell_participant(session, appointment, "cancelled", now)
    return appointment


async def _staff_appointment(
    session: AsyncSession, actor: StaffUser, appointment_id: int
) -> Appointment:
    appointment = await get_appointment(session, appointment_id=appointment_id, for_update=True)
    participant = (
        await session.get(Participant, appointment.participant_id) if appointment else None
    )
    _check_staff(actor, participant)
    assert appointment is not None
    if appointment.cancelled_at is not None:
        # TRANSLATORS: to staff planning appointments (admin web or bot).
        raise UserError(N_("This appointment was cancelled already."))
    return appointment


async def _tell_participant(
    session: AsyncSession, appointment: Appointment, change: str, now: datetime
) -> None:
    await enqueue(
        session,
        template=CHANGED,
        participant_id=appointment.participant_id,
        subject=("appointment", appointment.id),
        params={"change": change, "starts_at": instant_text(appointment.starts_at)},
        dedup_key=f"changed:ap:{appointment.id}:{change}:{instant_text(now)}",
        due_at=now,
        priority=PRIORITY_NOTICE,
    )


# ---------------------------------------------------------------- periodic jobs


async def sweep(context: JobContext) -> int:
    """Make the reminders of every open appointment of the next days follow the current
    offsets: plan what is missing, cancel what the offsets no longer have."""
    settings, now = context.settings, context.now
    policy = ReminderPolicy.from_settings(settings)
    added = 0
    async with context.sessions.begin() as session:
        appointments = await session.scalars(
            select(Appointment)
            .join(Participant, Participant.id == Appointment.participant_id)
            .where(
                Appointment.starts_at > now,
                Appointment.starts_at <= now + SWEEP_AHEAD,
                Appointment.cancelled_at.is_(None),
                Participant.status == "active",
                Participant.privacy_accepted_at.is_not(None),
            )
        )
        for appointment in appointments.all():
            added += await plan_reminders(session, appointment=appointment, policy=policy, now=now)
    return added


async def digest(context: JobContext) -> int:
    """Each coach with appointments today or tomorrow gets one digest a day."""
    now, tz = context.now, context.settings.tz
    today = now.astimezone(tz).date()
    start = datetime.combine(today, datetime.min.time(), tz)
    end = start + timedelta(days=2)
    added = 0
    async with context.sessions.begin() as session:
        coaches = await session.scalars(
            select(Appointment.coach_id)
            .where(
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
                Appointment.coach_id.is_not(None),
            )
            .distinct()
        )
        for coach_id in coaches.all():
            added += (
                await enqueue(
                    session,
                    template=DIGEST,
                    staff_id=coach_id,
                    subject=("staff", coach_id),
                    params={"day": today.isoformat()},
                    dedup_key=f"digest:{coach_id}:{today.isoformat()}",
                    due_at=now,
                    priority=PRIORITY_NOTICE,
                )
                is not None
            )
    return added
