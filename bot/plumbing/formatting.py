"""Dates, times and places, formatted for the recipient's locale in the programme's zone."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_time, get_day_names
from babel.lists import format_list

from bot.plumbing.voice import Voice


def local(voice: Voice, moment: datetime) -> datetime:
    """A stored UTC moment in the programme's time zone."""
    return moment.astimezone(voice.tz)


def long_date(voice: Voice, day: date) -> str:
    """Weekday and full date, e.g. "Donnerstag, 26. November 2026"."""
    return format_date(day, "full", locale=voice.locale)


def clock(voice: Voice, moment: datetime) -> str:
    """A time of day as the locale writes it, e.g. "10:00" or "10:00 AM"."""
    return format_time(moment, "short", locale=voice.locale)


def moment(voice: Voice, at: datetime) -> str:
    """Date and time of one moment, e.g. "Donnerstag, 26. November 2026, 10:00"."""
    start = local(voice, at)
    return f"{long_date(voice, start.date())}, {clock(voice, start)}"


def when(voice: Voice, start: datetime, end: datetime) -> str:
    """Date and time span, each piece bidi-isolated, e.g. "Thursday, ... · 10:00–10:45"."""
    start, end = local(voice, start), local(voice, end)
    span = f"{clock(voice, start)}–{clock(voice, end)}"
    return f"{voice.isolate(long_date(voice, start.date()))} · {voice.isolate(span)}"


def relative_day(voice: Voice, start: datetime) -> str:
    """How far away a moment is from the voice's now: "today", "tomorrow", "in 3 days"."""
    now = voice.now
    days = (local(voice, start).date() - local(voice, now).date()).days
    if days <= 0:
        hours = max(int((start - now).total_seconds() // 3600), 0)
        if hours >= 1:
            return voice.ngettext("in {n} hour", "in {n} hours", hours)
        return voice._("today")
    if days == 1:
        return voice._("tomorrow")
    return voice.ngettext("in {n} day", "in {n} days", days)


def weekdays(voice: Voice, numbers: list[int]) -> str:
    """Weekday names as a list in the locale, e.g. "Montag und Mittwoch"."""
    names = get_day_names("wide", locale=voice.locale)
    return format_list([names[n] for n in numbers], locale=voice.locale)
