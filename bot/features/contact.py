"""Contact my coach: a participant writes a question, their coach answers it.

The question goes to the coach's linked chat (or the inbox of the staff web) with a
"Reply" button; the coach's answer reaches the participant in their chat. Each message
belongs to one participant: a coach can answer only their own participants, and an answer
only ever goes to the participant who asked. Outside office hours the participant is told
when to expect an answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.plumbing import menu
from bot.plumbing.errors import UserError
from bot.plumbing.formatting import moment
from bot.plumbing.messages import Button, Reply
from bot.plumbing.ownership import may_act_for
from bot.plumbing.routes import (
    AnswerRoute,
    Audience,
    ButtonRoute,
    Command,
    Feature,
    MenuEntry,
    ident,
)
from bot.plumbing.turn import Turn
from bot.plumbing.voice import Voice
from bot.settings import Settings
from storage import audit
from storage.models import (
    PRIORITY_NOTICE,
    PRIORITY_REPLY,
    CoachMessage,
    OutboxMessage,
    Participant,
    StaffUser,
)
from storage.outbox import enqueue

QUESTION = "coach.message"  # to the coach: a participant's message
ANSWER = "coach.answer"  # to the participant: the coach's answer
MAX_MESSAGE = 1000

# TRANSLATORS: after "Write to my coach". {coach} is the coach's name.
ASK = N_("Write your message to {coach} now, in one message. Your coach will answer here.")


def next_office_time(settings: Settings, now: datetime) -> datetime | None:
    """None while the office is open; else when it opens next (aware, local time)."""
    days, start, end = settings.office
    local = now.astimezone(settings.tz)
    if local.weekday() in days and start <= local.time() < end:
        return None
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        opening = datetime.combine(day, start, settings.tz)
        if day.weekday() in days and opening > local:
            return opening
    return None


# ---------------------------------------------------------------- actions


async def write_to_coach(
    session: AsyncSession, *, participant: Participant, text: str, now: datetime
) -> CoachMessage:
    """Store a participant's message and notify their coach (chat or staff inbox)."""
    body = text.strip()
    if not body:
        raise UserError(N_("The message is empty. Please write a few words."), show_menu=False)
    if len(body) > MAX_MESSAGE:
        raise UserError(
            N_("The message is too long ({n} characters). Please write at most {limit}."),
            show_menu=False,
            n=len(body),
            limit=MAX_MESSAGE,
        )
    if participant.coach_id is None:
        raise UserError(N_("You have no coach in Wegweiser yet. Please ask at the office."))
    # Lock the person's row: an erasure running now finishes first, and then nothing is kept.
    status = await session.scalar(
        select(Participant.status).where(Participant.id == participant.id).with_for_update()
    )
    if status == "deleted":
        raise UserError(N_("This data is deleted already."), show_menu=False)
    message = CoachMessage(
        participant_id=participant.id,
        staff_id=participant.coach_id,
        direction="in",
        body=body,
    )
    await _store_and_push(
        session, message, QUESTION, PRIORITY_NOTICE, f"participant:{participant.id}", now
    )
    return message


async def answer_participant(
    session: AsyncSession, *, actor: StaffUser, message_id: int, text: str, now: datetime
) -> CoachMessage:
    """A coach's answer to one participant's message; it goes to that participant only."""
    question = await session.get(CoachMessage, message_id)
    participant = await session.get(Participant, question.participant_id) if question else None
    if (
        question is None
        or question.direction != "in"
        or participant is None
        or not may_act_for(actor, participant.coach_id)
    ):
        raise UserError(N_("This message is not from one of your participants."), show_menu=False)
    if participant.status == "deleted":
        raise UserError(N_("This person has deleted their data."), show_menu=False)
    body = text.strip()
    if not body or len(body) > MAX_MESSAGE:
        raise UserError(
            N_("Please write an answer of 1 to {limit} characters."),
            show_menu=False,
            field="text",
            limit=MAX_MESSAGE,
        )
    answer = CoachMessage(
        participant_id=participant.id,
        staff_id=actor.id,
        direction="out",
        body=body,
        reply_to_id=question.id,
    )
    question.answered_at = question.answered_at or now
    await _store_and_push(session, answer, ANSWER, PRIORITY_REPLY, f"staff:{actor.id}", now)
    return answer


async def _store_and_push(
    session: AsyncSession,
    message: CoachMessage,
    template: str,
    priority: int,
    actor: str,
    now: datetime,
) -> None:
    """Store a message, push it to the other side (a question to the coach, an answer to
    the participant) and audit it."""
    session.add(message)
    await session.flush()
    incoming = message.direction == "in"
    await enqueue(
        session,
        template=template,
        staff_id=message.staff_id if incoming else None,
        participant_id=None if incoming else message.participant_id,
        subject=("message", message.id),
        params={},
        dedup_key=f"msg:{message.id}",
        due_at=now,
        priority=priority,
    )
    await audit.record(
        session,
        actor=actor,
        action="message.sent" if incoming else "message.answered",
        object_type="message",
        object_id=message.id,
    )


# ---------------------------------------------------------------- pushes, at send time


async def _message_of(session: AsyncSession, row: OutboxMessage) -> CoachMessage | None:
    return await session.get(CoachMessage, row.subject_id) if row.subject_id else None


async def question_notice(session: AsyncSession, voice: Voice, row: OutboxMessage) -> Reply | None:
    """To the coach: who wrote what, with a "Reply" button."""
    message = await _message_of(session, row)
    participant = await session.get(Participant, message.participant_id) if message else None
    if message is None or participant is None or participant.status == "deleted":
        return None
    return voice.reply(
        render_question(voice, participant, message),
        [[Button(voice.label("↩️ Reply"), f"cm:r:{message.id}")]],
    )


def render_question(voice: Voice, participant: Participant, message: CoachMessage) -> str:
    """The coach's view of a participant's message (also the staff web's inbox)."""
    # TRANSLATORS: to a coach. {name} is the participant, {text} what they wrote.
    return voice._(
        "✉️ Message from {name}:\n{text}",
        name=voice.isolate(participant.display_name),
        text=message.body,
    )


async def answer_notice(session: AsyncSession, voice: Voice, row: OutboxMessage) -> Reply | None:
    """To the participant: the coach's answer, with "Write back"."""
    message = await _message_of(session, row)
    if message is None or message.participant_id != row.participant_id:
        return None
    coach = await session.get(StaffUser, message.staff_id) if message.staff_id else None
    name = coach.display_name if coach else voice.t.gettext("your coach")  # one language
    text = voice._("✉️ Answer from {coach}:\n{text}", coach=voice.isolate(name), text=message.body)
    return voice.reply(text, [[Button(voice.label("✉️ Write back"), "mn:msg")]])


# ---------------------------------------------------------------- chat handlers


async def cmd_write(turn: Turn) -> list[Reply]:
    """/write and the menu's "Write to my coach": the next text goes to the coach."""
    participant = turn.participant
    assert participant is not None
    if participant.coach is None:
        raise UserError(N_("You have no coach in Wegweiser yet. Please ask at the office."))
    turn.ask(f"cm:q:{participant.id}")
    text = turn._(ASK, coach=turn.voice.isolate(participant.coach.display_name))
    return [turn.reply(text, [[Button(turn.voice.label("↩️ Cancel"), "cm:x")]])]


async def cb_cancel(turn: Turn) -> list[Reply]:
    """Cancel writing (participant or coach)."""
    turn.close_question()
    text = turn._("Okay, nothing was sent.")
    return [turn.reply(text, menu.menu_button(turn.voice), edit=True)]


async def answer_question(turn: Turn, _participant_id: int, text: str) -> list[Reply]:
    """The participant's typed message while "write to my coach" is open."""
    participant = turn.participant
    assert participant is not None
    await write_to_coach(turn.session, participant=participant, text=text, now=turn.now)
    turn.close_question()
    coach = participant.coach.display_name if participant.coach else ""
    lines = [turn._("Sent ✅ {coach} gets your message.", coach=turn.voice.isolate(coach))]
    opens = next_office_time(turn.settings, turn.now)
    if opens is not None:
        # TRANSLATORS: outside office hours; {when} is a day and time like "Monday, 08:00".
        lines.append(
            turn._(
                "The office is closed now. Expect an answer from {when}.",
                when=turn.voice.isolate(moment(turn.voice, opens)),
            )
        )
    return [turn.reply("\n".join(lines), menu.menu_button(turn.voice))]


async def cb_reply(turn: Turn, message_id: int) -> list[Reply]:
    """A coach pressed "Reply" on a participant's message."""
    staff = turn.staff
    assert staff is not None
    question = await turn.session.get(CoachMessage, message_id)
    participant = (
        await turn.session.get(Participant, question.participant_id) if question else None
    )
    if (
        question is None
        or participant is None
        or participant.status == "deleted"
        or not may_act_for(staff, participant.coach_id)
    ):
        raise UserError(N_("This message is not from one of your participants."), show_menu=False)
    turn.ask(f"cm:a:{message_id}")
    text = turn._(
        "Write your answer to {name} now, in one message.",
        name=turn.voice.isolate(participant.display_name),
    )
    return [turn.reply(text, [[Button(turn.voice.label("↩️ Cancel"), "cm:x")]])]


async def answer_reply(turn: Turn, message_id: int, text: str) -> list[Reply]:
    """The coach's typed answer while "Reply" is open."""
    staff = turn.staff
    assert staff is not None
    answer = await answer_participant(
        turn.session, actor=staff, message_id=message_id, text=text, now=turn.now
    )
    turn.close_question()
    participant = await turn.session.get(Participant, answer.participant_id)
    name = participant.display_name if participant else ""
    return [turn.reply(turn._("Sent to {name} ✅", name=turn.voice.isolate(name)))]


FEATURE = Feature(
    name="contact",
    commands=(Command("write", N_("Write to my coach"), cmd_write, rank=30),),
    buttons=(
        ButtonRoute("mn:msg", cmd_write),
        ButtonRoute("cm:x", cb_cancel, audience=Audience.CONNECTED),
        ButtonRoute("cm:r", cb_reply, (ident,), audience=Audience.STAFF),
    ),
    answers=(
        AnswerRoute("cm:q", answer_question),
        AnswerRoute("cm:a", answer_reply, audience=Audience.STAFF),
    ),
    menu=(MenuEntry(N_("✉️ Write to my coach"), "mn:msg", row=2),),
    templates={QUESTION: question_notice, ANSWER: answer_notice},
)
