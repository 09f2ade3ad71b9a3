"""My courses: enrolments with their weekly schedule, and muting a course's reminders."""

from __future__ import annotations

from itertools import groupby

from bot.core import menu
from bot.core.appointments import programme_ended
from bot.core.errors import STALE_BUTTON, UserError
from bot.core.formatting import clock, long_date, weekdays, when
from bot.core.labels import kind_label
from bot.core.messages import Button, Reply
from bot.core.schedule import next_session
from bot.core.turn import Turn
from bot.i18n import N_
from storage import audit
from storage.appointments import enrolments_of, get_enrolment
from storage.models import Enrolment


async def cmd_courses(turn: Turn) -> list[Reply]:
    """One message per course the participant is enrolled in."""
    participant = turn.participant
    assert participant is not None
    if participant.status != "active":
        return programme_ended(turn)
    enrolments = await enrolments_of(turn.session, participant_id=participant.id)
    if not enrolments:
        text = turn._("You are not in a course right now. Your coach can tell you about courses.")
        return [turn.reply(text, menu.menu_button(turn))]
    replies = [render_course(turn, enrolment) for enrolment in enrolments]
    replies[-1].buttons.extend(menu.menu_button(turn))
    return replies


def render_course(turn: Turn, enrolment: Enrolment, **kw: object) -> Reply:
    """A course: what, weekly times, where, until when, the next session, reminder state."""
    t, tz, course = turn.t, turn.settings.tz, enrolment.course
    lines = [f"📚 {kind_label(t, course.kind)} ({t.isolate(course.title)})"]
    # Slots with the same hours read as one line: "Monday and Wednesday, 09:00–12:30".
    slots = sorted(course.slots, key=lambda s: (s.start_time, s.end_time, s.weekday))
    for (start, end), group in groupby(slots, key=lambda s: (s.start_time, s.end_time)):
        days = weekdays(t, [slot.weekday for slot in group])
        span = f"{clock(t, start)}–{clock(t, end)}"
        lines.append(f"🗓 {days}, {t.isolate(span)}")
    lines.append(f"📍 {t.isolate(course.location)}")
    lines.append("🏁 " + turn._("until {date}", date=t.isolate(long_date(t, course.ends_on))))
    upcoming = next_session(course, turn.now, tz)
    if upcoming is not None:
        lines.append(
            "⏭ " + turn._("Next: {when}", when=when(t, upcoming.starts_at, upcoming.ends_at, tz))
        )
    else:
        lines.append(turn._("This course has no more sessions."))
    if enrolment.muted:
        lines.append(turn._("🔕 Reminders for this course are off."))
        button = Button(turn._("🔔 Turn reminders on"), f"co:u:{course.id}")
    else:
        lines.append(turn._("🔔 You get reminders for this course."))
        button = Button(turn._("🔕 Turn reminders off"), f"co:m:{course.id}")
    return turn.reply("\n".join(lines), [[button]], **kw)  # type: ignore[arg-type]


async def cb_mute(turn: Turn, course_id: str, *, muted: bool) -> list[Reply]:
    """Mute or unmute the reminders of one of the participant's own courses."""
    participant = turn.participant
    assert participant is not None
    if participant.status != "active":
        return programme_ended(turn)
    if not course_id.isdigit() or len(course_id) > 12:
        raise UserError(STALE_BUTTON)
    enrolment = await get_enrolment(
        turn.session, participant_id=participant.id, course_id=int(course_id)
    )
    if enrolment is None:
        raise UserError(N_("I cannot find this course. Here are your courses now: /courses"))
    if enrolment.muted == muted:
        already = (
            N_("Reminders for this course are already off.")
            if muted
            else N_("Reminders for this course are already on.")
        )
        raise UserError(already, show_menu=False)
    enrolment.muted = muted
    await audit.record(
        turn.session,
        actor=turn.actor,
        action="course.muted" if muted else "course.unmuted",
        object_type="course",
        object_id=enrolment.course_id,
    )
    toast = turn._("Reminders off 🔕") if muted else turn._("Reminders on 🔔")
    return [render_course(turn, enrolment, edit=True, toast=toast)]
