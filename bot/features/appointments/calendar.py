"""📅 Add to calendar: appointments and course sessions as an iCalendar (.ics) file."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from icalendar import Alarm, Calendar, Event
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.appointments.actions import upcoming_sessions
from bot.i18n import N_
from bot.plumbing.labels import kind_label
from bot.plumbing.messages import Document
from bot.plumbing.voice import Voice
from storage.appointments import upcoming_appointments
from storage.models import Appointment, Participant

ALARM_BEFORE = timedelta(hours=2)
NOTHING_TO_ADD = N_("You have no upcoming appointments to add.")


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Wegweiser//Wegweiser//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    return calendar


def _event(
    voice: Voice,
    uid: str,
    summary: str,
    start: datetime,
    end: datetime,
    location: str,
    description: str | None = None,
) -> Event:
    """One VEVENT in the programme's time zone with a display alarm before it."""
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", voice.now)
    event.add("dtstart", start.astimezone(voice.tz))
    event.add("dtend", end.astimezone(voice.tz))
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


def _appointment_event(voice: Voice, appointment: Appointment) -> Event:
    coach = appointment.coach.display_name if appointment.coach else None
    return _event(
        voice,
        f"appointment-{appointment.id}@wegweiser",
        kind_label(voice, appointment.kind),
        appointment.starts_at,
        appointment.ends_at,
        appointment.location,
        voice._("with {name}", name=coach) if coach else None,
    )


def _document(voice: Voice, calendar: Calendar, filename: str) -> Document:
    today = voice.now.astimezone(voice.tz).date()
    calendar.add_missing_timezones(
        first_date=date(today.year - 1, 1, 1), last_date=date(today.year + 2, 1, 1)
    )
    return Document(filename, calendar.to_ical(), "text/calendar")


def one(voice: Voice, appointment: Appointment) -> Document:
    """One appointment as an .ics file."""
    calendar = _calendar()
    calendar.add_component(_appointment_event(voice, appointment))
    return _document(voice, calendar, "appointment.ics")


async def everything(
    session: AsyncSession, voice: Voice, *, participant: Participant
) -> tuple[Document, int]:
    """Every upcoming appointment the participant has not declined, and the next two weeks'
    course sessions, as one .ics file; with the number of events."""
    calendar = _calendar()
    appointments = [
        appointment
        for appointment in await upcoming_appointments(
            session, participant_id=participant.id, start=voice.now
        )
        if appointment.response != "declined"
    ]
    for appointment in appointments:
        calendar.add_component(_appointment_event(voice, appointment))
    sessions = await upcoming_sessions(
        session, participant=participant, now=voice.now, tz=voice.tz
    )
    for course_session in sessions:
        course = course_session.course
        calendar.add_component(
            _event(
                voice,
                f"course-{course.id}-{course_session.starts_at:%Y%m%dT%H%M}@wegweiser",
                f"{kind_label(voice, course.kind)} ({course.title})",
                course_session.starts_at,
                course_session.ends_at,
                course.location,
            )
        )
    return _document(voice, calendar, "appointments.ics"), len(appointments) + len(sessions)
