"""My appointments: the list, confirm / can't come / other time, and coach notifications."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import menu
from bot.core.errors import STALE_BUTTON, UserError
from bot.core.formatting import clock, local, long_date, relative_day, weekdays, when
from bot.core.labels import kind_label
from bot.core.messages import Button, Reply
from bot.core.schedule import Session, course_sessions
from bot.core.turn import Turn
from bot.i18n import N_, translator
from storage import audit
from storage.appointments import enrolments_of, get_appointment, upcoming_appointments
from storage.models import Appointment, Participant
from storage.outbox import enqueue

PAGE_SIZE = 5
WINDOW = timedelta(days=14)
MAX_REASON = 200
WORKDAYS = range(5)

NOT_FOUND = N_("I cannot find this appointment. Here are your appointments now: /appointments")


@dataclass(frozen=True)
class Item:
    """One entry of the list: an appointment or a course session."""

    starts_at: datetime
    appointment: Appointment | None = None
    session: Session | None = None


def programme_ended(turn: Turn) -> list[Reply]:
    """The pointer for a participant whose programme is over."""
    # TRANSLATORS: KIM is the municipal case management; keep the name "KIM".
    text = turn._(
        "Your programme has ended, so there are no appointments here any more. "
        "You can still get help: the case management KIM of Kreis Unna supports you. "
        "Please ask at the integration centre."
    )
    return [turn.reply(text, menu.menu_button(turn))]


async def upcoming_sessions(turn: Turn, participant: Participant) -> list[Session]:
    """Sessions of the participant's courses in the next 14 days, soonest first."""
    end = turn.now + WINDOW
    sessions = [
        session
        for enrolment in await enrolments_of(turn.session, participant_id=participant.id)
        for session in course_sessions(enrolment.course, turn.now, end, turn.settings.tz)
    ]
    return sorted(sessions, key=lambda session: session.starts_at)


async def upcoming_items(turn: Turn, participant: Participant) -> list[Item]:
    """Appointments and course sessions of the next 14 days, soonest first."""
    appointments = await upcoming_appointments(
        turn.session, participant_id=participant.id, start=turn.now, end=turn.now + WINDOW
    )
    items = [Item(a.starts_at, appointment=a) for a in appointments]
    items += [Item(s.starts_at, session=s) for s in await upcoming_sessions(turn, participant)]
    return sorted(items, key=lambda item: item.starts_at)


async def cmd_appointments(turn: Turn, page: int = 0) -> list[Reply]:
    """List the next 14 days, a page of items at a time, each appointment with its buttons."""
    participant = turn.participant
    assert participant is not None
    if participant.status != "active":
        return programme_ended(turn)
    items = await upcoming_items(turn, participant)
    if not items:
        text = turn._(
            "You have no appointments in the next 14 days. "
            "If you think this is wrong, please ask your coach."
        )
        return [turn.reply(text, menu.menu_button(turn))]
    pages = math.ceil(len(items) / PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    header = turn.t.ngettext(
        "In the next 14 days you have {n} appointment.",
        "In the next 14 days you have {n} appointments.",
        len(items),
    ).format(n=len(items))
    replies = [turn.reply(header)]
    for item in items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        if item.appointment is not None:
            replies.append(render_appointment(turn, item.appointment))
        elif item.session is not None:
            replies.append(render_session(turn, item.session))
    nav = []
    if page > 0:
        nav.append(Button(turn._("◀ Back"), f"ap:p:{page - 1}"))
    if page + 1 < pages:
        nav.append(Button(turn._("More ▶"), f"ap:p:{page + 1}"))
    footer_rows = [nav] if nav else []
    footer_rows.append([Button(turn._("📅 All to my calendar"), "ap:i:all")])
    footer_rows.extend(menu.menu_button(turn))
    footer = (
        turn._("Page {page} of {pages}", page=page + 1, pages=pages)
        if pages > 1
        else turn._("That is all.")
    )
    replies.append(turn.reply(footer, footer_rows))
    return replies


def render_appointment(turn: Turn, appointment: Appointment, **kw: object) -> Reply:
    """One appointment: what, when, where, with whom, the answer so far, and its buttons."""
    t, tz = turn.t, turn.settings.tz
    lines = [
        f"📅 {kind_label(t, appointment.kind)}",
        f"🕒 {when(t, appointment.starts_at, appointment.ends_at, tz)} "
        f"({relative_day(t, appointment.starts_at, turn.now, tz)})",
        f"📍 {t.isolate(appointment.location)}",
    ]
    if appointment.coach is not None:
        # TRANSLATORS: the person the appointment is with; {name} is a coach's name.
        lines.append("👤 " + turn._("with {name}", name=t.isolate(appointment.coach.display_name)))
    status = {
        "confirmed": N_("✅ You confirmed. Thank you!"),
        "declined": N_("❌ You said you cannot come."),
        "reschedule": N_("🔁 You asked for another time."),
    }.get(appointment.response or "")
    if status:
        lines.append(turn._(status))
    ident = appointment.id
    actions = []
    if appointment.response != "confirmed":
        actions.append(Button(turn._("✅ I will come"), f"ap:c:{ident}"))
    if appointment.response != "declined":
        actions.append(Button(turn._("❌ I cannot come"), f"ap:x:{ident}"))
    rows = [actions]
    second = [Button(turn._("📅 Add to calendar"), f"ap:i:{ident}")]
    if appointment.response != "reschedule":
        second.insert(0, Button(turn._("🔁 Other time"), f"ap:r:{ident}"))
    rows.append(second)
    return turn.reply("\n".join(lines), rows, **kw)  # type: ignore[arg-type]


def render_session(turn: Turn, session: Session) -> Reply:
    """One course session; courses have no confirm buttons, see /courses."""
    t, tz, course = turn.t, turn.settings.tz, session.course
    lines = [
        f"📚 {kind_label(t, course.kind)} ({t.isolate(course.title)})",
        f"🕒 {when(t, session.starts_at, session.ends_at, tz)} "
        f"({relative_day(t, session.starts_at, turn.now, tz)})",
        f"📍 {t.isolate(course.location)}",
    ]
    return turn.reply("\n".join(lines))


async def own_open_appointment(turn: Turn, appointment_id: str) -> Appointment:
    """The participant's own appointment that is not cancelled and has not started."""
    participant = turn.participant
    assert participant is not None
    if participant.status != "active":
        raise UserError(N_("Your programme has ended. There are no appointments here any more."))
    if not appointment_id.isdigit() or len(appointment_id) > 12:
        raise UserError(STALE_BUTTON)
    appointment = await get_appointment(
        turn.session, appointment_id=int(appointment_id), for_update=True
    )
    # Someone else's appointment reads exactly like a missing one: ids reveal nothing.
    if appointment is None or appointment.participant_id != participant.id:
        raise UserError(NOT_FOUND)
    if appointment.cancelled_at is not None:
        raise UserError(N_("This appointment was cancelled. Your coach will tell you more."))
    if appointment.starts_at <= turn.now:
        raise UserError(N_("This appointment has already started or is over."))
    return appointment


async def _answer(turn: Turn, appointment: Appointment, response: str) -> None:
    appointment.response = response
    appointment.response_at = turn.now
    appointment.response_note = None
    appointment.preferred_days = None
    await audit.record(
        turn.session,
        actor=turn.actor,
        action=f"appointment.{response}",
        object_type="appointment",
        object_id=appointment.id,
    )
    await notify_coach(turn, appointment, response)


async def cb_confirm(turn: Turn, appointment_id: str) -> list[Reply]:
    """✅: confirm once; a second press changes nothing."""
    appointment = await own_open_appointment(turn, appointment_id)
    if appointment.response == "confirmed":
        raise UserError(N_("You have already confirmed this appointment."), show_menu=False)
    await _answer(turn, appointment, "confirmed")
    return [render_appointment(turn, appointment, edit=True, toast=turn._("Confirmed ✅"))]


async def cb_decline(turn: Turn, appointment_id: str) -> list[Reply]:
    """❌: record it, tell the coach, then ask for an optional short reason."""
    appointment = await own_open_appointment(turn, appointment_id)
    if appointment.response == "declined":
        raise UserError(N_("You have already said that you cannot come."), show_menu=False)
    await _answer(turn, appointment, "declined")
    assert turn.identity is not None
    turn.identity.awaiting = f"ap:reason:{appointment.id}"
    ask = turn._(
        "Your coach will know that you cannot come. "
        "Do you want to tell them why? Write a short message, or press Skip."
    )
    skip = [[Button(turn._("Skip"), f"ap:s:{appointment.id}")]]
    return [render_appointment(turn, appointment, edit=True), turn.reply(ask, skip)]


async def receive_reason(turn: Turn, appointment_id: str, text: str) -> list[Reply]:
    """The optional reason for "can't come"; stored for the coach, never pushed anywhere."""
    text = text.strip()
    if len(text) > MAX_REASON:
        raise UserError(
            N_("Please write a shorter reason, at most {limit} characters."),
            show_menu=False,
            limit=MAX_REASON,
        )
    assert turn.identity is not None
    turn.identity.awaiting = None
    try:
        appointment = await own_open_appointment(turn, appointment_id)
        if appointment.response != "declined":
            raise UserError(STALE_BUTTON)
    except UserError as error:
        # Answer without rolling back: the question is closed either way.
        return [turn.reply(turn._(error.message, **error.params)), menu.main_menu(turn)]
    appointment.response_note = text
    return [
        turn.reply(turn._("Thank you. Your coach will see your message."), menu.menu_button(turn))
    ]


async def cb_skip_reason(turn: Turn, appointment_id: str) -> list[Reply]:
    """Skip the reason; only while the question for this appointment is open."""
    assert turn.identity is not None
    if turn.identity.awaiting != f"ap:reason:{appointment_id}":
        raise UserError(STALE_BUTTON)
    turn.identity.awaiting = None
    return [
        turn.reply(
            turn._("OK. Your coach knows that you cannot come."), menu.menu_button(turn), edit=True
        )
    ]


async def cb_other_time(turn: Turn, appointment_id: str) -> list[Reply]:
    """🔁: ask for another time; then the participant may pick preferred weekdays."""
    appointment = await own_open_appointment(turn, appointment_id)
    if appointment.response == "reschedule":
        raise UserError(N_("You have already asked for another time."), show_menu=False)
    await _answer(turn, appointment, "reschedule")
    return [render_appointment(turn, appointment, edit=True), days_question(turn, appointment)]


def days_question(turn: Turn, appointment: Appointment, *, edit: bool = False) -> Reply:
    """Weekday toggles for another time; chosen days are ticked."""
    chosen = _days(appointment)
    names = [weekdays(turn.t, [day]) for day in WORKDAYS]
    buttons = [
        Button(("✓ " if day in chosen else "") + names[day], f"ap:d:{appointment.id}:{day}")
        for day in WORKDAYS
    ]
    rows = [buttons[0:3], buttons[3:5], [Button(turn._("✔ Done"), f"ap:dd:{appointment.id}")]]
    text = turn._("Which days are good for you? Press all that fit, then press Done.")
    return turn.reply(text, rows, edit=edit)


def _days(appointment: Appointment) -> set[int]:
    raw = appointment.preferred_days or ""
    return {int(part) for part in raw.split(",") if part.isdigit()}


async def cb_toggle_day(turn: Turn, appointment_id: str, day: str) -> list[Reply]:
    """Tick or untick one preferred weekday."""
    appointment = await own_open_appointment(turn, appointment_id)
    if appointment.response != "reschedule" or not day.isdigit() or int(day) not in WORKDAYS:
        raise UserError(STALE_BUTTON)
    chosen = _days(appointment) ^ {int(day)}
    appointment.preferred_days = ",".join(str(d) for d in sorted(chosen)) or None
    return [days_question(turn, appointment, edit=True)]


async def cb_days_done(turn: Turn, appointment_id: str) -> list[Reply]:
    """Finish the weekday choice."""
    appointment = await own_open_appointment(turn, appointment_id)
    if appointment.response != "reschedule":
        raise UserError(STALE_BUTTON)
    chosen = sorted(_days(appointment))
    if chosen:
        text = turn._(
            "Thank you. Your coach will suggest another time on: {days}.",
            days=weekdays(turn.t, chosen),
        )
    else:
        text = turn._("Thank you. Your coach will suggest another time.")
    return [turn.reply(text, menu.menu_button(turn), edit=True)]


COACH_NOTICES = {
    # TRANSLATORS: message to the coach (staff), not to the participant.
    "confirmed": N_("{name} confirmed the appointment on {when}."),
    # TRANSLATORS: message to the coach (staff), not to the participant.
    "declined": N_("{name} cannot come to the appointment on {when}."),
    # TRANSLATORS: message to the coach (staff), not to the participant.
    "reschedule": N_("{name} asks for another time for the appointment on {when}."),
}


async def notify_coach(turn: Turn, appointment: Appointment, response: str) -> None:
    """Queue a notice to the coach in the coach's language (German by default).

    It says who and which appointment, never the reason: that stays in the backend.
    """
    participant = turn.participant
    coach = appointment.coach or (participant.coach if participant else None)
    if coach is None or participant is None:
        return
    t = translator(coach.locale)
    start = local(appointment.starts_at, turn.settings.tz)
    moment = f"{long_date(t, start.date())}, {clock(t, start)}"
    text = t.gettext(COACH_NOTICES[response]).format(name=participant.display_name, when=moment)
    await enqueue(
        turn.session,
        kind="coach_notice",
        staff_id=coach.id,
        payload={"text": text, "appointment_id": appointment.id, "event": response},
        due_at=turn.now,
        priority=1,
    )
