"""A coach's own chat: linked by a staff invite, it receives notices; it can be unlinked."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.plumbing.errors import UserError
from bot.plumbing.messages import Button, Reply
from bot.plumbing.routes import Skip
from bot.plumbing.turn import Turn
from bot.plumbing.voice import Voice
from storage import audit
from storage.identities import unbind_identity
from storage.models import ChannelIdentity, OutboxMessage, Participant

UNLINK = "st:unlink"


async def blocked_notice(session: AsyncSession, voice: Voice, row: OutboxMessage) -> Reply:
    """Outbox `participant.blocked`, to the coach: reminders cannot reach this person."""
    participant = await session.get(Participant, row.subject_id or 0)
    if participant is None or participant.status == "deleted":
        raise Skip("participant erased")
    still_blocked = await session.scalar(
        select(ChannelIdentity.id).where(
            ChannelIdentity.participant_id == participant.id,
            ChannelIdentity.channel == row.params.get("channel"),
            ChannelIdentity.blocked_at.is_not(None),
        )
    )
    if still_blocked is None:
        raise Skip("chat unblocked again")
    # TRANSLATORS: to the coach (staff); {name} is a participant.
    text = voice._(
        "{name} has blocked the bot. Reminders cannot reach them there. "
        "Please contact them another way.",
        name=voice.isolate(participant.display_name),
    )
    return voice.reply("⚠️ " + text)


async def unlink_staff_chat(
    session: AsyncSession, *, identity: ChannelIdentity, now: datetime
) -> None:
    """Remove a staff user's chat link; notices then wait for the admin inbox."""
    if identity.staff_id is None:
        # TRANSLATORS: to a coach (staff) whose chat is not linked.
        raise UserError(N_("This chat is not linked to a staff account."))
    await unbind_identity(session, identity_id=identity.id)
    await audit.record(
        session,
        actor=f"staff:{identity.staff_id}",
        action="staff_chat.unlinked",
        object_type="staff",
        object_id=identity.staff_id,
        detail={"channel": identity.channel},
    )


async def cmd_unlink(turn: Turn) -> list[Reply]:
    """/unlink: ask before disconnecting the coach's chat."""
    # TRANSLATORS: to a coach (staff); "notices" are messages about their participants.
    text = turn._("Do you want to disconnect this chat? You will get no more notices here.")
    # TRANSLATORS: button for a coach (staff): disconnect this chat from their account.
    buttons = [
        [Button(turn.voice.label("Yes, disconnect"), UNLINK)],
        [Button(turn.voice.label("☰ Menu"), "mn:menu")],
    ]
    return [turn.reply(text, buttons)]


async def cb_unlink(turn: Turn) -> list[Reply]:
    """Disconnect confirmed."""
    assert turn.identity is not None
    await unlink_staff_chat(turn.session, identity=turn.identity, now=turn.now)
    turn.identity = None
    # TRANSLATORS: to a coach (staff); the admin inbox is a page of the web backend.
    text = turn._(
        "This chat is disconnected. Notices wait for you in the admin inbox. "
        "Ask an admin for a new link to connect a chat again."
    )
    return [turn.reply(text, edit=True)]
