"""Dates, times and places, formatted for the participant's locale in the programme's zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time, get_day_names
from babel.lists import format_list

from bot.i18n import Translator


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    """A stored UTC moment in the programme's time zone."""
    return moment.astimezone(tz)


def long_date(t: Translator, day: date) -> str:
    """Weekday and full date, e.g. "Donnerstag, 26. November 2026"."""
    return format_date(day, "full", locale=t.locale)


def clock(t: Translator, moment: datetime) -> str:
    """A time of day as the locale writes it, e.g. "10:00" or "10:00 AM"."""
    return format_time(moment, "short", locale=t.locale)


def when(t: Translator, start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """Date and time span, each piece bidi-isolated, e.g. "Thursday, ... · 10:00–10:45"."""
    start, end = local(start, tz), local(end, tz)
    span = f"{clock(t, start)}–{clock(t, end)}"
    return f"{t.isolate(long_date(t, start.date()))} · {t.isolate(span)}"


def relative_day(t: Translator, start: datetime, now: datetime, tz: ZoneInfo) -> str:
    """How far away a moment is: "today", "tomorrow", "in 3 days", "in 2 hours"."""
    days = (local(start, tz).date() - local(now, tz).date()).days
    if days <= 0:
        hours = max(int((start - now).total_seconds() // 3600), 0)
        if hours >= 1:
            return t.ngettext("in {n} hour", "in {n} hours", hours).format(n=hours)
        return t.gettext("today")
    if days == 1:
        return t.gettext("tomorrow")
    return t.ngettext("in {n} day", "in {n} days", days).format(n=days)


def weekdays(t: Translator, numbers: list[int]) -> str:
    """Weekday names as a list in the locale, e.g. "Montag und Mittwoch"."""
    names = get_day_names("wide", locale=t.locale)
    return format_list([names[n] for n in numbers], locale=t.locale)
