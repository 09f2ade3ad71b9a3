"""Invites: one-time tokens that bind a chat to an enrolled participant or to a staff user.

Tokens have 192 random bits, only their SHA-256 is stored, they expire and work once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import N_
from bot.plumbing.errors import UserError
from storage import audit
from storage.identities import bind_identity, find_identity
from storage.invites import add_invite, find_invite, revoke_open_invites, use_invite
from storage.models import ChannelIdentity, Invite, Participant, StaffUser

TOKEN_BYTES = 24  # 192 bits; URL-safe base64 gives 32 characters, within Telegram's 64
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32}$")

BAD_CODE = N_(
    "This code is not valid. Please check the link from your coach, "
    "or ask your coach for a new one."
)
ALREADY_USED = N_(
    "This link was already used. Each link works only once. "
    "If that was not you, please tell your coach. "
    "Your coach can give you a new link."
)
EXPIRED = N_("This link has expired. Please ask your coach for a new link.")
ALREADY_CONNECTED = N_("This chat is already connected to Wegweiser.")


@dataclass(frozen=True)
class NewInvite:
    """A freshly made invite: the token exists only here, never in storage."""

    token: str
    expires_at: datetime
    participant_id: int | None = None
    staff_id: int | None = None

    def telegram_link(self, bot_username: str) -> str:
        """The deep link that opens the bot with this token."""
        return f"https://t.me/{bot_username}?start={self.token}"

    def signal_message(self) -> str:
        """What to send the bot's Signal number to join (see bot.channels.signal)."""
        return f"start {self.token}"

    def web_link(self, base_url: str) -> str:
        """The same invite for the web chat."""
        return f"{base_url.rstrip('/')}/chat?start={self.token}"


def hash_token(token: str) -> str:
    """SHA-256 of the token; enough for 192 random bits, no salt needed."""
    return hashlib.sha256(token.encode()).hexdigest()


async def create_invite(
    session: AsyncSession,
    *,
    participant: Participant,
    now: datetime,
    valid_days: int,
    created_by_id: int | None = None,
) -> NewInvite:
    """Make a one-time invite for a participant who can still join; it revokes the
    participant's older open invites (a letter printed before no longer works)."""
    if participant.status != "active":
        raise ValueError(f"participant {participant.id} is {participant.status}")
    await revoke_open_invites(session, participant_id=participant.id, now=now)
    token, invite = await _new_invite(
        session,
        now=now,
        valid_days=valid_days,
        created_by_id=created_by_id,
        participant_id=participant.id,
    )
    return NewInvite(token, invite.expires_at, participant_id=participant.id)


async def create_staff_invite(
    session: AsyncSession,
    *,
    staff: StaffUser,
    now: datetime,
    valid_days: int,
    created_by_id: int | None = None,
) -> NewInvite:
    """Make a one-time invite that links a staff user's own chat (for notices)."""
    if not staff.active:
        raise ValueError(f"staff user {staff.id} is not active")
    token, invite = await _new_invite(
        session, now=now, valid_days=valid_days, created_by_id=created_by_id, staff_id=staff.id
    )
    return NewInvite(token, invite.expires_at, staff_id=staff.id)


async def _new_invite(
    session: AsyncSession,
    *,
    now: datetime,
    valid_days: int,
    created_by_id: int | None,
    participant_id: int | None = None,
    staff_id: int | None = None,
) -> tuple[str, Invite]:
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invite = await add_invite(
        session,
        participant_id=participant_id,
        staff_id=staff_id,
        token_hash=hash_token(token),
        expires_at=now + timedelta(days=valid_days),
        created_by_id=created_by_id,
    )
    actor = f"staff:{created_by_id}" if created_by_id else "system"
    action = "invite.created" if participant_id is not None else "staff_invite.created"
    await audit.record(
        session, actor=actor, action=action, object_type="invite", object_id=invite.id
    )
    return token, invite


async def revoke_invites(
    session: AsyncSession, *, participant: Participant, now: datetime, actor_id: int
) -> int:
    """Revoke a participant's open invites (a lost letter); how many."""
    revoked = await revoke_open_invites(session, participant_id=participant.id, now=now)
    await audit.record(
        session,
        actor=f"staff:{actor_id}",
        action="invite.revoked",
        object_type="participant",
        object_id=participant.id,
        detail={"count": revoked},
    )
    return revoked


async def redeem_invite(
    session: AsyncSession, *, token: str, channel: str, external_id: str, now: datetime
) -> ChannelIdentity:
    """Use a token and bind this chat to its participant or staff user.

    One conditional UPDATE takes the invite, so two chats racing for one link cannot both
    win; a second press from the chat that won reads as "already connected".
    Raises UserError saying what is wrong; the caller's rollback undoes a partial redeem.
    """
    if not TOKEN_SHAPE.match(token):
        raise UserError(BAD_CODE, show_menu=False)
    token_hash = hash_token(token)
    invite_id = await use_invite(session, token_hash=token_hash, now=now)
    if invite_id is None:
        invite = await find_invite(session, token_hash=token_hash)
        if invite is None:
            raise UserError(BAD_CODE, show_menu=False)
        if await find_identity(session, channel=channel, external_id=external_id):
            raise UserError(ALREADY_CONNECTED, show_menu=False)
        if invite.used_at is not None:
            raise UserError(ALREADY_USED, show_menu=False)
        raise UserError(EXPIRED, show_menu=False)
    invite = await session.get(Invite, invite_id)
    assert invite is not None
    await _check_owner_active(session, invite)
    try:
        async with session.begin_nested():
            identity = await bind_identity(
                session,
                channel=channel,
                external_id=external_id,
                participant_id=invite.participant_id,
                staff_id=invite.staff_id,
                invite_id=invite.id,
            )
    except IntegrityError:
        raise UserError(ALREADY_CONNECTED, show_menu=False) from None
    await session.refresh(identity, ["participant", "staff"])
    owner = invite.participant_id or invite.staff_id
    actor = f"{'participant' if invite.participant_id else 'staff'}:{owner}"
    await audit.record(
        session,
        actor=actor,
        action="invite.used",
        object_type="invite",
        object_id=invite.id,
        detail={"channel": channel},
    )
    return identity


async def _check_owner_active(session: AsyncSession, invite: Invite) -> None:
    if invite.participant_id is not None:
        participant = await session.get(Participant, invite.participant_id)
        if participant is None or participant.status != "active":
            raise UserError(EXPIRED, show_menu=False)
    else:
        staff = await session.get(StaffUser, invite.staff_id)
        if staff is None or not staff.active:
            raise UserError(EXPIRED, show_menu=False)
