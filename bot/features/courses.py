"""My courses: enrolments with their weekly schedule, and muting a course's reminders."""

from __future__ import annotations

from datetime import datetime
from itertools import groupby

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.plumbing import menu
from bot.plumbing.errors import UserError
from bot.plumbing.formatting import clock, long_date, weekdays, when
from bot.plumbing.labels import kind_label
from bot.plumbing.messages import Button, Reply
from bot.plumbing.routes import ButtonRoute, Command, Feature, MenuEntry, ident
from bot.plumbing.schedule import next_session
from bot.plumbing.turn import Turn
from bot.plumbing.voice import Voice
from storage import audit
from storage.appointments import enrolments_of, get_enrolment
from storage.models import Enrolment, Participant

# ---------------------------------------------------------------- actions


async def mute_course(
    session: AsyncSession,
    *,
    participant: Participant,
    course_id: int,
    muted: bool,
    now: datetime,
) -> Enrolment:
    """Turn one of the participant's own courses' reminders off (or on again)."""
    if participant.status != "active":
        raise UserError(menu.PROGRAMME_ENDED)
    enrolment = await get_enrolment(session, participant_id=participant.id, course_id=course_id)
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
        session,
        actor=f"participant:{participant.id}",
        action="course.muted" if muted else "course.unmuted",
        object_type="course",
        object_id=enrolment.course_id,
    )
    return enrolment


# ---------------------------------------------------------------- rendering


def render_course(
    voice: Voice, enrolment: Enrolment, *, edit: bool = False, toast: str | None = None
) -> Reply:
    """A course: what, weekly times, where, until when, the next session, reminder state."""
    course = enrolment.course
    lines = [f"📚 {kind_label(voice, course.kind)} ({voice.isolate(course.title)})"]
    # Slots with the same hours read as one line: "Monday and Wednesday, 09:00–12:30".
    slots = sorted(course.slots, key=lambda s: (s.start_time, s.end_time, s.weekday))
    for (start, end), group in groupby(slots, key=lambda s: (s.start_time, s.end_time)):
        days = weekdays(voice, [slot.weekday for slot in group])
        span = f"{clock(voice, start)}–{clock(voice, end)}"
        lines.append(f"🗓 {days}, {voice.isolate(span)}")
    lines.append(f"📍 {voice.isolate(course.location)}")
    until = voice.isolate(long_date(voice, course.ends_on))
    lines.append("🏁 " + voice._("until {date}", date=until))
    upcoming = next_session(course, voice.now, voice.tz)
    if upcoming is not None:
        next_time = when(voice, upcoming.starts_at, upcoming.ends_at)
        lines.append("⏭ " + voice._("Next: {when}", when=next_time))
    else:
        lines.append(voice._("This course has no more sessions."))
    if enrolment.muted:
        lines.append(voice._("🔕 Reminders for this course are off."))
        button = Button(voice._("🔔 Turn reminders on"), f"co:u:{course.id}")
    else:
        lines.append(voice._("🔔 You get reminders for this course."))
        button = Button(voice._("🔕 Turn reminders off"), f"co:m:{course.id}")
    return voice.reply("\n".join(lines), [[button]], edit=edit, toast=toast)


# ---------------------------------------------------------------- chat handlers


async def cmd_courses(turn: Turn) -> list[Reply]:
    """/courses: one message per course the participant is enrolled in."""
    participant = turn.participant
    assert participant is not None
    if participant.status != "active":
        return [menu.programme_ended(turn.voice)]
    enrolments = await enrolments_of(turn.session, participant_id=participant.id)
    if not enrolments:
        text = turn._("You are not in a course right now. Your coach can tell you about courses.")
        return [turn.reply(text, menu.menu_button(turn.voice))]
    replies = [render_course(turn.voice, enrolment) for enrolment in enrolments]
    replies[-1].buttons.extend(menu.menu_button(turn.voice))
    return replies


async def cb_mute(turn: Turn, course_id: int) -> list[Reply]:
    """🔕 on a course."""
    return await _set_muted(turn, course_id, muted=True)


async def cb_unmute(turn: Turn, course_id: int) -> list[Reply]:
    """🔔 on a course."""
    return await _set_muted(turn, course_id, muted=False)


async def _set_muted(turn: Turn, course_id: int, *, muted: bool) -> list[Reply]:
    participant = turn.participant
    assert participant is not None
    enrolment = await mute_course(
        turn.session, participant=participant, course_id=course_id, muted=muted, now=turn.now
    )
    toast = turn._("Reminders off 🔕") if muted else turn._("Reminders on 🔔")
    return [render_course(turn.voice, enrolment, edit=True, toast=toast)]


FEATURE = Feature(
    name="courses",
    commands=(Command("courses", N_("My courses"), cmd_courses, rank=20),),
    buttons=(
        ButtonRoute("mn:co", cmd_courses),
        ButtonRoute("co:m", cb_mute, (ident,)),
        ButtonRoute("co:u", cb_unmute, (ident,)),
    ),
    menu=(MenuEntry(N_("📚 My courses"), "mn:co", row=1),),
)
