"""Course sessions computed from weekly slots, minus cancelled dates and holidays."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from storage.models import Course


@dataclass(frozen=True)
class Session:
    """One meeting of a course."""

    course: Course
    starts_at: datetime  # timezone-aware
    ends_at: datetime


def course_sessions(course: Course, start: datetime, end: datetime, tz: ZoneInfo) -> list[Session]:
    """Sessions of `course` that start in [start, end), in order.

    Slots are local wall-clock times, so a session stays at 09:00 across the DST change.
    """
    skipped = {exception.on_date for exception in course.exceptions}
    first = max(start.astimezone(tz).date(), course.starts_on)
    last = min(end.astimezone(tz).date(), course.ends_on)
    sessions = []
    day = first
    while day <= last:
        if day not in skipped:
            for slot in course.slots:
                if slot.weekday != day.weekday():
                    continue
                begins = datetime.combine(day, slot.start_time, tz)
                if start <= begins < end:
                    sessions.append(
                        Session(course, begins, datetime.combine(day, slot.end_time, tz))
                    )
        day += timedelta(days=1)
    return sorted(sessions, key=lambda s: s.starts_at)


def next_session(course: Course, now: datetime, tz: ZoneInfo) -> Session | None:
    """The next session that has not started yet, within the course's run."""
    horizon = datetime.combine(course.ends_on + timedelta(days=1), datetime.min.time(), tz)
    # Look ahead a few weeks at a time; courses meet at least every few weeks.
    window_start = now
    while window_start < horizon:
        window_end = min(window_start + timedelta(days=28), horizon)
        found = course_sessions(course, window_start, window_end, tz)
        if found:
            return found[0]
        window_start = window_end
    return None
