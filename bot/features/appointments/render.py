"""Rendering appointments for one recipient's voice: the list, one item, the coach's notice."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.features.appointments.actions import WORKDAYS, Item, preferred_days
from bot.i18n import N_
from bot.plumbing.formatting import moment, relative_day, weekdays, when
from bot.plumbing.labels import kind_label
from bot.plumbing.menu import menu_button
from bot.plumbing.messages import Button, Reply
from bot.plumbing.routes import Skip
from bot.plumbing.schedule import Session
from bot.plumbing.voice import Voice
from storage.models import Appointment, OutboxMessage, Participant
from storage.types import parse_instant

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
    # Arrows point the way the reader moves: in right-to-left text "back" is to the right.
    back, more = ("▶", "◀") if voice.rtl else ("◀", "▶")
    if page > 0:
        # TRANSLATORS: paging button: the previous page of the appointment list.
        nav.append(Button(back + " " + voice.label("Back"), f"ap:p:{page - 1}"))
    if page + 1 < pages:
        # TRANSLATORS: paging button: the next page of the appointment list.
        nav.append(Button(voice.label("More") + " " + more, f"ap:p:{page + 1}"))
    footer_rows = [nav] if nav else []
    footer_rows.append([Button(voice.label("📅 All to my calendar"), "ap:i:all")])
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
        actions.append(Button(voice.label("✅ I will come"), f"ap:c:{ident}"))
    if appointment.response != "declined":
        actions.append(Button(voice.label("❌ I cannot come"), f"ap:x:{ident}"))
    second = [Button(voice.label("📅 Add to calendar"), f"ap:i:{ident}")]
    if appointment.response != "reschedule":
        second.insert(0, Button(voice.label("🔁 Other time"), f"ap:r:{ident}"))
    return voice.reply("\n".join(lines), [actions, second], edit=edit, toast=toast)


def render_session(voice: Voice, session: Session) -> Reply:
    """One course session; courses have no confirm buttons, see /courses."""
    course = session.course
    lines = [
        f"📚 {kind_label(voice, course.kind)} {voice.isolate(f'({course.title})')}",
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
    return voice.reply(ask, [[Button(voice.label("Skip"), f"ap:s:{appointment.id}")]])


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
    rows = [buttons[0:3], buttons[3:5], [Button(voice.label("✔ Done"), f"ap:dd:{appointment.id}")]]
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
    at = voice.isolate(moment(voice, appointment.starts_at))
    return voice.reply(voice._(message, name=name, when=at))


async def answer_notice(session: AsyncSession, voice: Voice, row: OutboxMessage) -> Reply | None:
    """Outbox template `appointment.answer`: the notice rendered at send time, or None."""
    appointment, participant = await _subject(session, row)
    return render_answer_notice(voice, appointment, participant, str(row.params.get("response")))


# ---------------------------------------------------------------- pushes, at send time


async def _subject(session: AsyncSession, row: OutboxMessage) -> tuple[Appointment, Participant]:
    appointment = (
        await session.get(Appointment, row.subject_id) if row.subject_id is not None else None
    )
    if appointment is None:
        raise Skip("appointment deleted")
    participant = await session.get(Participant, appointment.participant_id)
    if participant is None or participant.status == "deleted":
        raise Skip("participant erased")
    return appointment, participant


def _planned_start_kept(appointment: Appointment, row: OutboxMessage) -> None:
    """The push was planned for the start the appointment still has (compared as instants:
    a row written with `+01:00` and an appointment read back in UTC are the same time)."""
    if parse_instant(row.params.get("starts_at")) != appointment.starts_at:
        raise Skip("appointment moved")


async def appointment_reminder(
    session: AsyncSession, voice: Voice, row: OutboxMessage
) -> Reply | None:
    """Outbox `appointment.reminder`: when, where, with whom, with ✅ / ❌ / 🔁."""
    appointment, participant = await _subject(session, row)
    if appointment.cancelled_at is not None:
        raise Skip("appointment cancelled")
    _planned_start_kept(appointment, row)
    if appointment.starts_at <= voice.now:
        raise Skip("appointment started")
    if appointment.response == "declined":
        raise Skip("participant declined")
    if participant.status != "active" or participant.privacy_accepted_at is None:
        raise Skip("participant not active")
    card = render_appointment(voice, appointment)
    # TRANSLATORS: first line of a reminder; the appointment follows below it.
    text = "⏰ " + voice._("Reminder of your appointment:") + "\n" + card.text
    return voice.reply(text, card.buttons)


async def appointment_changed(
    session: AsyncSession, voice: Voice, row: OutboxMessage
) -> Reply | None:
    """Outbox `appointment.changed`: staff planned, moved or cancelled an appointment."""
    appointment, _participant = await _subject(session, row)
    change = row.params.get("change")
    if change == "cancelled":
        if appointment.cancelled_at is None:
            raise Skip("appointment no longer cancelled")
        lines = [
            # TRANSLATORS: to a participant; the cancelled appointment follows below.
            "❌ " + voice._("This appointment was cancelled:"),
            f"📅 {kind_label(voice, appointment.kind)}",
            f"🕒 {when(voice, appointment.starts_at, appointment.ends_at)}",
        ]
        return voice.reply("\n".join(lines), menu_button(voice))
    if appointment.cancelled_at is not None:
        raise Skip("appointment cancelled")
    _planned_start_kept(appointment, row)
    if appointment.starts_at <= voice.now:
        raise Skip("appointment started")
    headline = {
        "new": "📅 " + voice._("You have a new appointment:"),
        "moved": "🔁 " + voice._("Your appointment has a new time:"),
    }.get(str(change))
    if headline is None:
        raise Skip(f"unknown change {change}")
    card = render_appointment(voice, appointment)
    return voice.reply(headline + "\n" + card.text, card.buttons)


async def appointment_unconfirmed(
    session: AsyncSession, voice: Voice, row: OutboxMessage
) -> Reply | None:
    """Outbox `appointment.unconfirmed`, to the coach: no answer yet, the start is near."""
    appointment, participant = await _subject(session, row)
    if appointment.cancelled_at is not None or appointment.starts_at <= voice.now:
        raise Skip("appointment cancelled or started")
    _planned_start_kept(appointment, row)
    if appointment.response is not None:
        raise Skip("participant answered")
    # TRANSLATORS: to the coach (staff); {name} is a participant, {when} date and time.
    text = voice._(
        "{name} has not answered yet for the appointment on {when}.",
        name=voice.isolate(participant.display_name),
        when=voice.isolate(moment(voice, appointment.starts_at)),
    )
    return voice.reply("⚠️ " + text)


# TRANSLATORS: to the coach (staff): a participant's answer in the daily list.
ANSWERS = {
    None: N_("no answer yet"),
    "confirmed": N_("confirmed"),
    "declined": N_("cannot come"),
    "reschedule": N_("asks for another time"),
}


async def coach_digest(session: AsyncSession, voice: Voice, row: OutboxMessage) -> Reply | None:
    """Outbox `coach.digest`: the coach's appointments of today and tomorrow with answers."""
    day = date.fromisoformat(str(row.params["day"]))
    start = datetime.combine(day, datetime.min.time(), voice.tz)
    rows = (
        await session.execute(
            select(Appointment, Participant)
            .join(Participant, Participant.id == Appointment.participant_id)
            .where(
                Appointment.coach_id == row.staff_id,
                Appointment.starts_at >= start,
                Appointment.starts_at < start + timedelta(days=2),
                Appointment.cancelled_at.is_(None),
                Participant.status != "deleted",
            )
            .order_by(Appointment.starts_at)
        )
    ).all()
    if not rows:
        raise Skip("no appointments")
    # TRANSLATORS: to the coach (staff): heading of the daily list of appointments.
    lines = [voice._("Your appointments today and tomorrow:")]
    for appointment, participant in rows:
        answer = voice._(ANSWERS.get(appointment.response, ANSWERS[None]))
        lines.append(
            f"• {voice.isolate(moment(voice, appointment.starts_at))} – "
            f"{voice.isolate(participant.display_name)}: {answer}"
        )
    return voice.reply("\n".join(lines))
