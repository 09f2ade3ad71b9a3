"""When reminders go: offsets before a start, moved out of quiet hours, never after it.

"1d" means the day before at the same wall-clock time, so across a change to or from
daylight saving time the gap is 23 or 25 hours, and a 09:00 course is reminded at 09:00.
A reminder that would fall into the quiet hours (default 21:00–08:00, Europe/Berlin) goes
earlier, at the start of the quiet hours the evening before; never later, never after the
start. A wall-clock time that does not exist on the day of a spring change is read as the
zone library reads it (one hour later).

The coach hears of an appointment still unanswered UNCONFIRMED_ESCALATION_HOURS before its
start, but never before the participant had a fair time to answer: half the time from the
planning to the start, at most ANSWER_TIME.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.settings import Offset, Settings

ANSWER_TIME = timedelta(hours=4)  # the participant's time to answer before the coach hears


@dataclass(frozen=True)
class ReminderPolicy:
    """The reminder rules of a deployment, taken from its settings."""

    tz: ZoneInfo
    offsets_by_kind: dict[str, list[Offset]] = field(default_factory=dict)
    default: list[Offset] = field(default_factory=list)
    quiet: tuple[time, time] | None = None
    catch_up: timedelta = timedelta(minutes=30)
    escalate_before: timedelta | None = timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings: Settings) -> ReminderPolicy:
        """The policy the settings describe."""
        return cls(
            tz=settings.tz,
            offsets_by_kind={
                kind: settings.offsets_for(kind) for kind in settings.reminder_offsets_by_kind
            },
            default=settings.offsets_for(""),
            quiet=settings.quiet,
            catch_up=timedelta(minutes=settings.reminder_catch_up_minutes),
            escalate_before=timedelta(hours=settings.unconfirmed_escalation_hours),
        )

    def offsets(self, kind: str) -> list[Offset]:
        """Offsets for an appointment kind, or a course ("course")."""
        return self.offsets_by_kind.get(kind, self.default)

    def due_times(self, kind: str, starts_at: datetime) -> list[tuple[str, datetime]]:
        """(offset label, due moment in UTC) for each reminder of a start, earliest first."""
        found: dict[datetime, str] = {}
        starts_at = starts_at.astimezone(UTC)
        for offset in self.offsets(kind):
            due = self._outside_quiet(self._before(starts_at, offset)).astimezone(UTC)
            if due < starts_at and due not in found:
                found[due] = offset.label
        return sorted(((label, due) for due, label in found.items()), key=lambda x: x[1])

    def escalation_due(self, starts_at: datetime, *, planned_at: datetime) -> datetime | None:
        """When the coach hears that an appointment planned at `planned_at` is unanswered."""
        if self.escalate_before is None:
            return None
        fair = min(ANSWER_TIME, (starts_at - planned_at) / 2)
        return max(starts_at - self.escalate_before, planned_at + fair).astimezone(UTC)

    def _before(self, starts_at: datetime, offset: Offset) -> datetime:
        if offset.days:
            local = starts_at.astimezone(self.tz)
            day = local.date() - timedelta(days=offset.days)
            return datetime.combine(day, local.timetz().replace(tzinfo=None), self.tz)
        return starts_at - offset.delta

    def _outside_quiet(self, due: datetime) -> datetime:
        if self.quiet is None:
            return due
        begin, end = self.quiet
        local = due.astimezone(self.tz)
        clock = local.time()
        if begin <= end:
            quiet = begin < clock < end
            evening = local.date()
        else:  # over midnight, e.g. 21:00-08:00
            quiet = clock > begin or clock < end
            evening = local.date() if clock > begin else local.date() - timedelta(days=1)
        if not quiet:
            return due
        return datetime.combine(evening, begin, self.tz)
