"""What we store: `/privacy` shows a participant their own data; `/delete` erases it.

The erasure is one action for the participant (from the chat) and for staff (from the
admin web): everything personal goes, only anonymous counts stay (see storage.erasure).
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import BY_CODE, N_
from bot.plumbing import menu
from bot.plumbing.errors import UserError
from bot.plumbing.formatting import long_date
from bot.plumbing.messages import Button, Reply
from bot.plumbing.routes import ButtonRoute, Command, Feature, MenuEntry
from bot.plumbing.turn import Turn
from bot.plumbing.voice import Voice
from storage import audit
from storage.erasure import erase_participant_data
from storage.identities import count_identities
from storage.models import (
    Appointment,
    AuditEntry,
    ChannelIdentity,
    CoachMessage,
    Enrolment,
    HandoverRequest,
    Invite,
    OutboxMessage,
    Participant,
    VoiceMessage,
    WebChatEntry,
)

# TRANSLATORS: /delete asks first. Plain words: this cannot be undone.
DELETE_QUESTION = N_(
    "Do you want to delete all your data?\n"
    "We delete your name, your chats with Wegweiser, your appointments, your courses and "
    "your answers. Your coach can no longer reach you here.\n"
    "This cannot be undone."
)
# TRANSLATORS: after /delete. The person is no longer connected.
DELETED = N_(
    "Your data is deleted. All the best to you!\n"
    "If you want to use Wegweiser again, ask your coach for a new invitation."
)


async def erase_participant(
    session: AsyncSession, *, participant_id: int, actor: str, now: datetime
) -> dict[str, int]:
    """Erase a participant's personal data everywhere (the GDPR right to erasure); the
    counts of what went. `actor` is "participant:N" or "staff:N" for the audit log."""
    participant = await session.scalar(
        select(Participant)
        .where(Participant.id == participant_id)
        .with_for_update(of=Participant)  # the row only, not the joined coach
    )
    if participant is None or participant.status == "deleted":
        raise UserError(N_("This data is deleted already."), show_menu=False)
    counts = await erase_participant_data(session, participant=participant, now=now)
    await audit.record(
        session,
        actor=actor,
        action="participant.erased",
        object_type="participant",
        object_id=participant_id,
        detail=counts,
    )
    return counts


def render_privacy(voice: Voice, participant: Participant, chats: int) -> Reply:
    """Exactly what is stored about the participant, in their language."""
    accepted = participant.privacy_accepted_at
    # The date as every other message writes it (Syrian month names and the numeric date in
    # Arabic, the Sorani order...).
    accepted_on = long_date(voice, accepted.astimezone(voice.tz).date()) if accepted else "–"
    coach = participant.coach.display_name if participant.coach else "–"
    language = BY_CODE[participant.locale].native_name if participant.locale else "–"
    # TRANSLATORS: the list of stored data. Keep the placeholders in curly brackets.
    text = voice._(
        "This is what we store about you:\n"
        "• Name: {name}\n"
        "• Language: {language}\n"
        "• Connected chats: {chats}\n"
        "• Your coach: {coach}\n"
        "• You agreed on: {date}\n"
        "We also store your appointments and courses. "
        "We do not store your residence status, nationality or birthday.",
        name=voice.isolate(participant.display_name),
        language=voice.isolate(language),
        chats=chats,
        coach=voice.isolate(coach),
        date=voice.isolate(accepted_on),
    )
    # TRANSLATORS: in /privacy, after the list of stored data; the same sentences as in the
    # privacy notice. Nothing is deleted by itself.
    kept = voice._(
        "We also store your answers to appointments, the reasons you give when you cannot "
        "come, and your messages to your coach. We keep them until your data is deleted."
    )
    # TRANSLATORS: in /privacy; the same sentences as the privacy notice's voice bullet.
    spoken = voice._(
        "We keep voice messages with your coach like your messages, until your data is "
        "deleted. /delete deletes them too. Telegram may keep its own copy. We cannot delete "
        "that copy."
    )
    # TRANSLATORS: under the list of stored data in /privacy.
    who = voice._(
        "Who sees it: your coach and the programme team. Nobody else.\n"
        "To delete everything: /delete"
    )
    return voice.reply(f"{text}\n{kept}\n{spoken}\n\n{who}", menu.menu_button(voice))


async def export_participant(session: AsyncSession, *, participant_id: int) -> dict[str, Any]:
    """Everything stored about one participant, as JSON-ready data (GDPR Art. 15)."""
    participant = await session.get(Participant, participant_id)
    if participant is None or participant.status == "deleted":
        raise UserError(N_("This data is deleted already."), show_menu=False)

    def stamp(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    chats = await session.scalars(
        select(ChannelIdentity).where(ChannelIdentity.participant_id == participant_id)
    )
    appointments = await session.scalars(
        select(Appointment)
        .where(Appointment.participant_id == participant_id)
        .order_by(Appointment.starts_at)
    )
    enrolments = await session.scalars(
        select(Enrolment).where(Enrolment.participant_id == participant_id)
    )
    invites = await session.scalars(select(Invite).where(Invite.participant_id == participant_id))
    handovers = await session.scalars(
        select(HandoverRequest).where(HandoverRequest.participant_id == participant_id)
    )
    pushes = await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.participant_id == participant_id)
        .order_by(OutboxMessage.due_at)
    )
    messages = await session.scalars(
        select(CoachMessage)
        .where(CoachMessage.participant_id == participant_id)
        .order_by(CoachMessage.created_at)
    )
    recordings = {
        v.message_id: v
        for v in await session.scalars(
            select(VoiceMessage).where(VoiceMessage.participant_id == participant_id)
        )
    }
    web_chats = [
        c.external_id
        for c in await session.scalars(
            select(ChannelIdentity).where(
                ChannelIdentity.participant_id == participant_id, ChannelIdentity.channel == "web"
            )
        )
    ]
    transcript = await session.scalars(
        select(WebChatEntry).where(WebChatEntry.chat_id.in_(web_chats)).order_by(WebChatEntry.id)
    )
    history = await session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "participant", AuditEntry.object_id == participant_id)
        .order_by(AuditEntry.at)
    )
    return {
        "participant": {
            "id": participant.id,
            "name": participant.display_name,
            "language": participant.locale,
            "module": participant.module_id,
            "coach": participant.coach.display_name if participant.coach else None,
            "status": participant.status,
            "privacy_accepted_at": stamp(participant.privacy_accepted_at),
            "german_below_each_message": participant.bilingual,
            "broadcasts_stopped_at": stamp(participant.broadcasts_stopped_at),
            "created_at": stamp(participant.created_at),
            "ended_at": stamp(participant.ended_at),
        },
        "chats": [
            {
                "channel": c.channel,
                "connected_at": stamp(c.created_at),
                "blocked_at": stamp(c.blocked_at),
            }
            for c in chats
        ],
        "appointments": [
            {
                "kind": a.kind,
                "starts_at": stamp(a.starts_at),
                "ends_at": stamp(a.ends_at),
                "place": a.location,
                "answer": a.response,
                "reason": a.response_note,
                "preferred_days": a.preferred_days,
                "cancelled_at": stamp(a.cancelled_at),
            }
            for a in appointments
        ],
        "courses": [
            {"course": e.course.title, "reminders_off": e.muted, "since": stamp(e.created_at)}
            for e in enrolments
        ],
        "invites": [
            {
                "created_at": stamp(i.created_at),
                "expires_at": stamp(i.expires_at),
                "used_at": stamp(i.used_at),
                "revoked_at": stamp(i.revoked_at),
            }
            for i in invites
        ],
        "handover_requests": [
            {"consent_at": stamp(h.consent_at), "status": h.status} for h in handovers
        ],
        "planned_messages": [
            {"kind": o.template, "due_at": stamp(o.due_at), "state": o.state} for o in pushes
        ],
        "messages_with_the_coach": [
            {
                "from": "participant" if m.direction == "in" else "coach",
                "at": stamp(m.created_at),
                "text": m.body,
                **_recording(recordings.get(m.id)),
            }
            for m in messages
        ],
        "web_chat": [
            {"from": e.sender, "at": stamp(e.created_at), "text": e.text} for e in transcript
        ],
        "history": [{"at": stamp(e.at), "who": e.actor, "action": e.action} for e in history],
    }


def _recording(voice: VoiceMessage | None) -> dict[str, Any]:
    """A voice message's recording in the export: its kind, length and the bytes (base64);
    None for a written message (every row has the same keys, for the page's table)."""
    if voice is None:
        return {"voice": None}
    return {
        "voice": {
            "mime_type": voice.mime_type,
            "seconds": voice.duration_seconds,
            "bytes": voice.size_bytes,
            "base64": base64.b64encode(voice.content).decode("ascii"),
        }
    }


async def cmd_delete(turn: Turn) -> list[Reply]:
    """/delete: ask before erasing."""
    buttons = [
        [Button(turn.voice.label("🗑 Yes, delete everything"), "pv:dy")],
        [Button(turn.voice.label("↩️ No, keep my data"), "pv:dn")],
    ]
    return [turn.reply(turn._(DELETE_QUESTION), buttons)]


async def cb_delete_yes(turn: Turn) -> list[Reply]:
    """🗑 after /delete: erase, and tell the person in their language (decided before)."""
    participant = turn.participant
    assert participant is not None
    voice = turn.voice
    await erase_participant(
        turn.session, participant_id=participant.id, actor=turn.actor, now=turn.now
    )
    return [voice.reply(voice._(DELETED), edit=True, forget=True)]


async def cb_delete_no(turn: Turn) -> list[Reply]:
    """↩️ after /delete."""
    text = turn._("Good. Nothing was deleted.")
    return [turn.reply(text, menu.menu_button(turn.voice), edit=True)]


async def cmd_privacy(turn: Turn) -> list[Reply]:
    """/privacy and the menu's "My data" button."""
    participant = turn.participant
    assert participant is not None
    chats = await count_identities(turn.session, participant_id=participant.id)
    return [render_privacy(turn.voice, participant, chats)]


FEATURE = Feature(
    name="privacy",
    commands=(
        Command("privacy", N_("What we store about you"), cmd_privacy, rank=90),
        Command("delete", N_("Delete all my data"), cmd_delete, rank=95),
    ),
    buttons=(
        ButtonRoute("mn:priv", cmd_privacy),
        ButtonRoute("pv:dy", cb_delete_yes),
        ButtonRoute("pv:dn", cb_delete_no),
    ),
    menu=(MenuEntry(N_("🔒 My data"), "mn:priv", row=2),),
)
