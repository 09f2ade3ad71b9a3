"""Course sessions from weekly slots, with exceptions, across the DST change."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.plumbing.schedule import course_sessions, next_session
from storage.models import Course, CourseException, CourseSlot

BERLIN = ZoneInfo("Europe/Berlin")


def german_course(**overrides) -> Course:
    values = dict(
        title="Deutschkurs",
        kind="german_course",
        location="VHS",
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 4, 30),
        slots=[
            CourseSlot(weekday=0, start_time=time(9), end_time=time(12, 30)),
            CourseSlot(weekday=2, start_time=time(9), end_time=time(12, 30)),
        ],
        exceptions=[CourseException(on_date=date(2026, 4, 6))],  # Easter Monday
    )
    values.update(overrides)
    return Course(**values)


def test_sessions_keep_wall_clock_time_across_dst():
    course = german_course()
    start = datetime(2026, 3, 23, tzinfo=BERLIN)
    end = datetime(2026, 4, 2, tzinfo=BERLIN)
    sessions = course_sessions(course, start, end, BERLIN)
    assert [s.starts_at.date() for s in sessions] == [
        date(2026, 3, 23),
        date(2026, 3, 25),
        date(2026, 3, 30),
        date(2026, 4, 1),
    ]
    assert all(s.starts_at.astimezone(BERLIN).hour == 9 for s in sessions)
    # 09:00 is 08:00 UTC in winter and 07:00 UTC in summer time (from 29 March).
    assert sessions[0].starts_at.utcoffset().total_seconds() == 3600
    assert sessions[2].starts_at.utcoffset().total_seconds() == 7200


def test_exceptions_and_course_end_are_honoured():
    course = german_course()
    after_easter = next_session(course, datetime(2026, 4, 5, 12, tzinfo=BERLIN), BERLIN)
    assert after_easter is not None and after_easter.starts_at.date() == date(2026, 4, 8)
    assert next_session(course, datetime(2026, 4, 30, 12, tzinfo=BERLIN), BERLIN) is None


def test_a_session_that_started_is_not_next():
    course = german_course()
    during = datetime(2026, 3, 23, 10, tzinfo=BERLIN)
    upcoming = next_session(course, during, BERLIN)
    assert upcoming is not None and upcoming.starts_at.date() == date(2026, 3, 25)
