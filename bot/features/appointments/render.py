"""Rendering appointments for one recipient's voice: the list, one item, the coach's notice."""

from __future__ import annotations

import math

from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.appointments.actions import WORKDAYS, Item, preferred_days
from bot.i18n import N_
from bot.plumbing.formatting import moment, relative_day, weekdays, when
from bot.plumbing.labels import kind_label
from bot.plumbing.menu import menu_button
from bot.plumbing.messages import Button, Reply
from bot.plumbing.schedule import Session
from bot.plumbing.voice import Voice
from storage.models import Appointment, OutboxMessage, Participant

PAGE_SIZE = 5

STATUS = {
    "confirmed": N_("✅ You confirmed. Thank you!"),
    "declined": N_("❌ You said you cannot come."),
    "reschedule": N_("🔁 You asked for another time."),
}

COACH_NOTICES = {
    # TRANSLATORS: message to the coach (staff), not to the participant.
    "confirmed": N_("{name} confirmed the appointment on {when}."),
    # TRANSLATORS: message to the coach (staff), not to the participant.
    "declined": N_("{name} cannot come to the appointment on {when}."),
    # TRANSLATORS: message to the coach (staff), not to the participant.
    "reschedule": N_("{name} asks for another time for the appointment on {when}."),
}


def render_list(voice: Voice, items: list[Item], page: int) -> list[Reply]:
    """The next 14 days, one page of items, each appointment with its buttons."""
    if not items:
        text = voice._(
            "You have no appointments in the next 14 days. "
            "If you think this is wrong, please ask your coach."
        )
        return [voice.reply(text, menu_button(voice))]
    pages = math.ceil(len(items) / PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    header = voice.ngettext(
        "In the next 14 days you have {n} appointment.",
        "In the next 14 days you have {n} appointments.",
        len(items),
    )
    replies = [voice.reply(header)]
    for item in items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]:
        if item.appointment is not None:
            replies.append(render_appointment(voice, item.appointment))
        elif item.session is not None:
            replies.append(render_session(voice, item.session))
    nav = []
    if page > 0:
        nav.append(Button(voice._("◀ Back"), f"ap:p:{page - 1}"))
    if page + 1 < pages:
        nav.append(Button(voice._("More ▶"), f"ap:p:{page + 1}"))
    footer_rows = [nav] if nav else []
    footer_rows.append([Button(voice._("📅 All to my calendar"), "ap:i:all")])
    footer_rows.extend(menu_button(voice))
    footer = (
        voice._("Page {page} of {pages}", page=page + 1, pages=pages)
        if pages > 1
        else voice._("That is all.")
    )
    replies.append(voice.reply(footer, footer_rows))
    return replies


def render_appointment(
    voice: Voice, appointment: Appointment, *, edit: bool = False, toast: str | None = None
) -> Reply:
    """One appointment: what, when, where, with whom, the answer so far, and its buttons."""
    lines = [
        f"📅 {kind_label(voice, appointment.kind)}",
        f"🕒 {when(voice, appointment.starts_at, appointment.ends_at)} "
        f"({relative_day(voice, appointment.starts_at)})",
        f"📍 {voice.isolate(appointment.location)}",
    ]
    if appointment.coach is not None:
        # TRANSLATORS: the person the appointment is with; {name} is a coach's name.
        name = voice.isolate(appointment.coach.display_name)
        lines.append("👤 " + voice._("with {name}", name=name))
    status = STATUS.get(appointment.response or "")
    if status:
        lines.append(voice._(status))
    ident = appointment.id
    actions = []
    if appointment.response != "confirmed":
        actions.append(Button(voice._("✅ I will come"), f"ap:c:{ident}"))
    if appointment.response != "declined":
        actions.append(Button(voice._("❌ I cannot come"), f"ap:x:{ident}"))
    second = [Button(voice._("📅 Add to calendar"), f"ap:i:{ident}")]
    if appointment.response != "reschedule":
        second.insert(0, Button(voice._("🔁 Other time"), f"ap:r:{ident}"))
    return voice.reply("\n".join(lines), [actions, second], edit=edit, toast=toast)


def render_session(voice: Voice, session: Session) -> Reply:
    """One course session; courses have no confirm buttons, see /courses."""
    course = session.course
    lines = [
        f"📚 {kind_label(voice, course.kind)} ({voice.isolate(course.title)})",
        f"🕒 {when(voice, session.starts_at, session.ends_at)} "
        f"({relative_day(voice, session.starts_at)})",
        f"📍 {voice.isolate(course.location)}",
    ]
    return voice.reply("\n".join(lines))


def render_reason_question(voice: Voice, appointment: Appointment) -> Reply:
    """After ❌: may the participant tell the coach why? Skip is a button."""
    ask = voice._(
        "Your coach will know that you cannot come. "
        "Do you want to tell them why? Write a short message, or press Skip."
    )
    return voice.reply(ask, [[Button(voice._("Skip"), f"ap:s:{appointment.id}")]])


def render_days_question(voice: Voice, appointment: Appointment, *, edit: bool = False) -> Reply:
    """Weekday toggles for another time; chosen days are ticked."""
    chosen = preferred_days(appointment)
    buttons = [
        Button(
            ("✓ " if day in chosen else "") + weekdays(voice, [day]),
            f"ap:d:{appointment.id}:{day}",
        )
        for day in WORKDAYS
    ]
    rows = [buttons[0:3], buttons[3:5], [Button(voice._("✔ Done"), f"ap:dd:{appointment.id}")]]
    text = voice._("Which days are good for you? Press all that fit, then press Done.")
    return voice.reply(text, rows, edit=edit)


def render_days_chosen(voice: Voice, appointment: Appointment) -> Reply:
    """The end of the weekday choice, naming the days."""
    chosen = sorted(preferred_days(appointment))
    if chosen:
        text = voice._(
            "Thank you. Your coach will suggest another time on: {days}.",
            days=weekdays(voice, chosen),
        )
    else:
        text = voice._("Thank you. Your coach will suggest another time.")
    return voice.reply(text, menu_button(voice), edit=True)


def render_answer_notice(
    voice: Voice, appointment: Appointment, participant: Participant, response: str
) -> Reply | None:
    """To the coach: who answered what for which appointment; never the reason."""
    message = COACH_NOTICES.get(response)
    if message is None or participant.status == "deleted":
        return None
    name = voice.isolate(participant.display_name)
    return voice.reply(voice._(message, name=name, when=moment(voice, appointment.starts_at)))


async def answer_notice(session: AsyncSession, voice: Voice, row: OutboxMessage) -> Reply | None:
    """Outbox template `appointment.answer`: the notice rendered at send time, or None."""
    if row.subject_type != "appointment" or row.subject_id is None:
        return None
    appointment = await session.get(Appointment, row.subject_id)
    if appointment is None:
        return None
    participant = await session.get(Participant, appointment.participant_id)
    if participant is None:
        return None
    return render_answer_notice(voice, appointment, participant, str(row.params.get("response")))
