"""Appointment use cases: every state change a participant makes to their appointments.

Each action checks ownership and state, changes rows, writes the audit entry and the coach's
notice to the outbox in the caller's transaction, and raises UserError for what is not
allowed. Actions never render and never parse chat input; chat, web and CLI share them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.plumbing.errors import UserError
from bot.plumbing.schedule import Session, course_sessions
from storage import audit
from storage.appointments import enrolments_of, get_appointment, upcoming_appointments
from storage.models import PRIORITY_NOTICE, Appointment, Participant
from storage.outbox import enqueue
from storage.states import AppointmentResponse

WINDOW = timedelta(days=14)
MAX_REASON = 200
WORKDAYS = range(5)
ANSWER_NOTICE = "appointment.answer"  # the outbox template of the coach's notice

NOT_FOUND = N_("I cannot find this appointment. Here are your appointments now: /appointments")
ENDED = N_("Your programme has ended. There are no appointments here any more.")


@dataclass(frozen=True)
class Item:
    """One entry of the list: an appointment or a course session."""

    starts_at: datetime
    appointment: Appointment | None = None
    session: Session | None = None


async def upcoming_sessions(
    session: AsyncSession, *, participant: Participant, now: datetime, tz: ZoneInfo
) -> list[Session]:
    """Sessions of the participant's courses in the next 14 days, soonest first."""
    sessions = [
        course_session
        for enrolment in await enrolments_of(session, participant_id=participant.id)
        for course_session in course_sessions(enrolment.course, now, now + WINDOW, tz)
    ]
    return sorted(sessions, key=lambda course_session: course_session.starts_at)


async def upcoming_items(
    session: AsyncSession, *, participant: Participant, now: datetime, tz: ZoneInfo
) -> list[Item]:
    """Appointments and course sessions of the next 14 days, soonest first."""
    appointments = await upcoming_appointments(
        session, participant_id=participant.id, start=now, end=now + WINDOW
    )
    items = [Item(a.starts_at, appointment=a) for a in appointments]
    sessions = await upcoming_sessions(session, participant=participant, now=now, tz=tz)
    items += [Item(s.starts_at, session=s) for s in sessions]
    return sorted(items, key=lambda item: item.starts_at)


async def own_open_appointment(
    session: AsyncSession, *, participant: Participant, appointment_id: int, now: datetime
) -> Appointment:
    """The participant's own appointment that is not cancelled and has not started, locked."""
    if participant.status != "active":
        raise UserError(ENDED)
    appointment = await get_appointment(session, appointment_id=appointment_id, for_update=True)
    # Someone else's appointment reads exactly like a missing one: ids reveal nothing.
    if appointment is None or appointment.participant_id != participant.id:
        raise UserError(NOT_FOUND)
    if appointment.cancelled_at is not None:
        raise UserError(N_("This appointment was cancelled. Your coach will tell you more."))
    if appointment.starts_at <= now:
        raise UserError(N_("This appointment has already started or is over."))
    return appointment


async def confirm_appointment(
    session: AsyncSession, *, participant: Participant, appointment_id: int, now: datetime
) -> Appointment:
    """✅: confirm once; a second confirmation changes nothing and says so."""
    return await _respond(session, participant, appointment_id, now, "confirmed")


async def decline_appointment(
    session: AsyncSession, *, participant: Participant, appointment_id: int, now: datetime
) -> Appointment:
    """❌: record "can't come" and tell the coach (the reason may follow)."""
    return await _respond(session, participant, appointment_id, now, "declined")


async def give_reason(
    session: AsyncSession,
    *,
    participant: Participant,
    appointment_id: int,
    text: str,
    now: datetime,
) -> Appointment:
    """The optional reason for "can't come"; stored for the coach, never pushed anywhere."""
    text = text.strip()
    if len(text) > MAX_REASON:
        raise UserError(
            N_("Please write a shorter reason, at most {limit} characters."),
            show_menu=False,
            limit=MAX_REASON,
        )
    appointment = await own_open_appointment(
        session, participant=participant, appointment_id=appointment_id, now=now
    )
    if appointment.response != "declined":
        raise UserError(N_("You did not say that you cannot come to this appointment."))
    appointment.response_note = text
    await audit.record(
        session,
        actor=f"participant:{participant.id}",
        action="appointment.reason",
        object_type="appointment",
        object_id=appointment.id,
    )
    return appointment


async def ask_other_time(
    session: AsyncSession, *, participant: Participant, appointment_id: int, now: datetime
) -> Appointment:
    """🔁: ask for another time; preferred weekdays may follow."""
    return await _respond(session, participant, appointment_id, now, "reschedule")


async def toggle_preferred_day(
    session: AsyncSession,
    *,
    participant: Participant,
    appointment_id: int,
    day: int,
    now: datetime,
) -> Appointment:
    """Tick or untick one preferred weekday (Monday to Friday) for another time."""
    appointment = await own_open_appointment(
        session, participant=participant, appointment_id=appointment_id, now=now
    )
    if appointment.response != "reschedule" or day not in WORKDAYS:
        raise UserError(N_("This button no longer works. Please use the menu."))
    chosen = preferred_days(appointment) ^ {day}
    appointment.preferred_days = ",".join(str(d) for d in sorted(chosen)) or None
    return appointment


async def finish_preferred_days(
    session: AsyncSession, *, participant: Participant, appointment_id: int, now: datetime
) -> Appointment:
    """Done with the weekdays: the request must still be open."""
    appointment = await own_open_appointment(
        session, participant=participant, appointment_id=appointment_id, now=now
    )
    if appointment.response != "reschedule":
        raise UserError(N_("This button no longer works. Please use the menu."))
    return appointment


def preferred_days(appointment: Appointment) -> set[int]:
    """The weekdays (0 = Monday) the participant ticked for another time."""
    raw = appointment.preferred_days or ""
    return {int(part) for part in raw.split(",") if part.isdigit()}


# What a second press of the same answer says; nothing changes then.
ALREADY = {
    "confirmed": N_("You have already confirmed this appointment."),
    "declined": N_("You have already said that you cannot come."),
    "reschedule": N_("You have already asked for another time."),
}


async def _respond(
    session: AsyncSession,
    participant: Participant,
    appointment_id: int,
    now: datetime,
    response: str,
) -> Appointment:
    """Record one answer to the participant's own open appointment and tell the coach."""
    appointment = await own_open_appointment(
        session, participant=participant, appointment_id=appointment_id, now=now
    )
    if appointment.response == response:
        raise UserError(ALREADY[response], show_menu=False)
    appointment.response = AppointmentResponse(response)
    appointment.response_at = now
    appointment.response_note = None
    appointment.preferred_days = None
    await audit.record(
        session,
        actor=f"participant:{participant.id}",
        action=f"appointment.{response}",
        object_type="appointment",
        object_id=appointment.id,
    )
    coach_id = appointment.coach_id or participant.coach_id
    if coach_id is None:
        return appointment
    # Rendered when sent, in the coach's language then; it never carries the reason.
    await enqueue(
        session,
        template=ANSWER_NOTICE,
        params={"response": response},
        staff_id=coach_id,
        subject=("appointment", appointment.id),
        dedup_key=f"ap:{appointment.id}:answer:{response}:{now.isoformat()}",
        due_at=now,
        priority=PRIORITY_NOTICE,
    )
    return appointment
