"""My appointments in the chat: parse the press, call the action, render with the voice."""

from __future__ import annotations

from bot.features.appointments import actions, calendar, render
from bot.plumbing import menu
from bot.plumbing.errors import STALE_BUTTON, UserError
from bot.plumbing.messages import Reply
from bot.plumbing.turn import Turn
from storage.models import Participant


def _participant(turn: Turn) -> Participant:
    participant = turn.participant
    assert participant is not None  # the route's audience guarantees it
    return participant


async def cmd_appointments(turn: Turn, page: int = 0) -> list[Reply]:
    """/appointments, the menu button and the paging buttons."""
    participant = _participant(turn)
    if participant.status != "active":
        return [menu.programme_ended(turn.voice)]
    items = await actions.upcoming_items(
        turn.session, participant=participant, now=turn.now, tz=turn.settings.tz
    )
    return render.render_list(turn.voice, items, page)


async def cb_confirm(turn: Turn, appointment_id: int) -> list[Reply]:
    """✅ I will come."""
    appointment = await actions.confirm_appointment(
        turn.session, participant=_participant(turn), appointment_id=appointment_id, now=turn.now
    )
    toast = turn._("Confirmed ✅")
    return [render.render_appointment(turn.voice, appointment, edit=True, toast=toast)]


async def cb_decline(turn: Turn, appointment_id: int) -> list[Reply]:
    """❌ I cannot come: then ask for an optional short reason."""
    appointment = await actions.decline_appointment(
        turn.session, participant=_participant(turn), appointment_id=appointment_id, now=turn.now
    )
    turn.ask(f"ap:reason:{appointment.id}")
    return [
        render.render_appointment(turn.voice, appointment, edit=True),
        render.render_reason_question(turn.voice, appointment),
    ]


async def answer_reason(turn: Turn, appointment_id: int, text: str) -> list[Reply]:
    """Typed text while the reason question is open."""
    turn.close_question()
    try:
        await actions.give_reason(
            turn.session,
            participant=_participant(turn),
            appointment_id=appointment_id,
            text=text,
            now=turn.now,
        )
    except UserError as error:
        if error.params.get("limit"):  # too long: the question stays open for a shorter one
            raise
        # Answer without rolling back: the question is closed either way.
        return [turn.reply(turn._(error.message, **error.params)), menu.main_menu(turn)]
    return [
        turn.reply(
            turn._("Thank you. Your coach will see your message."), menu.menu_button(turn.voice)
        )
    ]


async def cb_skip_reason(turn: Turn, appointment_id: int) -> list[Reply]:
    """Skip the reason; only while the question for this appointment is open."""
    if turn.identity is None or turn.identity.awaiting != f"ap:reason:{appointment_id}":
        raise UserError(STALE_BUTTON)
    turn.close_question()
    text = turn._("OK. Your coach knows that you cannot come.")
    return [turn.reply(text, menu.menu_button(turn.voice), edit=True)]


async def cb_other_time(turn: Turn, appointment_id: int) -> list[Reply]:
    """🔁 Other time: then the participant may pick preferred weekdays."""
    appointment = await actions.ask_other_time(
        turn.session, participant=_participant(turn), appointment_id=appointment_id, now=turn.now
    )
    return [
        render.render_appointment(turn.voice, appointment, edit=True),
        render.render_days_question(turn.voice, appointment),
    ]


async def cb_toggle_day(turn: Turn, appointment_id: int, day: int) -> list[Reply]:
    """Tick or untick one weekday."""
    appointment = await actions.toggle_preferred_day(
        turn.session,
        participant=_participant(turn),
        appointment_id=appointment_id,
        day=day,
        now=turn.now,
    )
    return [render.render_days_question(turn.voice, appointment, edit=True)]


async def cb_days_done(turn: Turn, appointment_id: int) -> list[Reply]:
    """✔ Done with the weekdays."""
    appointment = await actions.finish_preferred_days(
        turn.session, participant=_participant(turn), appointment_id=appointment_id, now=turn.now
    )
    return [render.render_days_chosen(turn.voice, appointment)]


async def cb_calendar(turn: Turn, target: int | str) -> list[Reply]:
    """📅 one appointment (an id) or everything upcoming ("all") as an .ics file."""
    participant = _participant(turn)
    if target == "all":
        if participant.status != "active":
            raise UserError(actions.ENDED)
        document, count = await calendar.everything(
            turn.session, turn.voice, participant=participant
        )
        if count == 0:
            raise UserError(calendar.NOTHING_TO_ADD, show_menu=False)
        text = turn.voice.ngettext(
            "Open this file to add {n} appointment to your calendar.",
            "Open this file to add {n} appointments to your calendar.",
            count,
        )
        return [turn.reply(text, document=document)]
    assert isinstance(target, int)
    appointment = await actions.own_open_appointment(
        turn.session, participant=participant, appointment_id=target, now=turn.now
    )
    text = turn._("Open this file to add the appointment to your calendar.")
    return [turn.reply(text, document=calendar.one(turn.voice, appointment))]
