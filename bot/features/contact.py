"""Contact my coach: a participant writes a question, their coach answers it.

The question goes to the coach's linked chat (or the inbox of the staff web) with a
"Reply" button; the coach's answer reaches the participant in their chat. Each message
belongs to one participant: a coach can answer only their own participants, and an answer
only ever goes to the participant who asked. Outside office hours the participant is told
when to expect an answer.

A message can be spoken: a voice message (its recording in `VoiceMessage`) goes the same
way, as a voice message to a linked chat or with a player in the staff web's inbox. Sent
outside "write to my coach", it waits as a draft until the participant confirms it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.plumbing import menu
from bot.plumbing.errors import UserError
from bot.plumbing.formatting import moment
from bot.plumbing.messages import MAX_AUDIO_BYTES, MAX_AUDIO_SECONDS, Audio, Button, Reply
from bot.plumbing.ownership import may_act_for
from bot.plumbing.routes import (
    AnswerRoute,
    Audience,
    ButtonRoute,
    Command,
    Feature,
    Job,
    JobContext,
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
    VoiceMessage,
)
from storage.outbox import enqueue
from storage.voice_messages import recording_of

QUESTION = "coach.message"  # to the coach: a participant's message
ANSWER = "coach.answer"  # to the participant: the coach's answer
MAX_MESSAGE = 1000
DRAFT_HOURS = 24  # an unconfirmed voice message is gone after a day

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
    return await _question(session, participant, body, None, now)


async def write_voice_to_coach(
    session: AsyncSession, *, participant: Participant, audio: Audio, now: datetime
) -> CoachMessage:
    """Store a participant's voice message and send it to their coach (chat or inbox)."""
    return await _question(session, participant, "", _recording(participant, audio), now)


async def keep_voice_draft(
    session: AsyncSession, *, participant: Participant, audio: Audio, now: datetime
) -> VoiceMessage:
    """Keep a voice message sent outside "write to my coach" until the participant says to
    send it; an older draft of theirs goes (only the last one can be confirmed)."""
    await _may_write(session, participant)
    await session.execute(
        delete(VoiceMessage).where(
            VoiceMessage.participant_id == participant.id, VoiceMessage.message_id.is_(None)
        )
    )
    draft = _recording(participant, audio)
    draft.created_at = now
    session.add(draft)
    await session.flush()
    return draft


async def send_voice_draft(
    session: AsyncSession, *, participant: Participant, draft_id: int, now: datetime
) -> CoachMessage:
    """The participant confirmed: their kept voice message goes to the coach, once."""
    draft = await session.get(VoiceMessage, draft_id, with_for_update=True)
    if draft is None or draft.participant_id != participant.id or draft.message_id is not None:
        raise UserError(
            N_("This voice message is no longer here. Please send it again."), show_menu=False
        )
    return await _question(session, participant, "", draft, now)


async def drop_voice_draft(
    session: AsyncSession, *, participant: Participant, draft_id: int
) -> None:
    """The participant said no: their kept voice message goes."""
    await session.execute(
        delete(VoiceMessage).where(
            VoiceMessage.id == draft_id,
            VoiceMessage.participant_id == participant.id,
            VoiceMessage.message_id.is_(None),
        )
    )


async def prune_drafts(context: JobContext) -> int:
    """Delete voice messages nobody confirmed within DRAFT_HOURS."""
    before = context.now - timedelta(hours=DRAFT_HOURS)
    async with context.sessions.begin() as session:
        result = await session.execute(
            delete(VoiceMessage).where(
                VoiceMessage.message_id.is_(None), VoiceMessage.created_at < before
            )
        )
        return int(result.rowcount or 0)


def _recording(participant: Participant, audio: Audio) -> VoiceMessage:
    """A recording row for a voice message within the limits."""
    content = audio.content
    if content is None or len(content) > MAX_AUDIO_BYTES or audio.seconds > MAX_AUDIO_SECONDS:
        raise refused(audio)
    return VoiceMessage(
        participant_id=participant.id,
        duration_seconds=audio.seconds,
        size_bytes=len(content),
        mime_type=audio.mime_type[:60],
        content=content,
    )


# TRANSLATORS: a voice message over the limit; nothing was kept. {limit} is in minutes.
TOO_LONG = N_("This voice message is too long. Please send one of at most {limit} minutes.")
# TRANSLATORS: a voice message that did not reach us; nothing was kept.
NOT_ARRIVED = N_("Your voice message did not arrive. Please send it again.")


def refused(audio: Audio) -> UserError:
    """Why a voice message is not taken (over the limits, or it did not arrive)."""
    if audio.problem == "failed":
        return UserError(NOT_ARRIVED, show_menu=False)
    return UserError(TOO_LONG, show_menu=False, limit=MAX_AUDIO_SECONDS // 60)


async def _may_write(session: AsyncSession, participant: Participant) -> None:
    """Refuse unless the participant has a coach and is not being erased; their row is
    locked: an erasure running now finishes first, and then nothing is kept."""
    if participant.coach_id is None:
        raise UserError(N_("You have no coach in Wegweiser yet. Please ask at the office."))
    status = await session.scalar(
        select(Participant.status).where(Participant.id == participant.id).with_for_update()
    )
    if status == "deleted":
        raise UserError(N_("This data is deleted already."), show_menu=False)


async def _question(
    session: AsyncSession,
    participant: Participant,
    body: str,
    recording: VoiceMessage | None,
    now: datetime,
) -> CoachMessage:
    """Store a participant's message (written, or spoken with its recording) and notify
    their coach."""
    await _may_write(session, participant)
    message = CoachMessage(
        participant_id=participant.id,
        staff_id=participant.coach_id,
        direction="in",
        body=body,
    )
    session.add(message)
    await session.flush()
    if recording is not None:
        recording.message_id = message.id
        session.add(recording)
    await _store_and_push(
        session, message, QUESTION, PRIORITY_NOTICE, f"participant:{participant.id}", now
    )
    return message


async def answer_participant(
    session: AsyncSession,
    *,
    actor: StaffUser,
    message_id: int,
    text: str,
    now: datetime,
    audio: Audio | None = None,
) -> CoachMessage:
    """A coach's answer to one participant's message, written or (with `audio`) spoken; it
    goes to that participant only."""
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
    recording = _recording(participant, audio) if audio is not None else None
    if recording is None and (not body or len(body) > MAX_MESSAGE):
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
        body=body if recording is None else "",
        reply_to_id=question.id,
    )
    if recording is not None:
        session.add(answer)
        await session.flush()
        recording.message_id = answer.id
        session.add(recording)
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


def _audio(recording: VoiceMessage | None) -> Audio | None:
    if recording is None:
        return None
    return Audio(recording.content, recording.mime_type, recording.duration_seconds)


async def question_notice(session: AsyncSession, voice: Voice, row: OutboxMessage) -> Reply | None:
    """To the coach: who wrote what, with a "Reply" button."""
    message = await _message_of(session, row)
    participant = await session.get(Participant, message.participant_id) if message else None
    if message is None or participant is None or participant.status == "deleted":
        return None
    recording = await recording_of(session, message_id=message.id)
    return voice.reply(
        render_question(voice, participant, message, spoken=recording is not None),
        [[Button(voice.label("↩️ Reply"), f"cm:r:{message.id}")]],
        audio=_audio(recording),
    )


def render_question(
    voice: Voice, participant: Participant, message: CoachMessage, *, spoken: bool = False
) -> str:
    """The coach's view of a participant's message (also the staff web's inbox)."""
    if spoken:
        # TRANSLATORS: to a coach, with a participant's voice message. {name} is the person.
        return voice._(
            "🎤 Voice message from {name}", name=voice.isolate(participant.display_name)
        )
    # TRANSLATORS: to a coach. {name} is the participant, {text} what they wrote.
    return voice._(
        "✉️ Message from {name}:\n{text}",
        name=voice.isolate(participant.display_name),
        text=voice.free_text(message.body),
    )


async def answer_notice(session: AsyncSession, voice: Voice, row: OutboxMessage) -> Reply | None:
    """To the participant: the coach's answer, with "Write back"."""
    message = await _message_of(session, row)
    if message is None or message.participant_id != row.participant_id:
        return None
    coach = await session.get(StaffUser, message.staff_id) if message.staff_id else None
    name = coach.display_name if coach else voice.t.gettext("your coach")  # one language
    recording = await recording_of(session, message_id=message.id)
    if recording is not None:
        # TRANSLATORS: the caption of the coach's voice answer. {coach} is their name.
        text = voice._("🎤 Answer from {coach}", coach=voice.isolate(name))
    else:
        text = voice._(
            "✉️ Answer from {coach}:\n{text}",
            coach=voice.isolate(name),
            text=voice.free_text(message.body),
        )
    buttons = [[Button(voice.label("✉️ Write back"), "mn:msg")]]
    return voice.reply(text, buttons, audio=_audio(recording))


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
    return _sent(turn, participant)


def _sent(turn: Turn, participant: Participant) -> list[Reply]:
    """The participant's message went: to whom, and when to expect an answer."""
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


async def on_audio(turn: Turn) -> list[Reply]:
    """A voice message or audio file: the coach's spoken answer after "Reply"; from a
    participant, a message to their coach (asked first outside "write to my coach")."""
    audio = turn.incoming.audio
    assert audio is not None
    if audio.content is None:
        raise refused(audio)
    awaiting = turn.identity.awaiting if turn.identity else None
    staff = turn.staff
    if staff is not None:
        if not awaiting or not awaiting.startswith("cm:a:") or not awaiting[5:].isdigit():
            raise UserError(
                N_("To answer by voice, press ↩️ Reply under a message first."), show_menu=False
            )
        answer = await answer_participant(
            turn.session,
            actor=staff,
            message_id=int(awaiting[5:]),
            text="",
            now=turn.now,
            audio=audio,
        )
        turn.close_question()
        participant = await turn.session.get(Participant, answer.participant_id)
        name = participant.display_name if participant else ""
        return [turn.reply(turn._("Sent to {name} ✅", name=turn.voice.isolate(name)))]
    participant = turn.participant
    assert participant is not None
    if awaiting and awaiting.startswith("cm:q:"):
        await write_voice_to_coach(
            turn.session, participant=participant, audio=audio, now=turn.now
        )
        turn.close_question()
        return _sent(turn, participant)
    draft = await keep_voice_draft(
        turn.session, participant=participant, audio=audio, now=turn.now
    )
    coach = participant.coach.display_name if participant.coach else ""
    # TRANSLATORS: a voice message sent outside "Write to my coach". {coach} is their name.
    text = turn._("Send this voice message to {coach}?", coach=turn.voice.isolate(coach))
    buttons = [
        [Button(turn.voice.label("✅ Yes, send it"), f"cm:vy:{draft.id}")],
        [Button(turn.voice.label("↩️ No"), f"cm:vn:{draft.id}")],
    ]
    return [turn.reply(text, buttons)]


async def cb_send_voice(turn: Turn, draft_id: int) -> list[Reply]:
    """✅ under "Send this voice message?": it goes to the coach, once."""
    participant = turn.participant
    assert participant is not None
    await send_voice_draft(turn.session, participant=participant, draft_id=draft_id, now=turn.now)
    replies = _sent(turn, participant)
    replies[0].edit = True
    return replies


async def cb_drop_voice(turn: Turn, draft_id: int) -> list[Reply]:
    """↩️ under "Send this voice message?": nothing is sent, the recording goes."""
    participant = turn.participant
    assert participant is not None
    await drop_voice_draft(turn.session, participant=participant, draft_id=draft_id)
    text = turn._("Okay, nothing was sent.")
    return [turn.reply(text, menu.menu_button(turn.voice), edit=True)]


FEATURE = Feature(
    name="contact",
    commands=(Command("write", N_("Write to my coach"), cmd_write, rank=30),),
    buttons=(
        ButtonRoute("mn:msg", cmd_write),
        ButtonRoute("cm:x", cb_cancel, audience=Audience.CONNECTED),
        ButtonRoute("cm:r", cb_reply, (ident,), audience=Audience.STAFF),
        ButtonRoute("cm:vy", cb_send_voice, (ident,)),
        ButtonRoute("cm:vn", cb_drop_voice, (ident,)),
    ),
    answers=(
        AnswerRoute("cm:q", answer_question),
        AnswerRoute("cm:a", answer_reply, audience=Audience.STAFF),
    ),
    menu=(MenuEntry(N_("✉️ Write to my coach"), "mn:msg", row=2),),
    templates={QUESTION: question_notice, ANSWER: answer_notice},
    jobs=(Job("voice drafts", prune_drafts, every=3600),),
    audio=on_audio,
)
