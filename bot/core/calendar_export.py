"""📅 Add to calendar: appointments and course sessions as an iCalendar (.ics) file."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from icalendar import Alarm, Calendar, Event

from bot.core.appointments import own_open_appointment, upcoming_sessions
from bot.core.errors import UserError
from bot.core.labels import kind_label
from bot.core.messages import Document, Reply
from bot.core.turn import Turn
from bot.i18n import N_
from storage.appointments import upcoming_appointments
from storage.models import Appointment

ALARM_BEFORE = timedelta(hours=2)


def _calendar(turn: Turn) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Wegweiser//Wegweiser//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    return calendar


def _event(
    turn: Turn,
    uid: str,
    summary: str,
    start: datetime,
    end: datetime,
    location: str,
    description: str | None = None,
) -> Event:
    """One VEVENT in the programme's time zone with a display alarm before it."""
    tz = turn.settings.tz
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", turn.now)
    event.add("dtstart", start.astimezone(tz))
    event.add("dtend", end.astimezone(tz))
    event.add("summary", summary)
    event.add("location", location)
    if description:
        event.add("description", description)
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", -ALARM_BEFORE)
    alarm.add("description", summary)
    event.add_component(alarm)
    return event


def _appointment_event(turn: Turn, appointment: Appointment) -> Event:
    coach = appointment.coach.display_name if appointment.coach else None
    return _event(
        turn,
        f"appointment-{appointment.id}@wegweiser",
        kind_label(turn.t, appointment.kind),
        appointment.starts_at,
        appointment.ends_at,
        appointment.location,
        turn._("with {name}", name=coach) if coach else None,
    )


def _document(turn: Turn, calendar: Calendar, filename: str) -> Document:
    today = turn.now.astimezone(turn.settings.tz).date()
    calendar.add_missing_timezones(
        first_date=date(today.year - 1, 1, 1), last_date=date(today.year + 2, 1, 1)
    )
    return Document(filename, calendar.to_ical(), "text/calendar")


async def cb_calendar(turn: Turn, target: str) -> list[Reply]:
    """Send one appointment (`target` is its id) or everything upcoming (`all`) as .ics."""
    participant = turn.participant
    assert participant is not None
    calendar = _calendar(turn)
    if target != "all":
        appointment = await own_open_appointment(turn, target)
        calendar.add_component(_appointment_event(turn, appointment))
        text = turn._("Open this file to add the appointment to your calendar.")
        return [turn.reply(text, document=_document(turn, calendar, "appointment.ics"))]
    if participant.status != "active":
        raise UserError(N_("Your programme has ended. There are no appointments here any more."))
    appointments = await upcoming_appointments(
        turn.session, participant_id=participant.id, start=turn.now
    )
    for appointment in appointments:
        calendar.add_component(_appointment_event(turn, appointment))
    sessions = await upcoming_sessions(turn, participant)
    for session in sessions:
        course = session.course
        calendar.add_component(
            _event(
                turn,
                f"course-{course.id}-{session.starts_at:%Y%m%dT%H%M}@wegweiser",
                f"{kind_label(turn.t, course.kind)} ({course.title})",
                session.starts_at,
                session.ends_at,
                course.location,
            )
        )
    count = len(appointments) + len(sessions)
    if count == 0:
        raise UserError(N_("You have no upcoming appointments to add."), show_menu=False)
    text = turn.t.ngettext(
        "Open this file to add {n} appointment to your calendar.",
        "Open this file to add {n} appointments to your calendar.",
        count,
    ).format(n=count)
    return [turn.reply(text, document=_document(turn, calendar, "appointments.ics"))]
