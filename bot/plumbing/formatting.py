"""Dates, times and places, formatted for the recipient's locale in the programme's zone.

Choices a participant cannot misread, per language (see locales/README.md):
- times always on the 24-hour clock ("14:30"), as German letters and appointment cards
  write them; a 12-hour clock with ص/م, ድ.ቀ. or GD collides with other time counts;
- the day before the month everywhere (Somali and English included), as in Germany;
- Arabic uses the month names of Syria and Iraq (تشرين الثاني), where most of the
  programme's Arabic speakers come from, and, like Tigrinya and Somali, adds the numeric
  date (26.11.2026) as German letters show it, so readers of other month names match it;
- Sorani in its long order, not year first; Pashto with the weekday names people use.
"""

from __future__ import annotations

from datetime import date, datetime, time

from babel import Locale
from babel.dates import format_date, format_time, get_day_names
from babel.lists import format_list

from bot.plumbing.voice import Voice


def local(voice: Voice, moment: datetime) -> datetime:
    """A stored UTC moment in the programme's time zone."""
    return moment.astimezone(voice.tz)


# Locale data for dates where the language's default is not what participants read.
DATE_LOCALES = {"ar": Locale.parse("ar_SY"), "en": Locale.parse("en_GB")}
# Date patterns (without the weekday) where the default order is wrong for the reader.
DATE_PATTERNS = {"so": "d MMMM y", "ckb": "dی MMMMی y", "ps": "d MMMM y"}
# Weekday names people use, where the locale data has others (Monday first).
WEEKDAY_NAMES = {"ps": ("دوشنبه", "سه شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "شنبه", "یکشنبه")}
NUMERIC_TOO = {"ar", "ti", "so"}  # the numeric date follows the written one


def _weekday(voice: Voice, number: int) -> str:
    names = WEEKDAY_NAMES.get(voice.code)
    if names is not None:
        return names[number]
    return get_day_names("wide", locale=DATE_LOCALES.get(voice.code, voice.locale))[number]


def long_date(voice: Voice, day: date) -> str:
    """Weekday and full date, e.g. "Donnerstag, 26. November 2026"."""
    locale = DATE_LOCALES.get(voice.code, voice.locale)
    pattern = DATE_PATTERNS.get(voice.code)
    if pattern is None and voice.code not in WEEKDAY_NAMES:
        text = format_date(day, "full", locale=locale)
    else:
        written = format_date(day, pattern or "d MMMM y", locale=locale)
        text = _joined(voice, _weekday(voice, day.weekday()), written)
    if voice.code in NUMERIC_TOO:
        text += f" ({day:%d.%m.%Y})"
    return text


def clock(voice: Voice, moment: datetime | time) -> str:
    """A time of day on the 24-hour clock, e.g. "14:30", in every language."""
    return format_time(moment, "HH:mm", locale=voice.locale)


def _joined(voice: Voice, first: str, second: str) -> str:
    """Two parts joined as the language lists them: "Montag, 9:00", "الاثنين، 9:00"."""
    return f"{first}{separator(voice)}{second}"


def separator(voice: Voice) -> str:
    """The list comma of the language: ", ", "، " (Arabic script), "፣ " (Ge'ez)."""
    if voice.rtl:
        return "، "
    if voice.code == "ti":
        return "፣ "
    return ", "


def moment(voice: Voice, at: datetime) -> str:
    """Date and time of one moment, e.g. "Donnerstag, 26. November 2026, 10:00"."""
    start = local(voice, at)
    return _joined(voice, long_date(voice, start.date()), clock(voice, start))


def when(voice: Voice, start: datetime, end: datetime) -> str:
    """Date and time span, each piece bidi-isolated, e.g. "Thursday, ... · 10:00–10:45"."""
    start, end = local(voice, start), local(voice, end)
    span = f"{clock(voice, start)}–{clock(voice, end)}"
    return f"{voice.isolate(long_date(voice, start.date()))} · {voice.isolate(span)}"


def relative_day(voice: Voice, start: datetime) -> str:
    """How far away a moment is from the voice's now: "today", "tomorrow", "in 3 days"."""
    now = voice.now
    days = (local(voice, start).date() - local(voice, now).date()).days
    # A piece inside a line: the recipient's language only, even in bilingual mode.
    t = voice.t
    if days <= 0:
        hours = max(int((start - now).total_seconds() // 3600), 0)
        if hours >= 1:
            return t.ngettext("in {n} hour", "in {n} hours", hours).format(n=hours)
        return t.gettext("today")
    if days == 1:
        return t.gettext("tomorrow")
    return t.ngettext("in {n} day", "in {n} days", days).format(n=days)


def weekdays(voice: Voice, numbers: list[int]) -> str:
    """Weekday names as a list in the locale, e.g. "Montag und Mittwoch"."""
    return listed(voice, [_weekday(voice, n) for n in numbers])


def listed(voice: Voice, items: list[str]) -> str:
    """Items as the language lists them: "A, B und C", "A، B و C" (Babel's Sorani data has
    a Latin comma and no "and", so Sorani gets its own)."""
    if voice.code == "ckb" and len(items) > 1:
        return f"{'، '.join(items[:-1])} و {items[-1]}"
    return format_list(items, locale=voice.locale)


def days_and_time(voice: Voice, days: str, span: str) -> str:
    """A schedule line: "Montag und Mittwoch, 09:00–12:30", with the language's comma."""
    return _joined(voice, days, span)
