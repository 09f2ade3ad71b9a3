"""When reminders go: offsets, quiet hours, daylight saving time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.plumbing.reminders import ReminderPolicy
from bot.settings import load_settings

BERLIN = ZoneInfo("Europe/Berlin")


def policy(**overrides: object) -> ReminderPolicy:
    return ReminderPolicy.from_settings(load_settings(_env_file=None, **overrides))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_the_day_before_at_the_same_time_and_two_hours_before():
    due = policy().due_times("coaching", local(2026, 11, 26, 10, 0))
    assert due == [("1d", local(2026, 11, 25, 10, 0)), ("2h", local(2026, 11, 26, 8, 0))]


def test_the_day_before_keeps_the_wall_clock_across_daylight_saving_time():
    """Summer time ends at 03:00 on 25 October 2026: 09:00 that day is reminded at 09:00 on
    the 24th, which is 25 hours earlier, not 24."""
    start = local(2026, 10, 25, 9, 0)
    [(label, due), _] = policy().due_times("course", start)
    assert label == "1d" and due == local(2026, 10, 24, 9, 0)
    assert start.astimezone(UTC) - due == timedelta(hours=25)


def test_quiet_hours_move_a_reminder_earlier_never_after_the_start():
    # 08:30: two hours before is 06:30 (quiet) → 21:00 the evening before.
    due = policy().due_times("coaching", local(2026, 11, 26, 8, 30))
    assert due == [("1d", local(2026, 11, 25, 8, 30)), ("2h", local(2026, 11, 25, 21, 0))]
    # 22:00: the day before at 22:00 is quiet → 21:00; two hours before (20:00) is not.
    due = policy().due_times("coaching", local(2026, 11, 26, 22, 0))
    assert due == [("1d", local(2026, 11, 25, 21, 0)), ("2h", local(2026, 11, 26, 20, 0))]
    # 21:30: the 2h reminder (19:30) and a 30m one would never go after the start.
    due = policy(reminder_offsets="1d,2h,3h").due_times("coaching", local(2026, 11, 26, 7, 0))
    assert [moment for _, moment in due] == [
        local(2026, 11, 24, 21, 0),
        local(2026, 11, 25, 21, 0),
    ]
    # Quiet hours off: as computed.
    due = policy(quiet_hours="").due_times("coaching", local(2026, 11, 26, 8, 30))
    assert due[1] == ("2h", local(2026, 11, 26, 6, 30))


def test_offsets_per_kind_from_settings():
    rules = policy(reminder_offsets_by_kind={"nursing": "2d,30m"})
    due = rules.due_times("nursing", local(2026, 11, 26, 14, 0))
    assert due == [("2d", local(2026, 11, 24, 14, 0)), ("30m", local(2026, 11, 26, 13, 30))]
    assert rules.offsets("coaching")[0].label == "1d"
    assert rules.quiet == (time(21), time(8))
