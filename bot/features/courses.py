"""My courses: enrolments with their weekly schedule, and muting a course's reminders."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import A_, N_
from bot.plumbing import menu
from bot.plumbing.errors import UserError
from bot.plumbing.formatting import clock, days_and_time, long_date, weekdays, when
from bot.plumbing.labels import KIND_LABELS, kind_label
from bot.plumbing.messages import Button, Reply
from bot.plumbing.ownership import may_act_for
from bot.plumbing.reminders import ReminderPolicy
from bot.plumbing.routes import (
    ButtonRoute,
    Command,
    Feature,
    Job,
    JobContext,
    MenuEntry,
    Skip,
    ident,
)
from bot.plumbing.schedule import course_sessions, next_session
from bot.plumbing.turn import Turn
from bot.plumbing.voice import Voice
from storage import audit
from storage.appointments import enrolments_of, get_enrolment
from storage.models import (
    PRIORITY_REMINDER,
    Course,
    CourseException,
    CourseSlot,
    Enrolment,
    OutboxMessage,
    Participant,
    StaffUser,
)
from storage.outbox import cancel_pending, enqueue
from storage.states import OutboxState
from storage.types import instant_text

REMINDER = "course.reminder"
PLAN_AHEAD = timedelta(days=2)  # sessions starting within this window get their reminders

# ---------------------------------------------------------------- actions


async def plan_course_reminders(
    session: AsyncSession,
    *,
    policy: ReminderPolicy,
    now: datetime,
    participant_id: int | None = None,
    course_id: int | None = None,
) -> int:
    """Reminders for the coming sessions of every (or one) unmuted enrolment; rows added."""
    query = (
        select(Enrolment)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .where(
            Enrolment.muted.is_(False),
            Participant.status == "active",
            Participant.privacy_accepted_at.is_not(None),
        )
    )
    if participant_id is not None:
        query = query.where(Enrolment.participant_id == participant_id)
    if course_id is not None:
        query = query.where(Enrolment.course_id == course_id)
    added = 0
    for enrolment in (await session.scalars(query)).unique().all():
        course = enrolment.course
        for meeting in course_sessions(course, now, now + PLAN_AHEAD, policy.tz):
            starts = instant_text(meeting.starts_at)
            for label, due in policy.due_times("course", meeting.starts_at):
                if due <= now:
                    continue
                key = f"reminder:co:{course.id}:{starts}:{enrolment.participant_id}:{label}"
                made = await enqueue(
                    session,
                    template=REMINDER,
                    participant_id=enrolment.participant_id,
                    subject=("course", course.id),
                    params={"starts_at": starts, "offset": label},
                    dedup_key=key,
                    due_at=due,
                    priority=PRIORITY_REMINDER,
                )
                added += made is not None
    return added


async def mute_course(
    session: AsyncSession,
    *,
    participant: Participant,
    course_id: int,
    muted: bool,
    now: datetime,
    policy: ReminderPolicy | None = None,
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
    subject = ("course", enrolment.course_id)
    if muted:
        await cancel_pending(
            session, subject=subject, template=REMINDER, participant_id=participant.id
        )
    elif policy is not None:
        await session.flush()
        await plan_course_reminders(
            session, policy=policy, now=now, participant_id=participant.id, course_id=course_id
        )
    return enrolment


# ---------------------------------------------------------------- staff actions (admin web)


def _check_course_owner(actor: StaffUser, course: Course | None) -> Course:
    if course is None or not may_act_for(actor, course.coach_id):
        raise UserError(A_("This course is not one of yours, or does not exist."))
    return course


async def own_course(session: AsyncSession, *, actor: StaffUser, course_id: int) -> Course:
    """The course if the actor may work on it (its coach, or an admin)."""
    return _check_course_owner(actor, await session.get(Course, course_id))


async def create_course(
    session: AsyncSession,
    *,
    actor: StaffUser,
    title: str,
    kind: str,
    location: str,
    starts_on: date,
    ends_on: date,
    slots: list[tuple[int, time, time]],
    module_id: int | None = None,
    coach_id: int | None = None,
) -> Course:
    """Add a course with weekly slots (weekday 0 = Monday, start, end in local time)."""
    if not title.strip() or not location.strip():
        raise UserError(A_("A course needs a title and a place."))
    if kind not in KIND_LABELS:
        raise UserError(A_("Choose what kind of course it is."), field="kind")
    if ends_on < starts_on:
        raise UserError(A_("A course must end on or after its first day."), field="ends_on")
    if not slots:
        raise UserError(A_("A course needs at least one weekly time."), field="start0")
    for weekday, start, end in slots:
        if not 0 <= weekday <= 6 or not start < end:
            raise UserError(A_("Each weekly time must end after it starts."))
    course = Course(
        title=title.strip()[:200],
        kind=kind,
        location=location.strip()[:300],
        starts_on=starts_on,
        ends_on=ends_on,
        module_id=module_id,
        coach_id=actor.id if actor.role != "admin" else (coach_id or actor.id),
        slots=[CourseSlot(weekday=w, start_time=a, end_time=b) for w, a, b in slots],
    )
    session.add(course)
    await session.flush()
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="course.created",
        object_type="course",
        object_id=course.id,
    )
    return course


async def enrol(
    session: AsyncSession,
    *,
    actor: StaffUser,
    course_id: int,
    participant: Participant,
    policy: ReminderPolicy,
    now: datetime,
) -> Enrolment:
    """Put a participant (already checked as the actor's) into a course; plan reminders."""
    course = await own_course(session, actor=actor, course_id=course_id)
    if participant.status != "active":
        raise UserError(A_("This participant's programme has ended."))
    if await get_enrolment(session, participant_id=participant.id, course_id=course.id):
        raise UserError(A_("This participant is in this course already."))
    enrolment = Enrolment(participant_id=participant.id, course_id=course.id)
    session.add(enrolment)
    await session.flush()
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="course.enrolled",
        object_type="course",
        object_id=course.id,
        detail={"participant": participant.id},
    )
    await plan_course_reminders(
        session, policy=policy, now=now, participant_id=participant.id, course_id=course.id
    )
    return enrolment


async def leave(
    session: AsyncSession, *, actor: StaffUser, course_id: int, participant_id: int
) -> None:
    """Take a participant out of a course; their pending reminders for it stop."""
    course = await own_course(session, actor=actor, course_id=course_id)
    enrolment = await get_enrolment(session, participant_id=participant_id, course_id=course.id)
    if enrolment is None:
        raise UserError(A_("This participant is not in this course."))
    await session.delete(enrolment)
    await cancel_pending(
        session, subject=("course", course.id), template=REMINDER, participant_id=participant_id
    )
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="course.left",
        object_type="course",
        object_id=course.id,
        detail={"participant": participant_id},
    )


async def add_exception(
    session: AsyncSession,
    *,
    actor: StaffUser,
    course_id: int,
    on_date: date,
    reason: str,
    tz: ZoneInfo,
) -> CourseException:
    """A date on which the course does not meet; reminders of that day are cancelled."""
    course = await own_course(session, actor=actor, course_id=course_id)
    if reason not in ("cancelled", "holiday"):
        reason = "cancelled"
    if not course.starts_on <= on_date <= course.ends_on:
        raise UserError(A_("This date is outside the course's dates."), field="date")
    if any(found.on_date == on_date for found in course.exceptions):
        raise UserError(A_("This date is marked already."), field="date")
    exception = CourseException(course_id=course.id, on_date=on_date, reason=reason)
    course.exceptions.append(exception)
    await session.flush()
    day = on_date.isoformat()
    pending = await session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.template == REMINDER,
            OutboxMessage.subject_type == "course",
            OutboxMessage.subject_id == course.id,
            OutboxMessage.state == "pending",
        )
    )
    for row in pending:
        starts = datetime.fromisoformat(str(row.params.get("starts_at")))
        if starts.astimezone(tz).date() == on_date:
            row.state, row.last_error = OutboxState.CANCELLED, "course does not meet"
    await audit.record(
        session,
        actor=f"staff:{actor.id}",
        action="course.exception_added",
        object_type="course",
        object_id=course.id,
        detail={"date": day},
    )
    return exception


async def sweep(context: JobContext) -> int:
    """Plan the reminders of the next sessions of every course; only what is missing."""
    policy = ReminderPolicy.from_settings(context.settings)
    async with context.sessions.begin() as session:
        return await plan_course_reminders(session, policy=policy, now=context.now)


async def course_reminder(session: AsyncSession, voice: Voice, row: OutboxMessage) -> Reply:
    """Outbox `course.reminder`: the session, where, and a button to mute the course."""
    starts_at = datetime.fromisoformat(str(row.params.get("starts_at")))
    enrolment = await get_enrolment(
        session, participant_id=row.participant_id or 0, course_id=row.subject_id or 0
    )
    if enrolment is None:
        raise Skip("not enrolled any more")
    if enrolment.muted:
        raise Skip("course muted")
    participant = await session.get(Participant, enrolment.participant_id)
    if participant is None or participant.status != "active":
        raise Skip("participant not active")
    if starts_at <= voice.now:
        raise Skip("session started")
    course = enrolment.course
    meeting = next(
        (
            found
            for found in course_sessions(
                course, starts_at, starts_at + timedelta(minutes=1), voice.tz
            )
            if found.starts_at == starts_at
        ),
        None,
    )
    if meeting is None:
        raise Skip("session cancelled")
    lines = [
        "⏰ " + voice._("Reminder of your course:"),
        f"📚 {kind_label(voice, course.kind)} {voice.isolate(f'({course.title})')}",
        f"🕒 {when(voice, meeting.starts_at, meeting.ends_at)}",
        f"📍 {voice.isolate(course.location)}",
    ]
    button = Button(voice.label("🔕 Turn reminders off"), f"co:m:{course.id}")
    return voice.reply("\n".join(lines), [[button]])


# ---------------------------------------------------------------- rendering


def render_course(
    voice: Voice, enrolment: Enrolment, *, edit: bool = False, toast: str | None = None
) -> Reply:
    """A course: what, weekly times, where, until when, the next session, reminder state."""
    course = enrolment.course
    lines = [f"📚 {kind_label(voice, course.kind)} {voice.isolate(f'({course.title})')}"]
    # Slots with the same hours read as one line: "Monday and Wednesday, 09:00–12:30".
    slots = sorted(course.slots, key=lambda s: (s.start_time, s.end_time, s.weekday))
    for (start, end), group in groupby(slots, key=lambda s: (s.start_time, s.end_time)):
        days = weekdays(voice, [slot.weekday for slot in group])
        span = f"{clock(voice, start)}–{clock(voice, end)}"
        lines.append(f"🗓 {days_and_time(voice, days, voice.isolate(span))}")
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
        button = Button(voice.label("🔔 Turn reminders on"), f"co:u:{course.id}")
    else:
        lines.append(voice._("🔔 You get reminders for this course."))
        button = Button(voice.label("🔕 Turn reminders off"), f"co:m:{course.id}")
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
        turn.session,
        participant=participant,
        course_id=course_id,
        muted=muted,
        now=turn.now,
        policy=ReminderPolicy.from_settings(turn.settings),
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
    templates={REMINDER: course_reminder},
    jobs=(Job("course reminders", sweep, every=300),),
)
