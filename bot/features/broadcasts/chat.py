"""Broadcasts in a coach's chat: /broadcast step by step, /report, and a participant's /stop."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from babel.dates import format_skeleton
from sqlalchemy import select

from bot.features.broadcasts import actions, render
from bot.plumbing import menu
from bot.plumbing.errors import STALE_BUTTON, UserError
from bot.plumbing.formatting import moment
from bot.plumbing.messages import Button, Document, Reply
from bot.plumbing.recordings import RECORDING_GONE
from bot.plumbing.turn import Turn
from storage.models import Broadcast, OutboxMessage, StaffUser

DATE_CHOICES = 14  # days offered for a template's date
COURSE_BUTTONS = 8  # courses offered as buttons; the staff web lists them all


def _staff(turn: Turn) -> StaffUser:
    staff = turn.staff
    assert staff is not None  # the route's audience guarantees it
    return staff


# ---------------------------------------------------------------- coach: /broadcast


async def cmd_broadcast(turn: Turn) -> list[Reply]:
    """/broadcast: a new draft; first, who gets it."""
    staff = _staff(turn)
    broadcast = await actions.start_broadcast(turn.session, actor=staff, now=turn.now)
    ident = broadcast.id
    courses, modules = await actions.segment_choices(turn.session, actor=staff)
    rows = [[Button(turn.voice.label("👥 All my participants"), f"bc:gl:{ident}")]]
    rows += [
        [Button(f"📚 {course.title}", f"bc:gc:{ident}:{course.id}")]
        for course in courses[:COURSE_BUTTONS]
    ]
    rows += [[Button(f"🧩 {module.name_de}", f"bc:gm:{ident}:{module.id}")] for module in modules]
    if staff.role == "admin":
        rows.append([Button(turn.voice.label("🌍 Everyone"), f"bc:ge:{ident}")])
    rows.append([Button(turn.voice.label("✖ Cancel"), f"bc:x:{ident}")])
    # TRANSLATORS: to staff, first step of writing a broadcast.
    return [turn.reply(turn._("Who should get the message?"), rows)]


async def _segment(turn: Turn, ident: int, kind: str, target: int | None = None) -> list[Reply]:
    await actions.choose_segment(
        turn.session, actor=_staff(turn), broadcast_id=ident, kind=kind, target_id=target
    )
    rows = [
        [Button(turn.voice.label(label), f"bc:t:{ident}:{index}")]
        for index, label in enumerate(render.TEMPLATE_LABELS.values())
    ]
    rows.append([Button(turn.voice.label("✍️ Write my own text"), f"bc:f:{ident}")])
    rows.append([Button(turn.voice.label("✖ Cancel"), f"bc:x:{ident}")])
    # TRANSLATORS: to staff, second step of writing a broadcast.
    return [turn.reply(turn._("What should the message say?"), rows, edit=True)]


async def cb_caseload(turn: Turn, ident: int) -> list[Reply]:
    """👥 All my participants."""
    return await _segment(turn, ident, "caseload")


async def cb_course(turn: Turn, ident: int, course_id: int) -> list[Reply]:
    """📚 One course."""
    return await _segment(turn, ident, "course", course_id)


async def cb_module(turn: Turn, ident: int, module_id: int) -> list[Reply]:
    """🧩 One module (admins)."""
    return await _segment(turn, ident, "module", module_id)


async def cb_everyone(turn: Turn, ident: int) -> list[Reply]:
    """🌍 Everyone (admins)."""
    return await _segment(turn, ident, "everyone")


async def cb_template(turn: Turn, ident: int, index: int) -> list[Reply]:
    """A ready-made message, translated for each recipient."""
    keys = list(actions.TEMPLATES)
    if index >= len(keys):
        raise UserError(STALE_BUTTON)
    broadcast = await actions.set_content(
        turn.session, actor=_staff(turn), broadcast_id=ident, template=keys[index], params={}
    )
    return await _next_step(turn, broadcast)


async def cb_free_text(turn: Turn, ident: int) -> list[Reply]:
    """✍️ Own text: the next message the coach writes is the broadcast."""
    await actions.own_broadcast(turn.session, actor=_staff(turn), broadcast_id=ident, draft=True)
    turn.ask(f"bc:text:{ident}")
    # TRANSLATORS: to staff writing their own broadcast text.
    text = turn._(
        "Please write your message now. Everyone in the group gets it exactly as you write it."
    )
    return [turn.reply(text, edit=True)]


async def answer_text(turn: Turn, ident: int, text: str) -> list[Reply]:
    """The coach's own text."""
    turn.close_question()
    broadcast = await actions.set_content(
        turn.session, actor=_staff(turn), broadcast_id=ident, text=text
    )
    return await _next_step(turn, broadcast)


async def answer_place(turn: Turn, ident: int, text: str) -> list[Reply]:
    """The new room or address for "New room"."""
    turn.close_question()
    staff = _staff(turn)
    broadcast = await actions.own_broadcast(
        turn.session, actor=staff, broadcast_id=ident, draft=True
    )
    params = {**broadcast.params, "place": text.strip()[: actions.MAX_PLACE]}
    broadcast = await actions.set_content(
        turn.session, actor=staff, broadcast_id=ident, template=broadcast.template, params=params
    )
    return await _next_step(turn, broadcast)


async def cb_date(turn: Turn, ident: int, offset: int) -> list[Reply]:
    """The day for "Course cancelled" or "Office closed"."""
    staff = _staff(turn)
    broadcast = await actions.own_broadcast(
        turn.session, actor=staff, broadcast_id=ident, draft=True
    )
    if offset >= DATE_CHOICES or broadcast.template is None:
        raise UserError(STALE_BUTTON)
    day = turn.now.astimezone(turn.settings.tz).date() + timedelta(days=offset)
    params = {**broadcast.params, "date": day.isoformat()}
    broadcast = await actions.set_content(
        turn.session, actor=staff, broadcast_id=ident, template=broadcast.template, params=params
    )
    return await _next_step(turn, broadcast)


async def _next_step(turn: Turn, broadcast: Broadcast) -> list[Reply]:
    missing = actions.missing_parameter(broadcast)
    ident = broadcast.id
    if missing == "date":
        today = turn.now.astimezone(turn.settings.tz).date()
        days = [today + timedelta(days=n) for n in range(DATE_CHOICES)]
        buttons = [
            Button(format_skeleton("MMMEd", day, locale=turn.voice.locale), f"bc:d:{ident}:{n}")
            for n, day in enumerate(days)
        ]
        rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
        # TRANSLATORS: to staff: the day a course is cancelled or the office is closed.
        return [turn.reply(turn._("Which day?"), rows, edit=True)]
    if missing == "place":
        turn.ask(f"bc:place:{ident}")
        # TRANSLATORS: to staff: the new room or address of a course.
        return [turn.reply(turn._("Please write the new room or address."), edit=True)]
    return [await _preview(turn, broadcast)]


async def _preview(turn: Turn, broadcast: Broadcast) -> Reply:
    languages = await actions.language_counts(turn.session, broadcast=broadcast, now=turn.now)
    label = await render.segment_label(turn.session, turn.voice, broadcast)
    return render.render_preview(turn.voice, broadcast, languages, label)


async def _queue(turn: Turn, ident: int, send_at: datetime) -> list[Reply]:
    broadcast = await actions.queue_broadcast(
        turn.session, actor=_staff(turn), broadcast_id=ident, send_at=send_at, now=turn.now
    )
    n = broadcast.recipients
    if send_at <= turn.now:
        text = turn.voice.ngettext(
            "Done. {n} person gets the message now. /report shows how it goes.",
            "Done. {n} people get the message now. /report shows how it goes.",
            n,
        )
    else:
        text = turn.voice.ngettext(
            "Planned for {when}: {n} person will get the message. /report shows how it goes.",
            "Planned for {when}: {n} people will get the message. /report shows how it goes.",
            n,
            when=turn.voice.isolate(moment(turn.voice, send_at)),
        )
    return [turn.reply(text, menu.menu_button(turn.voice), edit=True)]


async def cb_send_now(turn: Turn, ident: int) -> list[Reply]:
    """📤 Send now."""
    return await _queue(turn, ident, turn.now)


async def cb_in_an_hour(turn: Turn, ident: int) -> list[Reply]:
    """⏰ In one hour."""
    return await _queue(turn, ident, turn.now + timedelta(hours=1))


async def cb_tomorrow(turn: Turn, ident: int) -> list[Reply]:
    """⏰ Tomorrow at 08:00, local time."""
    tz = turn.settings.tz
    tomorrow = turn.now.astimezone(tz).date() + timedelta(days=1)
    return await _queue(turn, ident, datetime.combine(tomorrow, time(8), tz))


async def cb_discard(turn: Turn, ident: int) -> list[Reply]:
    """✖ Cancel a draft: nothing is sent."""
    await actions.discard_draft(turn.session, actor=_staff(turn), broadcast_id=ident)
    turn.close_question()
    return [turn.reply(turn._("OK. Nothing was sent."), menu.menu_button(turn.voice), edit=True)]


# ---------------------------------------------------------------- coach: /report


async def cmd_report(turn: Turn) -> list[Reply]:
    """/report: the last broadcasts with sent / waiting / failed / blocked / skipped."""
    items = [
        (broadcast, await actions.counts(turn.session, broadcast=broadcast))
        for broadcast in await actions.recent_broadcasts(turn.session, actor=_staff(turn))
    ]
    return await render.render_report(turn.session, turn.voice, items, viewer_id=_staff(turn).id)


async def cb_stop_rest(turn: Turn, ident: int) -> list[Reply]:
    """✖ Stop the rest of a broadcast that is still going out."""
    stopped = await actions.cancel_broadcast(
        turn.session, actor=_staff(turn), broadcast_id=ident, now=turn.now
    )
    text = turn.voice.ngettext(
        "Stopped. {n} message was not sent.", "Stopped. {n} messages were not sent.", stopped
    )
    return [turn.reply(text, menu.menu_button(turn.voice))]


# ---------------------------------------------------------------- participant: /stop


async def cmd_stop(turn: Turn) -> list[Reply]:
    """/stop: no more general messages; reminders of their own appointments go on."""
    participant = turn.participant
    assert participant is not None
    if not await actions.stop_broadcasts(turn.session, participant=participant, now=turn.now):
        text = turn._("You already get no general messages. Send /start to get them again.")
    else:
        # TRANSLATORS: after /stop. "General messages" are messages to a whole group.
        text = turn._(
            "OK. You will get no general messages from now on. Reminders for your own "
            "appointments still come. Send /start to get general messages again."
        )
    return [turn.reply(text, menu.menu_button(turn.voice))]


async def cb_listen(turn: Turn, broadcast_id: int) -> list[Reply]:
    """🔊 under a group message from a ready template: its recording in the reader's
    language, as a voice message (only for someone the message was sent to)."""
    participant = turn.participant
    broadcast = await turn.session.get(Broadcast, broadcast_id)
    received = participant is not None and await turn.session.scalar(
        select(OutboxMessage.id).where(
            OutboxMessage.broadcast_id == broadcast_id,
            OutboxMessage.participant_id == participant.id,
        )
    )
    audio = None
    if broadcast is not None and broadcast.template and received:
        audio = await render.spoken_template(turn.session, broadcast.template, turn.voice.code)
    if broadcast is None or audio is None:
        raise UserError(RECORDING_GONE)
    spoken = Document(f"{broadcast.template}.ogg", audio, "audio/ogg", spoken=True)
    return [turn.reply("", document=spoken)]
